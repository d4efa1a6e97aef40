//! The documents an editor has open, and what callassign makes of them.
//!
//! Open documents live in an [`Overlay`] over the disk, so that loading a
//! file that `extends` an unsaved buffer reads the buffer. Every question
//! (diagnostics, hover, …) loads and compiles the document afresh with a
//! new [`Loader`]: rule files are a few hundred bytes, and a loader kept
//! between edits would serve stale text from its cache.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

use crate::lsp::position::{has_scheme, path_to_uri, uri_to_path, LineIndex};
use callassign::diagnostics::finding::Finding;
use callassign::diagnostics::kind::FindingKind;
use callassign::diagnostics::problem::Problem;
use callassign::diagnostics::source::{Source, Span};
use callassign::files::TextError;
use callassign::model::Context;
use callassign::semantics::check::is_plain_name;
use callassign::semantics::compile::{compile, Compiled};
use callassign::semantics::load::{Chain, FileSystem, Loader, Overlay, RuleSource, RULE_EXTENSION};
use callassign::semantics::plan::Plan;
use callassign::syntax::ast::RuleFile;
use callassign::syntax::parse::parse;

/// The settings file looked for in a rule file's folder. JSON, and not
/// `.yaml`: `callassign test FOLDER` takes every `.yaml` file for a test.
pub const SETTINGS_FILE: &str = "callassign-lsp.json";

/// An open document.
#[derive(Debug)]
struct Document {
    /// The address its findings are published at: the spelling opened
    /// last of those still open.
    uri: Uri,
    /// Every spelling of its address the editor has open (`a.rules` and
    /// `%61.rules` are one file): its text is dropped only when the last
    /// one closes.
    spellings: Vec<Uri>,
    place: Place,
    version: i32,
}

/// Where a document's text lives, and so what it can reach.
#[derive(Debug)]
enum Place {
    /// A `file:` document: its text is in the overlay, where the files
    /// beside it can `extends` it and it can extend them.
    File(PathBuf),
    /// An `untitled:` document, never saved: checked on its own, as
    /// `compile_text` checks a text. It is in no folder, so of all the
    /// bases only the built-in `default` is within its reach.
    Untitled(String),
}

/// The open documents and the server's settings.
#[derive(Debug, Default)]
pub struct Workspace {
    /// By [`document_key`]: a `file:` document by its path, so that two
    /// spellings of one address are one document; others by address.
    documents: BTreeMap<String, Document>,
    /// The key of each open `file:` document by its path, so that a
    /// finding's address is found without a scan of every document.
    by_path: BTreeMap<PathBuf, String>,
    overlay: Overlay<FileSystem>,
    /// The context named by the client's initialization options, used for
    /// folders without a settings file of their own.
    default_context: Option<PathBuf>,
    /// Problems with settings files and contexts met while answering, not
    /// yet handed to the editor (met on the way to an answer, which they
    /// must not stop).
    problems: RefCell<Vec<Problem>>,
    /// Problems already handed over, as their text: a broken settings file
    /// is met on every completion, and said once.
    told: RefCell<BTreeSet<String>>,
    /// Documents analyzed so far (for tests of what an edit costs).
    analyses: std::cell::Cell<u64>,
}

/// One document, loaded with its `extends` chain and compiled.
#[derive(Debug)]
pub struct Analysis {
    pub uri: Uri,
    pub path: PathBuf,
    /// The document's text, as the findings' spans see it.
    pub source: Arc<Source>,
    pub index: LineIndex,
    /// The syntax tree, when the header parses.
    pub tree: Option<RuleFile>,
    pub chain: Chain,
    pub compiled: Compiled,
}

impl Analysis {
    pub fn text(&self) -> &str {
        &self.source.text
    }

    pub fn range(&self, span: Span) -> Range {
        self.index.range(self.text(), span)
    }

    pub fn offset(&self, position: Position) -> usize {
        self.index.offset(self.text(), position)
    }

    /// The plan of what this file extends: its chain without the file.
    pub fn base_plan(&self) -> Option<Plan> {
        let (_, ancestors) = self.chain.files.split_last()?;
        if ancestors.is_empty() {
            return None;
        }
        compile(&Chain {
            files: ancestors.to_vec(),
            complete: self.chain.complete,
            findings: Vec::new(),
        })
        .plan
    }
}

impl Workspace {
    pub fn new(default_context: Option<PathBuf>) -> Workspace {
        Workspace {
            default_context,
            ..Workspace::default()
        }
    }

