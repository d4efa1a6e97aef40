//! `--decision-log FILE`: one JSON line per decision, appended by a thread
//! of its own so that a slow disk never holds a request.
//!
//! Requests hand over whole lines in batches. A batch is written whole or
//! not at all: a write that fails half-way (a full disk) is cut back to
//! where the batch began, so the file never holds half a line. Lines that
//! could not be written are counted (status, metrics) and said on stderr
//! when the trouble starts and when it ends; the service keeps deciding.
//!
//! The log is the file its path names: when the path names another file,
//! or none (the log was rotated, or deleted), the next batch goes to a new
//! file at the path, never on into a file nobody can find.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cli::CliError;

use super::metrics::{Count, Metrics};

/// Batches waiting to be written, at most; past that, a batch is lost
/// (and counted) rather than holding its request.
const QUEUE: usize = 4096;
/// Bytes waiting to be written, at most: a batch of a stream asked for
/// `?explain=true` is hundreds of KiB, and a log that stopped moving (a
/// hung disk, a pipe whose reader stalled) must not take the memory.
const QUEUED_BYTES: usize = 64 << 20;
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
    /// Bytes sent and not yet taken by the writer thread.
    queued: AtomicUsize,
    /// Lines sent and neither written nor lost yet.
    unwritten: AtomicU64,
    metrics: Arc<Metrics>,
}

impl DecisionLog {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path, metrics: Arc<Metrics>) -> Result<DecisionLog, CliError> {
        let file = open_for_appending(path).map_err(|error| {
            let cli_error = CliError::new(format!(
                "cannot open the decision log `{}`: {error}",
                path.display()
            ));
            if error.raw_os_error() == Some(libc::ENXIO) {
                cli_error.help("it is a named pipe nobody reads: start its reader first, or name a regular file")
            } else {
                cli_error
            }
        })?;
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let state = Arc::new(State {
            path: path.to_path_buf(),
            written: Count::default(),
            lost: Count::default(),
            last_error: Mutex::new(None),
            queued: AtomicUsize::new(0),
            unwritten: AtomicU64::new(0),
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
    /// lost (and counted). A log that does not take its lines within
    /// `within` (a hung disk, a pipe whose reader stalled) is left behind:
    /// the lines it still holds are lost, and the service stops anyway.
    pub fn close(self, within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        let state = &self.writer.state;
        // An empty batch is the end: requests never send one.
        let mut ended = false;
        while !self.thread.is_finished() && Instant::now() < deadline {
            if !ended {
                ended = match self.writer.sender.try_send(Vec::new()) {
                    Err(TrySendError::Full(_)) => false,
                    Ok(()) | Err(TrySendError::Disconnected(_)) => true,
                };
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !self.thread.is_finished() {
            let stuck = state.unwritten.load(Ordering::Relaxed);
            tracing::error!(
                "decision log `{}`: still not written after {} s: {stuck} {} lost",
                state.path.display(),
                within.as_secs_f64(),
                if stuck == 1 { "line" } else { "lines" }
            );
            return state.lost.get() + stuck;
        }
        let _ = self.thread.join();
        state.lost.get()
    }
}

impl Writer {
    /// Queues whole lines (each ending in `\n`).
    pub fn send(&self, lines: Vec<u8>) {
        if lines.is_empty() {
            return;
        }
        let size = lines.len();
        let behind = |lines: &[u8]| {
            self.state.lost(
                count_lines(lines),
                "the decision log is behind: its disk is too slow",
            );
        };
        if self.state.queued.fetch_add(size, Ordering::Relaxed) + size > QUEUED_BYTES {
            self.state.queued.fetch_sub(size, Ordering::Relaxed);
            behind(&lines);
            return;
        }
        let count = count_lines(&lines);
        self.state.unwritten.fetch_add(count, Ordering::Relaxed);
        if let Err(TrySendError::Full(lines) | TrySendError::Disconnected(lines)) =
            self.sender.try_send(lines)
        {
            self.state.queued.fetch_sub(size, Ordering::Relaxed);
            self.state.unwritten.fetch_sub(count, Ordering::Relaxed);
            behind(&lines);
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
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Opens `path` for appending, creating it. A named pipe that nobody reads
/// is refused (`ENXIO`) rather than waited on: opening it for writing
/// would block until a reader comes, before the service even listens.
fn open_for_appending(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    // Writes wait for a slow reader as any write does: blocking again.
    // SAFETY: fcntl only reads and sets the flags of a descriptor we own.
    unsafe {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Which file a path names: a log moved away (rotated) or deleted no
/// longer is the file the service writes to.
fn identity(metadata: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

/// The file to write to: `file`, or a new one at the log's path when the
/// path names another file now (a log rotated, or deleted): lines written
/// to a file nobody can find are lines lost without a word.
fn current(file: &mut File, state: &State) -> io::Result<()> {
    let named = std::fs::metadata(&state.path).map(|metadata| identity(&metadata));
    if named.is_ok() && named.ok() == file.metadata().ok().map(|metadata| identity(&metadata)) {
        return Ok(());
    }
    *file = open_for_appending(&state.path)?;
    tracing::info!(
        "decision log `{}` was moved or deleted: writing to a new file there",
        state.path.display()
    );
    Ok(())
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
        state.queued.fetch_sub(first.len(), Ordering::Relaxed);
        let mut drained = false;
        while chunk.len() < CHUNK {
            match receiver.try_recv() {
                Ok(more) if more.is_empty() => open = false,
                Ok(more) => {
                    chunk.extend_from_slice(&more);
                    state.queued.fetch_sub(more.len(), Ordering::Relaxed);
                }
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
        let written = match current(&mut file, state) {
            Err(error) => Err(format!("cannot open it again: {error}")),
            Ok(()) => {
                append_whole(&mut file, &chunk).map_err(|error| format!("cannot write: {error}"))
            }
        };
        match written {
            Ok(()) => {
                state.written.add(lines);
                state.metrics.log_lines.inc_by(lines);
                state.recovered();
            }
            Err(why) => state.lost(lines, &why),
        }
        state.unwritten.fetch_sub(lines, Ordering::Relaxed);
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
        assert_eq!(log.close(Duration::from_secs(10)), 0);
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
        assert_eq!(log.close(Duration::from_secs(10)), 2);
    }
}
