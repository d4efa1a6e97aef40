//! Load: read a rule file, parse and check it, and follow its `extends`
//! chain inside its folder.
//!
//! Loading, parsing and checking are separate steps with separate findings;
//! this module only strings them together and owns the rules of reading:
//! size and encoding limits, the folder boundary, missing files, cycles,
//! the chain's depth and the built-in `default` ruleset. Where the bytes
//! come from is a [`RuleSource`]: the disk, a git revision, an editor's
//! unsaved buffers.

mod git;
mod source;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use git::GitRevision;
pub use source::{folder_of, normalize, FileSystem, Nothing, Overlay, RuleSource};

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span};
use crate::diagnostics::suggest::did_you_mean;
use crate::semantics::check::{check_file, is_plain_name, CheckedFile};
use crate::syntax::parse::parse;

/// Largest rule file read, in bytes. Real rule files are a few hundred bytes.
pub const MAX_RULE_FILE_BYTES: usize = 1024 * 1024;
/// Longest `extends` chain, counting the file itself.
pub const MAX_EXTENDS_DEPTH: usize = 16;
/// The extension every rule file carries.
pub const RULE_EXTENSION: &str = "rules";

/// The documented default priority, carried by the binary: `extends
/// default` in a folder without its own `default.rules` uses this text.
pub const BUILTIN_DEFAULT_TEXT: &str = include_str!("../../../rules/default.rules");
/// What reports, plans and traces call the built-in default.
pub const BUILTIN_DEFAULT_NAME: &str = "built-in default.rules";
/// The ruleset name that falls back to the built-in text.
const BUILTIN_DEFAULT: &str = "default";

/// The built-in default, parsed and checked once per process.
pub fn builtin_default() -> Arc<LoadedFile> {
    static LOADED: OnceLock<Arc<LoadedFile>> = OnceLock::new();
    Arc::clone(LOADED.get_or_init(|| {
        let mut source = Source::from_path(Path::new("default.rules"), BUILTIN_DEFAULT_TEXT);
        source.name = BUILTIN_DEFAULT_NAME.to_string();
        Arc::new(from_source(Arc::new(source)))
    }))
}

/// One rule file after parsing and checking on its own.
#[derive(Debug)]
pub struct LoadedFile {
    pub source: Arc<Source>,
    /// `None` when the header did not parse (or the file could not be read
    /// as text); the findings say why.
    pub checked: Option<CheckedFile>,
    pub findings: Vec<Finding>,
}

impl LoadedFile {
    pub fn has_errors(&self) -> bool {
        self.checked.is_none() || self.findings.iter().any(Finding::is_error)
    }
}

/// Parses and checks rule text that did not come from disk (tests, the
/// library's callers). `name` is what reports call it; its stem must match
/// the ruleset name.
pub fn load_text(name: &str, text: &str) -> LoadedFile {
    from_source(Arc::new(Source::new(name, text)))
}

/// Reads, parses and checks one rule file, without following `extends`.
/// An error only when the file cannot be read at all.
pub fn load_file(path: &Path) -> io::Result<LoadedFile> {
    let bytes = crate::files::read_bounded(path, MAX_RULE_FILE_BYTES)?;
    Ok(from_bytes(path, &path.display().to_string(), bytes))
}