    /// Opens a document; `false` for an address that is neither a file
    /// nor `untitled:`, which this server does not serve. Another
    /// spelling of an open file's address opens the same document, with
    /// the text sent last.
    pub fn open(&mut self, uri: Uri, version: i32, text: String) -> bool {
        let place = if let Some(path) = uri_to_path(&uri) {
            self.overlay.open(&path, text);
            Place::File(path)
        } else if has_scheme(&uri, "untitled") {
            Place::Untitled(text)
        } else {
            return false;
        };
        let key = document_key(&uri);
        if let Place::File(path) = &place {
            self.by_path.insert(path.clone(), key.clone());
        }
        match self.documents.get_mut(&key) {
            Some(document) => {
                if !document.spellings.contains(&uri) {
                    document.spellings.push(uri.clone());
                }
                document.uri = uri;
                document.place = place;
                document.version = version;
            }
            None => {
                self.documents.insert(
                    key,
                    Document {
                        uri: uri.clone(),
                        spellings: vec![uri],
                        place,
                        version,
                    },
                );
            }
        }
        true
    }

    /// Applies an editor's changes in order: a change with a range replaces
    /// that range (clamped to the text), one without replaces the text.
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let Some(document) = self.documents.get_mut(&document_key(uri)) else {
            return false;
        };
        let mut text = match &document.place {
            Place::File(path) => self.overlay.document(path).unwrap_or_default().to_string(),
            Place::Untitled(text) => text.clone(),
        };
        for change in changes {
            match change.range {
                Some(range) => {
                    let span = LineIndex::new(&text).span(&text, range);
                    text.replace_range(span.range(), &change.text);
                }
                None => text = change.text,
            }
        }
        document.version = version;
        match &mut document.place {
            Place::File(path) => self.overlay.open(path, text),
            Place::Untitled(untitled) => *untitled = text,
        }
        true
    }

    /// Closes one spelling of a document's address; the document (and
    /// its text in the overlay) goes with the last one.
    pub fn close(&mut self, uri: &Uri) {
        let key = document_key(uri);
        let Some(document) = self.documents.get_mut(&key) else {
            return;
        };
        document.spellings.retain(|spelling| spelling != uri);
        if let Some(last) = document.spellings.last() {
            document.uri = last.clone();
            return;
        }
        if let Some(Document {
            place: Place::File(path),
            ..
        }) = self.documents.remove(&key)
        {
            self.by_path.remove(&path);
            self.overlay.close(&path);
        }
    }

    /// How many times a document was analyzed.
    #[cfg(test)]
    pub fn analyses(&self) -> u64 {
        self.analyses.get()
    }

    /// The key of the document at `uri` (every spelling of one file's
    /// address has one key), whether it is open or not.
    pub fn key(uri: &Uri) -> String {
        document_key(uri)
    }

    /// The address an open document's findings are published at, and its
    /// version; `None` once it is closed.
    pub fn opened(&self, key: &str) -> Option<(Uri, i32)> {
        self.documents
            .get(key)
            .map(|document| (document.uri.clone(), document.version))
    }

    /// The path of a `file:` document.
    pub fn path_of(uri: &Uri) -> Option<PathBuf> {
        uri_to_path(uri)
    }

    /// Loads and compiles an open document; `None` when it is not open.
    pub fn analyze(&self, uri: &Uri) -> Option<Analysis> {
        let document = self.documents.get(&document_key(uri))?;
        self.analyses.set(self.analyses.get() + 1);
        // The document is in the overlay, so only a folder that cannot be
        // listed fails here; the document is then seen on its own.
        let (path, chain) = match &document.place {
            Place::File(path) => (
                path.clone(),
                Loader::with_source(&self.overlay).load_chain(path).ok()?,
            ),
            Place::Untitled(text) => {
                let path = untitled_path(&document.uri, text);
                let mut alone = Overlay::in_memory();
                alone.open(&path, text.as_str());
                let chain = Loader::with_source(alone).load_chain(&path).ok()?;
                (path, chain)
            }
        };
        let leaf = chain.files.last().expect("chain is never empty");
        let source = Arc::clone(&leaf.source);
        let mut compiled = compile(&chain);
        point_at_cycle(&chain, &mut compiled.findings);
        if matches!(document.place, Place::Untitled(_)) {
            explain_unreachable_bases(&mut compiled.findings);
        }
        Some(Analysis {
            uri: uri.clone(),
            path,
            index: LineIndex::new(&source.text),
            tree: parse(&source).file,
            source,
            chain,
            compiled,
        })
    }

    /// The ruleset names of the rule files beside `path`.
    pub fn rule_names_beside(&self, path: &Path) -> Vec<String> {
        self.overlay.rule_names(folder_of(path))
    }

    /// The address of a source's file, for findings and definitions: the
    /// address the editor opened it at when it is open (the editor matches
    /// addresses as text, and spellings of one file differ: `%c3%a9` or
    /// `%C3%A9`, `+` or `%2B`); else a `file:` address of its path. The
    /// built-in default has none: nobody can edit it.
    pub fn address(&self, source: &Source) -> Option<Uri> {
        let path = source.path.as_deref()?;
        let open = match self.by_path.get(path) {
            Some(key) => self.documents.get(key),
            // An untitled document's sources are in a folder named after it.
            None if !path.is_absolute() => self.documents.values().find(|document| {
                matches!(document.place, Place::Untitled(_))
                    && path.parent() == Some(untitled_folder(&document.uri).as_path())
            }),
            None => None,
        };
        match open {
            Some(document) => Some(document.uri.clone()),
            None if path.is_absolute() => path_to_uri(path),
            None => None,
        }
    }

    /// E-mails of the active users of the context configured for the folder
    /// of `path`: its settings file, else the initialization options. What
    /// stands in the way is kept for [`Workspace::take_problems`].
    pub fn user_emails(&self, path: &Path) -> Vec<String> {
        let Some(context) = self.context_for(path) else {
            return Vec::new();
        };
        context
            .users
            .iter()
            .filter(|user| user.active)
            .filter_map(|user| user.email.clone())
            .collect()
    }

    /// What was wrong with the configuration since last asked: each
    /// problem once a session, for the editor to show.
    pub fn take_problems(&self) -> Vec<Problem> {
        let mut met = self.problems.borrow_mut();
        let mut told = self.told.borrow_mut();
        met.drain(..)
            .filter(|problem| told.insert(problem.to_string()))
            .collect()
    }

    /// The context for the folder of `path`, read as `eval --context`
    /// reads one (its directories too; every file bounded, a FIFO refused);
    /// `None` when there is none or it cannot be used. An untitled document
    /// (a relative path) is in no folder: the initialization options'
    /// context serves it.
    fn context_for(&self, path: &Path) -> Option<Context> {
        let from_options = "named by the initialization options".to_string();
        let (named, origin) = match self.settings_beside(path) {
            Ok(Some((settings, named))) => {
                (Some(named), format!("named by `{}`", settings.display()))
            }
            Ok(None) => (self.default_context.clone(), from_options),
            Err(mut problem) => {
                problem.message.push_str(match self.default_context {
                    Some(_) => " (user e-mails are completed from the initialization options' context meanwhile)",
                    None => " (user e-mails are not completed meanwhile)",
                });
                self.problems.borrow_mut().push(problem);
                (self.default_context.clone(), from_options)
            }
        };
        match Context::load(&named?) {
            Ok(context) => Some(context),
            Err(problems) => {
                self.problems
                    .borrow_mut()
                    .extend(problems.into_iter().map(|mut problem| {
                        problem.message.push_str(&format!(
                            " (the context {origin}: user e-mails are not completed)"
                        ));
                        problem
                    }));
                None
            }
        }
    }

    /// Reads the configuration that serves an open document, so that what
    /// is wrong with it is told when the document opens, not only when a
    /// completion comes up empty.
    pub fn check_configuration(&self, uri: &Uri) {
        let Some(document) = self.documents.get(&document_key(uri)) else {
            return;
        };
        match &document.place {
            Place::File(path) => self.context_for(path),
            Place::Untitled(_) => self.context_for(&untitled_folder(uri)),
        };
    }

    /// The settings file beside `path` and the context it names, if there
    /// is a settings file; an error when there is one that cannot be used.
    fn settings_beside(&self, path: &Path) -> Result<Option<(PathBuf, PathBuf)>, Problem> {
        if !path.is_absolute() {
            return Ok(None);
        }
        let folder = folder_of(path);
        let settings = folder.join(SETTINGS_FILE);
        let text = match callassign::files::read_text(&settings, MAX_SETTINGS_BYTES) {
            Ok(text) => text,
            Err(TextError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None)
            }
            Err(error) => {
                return Err(Problem::context(
                    error.describe(&settings),
                    error.help().unwrap_or(SETTINGS_HELP),
                ))
            }
        };
        let named: Settings = serde_json::from_str(&text).map_err(|error| {
            Problem::context(
                format!(
                    "`{}` is not a valid settings file: {error}",
                    settings.display()
                ),
                SETTINGS_HELP,
            )
        })?;
        Ok(Some((settings, folder.join(named.context))))
    }
}

