//! The delivery token (`--deliver-token-file`): read at start as
//! `--token-file` is, and read again when the file changes, so a rotated
//! secret (a Kubernetes Secret swaps its files in place) is sent from the
//! next delivery on, without a restart. A changed file that is refused
//! (empty, a pipe, not a header) leaves the previous token in force and is
//! said once, on stderr.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

// What tells one version of the file from the next, as for the files
// `serve` reloads: a Secret's swap changes the inode, an edit in place
// the length or the times.
use crate::serve::reload::{fingerprint, Fingerprint};

/// The token file and the token last read from it.
pub struct DeliverToken {
    path: PathBuf,
    held: Mutex<Held>,
}

struct Held {
    /// The file as it was when `token` was read from it.
    read: Option<Fingerprint>,
    token: String,
    /// The file as it was when it was last refused: not read again until
    /// it changes once more (a deleted file is `Some(None)`).
    refused: Option<Option<Fingerprint>>,
}

impl DeliverToken {
    /// Reads the token at start; a refusal stops the service.
    pub fn read(path: &Path) -> Result<DeliverToken, String> {
        let read = fingerprint(path);
        let token = read_token(path)?;
        Ok(DeliverToken {
            path: path.to_path_buf(),
            held: Mutex::new(Held {
                read,
                token,
                refused: None,
            }),
        })
    }

    /// The token to send now: read again first when the file changed.
    pub fn current(&self) -> String {
        let now = fingerprint(&self.path);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if now == held.read || held.refused.as_ref() == Some(&now) {
            return held.token.clone();
        }
        match read_token(&self.path) {
            Ok(token) => {
                held.token = token;
                held.read = now;
                held.refused = None;
                tracing::info!(
                    "`--deliver-token-file {}` changed: the next deliveries carry its token",
                    self.path.display()
                );
            }
            Err(why) => {
                held.refused = Some(now);
                tracing::warn!("{why}; the previous delivery token stays in force");
            }
        }
        held.token.clone()
    }
}

impl std::fmt::Debug for DeliverToken {
    /// The path only: the token is a secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeliverToken")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The token as `--token-file`'s is read: a bounded read that refuses a
/// FIFO or a device, the line break dropped, refused when empty or when a
/// header cannot carry it.
fn read_token(path: &Path) -> Result<String, String> {
    let token = crate::serve::auth::read_token(path).map_err(|error| {
        let said = format!("--deliver-token-file: {}", error.message);
        match error.help {
            Some(help) => format!("{said} ({help})"),
            None => said,
        }
    })?;
    // `read_token` lets through only visible ASCII.
    Ok(String::from_utf8(token).expect("visible ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_read_again_and_a_refused_one_keeps_the_token() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let token = DeliverToken::read(&path).unwrap();
        assert_eq!(token.current(), "first");
        // Swapped as a Secret is: a new file renamed over the old one.
        let next = folder.path().join("next");
        std::fs::write(&next, "second-token\n").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(token.current(), "second-token");
        std::fs::write(&next, "\n").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(token.current(), "second-token", "an empty file is refused");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(token.current(), "second-token", "a deleted file too");
        std::fs::write(&path, "third\n").unwrap();
        assert_eq!(token.current(), "third");
        assert!(!format!("{token:?}").contains("third"));
    }
}
