//! The NDJSON route's answer: a body that reads the request as it
//! arrives, decides each line as `eval` does, and hands the lines out as
//! soon as they are written. It reads the next piece of the request only
//! when the client has taken the answers so far, so memory stays flat
//! however long the stream; and it is the same library call per line as
//! a batch, so the bytes are `eval`'s.
//!
//! Lines are decided in blocks. While the input keeps coming, one block
//! at a time is decided on a thread of the blocking pool while the
//! connection's task reads and decides the next, so one long stream uses
//! two cores as `eval --jobs 2` does; the answers still go out in input
//! order. A block that is all the input there is for now is decided at
//! once on the task: a client that sends a call and waits for its answer
//! gets it without a hand-over.

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::{Buf, Bytes};
use http_body::Frame;
use tokio::task::JoinHandle;

use callassign::{LineSplitter, Options, Summary};

use super::decision_log;
use super::metrics::DetachedTimer;
use super::observe::{self, Observing};
use super::store::Entry;

/// Input fed to the line splitter at once.
const SLICE: usize = 16 * 1024;
/// Input bytes in a block of lines decided together.
const BLOCK: usize = 128 * 1024;
/// Blocks decided or being decided whose answers have not been handed
/// out yet, at most: one on the blocking pool, one decided here meanwhile.
/// With [`BLOCK`], what bounds the memory of a stream.
const QUEUED: usize = 2;
/// Answers handed out once this many bytes are ready, without waiting
/// for the input to pause.
const FLUSH: usize = 32 * 1024;
/// Distinct unknown keys counted for the trailer, at most.
const KEYS_COUNTED: usize = 4096;

pub const UNKNOWN_KEYS: HeaderName = HeaderName::from_static("callassign-unknown-keys");

/// Whole lines of the input, copied out of the pieces they came in.
#[derive(Default)]
struct Block {
    text: Vec<u8>,
    /// Each line's number and where it is in `text` (`None`: a line over
    /// the size limit).
    lines: Vec<(u64, Option<(usize, usize)>)>,
}

/// What deciding a block wrote.
struct Decided {
    out: Vec<u8>,
    /// Decision-log lines, when the log is on.
    log: Vec<u8>,
    /// The unknown keys of its calls, sorted.
    keys: Vec<String>,
}

/// A block in the queue, in input order.
enum Queued {
    Deciding(JoinHandle<Decided>),
    Decided(Decided),
}

fn decide_block(entry: &Entry, options: Options, logging: bool, block: &Block) -> Decided {
    let at = if logging {
        super::clock::now()
    } else {
        String::new()
    };
    let mut observer = Observing::new(entry, logging, false);
    let mut summary = Summary::default();
    let mut out = Vec::with_capacity(block.text.len() / 3 + 256);
    let mut log = Vec::new();
    for &(number, range) in &block.lines {
        let start = out.len();
        let line = range.map(|(from, to)| &block.text[from..to]);
        // A Vec takes every write.
        let _ =
            entry
                .engine
                .assign_line(number, line, options, &mut out, &mut summary, &mut observer);
        if logging {
            observer.log_lines(&out[start..], &at, &mut log);
        }
    }
    let keys = summary
        .unknown_keys
        .sorted()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    Decided { out, log, keys }
}