/// Parses and checks the bytes of the file at `path`, which reports call `name`.
fn from_bytes(path: &Path, name: &str, mut bytes: Vec<u8>) -> LoadedFile {
    // A byte-order mark (an editor on Windows saves one) is not part of
    // the text, as it is not of a rule file read from stdin.
    if bytes.starts_with("\u{feff}".as_bytes()) {
        bytes.drain(..3);
    }
    let named = |text: String| {
        let mut source = Source::from_path(path, text);
        source.name = name.to_string();
        Arc::new(source)
    };
    if bytes.len() > MAX_RULE_FILE_BYTES {
        let source = named(String::new());
        let finding = Finding::new(
            FindingKind::FileTooLarge {
                bytes: bytes.len(),
                limit: MAX_RULE_FILE_BYTES,
            },
            &source,
            Span::default(),
        );
        return LoadedFile {
            source,
            checked: None,
            findings: vec![finding],
        };
    }
    match String::from_utf8(bytes) {
        Ok(text) => from_source(named(text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let source = named(String::from_utf8_lossy(error.as_bytes()).into_owned());
            let finding = Finding::new(FindingKind::NotUtf8, &source, Span::new(at, at + 1));
            LoadedFile {
                source,
                checked: None,
                findings: vec![finding],
            }
        }
    }
}

fn from_source(source: Arc<Source>) -> LoadedFile {
    let parsed = parse(&source);
    let mut findings = parsed.findings;
    let checked = parsed.file.map(|file| {
        let (checked, check_findings) = check_file(&source, &file);
        findings.extend(check_findings);
        checked
    });
    LoadedFile {
        source,
        checked,
        findings,
    }
}

/// The names of `names` (sorted) nearest `wanted` in sorted order, at most
/// [`SUGGESTION_WINDOW`] of them and never `own`, and how many others
/// there are.
fn nearest_names<'n>(names: &'n [String], wanted: &str, own: &str) -> (Vec<&'n str>, usize) {
    let at = names.partition_point(|name| name.as_str() < wanted);
    let start = at.saturating_sub(SUGGESTION_WINDOW / 2);
    let end = (start + SUGGESTION_WINDOW + 1).min(names.len());
    let start = end.saturating_sub(SUGGESTION_WINDOW + 1);
    let mut nearest: Vec<&str> = names[start..end]
        .iter()
        .map(String::as_str)
        .filter(|name| *name != own)
        .collect();
    nearest.truncate(SUGGESTION_WINDOW);
    let own_listed = names
        .binary_search_by(|name| name.as_str().cmp(own))
        .is_ok();
    let total = names.len() - usize::from(own_listed);
    let others = total - nearest.len();
    (nearest, others)
}

/// A file and the files it extends, base first, with the findings of
/// following the chain.
#[derive(Debug)]
pub struct Chain {
    /// Base first; the file asked for is last.
    pub files: Vec<Arc<LoadedFile>>,
    /// Whether every `extends` was followed to a file that parsed.
    pub complete: bool,
    pub findings: Vec<Finding>,
}

/// Loads rule files once each, however many chains they appear in, from
/// one [`RuleSource`] (the disk unless told otherwise).
#[derive(Debug, Default)]
pub struct Loader<S = FileSystem> {
    source: S,
    cache: HashMap<PathBuf, Arc<LoadedFile>>,
    /// The rule files of each folder listed so far, sorted: listed once,
    /// however many files of the folder miss their `extends`.
    folders: HashMap<PathBuf, Arc<Vec<String>>>,
}

/// The most rule files of a folder a missing `extends` is compared with
/// for a did-you-mean (those nearest its name in sorted order), and shown
/// in its help: each file of a large folder that misses its `extends`
/// costs the same, not the size of the folder.
const SUGGESTION_WINDOW: usize = 256;
const SIBLINGS_SHOWN: usize = 10;

impl Loader {
    /// A loader over the file system.
    pub fn new() -> Loader {
        Loader::default()
    }
}

