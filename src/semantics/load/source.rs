//! Where rule files come from. The loader asks a [`RuleSource`] for bytes,
//! for a file's identity and for the rule files of a folder; it never
//! touches the file system itself, so the same `extends` rules (the folder
//! boundary, cycles, depth) hold for files on disk ([`FileSystem`]), at a
//! git revision ([`GitRevision`](super::git::GitRevision)), in an editor's
//! unsaved buffers ([`Overlay`]) and in memory ([`Overlay::in_memory`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::RULE_EXTENSION;

/// A place rule files are read from.
pub trait RuleSource {
    /// The file's bytes: whole, or the first `MAX_RULE_FILE_BYTES + 1` of
    /// a larger file (enough for the loader to refuse it without holding
    /// a huge file in memory).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// What names the same file however it was reached: two paths are the
    /// same file when their identities are equal, and a file is inside a
    /// folder when its identity's parent is the folder's identity. An
    /// error (`NotFound`) when there is no such file or folder.
    fn identity(&self, path: &Path) -> io::Result<PathBuf>;

    /// The ruleset names (file stems) of the rule files in a folder,
    /// sorted; for "did you mean" and listings.
    fn rule_names(&self, folder: &Path) -> Vec<String>;

    /// What reports call the file at `path`.
    fn display_name(&self, path: &Path) -> String {
        path.display().to_string()
    }
}

impl<S: RuleSource + ?Sized> RuleSource for &S {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        (**self).read(path)
    }
    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        (**self).identity(path)
    }
    fn rule_names(&self, folder: &Path) -> Vec<String> {
        (**self).rule_names(folder)
    }
    fn display_name(&self, path: &Path) -> String {
        (**self).display_name(path)
    }
}

/// Rule files on disk. Identity is the canonical path, so a symbolic link
/// is the file it points at (and a link out of the folder is seen as such).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileSystem;

impl RuleSource for FileSystem {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        crate::files::read_bounded(path, super::MAX_RULE_FILE_BYTES)
    }

    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        fs::canonicalize(non_empty(path))
    }

    fn rule_names(&self, folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(non_empty(folder))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| rule_stem(&entry.path()))
            .collect();
        names.sort();
        names
    }
}

/// In-memory documents over another source: an editor's unsaved buffers
/// over the disk, or rule text that was never saved. A document shadows
/// the file at its path; a path with no document falls through to the
/// source below.
#[derive(Debug, Default)]
pub struct Overlay<S = FileSystem> {
    below: S,
    /// Keyed by the lexically normalised path (see [`normalize`]).
    documents: BTreeMap<PathBuf, String>,
    /// Each document's key by what the source below resolves its path to,
    /// taken when it opens: a read through a link or another spelling
    /// finds its document without resolving every open document's path.
    by_identity: BTreeMap<PathBuf, PathBuf>,
}

/// A source with no files at all, under an [`Overlay::in_memory`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Nothing;

impl RuleSource for Nothing {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        Err(not_found(path))
    }
    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        Err(not_found(path))
    }
    fn rule_names(&self, _folder: &Path) -> Vec<String> {
        Vec::new()
    }
}

impl Overlay<Nothing> {
    /// Documents that exist only in memory.
    pub fn in_memory() -> Overlay<Nothing> {
        Overlay::new(Nothing)
    }
}

impl<S: RuleSource> Overlay<S> {
    pub fn new(below: S) -> Overlay<S> {
        Overlay {
            below,
            documents: BTreeMap::new(),
            by_identity: BTreeMap::new(),
        }
    }

    /// Puts (or replaces) the text of the document at `path`.
    pub fn open(&mut self, path: impl AsRef<Path>, text: impl Into<String>) {
        let key = normalize(path.as_ref());
        if let Ok(identity) = self.below.identity(&key) {
            self.by_identity.insert(identity, key.clone());
        }
        self.documents.insert(key, text.into());
    }

    /// Drops the document at `path`: the source below is seen again.
    pub fn close(&mut self, path: impl AsRef<Path>) {
        let key = normalize(path.as_ref());
        self.documents.remove(&key);
        if let Ok(identity) = self.below.identity(&key) {
            if self.by_identity.get(&identity) == Some(&key) {
                self.by_identity.remove(&identity);
            }
        }
    }

    /// The text of the document at `path`, if one is open.
    pub fn document(&self, path: impl AsRef<Path>) -> Option<&str> {
        self.documents
            .get(&normalize(path.as_ref()))
            .map(String::as_str)
    }

    /// The paths of the open documents.
    pub fn documents(&self) -> impl Iterator<Item = &Path> {
        self.documents.keys().map(PathBuf::as_path)
    }

    /// The document at `path`, also when `path` reaches it through a link
    /// or another spelling that the source below resolves to the same file.
    fn find(&self, path: &Path) -> Option<&String> {
        if let Some(text) = self.documents.get(&normalize(path)) {
            return Some(text);
        }
        let identity = self.below.identity(path).ok()?;
        let key = self.by_identity.get(&identity)?;
        self.documents.get(key)
    }
}