/// The answer to a stream of calls.
pub struct AssignStream {
    request: Body,
    entry: Arc<Entry>,
    options: Options,
    splitter: LineSplitter,
    /// Input received and not yet split into lines.
    pending: Bytes,
    /// Lines split and not yet decided.
    block: Block,
    queue: VecDeque<Queued>,
    /// The request's body is all in (or no more of it is read).
    input_done: bool,
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
    _timer: DetachedTimer,
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
        timer: DetachedTimer,
    ) -> AssignStream {
        AssignStream {
            request,
            entry,
            options,
            splitter: LineSplitter::default(),
            pending: first,
            block: Block::default(),
            queue: VecDeque::with_capacity(QUEUED),
            input_done: false,
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

    /// Splits the next slice of pending input into lines of the block.
    fn split_slice(&mut self) {
        let take = self.pending.len().min(SLICE);
        let slice = self.pending.split_to(take);
        let block = &mut self.block;
        self.splitter
            .push(&slice, |number, line| add_line(block, number, line));
    }

    /// Splits a last line without a line break.
    fn split_rest(&mut self) {
        let block = &mut self.block;
        self.splitter
            .finish(|number, line| add_line(block, number, line));
    }

    /// Queues the block: decided on a thread of the blocking pool when it
    /// is full and no other is there, else here and now.
    fn dispatch(&mut self) {
        let block = std::mem::take(&mut self.block);
        let logging = self.log.is_some();
        let deciding = self
            .queue
            .iter()
            .any(|queued| matches!(queued, Queued::Deciding(_)));
        if block.text.len() >= BLOCK && !deciding {
            let (entry, options) = (Arc::clone(&self.entry), self.options);
            self.queue
                .push_back(Queued::Deciding(tokio::task::spawn_blocking(move || {
                    decide_block(&entry, options, logging, &block)
                })));
        } else {
            let decided = decide_block(&self.entry, self.options, logging, &block);
            self.queue.push_back(Queued::Decided(decided));
        }
    }

    /// Takes the answers of the blocks decided at the front of the queue;
    /// an error if one could not be decided.
    fn collect(&mut self, cx: &mut Context<'_>) -> Result<(), axum::Error> {
        while let Some(front) = self.queue.front_mut() {
            let decided = match front {
                Queued::Decided(_) => match self.queue.pop_front() {
                    Some(Queued::Decided(decided)) => decided,
                    _ => unreachable!("the front was decided"),
                },
                Queued::Deciding(handle) => match Pin::new(handle).poll(cx) {
                    Poll::Pending => return Ok(()),
                    Poll::Ready(Ok(decided)) => {
                        self.queue.pop_front();
                        decided
                    }
                    Poll::Ready(Err(error)) => {
                        // A panic while deciding (a bug: the library never
                        // panics on input). The answer is cut short, so
                        // that the client sees it is incomplete.
                        self.queue.pop_front();
                        tracing::error!("a block of a stream could not be decided: {error}");
                        return Err(axum::Error::new(error));
                    }
                },
            };
            self.take(decided);
        }
        Ok(())
    }

    fn take(&mut self, decided: Decided) {
        if self.out.is_empty() {
            self.out = decided.out;
        } else {
            self.out.extend_from_slice(&decided.out);
        }
        for key in decided.keys {
            if self.keys_seen.len() < KEYS_COUNTED && self.keys_seen.insert(key.clone()) {
                self.keys.push(key);
            }
        }
        if let Some((writer, lines)) = &mut self.log {
            lines.extend_from_slice(&decided.log);
            if lines.len() >= FLUSH {
                writer.send(std::mem::take(lines));
            }
        }
    }

    fn answers(&mut self) -> Frame<Bytes> {
        Frame::data(Bytes::from(std::mem::replace(
            &mut self.out,
            Vec::with_capacity(FLUSH + 4096),
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

fn add_line(block: &mut Block, number: u64, line: Option<&[u8]>) {
    let range = line.map(|line| {
        let from = block.text.len();
        block.text.extend_from_slice(line);
        (from, block.text.len())
    });
    block.lines.push((number, range));
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
            if let Err(error) = this.collect(cx) {
                this.phase = Phase::Done;
                return Poll::Ready(Some(Err(error)));
            }
            if this.out.len() >= FLUSH {
                return Poll::Ready(Some(Ok(this.answers())));
            }
            if !this.input_done && this.stop.as_mut().poll(cx).is_ready() {
                // The shutdown grace is over: end after the last whole
                // line split (the blocks queued are decided and answered);
                // a line cut in two is not answered.
                this.pending.clear();
                this.input_done = true;
                if !this.block.lines.is_empty() {
                    this.dispatch();
                }
                continue;
            }
            if this.queue.len() >= QUEUED {
                // Wait for the front block (its handle has the waker).
                if !this.out.is_empty() {
                    return Poll::Ready(Some(Ok(this.answers())));
                }
                return Poll::Pending;
            }
            if this.block.text.len() >= BLOCK {
                this.dispatch();
                continue;
            }
            if this.pending.has_remaining() {
                this.split_slice();
                continue;
            }
            if this.input_done {
                if !this.block.lines.is_empty() {
                    this.dispatch();
                    continue;
                }
                if this.queue.is_empty() {
                    this.phase = Phase::Draining;
                    continue;
                }
                if !this.out.is_empty() {
                    return Poll::Ready(Some(Ok(this.answers())));
                }
                return Poll::Pending;
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
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    this.split_rest();
                    this.input_done = true;
                }
                Poll::Pending => {
                    // The input pauses: decide what is in, and let the
                    // answers flow while the rest is on its way.
                    if !this.block.lines.is_empty() {
                        this.dispatch();
                        continue;
                    }
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
        // A client that went away mid-stream: what was decided is logged,
        // blocks still being decided included (once they are).
        let Some((writer, lines)) = &mut self.log else {
            return;
        };
        let mut deciding = Vec::new();
        for queued in self.queue.drain(..) {
            match queued {
                Queued::Decided(decided) => lines.extend_from_slice(&decided.log),
                Queued::Deciding(handle) => deciding.push(handle),
            }
        }
        writer.send(std::mem::take(lines));
        if deciding.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let writer = writer.clone();
            runtime.spawn(async move {
                for handle in deciding {
                    if let Ok(decided) = handle.await {
                        writer.send(decided.log);
                    }
                }
            });
        }
    }
}
