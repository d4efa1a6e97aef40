//! Bearer tokens (`--token-file`). The token is the file's content, a
//! trailing line break trimmed; the file is re-read when it changes. The
//! service keeps only the token's SHA-256 and compares digests in
//! constant time, so neither the token's bytes nor its length leak
//! through timing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Mutex;

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

use crate::cli::CliError;

use super::problem::Problem;

/// The longest token file read.
const MAX_TOKEN_BYTES: usize = 4096;

/// The token required, if any.
pub struct Auth {
    path: Option<PathBuf>,
    digest: Digest32,
}

impl Auth {
    pub fn new(path: Option<PathBuf>, token: Option<Vec<u8>>) -> Auth {
        let digest = Digest32::default();
        if let Some(token) = token {
            digest.set(Sha256::digest(&token).into());
        }
        Auth { path, digest }
    }

    /// The token file, if the service has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Replaces the token.
    pub fn set(&self, token: &[u8]) {
        self.digest.set(Sha256::digest(token).into());
    }

    /// Lets the request through, or says why not (401).
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Problem> {
        if self.path.is_none() {
            return Ok(());
        }
        let Some(expected) = self.digest.get() else {
            return Ok(());
        };
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(Problem::unauthorized("this service needs a token"));
        };
        let value = value.as_bytes();
        let presented = match value.iter().position(|&byte| byte == b' ') {
            Some(at) if value[..at].eq_ignore_ascii_case(b"bearer") => trim(&value[at + 1..]),
            _ => {
                return Err(Problem::unauthorized(
                    "the `Authorization` header is not `Bearer TOKEN`",
                ))
            }
        };
        let digest: [u8; 32] = Sha256::digest(presented).into();
        if constant_time_eq(&digest, &expected) {
            Ok(())
        } else {
            Err(Problem::unauthorized(
                "the token is not the service's token",
            ))
        }
    }
}

/// The token's digest, read by every request without a lock or any
/// write to shared memory: a sequence lock. The version is odd while the
/// digest is being replaced (rarely: when the token file changes); a
/// reader that saw it odd, or changed under it, reads again.
#[derive(Default)]
struct Digest32 {
    version: AtomicU64,
    words: [AtomicU64; 4],
    /// Writers, one at a time.
    writing: Mutex<()>,
}

impl Digest32 {
    fn set(&self, digest: [u8; 32]) {
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let version = self.version.load(Ordering::Relaxed);
        // Odd: being replaced (0 stays "never set" only until the first).
        self.version.store(version + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        for (word, bytes) in self.words.iter().zip(digest.chunks_exact(8)) {
            let bytes: [u8; 8] = bytes.try_into().expect("8 bytes");
            word.store(u64::from_ne_bytes(bytes), Ordering::Relaxed);
        }
        self.version.store(version + 2, Ordering::Release);
    }

    /// The digest; `None` before the first [`Digest32::set`].
    fn get(&self) -> Option<[u8; 32]> {
        loop {
            let before = self.version.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut digest = [0u8; 32];
            for (word, bytes) in self.words.iter().zip(digest.chunks_exact_mut(8)) {
                bytes.copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
            }
            fence(Ordering::Acquire);
            if self.version.load(Ordering::Relaxed) == before {
                return Some(digest);
            }
        }
    }
}

/// Whether `a == b`, taking the same time whatever the bytes.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |end| end + 1);
    &bytes[start..end]
}

/// Reads a token file: its content without the trailing line break. An
/// empty token, or one that cannot be sent in a header, is refused.
pub fn read_token(path: &Path) -> Result<Vec<u8>, CliError> {
    let text = callassign::files::read_text(path, MAX_TOKEN_BYTES).map_err(|error| {
        let cli_error = CliError::new(format!("token file: {}", error.describe(path)));
        match error.help() {
            Some(help) => cli_error.help(help),
            None => cli_error,
        }
    })?;
    let token = text
        .strip_suffix('\n')
        .map(|text| text.strip_suffix('\r').unwrap_or(text))
        .unwrap_or(&text);
    if token.trim().is_empty() {
        return Err(
            CliError::new(format!("the token file `{}` is empty", path.display()))
                .help("write a long random token into it, e.g. `openssl rand -hex 32 > FILE`"),
        );
    }
    if token.trim() != token || token.bytes().any(|byte| !(0x21..=0x7e).contains(&byte)) {
        return Err(CliError::new(format!(
            "the token in `{}` has spaces, line breaks or characters a header cannot carry",
            path.display()
        ))
        .help("use letters, digits and punctuation only, e.g. `openssl rand -hex 32 > FILE`"));
    }
    Ok(token.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_token_passes() {
        let auth = Auth::new(Some(PathBuf::from("t")), Some(b"s3cret".to_vec()));
        assert!(auth.check(&with("Bearer s3cret")).is_ok());
        assert!(auth.check(&with("bearer  s3cret ")).is_ok());
        assert!(auth.check(&with("Bearer s3cre")).is_err());
        assert!(auth.check(&with("Bearer s3cret2")).is_err());
        assert!(auth.check(&with("Basic s3cret")).is_err());
        assert!(auth.check(&with("s3cret")).is_err());
        assert!(auth.check(&HeaderMap::new()).is_err());
        auth.set(b"other");
        assert!(auth.check(&with("Bearer s3cret")).is_err());
        assert!(auth.check(&with("Bearer other")).is_ok());
    }

    #[test]
    fn a_digest_read_while_it_is_replaced_is_one_or_the_other() {
        let digest = Digest32::default();
        assert_eq!(digest.get(), None);
        digest.set([1; 32]);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for round in 0..20_000u32 {
                    digest.set([if round % 2 == 0 { 2 } else { 1 }; 32]);
                }
            });
            for _ in 0..20_000 {
                let seen = digest.get().unwrap();
                assert!(seen == [1; 32] || seen == [2; 32], "{seen:?}");
            }
        });
    }

    #[test]
    fn without_a_token_file_everything_passes() {
        assert!(Auth::new(None, None).check(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn token_files_lose_their_line_break_and_refuse_blanks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), b"abc");
        std::fs::write(&path, "abc\r\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), b"abc");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_token(&path).unwrap_err().message.contains("empty"));
        std::fs::write(&path, "a b\n").unwrap();
        assert!(read_token(&path).is_err());
    }
}