impl<S: RuleSource> RuleSource for Overlay<S> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.find(path) {
            Some(text) => Ok(text.clone().into_bytes()),
            None => self.below.read(path),
        }
    }

    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        match self.below.identity(path) {
            Ok(identity) => Ok(identity),
            Err(error) => {
                let key = normalize(path);
                // A document never saved, or a folder holding one.
                // Paths order by their components: the documents inside
                // the folder `key` come right after it.
                let inside = |document: &PathBuf| {
                    if key == Path::new(".") {
                        document.is_relative() && document.components().count() == 1
                    } else {
                        document.starts_with(&key)
                    }
                };
                if self.documents.contains_key(&key)
                    || (key == Path::new(".") && self.documents.keys().any(inside))
                    || self
                        .documents
                        .range(key.clone()..)
                        .next()
                        .is_some_and(|(document, _)| inside(document))
                {
                    // Named from its folder as the files beside it are (a
                    // canonical path on disk), so that it is seen inside
                    // that folder, and two unsaved documents extend each
                    // other as two saved files do.
                    let folder = folder_of(&key);
                    match (key.file_name(), folder != key) {
                        (Some(name), true) => Ok(self
                            .identity(&folder)
                            .map_or(key.clone(), |folder| folder.join(name))),
                        _ => Ok(key),
                    }
                } else {
                    Err(error)
                }
            }
        }
    }

    fn rule_names(&self, folder: &Path) -> Vec<String> {
        let folder = normalize(folder);
        let mut names = self.below.rule_names(&folder);
        names.extend(
            self.documents
                .keys()
                .filter(|document| folder_of(document) == folder)
                .filter_map(|document| rule_stem(document)),
        );
        names.sort();
        names.dedup();
        names
    }

    fn display_name(&self, path: &Path) -> String {
        self.below.display_name(path)
    }
}

/// `a/./b/../c` → `a/c`, and the empty path → `.`: the same spelling for
/// the same path without asking any file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    if normal.as_os_str().is_empty() {
        normal.push(".");
    }
    normal
}

/// The folder a file is in, normalised: `.` for a bare file name.
pub fn folder_of(path: &Path) -> PathBuf {
    normalize(path.parent().unwrap_or(Path::new("")))
}

/// The ruleset name of a rule file's path: its stem, when it carries the
/// rule extension and can name a ruleset (`hubspot.v2.rules` cannot be
/// extended, so it is never suggested).
pub(super) fn rule_stem(path: &Path) -> Option<String> {
    (path.extension()? == RULE_EXTENSION)
        .then(|| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .flatten()
        .filter(|stem| crate::syntax::parse::is_name(stem))
}

fn non_empty(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

pub(super) fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no file `{}`", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_removes_dots_without_touching_the_disk() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("")), PathBuf::from("."));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }

    #[test]
    fn an_overlay_document_shadows_the_source_below() {
        let mut below = Overlay::in_memory();
        below.open("rules/a.rules", "below");
        let mut overlay = Overlay::new(&below);
        assert_eq!(overlay.read(Path::new("rules/a.rules")).unwrap(), b"below");
        overlay.open("rules/./a.rules", "above");
        assert_eq!(overlay.read(Path::new("rules/a.rules")).unwrap(), b"above");
        overlay.close("rules/a.rules");
        assert_eq!(overlay.read(Path::new("rules/a.rules")).unwrap(), b"below");
    }

    #[test]
    fn unsaved_documents_have_an_identity_and_are_listed_in_their_folder() {
        let mut overlay = Overlay::in_memory();
        overlay.open("rules/zendesk.rules", "");
        overlay.open("rules/notes.txt", "");
        assert_eq!(
            overlay.identity(Path::new("rules")).unwrap(),
            PathBuf::from("rules")
        );
        assert_eq!(overlay.rule_names(Path::new("rules")), vec!["zendesk"]);
        assert!(overlay.identity(Path::new("other/x.rules")).is_err());
        overlay.open("demo.rules", "");
        assert_eq!(overlay.identity(Path::new("")).unwrap(), PathBuf::from("."));
    }

    #[cfg(unix)]
    #[test]
    fn an_unsaved_document_in_a_folder_on_disk_is_named_from_that_folder() {
        let dir = tempfile::tempdir().unwrap();
        // Reached through a link, as a file beside it would be.
        fs::create_dir(dir.path().join("real")).unwrap();
        let folder = dir.path().join("rules");
        std::os::unix::fs::symlink(dir.path().join("real"), &folder).unwrap();
        let mut overlay = Overlay::new(FileSystem);
        overlay.open(folder.join("a.rules"), "");
        overlay.open(folder.join("new/b.rules"), "");
        let canonical = fs::canonicalize(&folder).unwrap();
        assert_eq!(
            overlay.identity(&folder.join("a.rules")).unwrap(),
            canonical.join("a.rules")
        );
        assert_eq!(
            overlay.identity(&folder.join("./new/b.rules")).unwrap(),
            canonical.join("new/b.rules")
        );
        assert_eq!(
            overlay.identity(&folder.join("new")).unwrap(),
            canonical.join("new")
        );
    }
}
