//! The NDJSON route's answer: a body that reads the request as it
//! arrives, decides each line as `eval` does, and hands the lines out as
//! soon as they are written. It reads the next piece of the request only
//! when the client has taken the answers so far, so memory stays flat
//! however long the stream; and it is the same library call per line as
//! a batch, so the bytes are `eval`'s.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::{Buf, Bytes};
use http_body::Frame;

use callassign::{LineSplitter, Options, Summary};

use super::decision_log;
use super::metrics::Timer;
use super::observe::{self, Observing};
use super::store::Entry;

/// Input taken at once: the answers to one such slice are written before
/// the next is looked at, which bounds the output held (a slice of empty
/// lines is 16 KiB of error lines, each under 100 bytes).
const SLICE: usize = 16 * 1024;
/// Answers handed out once this many bytes are ready, without waiting
/// for the input to pause.
const FLUSH: usize = 32 * 1024;
/// Distinct unknown keys counted for the trailer, at most.
const KEYS_COUNTED: usize = 4096;

pub const UNKNOWN_KEYS: HeaderName = HeaderName::from_static("callassign-unknown-keys");

/// The answer to a stream of calls.
pub struct AssignStream {
    request: Body,
    entry: Arc<Entry>,
    options: Options,
    splitter: LineSplitter,
    /// Input received and not yet decided.
    pending: Bytes,
    out: Vec<u8>,
    log: Option<(decision_log::Writer, Vec<u8>)>,
    /// The unknown keys met, in order, for the trailer.
    keys: Vec<String>,
    keys_seen: BTreeSet<String>,
    trailers: bool,
    phase: Phase,
    /// Resolves when the shutdown grace is over: the stream then ends at
    /// the last whole line decided.
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    _timer: Timer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Reading,
    /// Every line decided; what is left is handing out the answers.
    Draining,
    Done,
}

impl AssignStream {
    /// `first`: the start of the body, already read.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        request: Body,
        first: Bytes,
        entry: Arc<Entry>,
        options: Options,
        log: Option<decision_log::Writer>,
        trailers: bool,
        stop: Pin<Box<dyn Future<Output = ()> + Send>>,
        timer: Timer,
    ) -> AssignStream {
        AssignStream {
            request,
            entry,
            options,
            splitter: LineSplitter::default(),
            pending: first,
            out: Vec::with_capacity(FLUSH + 4096),
            log: log.map(|writer| (writer, Vec::new())),
            keys: Vec::new(),
            keys_seen: BTreeSet::new(),
            trailers,
            phase: Phase::Reading,
            stop,
            _timer: timer,
        }
    }

    /// Decides the lines of the next slice of pending input.
    fn decide_slice(&mut self) {
        let take = self.pending.len().min(SLICE);
        let slice = self.pending.split_to(take);
        self.decide(|splitter, visit| splitter.push(&slice, visit));
    }

    /// Decides a last line without a line break.
    fn decide_rest(&mut self) {
        self.decide(|splitter, visit| {
            splitter.finish(visit);
        });
    }

    fn decide(&mut self, feed: impl FnOnce(&mut LineSplitter, &mut dyn FnMut(u64, Option<&[u8]>))) {
        let entry = &*self.entry;
        let options = self.options;
        let logging = self.log.is_some();
        let at = if logging {
            super::clock::now()
        } else {
            String::new()
        };
        let mut observer = Observing::new(entry, logging, false);
        let mut summary = Summary::default();
        let out = &mut self.out;
        let mut log = self.log.as_mut().map(|(_, lines)| lines);
        feed(&mut self.splitter, &mut |number, line| {
            let start = out.len();
            // A Vec takes every write.
            let _ =
                entry
                    .engine
                    .assign_line(number, line, options, out, &mut summary, &mut observer);
            if let Some(log) = log.as_deref_mut() {
                observer.log_lines(&out[start..], &at, log);
            }
        });
        if !summary.unknown_keys.is_empty() {
            for (key, _) in summary.unknown_keys.sorted() {
                if self.keys_seen.len() < KEYS_COUNTED && self.keys_seen.insert(key.clone()) {
                    self.keys.push(key);
                }
            }
        }
        if let Some((writer, lines)) = &mut self.log {
            if lines.len() >= FLUSH {
                writer.send(std::mem::take(lines));
            }
        }
    }

    fn answers(&mut self) -> Frame<Bytes> {
        let capacity = self.out.capacity();
        Frame::data(Bytes::from(std::mem::replace(
            &mut self.out,
            Vec::with_capacity(capacity),
        )))
    }

    fn end(&mut self) -> Option<Frame<Bytes>> {
        self.phase = Phase::Done;
        if let Some((writer, lines)) = &mut self.log {
            writer.send(std::mem::take(lines));
        }
        if !self.trailers {
            return None;
        }
        let mut trailers = HeaderMap::new();
        let keys = self.keys.iter().map(String::as_str);
        if let Some(value) = observe::header_value(keys, self.keys.len()) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                trailers.insert(UNKNOWN_KEYS, value);
            }
        }
        Some(Frame::trailers(trailers))
    }
}

impl http_body::Body for AssignStream {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        loop {
            match this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Draining => {
                    if !this.out.is_empty() {
                        return Poll::Ready(Some(Ok(this.answers())));
                    }
                    return Poll::Ready(this.end().map(Ok));
                }
                Phase::Reading => {}
            }
            if this.stop.as_mut().poll(cx).is_ready() {
                // The shutdown grace is over: end after the last whole
                // line decided; a line cut in two is not answered.
                this.pending.clear();
                this.phase = Phase::Draining;
                continue;
            }
            if this.out.len() >= FLUSH {
                return Poll::Ready(Some(Ok(this.answers())));
            }
            if this.pending.has_remaining() {
                this.decide_slice();
                continue;
            }
            match Pin::new(&mut this.request).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.pending = data;
                    }
                }
                Poll::Ready(Some(Err(error))) => {
                    // The client went away, or sent a broken body: nothing
                    // more can be answered.
                    this.phase = Phase::Done;
                    if let Some((writer, lines)) = &mut this.log {
                        writer.send(std::mem::take(lines));
                    }
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.decide_rest();
                    this.phase = Phase::Draining;
                }
                Poll::Pending => {
                    // Answers flow while the rest of the body is on its way.
                    if !this.out.is_empty() {
                        return Poll::Ready(Some(Ok(this.answers())));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.phase == Phase::Done
    }
}

impl Drop for AssignStream {
    fn drop(&mut self) {
        // A client that went away mid-stream: what was decided is logged.
        if let Some((writer, lines)) = &mut self.log {
            writer.send(std::mem::take(lines));
        }
    }
}