impl<S: RuleSource> Loader<S> {
    /// A loader over another source: a git revision, an overlay of
    /// in-memory documents.
    pub fn with_source(source: S) -> Loader<S> {
        Loader {
            source,
            cache: HashMap::new(),
            folders: HashMap::new(),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The rule files of `folder`, sorted, listed once per loader.
    fn folder_names(&mut self, folder: &Path) -> Arc<Vec<String>> {
        if let Some(names) = self.folders.get(folder) {
            return Arc::clone(names);
        }
        let names = Arc::new(self.source.rule_names(folder));
        self.folders
            .insert(folder.to_path_buf(), Arc::clone(&names));
        names
    }

    /// Loads `path` and every file it extends. An error only when `path`
    /// itself cannot be read; problems further up the chain are findings.
    pub fn load_chain(&mut self, path: &Path) -> io::Result<Chain> {
        let leaf = self.load(path)?;
        let folder_path = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let folder = normalize(&self.source.identity(folder_path)?);
        let mut files = vec![leaf];
        let mut paths = vec![self.source.identity(path)?];
        let mut findings = Vec::new();
        let mut complete = true;

        loop {
            let current = Arc::clone(files.last().expect("chain is never empty"));
            let Some(checked) = &current.checked else {
                complete = false;
                break;
            };
            let Some(target) = &checked.extends else {
                break;
            };
            if !is_plain_name(&target.node) {
                // check.rs already reported it.
                complete = false;
                break;
            }
            let finding = |kind: FindingKind| Finding::new(kind, &current.source, target.span);
            // Named as the user named the first file, for readable reports.
            let parent_path = path.with_file_name(format!("{}.{RULE_EXTENSION}", target.node));
            let found = self.source.identity(&parent_path);
            let (parent, parent_identity) = match found {
                Ok(identity) => {
                    // Within the folder, subfolders included: Kubernetes
                    // mounts a ConfigMap as links into a hidden subfolder
                    // (`default.rules -> ..data/default.rules`).
                    let inside = identity.starts_with(&folder)
                        && !identity
                            .components()
                            .any(|part| part == std::path::Component::ParentDir);
                    if !inside {
                        findings.push(finding(FindingKind::ExtendsLinkOutside {
                            name: target.node.clone(),
                        }));
                        complete = false;
                        break;
                    }
                    (None, identity)
                }
                // A folder without its own default uses the built-in one.
                Err(_) if target.node == BUILTIN_DEFAULT => {
                    (Some(builtin_default()), PathBuf::from(BUILTIN_DEFAULT_NAME))
                }
                Err(_) => {
                    // Not the file itself: extending it would be a cycle.
                    let own_name = display_name(&current);
                    let names = self.folder_names(folder_path);
                    let (nearest, others) = nearest_names(&names, &target.node, &own_name);
                    let suggestion = did_you_mean(
                        &target.node,
                        nearest
                            .iter()
                            .copied()
                            .chain((own_name != BUILTIN_DEFAULT).then_some(BUILTIN_DEFAULT)),
                    )
                    .map(str::to_string);
                    // The help lists a few, around where the name would be.
                    let at = nearest.partition_point(|name| *name < target.node.as_str());
                    let start = at
                        .saturating_sub(SIBLINGS_SHOWN / 2)
                        .min(nearest.len().saturating_sub(SIBLINGS_SHOWN));
                    let siblings: Vec<String> = nearest[start..]
                        .iter()
                        .take(SIBLINGS_SHOWN)
                        .map(|name| name.to_string())
                        .collect();
                    let more = nearest.len() + others - siblings.len();
                    let mut missing = finding(FindingKind::MissingExtends {
                        name: target.node.clone(),
                        suggestion: suggestion.clone(),
                        siblings,
                        more,
                    });
                    if let Some(suggestion) = suggestion {
                        let title = format!("extend `{suggestion}`");
                        missing = missing.suggest(target.span, suggestion, title);
                    }
                    findings.push(missing);
                    complete = false;
                    break;
                }
            };
            if let Some(position) = paths.iter().position(|seen| *seen == parent_identity) {
                // files[position] extends files[position + 1] … extends current, which
                // extends files[position] again.
                let cycle: Vec<String> = files[position..]
                    .iter()
                    .chain(std::iter::once(&files[position]))
                    .map(|file| display_name(file))
                    .collect();
                findings.push(finding(FindingKind::ExtendsCycle { cycle }));
                complete = false;
                break;
            }
            if files.len() >= MAX_EXTENDS_DEPTH {
                // Reported on the file being checked: that is the file a
                // pull request adds or changes, and where CI annotates.
                let leaf = &files[0];
                let leaf_extends = leaf
                    .checked
                    .as_ref()
                    .and_then(|checked| checked.extends.as_ref())
                    .map_or(Span::default(), |extends| extends.span);
                findings.push(Finding::new(
                    FindingKind::ExtendsTooDeep {
                        limit: MAX_EXTENDS_DEPTH,
                        leaf: display_name(leaf),
                        current: display_name(&current),
                        target: target.node.clone(),
                    },
                    &leaf.source,
                    leaf_extends,
                ));
                complete = false;
                break;
            }
            let parent = match parent.map_or_else(|| self.load(&parent_path), Ok) {
                Ok(parent) => parent,
                Err(error) => {
                    findings.push(finding(FindingKind::UnreadableExtends {
                        path: self.source.display_name(&parent_path),
                        error: error.to_string(),
                    }));
                    complete = false;
                    break;
                }
            };
            files.push(parent);
            paths.push(parent_identity);
        }
        files.reverse();
        Ok(Chain {
            files,
            complete,
            findings,
        })
    }

    fn load(&mut self, path: &Path) -> io::Result<Arc<LoadedFile>> {
        let key = self.source.identity(path)?;
        if let Some(loaded) = self.cache.get(&key) {
            return Ok(Arc::clone(loaded));
        }
        let bytes = self.source.read(path)?;
        let loaded = Arc::new(from_bytes(path, &self.source.display_name(path), bytes));
        self.cache.insert(key, Arc::clone(&loaded));
        Ok(loaded)
    }
}

fn display_name(file: &LoadedFile) -> String {
    file.source.stem().unwrap_or(&file.source.name).to_string()
}

/// The rule files a `check` or `fmt` argument stands for: a file as given,
/// or every `.rules` file of a folder (recursively, sorted).
pub fn rule_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    find_rule_files(path).map(|found| found.files)
}

/// What a folder holds for commands that read rule files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFiles {
    /// The rule files, sorted.
    pub files: Vec<PathBuf>,
    /// Files that look meant as rule files but are skipped, since only
    /// `.rules` in lower case is one (`HUBSPOT.RULES`, `a.Rules`), sorted:
    /// commands say so rather than skip them silently.
    pub skipped: Vec<PathBuf>,
}

