//! Reading and writing files safely: every file callassign reads (rule
//! files, contexts, calls, rule tests) goes through [`read_bounded`], and
//! every file it rewrites through [`write_atomically`].
//!
//! Reading is bounded twice: what is not a regular file (a FIFO would block
//! forever, `/dev/zero` never ends) is refused before it is opened, and a
//! regular file is read through `take(limit + 1)`, so a huge or sparse file
//! costs at most `limit + 1` bytes of memory whatever its size. Writing goes
//! to a temporary file beside the target that is renamed over it, so a
//! full disk or a killed process leaves the old file whole.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

pub(crate) mod yaml;

/// Reads at most `limit + 1` bytes of `path`: a result longer than `limit`
/// tells the caller the file is too large, without reading the rest.
///
/// What is not a regular file (after following symbolic links) is an
/// [`io::ErrorKind::InvalidInput`] error saying what it is.
pub fn read_bounded(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    // Checked before opening, for the plain error on a plain mistake.
    refuse_irregular(&fs::metadata(path)?)?;
    let file = open_without_waiting(path)?;
    // Checked again on the open file: the path may have been replaced in
    // between (a served file swapped for a FIFO).
    refuse_irregular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens `path` for reading without waiting for a writer: opening a FIFO
/// blocks until one comes, so a path swapped for a FIFO after the check
/// would hang its reader. `O_NONBLOCK` changes nothing for the regular file
/// that is then read (Linux and the BSDs ignore it for regular files).
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Reads a text file of at most `limit` bytes, without a leading UTF-8
/// byte-order mark (editors on Windows add one; it is not part of the text).
pub fn read_text(path: &Path, limit: usize) -> Result<String, TextError> {
    let bytes = read_bounded(path, limit).map_err(TextError::Io)?;
    text_of(bytes, limit)
}

/// Reads text of at most `limit` bytes from a stream (standard input),
/// holding at most one byte past the limit, without a leading byte-order
/// mark.
///
/// ```
/// use callassign::files::{read_text_from, TextError};
///
/// assert_eq!(read_text_from(&b"\xEF\xBB\xBFruleset a\n"[..], 64).unwrap(), "ruleset a\n");
/// assert!(matches!(read_text_from(&[b'x'; 65][..], 64), Err(TextError::TooLarge { limit: 64 })));
/// assert!(matches!(read_text_from(&b"a\xFF"[..], 64), Err(TextError::NotUtf8 { byte: 2 })));
/// ```
pub fn read_text_from(reader: impl Read, limit: usize) -> Result<String, TextError> {
    let mut bytes = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(TextError::Io)?;
    text_of(bytes, limit)
}

fn text_of(bytes: Vec<u8>, limit: usize) -> Result<String, TextError> {
    if bytes.len() > limit {
        return Err(TextError::TooLarge { limit });
    }
    let mut text = String::from_utf8(bytes).map_err(|error| TextError::NotUtf8 {
        byte: error.utf8_error().valid_up_to() + 1,
    })?;
    if text.starts_with(BYTE_ORDER_MARK) {
        text.drain(..BYTE_ORDER_MARK.len_utf8());
    }
    Ok(text)
}

/// A JSON reader's message in the product's words: serde_json says
/// `expected ident` of a bare word that is not `true`, `false` or `null`
/// (`not json`, `nul`), which reads as a message for programmers.
///
/// ```
/// assert_eq!(
///     callassign::files::plain_json_message("expected ident at line 1 column 2"),
///     "not JSON: a bare word where a value goes (only `true`, `false` and `null` are written without quotes) at line 1 column 2"
/// );
/// ```
pub fn plain_json_message(message: &str) -> String {
    message.replace(
        "expected ident",
        "not JSON: a bare word where a value goes (only `true`, `false` and `null` are written without quotes)",
    )
}

/// The UTF-8 byte-order mark, skipped at the start of every text input.
pub(crate) const BYTE_ORDER_MARK: char = '\u{feff}';

/// Why a text file could not be read.
#[derive(Debug)]
pub enum TextError {
    Io(io::Error),
    TooLarge {
        limit: usize,
    },
    /// `byte` is 1-based.
    NotUtf8 {
        byte: usize,
    },
}

impl TextError {
    /// The message, naming the file as `path`: "`x.yaml` is larger than …".
    pub fn describe(&self, path: &Path) -> String {
        let path = path.display();
        match self {
            TextError::Io(error) if error.kind() == io::ErrorKind::NotFound => {
                format!("`{path}` does not exist")
            }
            TextError::Io(error) => format!("`{path}` cannot be read: {error}"),
            TextError::TooLarge { limit } => format!("`{path}` is larger than {limit} bytes"),
            TextError::NotUtf8 { byte } => format!("`{path}` is not valid UTF-8 (byte {byte})"),
        }
    }

    /// How to fix it.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            TextError::Io(error) => irregular_help(error),
            TextError::TooLarge { .. } => Some("is this the right file?"),
            TextError::NotUtf8 { .. } => Some("save the file as UTF-8"),
        }
    }
}

/// The help line for an error of [`read_bounded`] that refused a file
/// that is not a regular file.
pub fn irregular_help(error: &io::Error) -> Option<&'static str> {
    (error.kind() == io::ErrorKind::InvalidInput)
        .then_some("name a regular file; to read from a pipe, save its output to a file first")
}

fn refuse_irregular(metadata: &fs::Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a folder"
    } else {
        irregular_kind(&kind)
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a regular file"),
    ))
}

#[cfg(unix)]
fn irregular_kind(kind: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn irregular_kind(_kind: &fs::FileType) -> &'static str {
    "a special file"
}

