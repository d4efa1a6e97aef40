//! `--decision-log FILE`: one JSON line per decision, appended by a thread
//! of its own so that a slow disk never holds a request.
//!
//! Requests hand over whole lines in batches. A batch is written whole or
//! not at all: a write that fails half-way (a full disk) is cut back to
//! where the batch began, so the file never holds half a line. Lines that
//! could not be written are counted (status, metrics) and said on stderr
//! when the trouble starts and when it ends; the service keeps deciding.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cli::CliError;

use super::metrics::{Count, Metrics};

/// Batches waiting to be written, at most; past that, a batch is lost
/// (and counted) rather than holding its request.
const QUEUE: usize = 4096;
/// Bytes written at once, at most.
const CHUNK: usize = 1 << 20;
/// After a write that emptied the queue, the writer waits this long
/// before it looks again: under load the lines of many requests then go
/// out in one write, and a request never has to wake the writer (a
/// system call on the request's path, and a thread competing for the
/// cores, for every decision). A lone line still goes out at once.
const GATHER: Duration = Duration::from_millis(2);

/// The log, owned by `serve`'s main thread; closed at shutdown.
pub struct DecisionLog {
    writer: Writer,
    thread: JoinHandle<()>,
}

/// What requests hand their lines to. Cloned per request.
#[derive(Clone)]
pub struct Writer {
    sender: SyncSender<Vec<u8>>,
    state: Arc<State>,
}

/// What `/v1/status` says of the log.
pub struct State {
    pub path: PathBuf,
    pub written: Count,
    pub lost: Count,
    pub last_error: Mutex<Option<(String, String)>>,
    metrics: Arc<Metrics>,
}

impl DecisionLog {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path, metrics: Arc<Metrics>) -> Result<DecisionLog, CliError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| {
                CliError::new(format!(
                    "cannot open the decision log `{}`: {error}",
                    path.display()
                ))
            })?;
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let state = Arc::new(State {
            path: path.to_path_buf(),
            written: Count::default(),
            lost: Count::default(),
            last_error: Mutex::new(None),
            metrics,
        });
        let thread = {
            let state = Arc::clone(&state);
            std::thread::Builder::new()
                .name("decision-log".into())
                .spawn(move || write_all(file, &receiver, &state))
                .map_err(|error| CliError::new(format!("cannot start the decision log: {error}")))?
        };
        Ok(DecisionLog {
            writer: Writer { sender, state },
            thread,
        })
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Writes what is queued, flushes the file and stops; returns the
    /// number of lines lost over the whole run. Lines sent after this are
    /// lost (and counted).
    pub fn close(self) -> u64 {
        // An empty batch is the end: requests never send one.
        let _ = self.writer.sender.send(Vec::new());
        let _ = self.thread.join();
        self.writer.state.lost.get()
    }
}

impl Writer {
    /// Queues whole lines (each ending in `\n`).
    pub fn send(&self, lines: Vec<u8>) {
        if lines.is_empty() {
            return;
        }
        if let Err(TrySendError::Full(lines) | TrySendError::Disconnected(lines)) =
            self.sender.try_send(lines)
        {
            let count = count_lines(&lines);
            self.state
                .lost(count, "the decision log is behind: its disk is too slow");
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }
}

impl State {
    fn lost(&self, lines: u64, why: &str) {
        self.lost.add(lines);
        self.metrics.log_lost.inc_by(lines);
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none() {
            tracing::error!(
                "decision log `{}`: {why}; {lines} {} lost, decisions go on",
                self.path.display(),
                if lines == 1 { "line" } else { "lines" }
            );
        }
        *last = Some((super::clock::now(), why.to_string()));
    }

    fn recovered(&self) {
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        if last.take().is_some() {
            tracing::info!(
                "decision log `{}`: written again ({} lines lost so far)",
                self.path.display(),
                self.lost.get()
            );
        }
    }
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// The writer thread: batches written whole, until the empty batch that
/// [`DecisionLog::close`] sends (or every sender is gone).
fn write_all(mut file: File, receiver: &Receiver<Vec<u8>>, state: &State) {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut open = true;
    while open {
        let Ok(first) = receiver.recv() else { break };
        open = !first.is_empty();
        chunk.clear();
        chunk.extend_from_slice(&first);
        let mut drained = false;
        while chunk.len() < CHUNK {
            match receiver.try_recv() {
                Ok(more) if more.is_empty() => open = false,
                Ok(more) => chunk.extend_from_slice(&more),
                Err(_) => {
                    drained = true;
                    break;
                }
            }
        }
        if chunk.is_empty() {
            continue;
        }
        let lines = count_lines(&chunk);
        match append_whole(&mut file, &chunk) {
            Ok(()) => {
                state.written.add(lines);
                state.metrics.log_lines.inc_by(lines);
                state.recovered();
            }
            Err(error) => state.lost(lines, &format!("cannot write: {error}")),
        }
        if open && drained {
            std::thread::sleep(GATHER);
        }
    }
    if let Err(error) = file.sync_data() {
        // A character device (`/dev/null`) has nothing to sync.
        if error.kind() != io::ErrorKind::InvalidInput {
            tracing::error!(
                "decision log `{}`: cannot flush: {error}",
                state.path.display()
            );
        }
    }
}

/// Appends `bytes`, or nothing: a write that fails part-way is cut back
/// to the length the file had.
fn append_whole(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    let before = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let written = file.write_all(bytes);
    if written.is_err() {
        if let Some(before) = before {
            let _ = file.set_len(before);
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_arrive_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let log = DecisionLog::open(&path, Arc::new(Metrics::new())).unwrap();
        let writer = log.writer();
        for n in 0..100 {
            writer.send(format!("{{\"n\":{n}}}\n").into_bytes());
        }
        drop(writer);
        assert_eq!(log.close(), 0);
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: String = (0..100).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        assert_eq!(text, expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_loses_lines_and_counts_them() {
        let log = DecisionLog::open(Path::new("/dev/full"), Arc::new(Metrics::new())).unwrap();
        let writer = log.writer();
        writer.send(b"{}\n{}\n".to_vec());
        drop(writer);
        assert_eq!(log.close(), 2);
    }
}