/// [`rule_files`], with the files skipped for the case of their extension.
///
/// ```
/// let folder = tempfile::tempdir().unwrap();
/// std::fs::write(folder.path().join("a.rules"), "").unwrap();
/// std::fs::write(folder.path().join("B.RULES"), "").unwrap();
/// let found = callassign::semantics::load::find_rule_files(folder.path()).unwrap();
/// assert_eq!(found.files, [folder.path().join("a.rules")]);
/// assert_eq!(found.skipped, [folder.path().join("B.RULES")]);
/// ```
pub fn find_rule_files(path: &Path) -> io::Result<RuleFiles> {
    let metadata = fs::metadata(path)?;
    if !metadata.is_dir() {
        return Ok(RuleFiles {
            files: vec![path.to_path_buf()],
            skipped: Vec::new(),
        });
    }
    let mut found = RuleFiles::default();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder)? {
            let entry = entry?;
            let entry_path = entry.path();
            if entry.file_type()?.is_dir() {
                folders.push(entry_path);
                continue;
            }
            match entry_path.extension() {
                Some(ext) if ext == RULE_EXTENSION => found.files.push(entry_path),
                Some(ext) if ext.eq_ignore_ascii_case(RULE_EXTENSION) => {
                    found.skipped.push(entry_path)
                }
                _ => {}
            }
        }
    }
    found.files.sort();
    found.skipped.sort();
    Ok(found)
}