/// Replaces `path` with `bytes`: written to a temporary file in the same
/// folder (so the rename cannot cross file systems), flushed to disk, given
/// the old file's permissions and owner, then renamed over `path`. On any
/// error the old file is untouched and the temporary file removed.
///
/// A rename needs only the folder to be writable, so it would replace a
/// file that may not be written: a read-only file (no write bit), or one
/// this user cannot open for writing (another owner's). Those are refused
/// with [`io::ErrorKind::PermissionDenied`], as writing them in place
/// would be; and so is a file whose owner the new file could not keep.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let existing = match fs::metadata(path) {
        Ok(metadata) => {
            may_replace(path, &metadata)?;
            Some(metadata)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let (temporary_path, mut temporary) = create_temporary(folder, &name)?;
    let written = (|| {
        temporary.write_all(bytes)?;
        temporary.sync_all()?;
        if let Some(metadata) = &existing {
            temporary.set_permissions(metadata.permissions())?;
            keep_owner(&temporary, metadata)?;
        }
        drop(temporary);
        fs::rename(&temporary_path, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary_path);
    }
    written
}

/// Whether the file at `path` may be replaced: it has a write bit, and
/// this user can open it for writing (which the system decides, owner and
/// group included). Opening without truncating changes nothing.
fn may_replace(path: &Path, metadata: &fs::Metadata) -> io::Result<()> {
    if metadata.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it is read-only ({}); make it writable first (`chmod u+w`)",
                mode(metadata)
            ),
        ));
    }
    match fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "this user may not write it ({}); ask its owner, or run as a user who may",
                mode(metadata)
            ),
        )),
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn mode(metadata: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "mode {:o}, owner {}",
        metadata.mode() & 0o7777,
        metadata.uid()
    )
}

#[cfg(not(unix))]
fn mode(_metadata: &fs::Metadata) -> String {
    "read-only".to_string()
}

/// Gives the new file the old one's owner and group, so that replacing a
/// file does not hand it to whoever ran the command. When that is not
/// allowed (a file of another owner that this user may write through its
/// group), the file is not replaced.
#[cfg(unix)]
fn keep_owner(temporary: &File, old: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let new = temporary.metadata()?;
    if new.uid() == old.uid() && new.gid() == old.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(temporary, Some(old.uid()), Some(old.gid())).map_err(|_| {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it belongs to another user ({}), and a rewritten copy would belong to this one; run as its owner",
                mode(old)
            ),
        )
    })
}

#[cfg(not(unix))]
fn keep_owner(_temporary: &File, _old: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

/// A new file `.NAME.PID-N.tmp` in `folder`, never one that exists.
fn create_temporary(folder: &Path, name: &str) -> io::Result<(std::path::PathBuf, File)> {
    let mut attempt = 0u32;
    loop {
        let candidate = folder.join(format!(".{name}.{}-{attempt}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_at_most_one_byte_past_the_limit() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("big");
        fs::write(&path, vec![b'x'; 100]).unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap().len(), 11);
        assert_eq!(read_bounded(&path, 100).unwrap().len(), 100);
        assert!(matches!(
            read_text(&path, 10),
            Err(TextError::TooLarge { limit: 10 })
        ));
    }

    #[test]
    fn a_folder_is_not_read() {
        let folder = tempfile::tempdir().unwrap();
        let error = read_bounded(folder.path(), 10).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "it is a folder, not a regular file");
    }

    /// The path checked, then swapped for a FIFO before it is opened: the
    /// open must come back at once (no writer will ever come) so that the
    /// check on the open file can refuse it.
    #[cfg(unix)]
    #[test]
    fn a_fifo_met_at_open_time_is_refused_without_waiting_for_a_writer() {
        let folder = tempfile::tempdir().unwrap();
        let fifo = folder.path().join("swapped.rules");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (sender, receiver) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let opened =
                open_without_waiting(&path).and_then(|file| refuse_irregular(&file.metadata()?));
            let _ = sender.send(opened.map_err(|error| error.to_string()));
        });
        let opened = receiver
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("opening a FIFO without a writer blocked");
        assert_eq!(
            opened.unwrap_err(),
            "it is a named pipe (FIFO), not a regular file"
        );
    }

    #[test]
    fn the_byte_order_mark_is_skipped() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("bom.yaml");
        fs::write(&path, "\u{feff}a: 1\n").unwrap();
        assert_eq!(read_text(&path, 100).unwrap(), "a: 1\n");
    }

    #[test]
    fn an_atomic_write_refuses_a_read_only_file_and_leaves_it_whole() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("a.rules");
        fs::write(&path, "old").unwrap();
        let mut read_only = fs::metadata(&path).unwrap().permissions();
        read_only.set_readonly(true);
        fs::set_permissions(&path, read_only).unwrap();
        let error = write_atomically(&path, b"new").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            error.to_string().starts_with("it is read-only (mode 444"),
            "{error}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(folder.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn an_atomic_write_keeps_the_owner_and_mode() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("a.rules");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        // Root may give the file away: then the rewrite must keep that owner.
        let given = std::os::unix::fs::chown(&path, Some(65534), Some(65534)).is_ok();
        let before = fs::metadata(&path).unwrap();
        write_atomically(&path, b"new").unwrap();
        let after = fs::metadata(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(after.mode() & 0o7777, 0o640);
        assert_eq!(
            (after.uid(), after.gid()),
            (before.uid(), before.gid()),
            "given away: {given}"
        );
    }

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_nothing_behind() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("a.rules");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_dir(folder.path()).unwrap().count(), 1);
    }
}