/// How to write a settings file.
const SETTINGS_HELP: &str =
    "write `{\"context\": \"path/to/context.yaml\"}`, the path relative to this file";

/// Largest settings file read; a real one names a context in a line.
const MAX_SETTINGS_BYTES: usize = 64 * 1024;

/// `callassign-lsp.json` in a rules folder.
#[derive(Debug, serde::Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "settings: an object such as `{\"context\": \"contexts/hubspot.yaml\"}`"
)]
struct Settings {
    /// The integration context whose users complete `user "…"`, relative
    /// to the settings file.
    context: PathBuf,
}

/// How the open documents are keyed: a `file:` address by the path it
/// names (its spellings differ: `%61` or `a`, `%c3%a9` or `%C3%A9`, a host
/// of `localhost` or none), any other address as its text.
fn document_key(uri: &Uri) -> String {
    match uri_to_path(uri) {
        Some(path) => format!("file:{}", path.display()),
        None => uri.as_str().to_string(),
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The folder an untitled document is checked in: a relative path named
/// after its address, so that it is no folder on disk (every file the
/// server opens has an absolute path) and no other document's.
fn untitled_folder(uri: &Uri) -> PathBuf {
    PathBuf::from(uri.as_str().replace(['/', '\\'], "_"))
}

/// Where an untitled document is checked: named after its ruleset, since
/// there is no file name for the ruleset name to match.
fn untitled_path(uri: &Uri, text: &str) -> PathBuf {
    let name = parse(&Arc::new(Source::new("", text)))
        .file
        .map(|file| file.name.node)
        .filter(|name| is_plain_name(name))
        .unwrap_or_else(|| "untitled".to_string());
    untitled_folder(uri).join(format!("{name}.{RULE_EXTENSION}"))
}

/// The loader reports an `extends` circle on the file that closes it,
/// which may not be the open document: then the document would show
/// nothing while it cannot compile. It is told at its own `extends`: as
/// the file that closes the circle from its side when it is in the circle
/// (the same finding another open file of the circle gives it, so shown
/// once), else as a file that leads into it, naming the way there.
fn point_at_cycle(chain: &Chain, findings: &mut Vec<Finding>) {
    let leaf = chain.files.last().expect("chain is never empty");
    let Some(extends) = leaf
        .checked
        .as_ref()
        .and_then(|checked| checked.extends.as_ref())
    else {
        return;
    };
    let Some(cycle) = findings.iter().find_map(|finding| match &finding.kind() {
        FindingKind::ExtendsCycle { cycle } if !Arc::ptr_eq(finding.source(), &leaf.source) => {
            Some(cycle.clone())
        }
        _ => None,
    }) else {
        return;
    };
    let name = |file: &Arc<Source>| file.stem().unwrap_or(&file.name).to_string();
    let own = name(&leaf.source);
    // `cycle` is `m0 → m1 → … → m0`: its last name is its first.
    let Some((first, members)) = cycle.split_last() else {
        return;
    };
    let (path, label) = match members.iter().position(|member| *member == own) {
        Some(at) => {
            // From the member after this one round to it and on to that one.
            let mut path: Vec<String> = members[at + 1..]
                .iter()
                .chain(&members[..=at])
                .cloned()
                .collect();
            path.push(path[0].clone());
            (path, None)
        }
        None => {
            let mut path: Vec<String> = chain
                .files
                .iter()
                .rev()
                .map(|file| name(&file.source))
                .take_while(|file| file != first)
                .collect();
            path.extend(cycle.iter().cloned());
            (path, Some("leads into the circle"))
        }
    };
    let mut finding = Finding::new(
        FindingKind::ExtendsCycle { cycle: path },
        &leaf.source,
        extends.span,
    );
    if let Some(label) = label {
        finding.set_label(label);
    }
    findings.push(finding);
}

/// An untitled document that extends a file other than the built-in
/// default is told why it cannot be found: not that the file is missing
/// from a folder, but that the document is in none yet.
fn explain_unreachable_bases(findings: &mut [Finding]) {
    for finding in findings {
        if let FindingKind::MissingExtends {
            name,
            suggestion: None,
            ..
        } = finding.kind().clone()
        {
            finding.set_label("not reachable from an unsaved document");
            let help = format!(
                "an unsaved document reaches only the built-in `default`: save the document beside `{name}.rules` to extend it"
            );
            finding.set_help(help);
        }
    }
}
