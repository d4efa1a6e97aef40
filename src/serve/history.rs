//! The history the workbench measures edits against (`--history FILE`):
//! past calls, native JSON Lines or CloudTalk records, read whole into
//! memory at start and read again when the file changes (looked at every
//! `--watch-interval`, as the rule files are; read once a change has held
//! still for one look). A file that cannot be read keeps the last version
//! that could; `/v1/history` says what went wrong.
//!
//! Each request decides the calls with the selected ruleset's own context,
//! so one history serves every ruleset.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use callassign::InputFormat;

use crate::cli::CliError;

/// The largest history read into memory. A million calls of a few hundred
/// bytes each fit; a larger export is better cut to the months that
/// matter.
pub const MAX_HISTORY_BYTES: usize = 1024 * 1024 * 1024;

/// One version of the history file.
#[derive(Debug)]
pub struct Version {
    pub bytes: Vec<u8>,
    /// When it was read.
    pub read_at: String,
}

/// The history served, and the last problem reading it again.
#[derive(Debug)]
pub struct History {
    pub path: PathBuf,
    pub input: InputFormat,
    current: RwLock<Arc<Version>>,
    problem: RwLock<Option<String>>,
}

impl History {
    /// Reads the history once; the service does not start without it.
    pub fn open(path: &Path, input: InputFormat) -> Result<History, CliError> {
        let bytes = read(path).map_err(|message| {
            CliError::new(message)
                .help("--history names a file of past calls: JSON Lines of calls, or of CloudTalk records with `--history-input cloudtalk`")
        })?;
        Ok(History {
            path: path.to_path_buf(),
            input,
            current: RwLock::new(Arc::new(Version {
                bytes,
                read_at: super::clock::now(),
            })),
            problem: RwLock::new(None),
        })
    }

    /// The version served now; a request keeps the one it started with.
    pub fn current(&self) -> Arc<Version> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Why the file's last change could not be read, if it could not.
    pub fn problem(&self) -> Option<String> {
        self.problem
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the file again.
    fn reload(&self) {
        match read(&self.path) {
            Ok(bytes) => {
                let lines = bytecount_lines(&bytes);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Version {
                    bytes,
                    read_at: super::clock::now(),
                });
                *self.problem.write().unwrap_or_else(|p| p.into_inner()) = None;
                tracing::info!("history {} read again: {lines} lines", self.path.display());
            }
            Err(message) => {
                tracing::warn!("{message}; the previous version is kept");
                *self.problem.write().unwrap_or_else(|p| p.into_inner()) = Some(message);
            }
        }
    }

    /// Watches the file on a thread of its own and reads it again when it
    /// changes. The thread ends with the process.
    pub fn watch(self: &Arc<History>, interval: Duration) {
        let history = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("history".into())
            .spawn(move || {
                let mut seen = fingerprint(&history.path);
                let mut pending: Option<Option<Fingerprint>> = None;
                loop {
                    std::thread::sleep(interval);
                    let now = fingerprint(&history.path);
                    if now == seen {
                        pending = None;
                        continue;
                    }
                    // Read once the change has held still for one look: a
                    // file half-way through being written is not read.
                    if pending.as_ref() == Some(&now) {
                        pending = None;
                        seen = now;
                        history.reload();
                    } else {
                        pending = Some(now);
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!("cannot watch the history ({error}): changes are not read");
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    // A file that says it is too large is refused before a byte is read:
    // reading the first GiB only to refuse it would double what the
    // service holds while the version served stays in memory.
    if std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > MAX_HISTORY_BYTES as u64) {
        return Err(too_large(path));
    }
    let bytes = callassign::files::read_bounded(path, MAX_HISTORY_BYTES)
        .map_err(|error| format!("cannot read the history `{}`: {error}", path.display()))?;
    if bytes.len() > MAX_HISTORY_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

fn too_large(path: &Path) -> String {
    format!(
        "the history `{}` is larger than {} MiB",
        path.display(),
        MAX_HISTORY_BYTES / (1024 * 1024)
    )
}

fn bytecount_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
        + usize::from(!bytes.ends_with(b"\n") && !bytes.is_empty())
}

/// Enough of a file's metadata to see that it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    size: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        size: metadata.len(),
        modified: metadata.modified().ok(),
        inode: metadata.ino(),
    })
}
