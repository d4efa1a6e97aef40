//! The documents an editor has open, and what callassign makes of them.
//!
//! Open documents live in an [`Overlay`] over the disk, so that loading a
//! file that `extends` an unsaved buffer reads the buffer. Every question
//! (diagnostics, hover, …) loads and compiles the document afresh with a
//! new [`Loader`]: rule files are a few hundred bytes, and a loader kept
//! between edits would serve stale text from its cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

use crate::lsp::position::{path_to_uri, uri_to_path, LineIndex};
use crate::runtime::model::context::MAX_CONTEXT_BYTES;
use crate::runtime::model::Context;
use crate::semantics::compile::{compile, Compiled};
use crate::semantics::load::{Chain, FileSystem, Loader, Overlay, RuleSource};
use crate::semantics::plan::Plan;
use crate::syntax::ast::RuleFile;
use crate::syntax::parse::parse;
use crate::syntax::source::{Source, Span};

/// The settings file looked for in a rule file's folder. JSON, and not
/// `.yaml`: `callassign test FOLDER` takes every `.yaml` file for a test.
pub const SETTINGS_FILE: &str = "callassign-lsp.json";

/// An open document.
#[derive(Debug)]
struct Document {
    uri: Uri,
    path: PathBuf,
    version: i32,
}

/// The open documents and the server's settings.
#[derive(Debug, Default)]
pub struct Workspace {
    /// By address (as text: a `Uri` is not a sound map key).
    documents: BTreeMap<String, Document>,
    overlay: Overlay<FileSystem>,
    /// The context named by the client's initialization options, used for
    /// folders without a settings file of their own.
    default_context: Option<PathBuf>,
}

/// One document, loaded with its `extends` chain and compiled.
#[derive(Debug)]
pub struct Analysis {
    pub uri: Uri,
    pub path: PathBuf,
    pub version: i32,
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

    /// Opens a document; `false` for an address that is not a file, which
    /// this server does not serve.
    pub fn open(&mut self, uri: Uri, version: i32, text: String) -> bool {
        let Some(path) = uri_to_path(&uri) else {
            return false;
        };
        self.overlay.open(&path, text);
        self.documents
            .insert(uri.as_str().to_string(), Document { uri, path, version });
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
        let Some(document) = self.documents.get_mut(uri.as_str()) else {
            return false;
        };
        let mut text = self
            .overlay
            .document(&document.path)
            .unwrap_or_default()
            .to_string();
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
        self.overlay.open(&document.path, text);
        true
    }

    pub fn close(&mut self, uri: &Uri) {
        if let Some(document) = self.documents.remove(uri.as_str()) {
            self.overlay.close(&document.path);
        }
    }

    pub fn uris(&self) -> Vec<Uri> {
        self.documents
            .values()
            .map(|document| document.uri.clone())
            .collect()
    }

    /// Loads and compiles an open document; `None` when it is not open.
    pub fn analyze(&self, uri: &Uri) -> Option<Analysis> {
        let document = self.documents.get(uri.as_str())?;
        let mut loader = Loader::with_source(&self.overlay);
        // The document is in the overlay, so only a folder that cannot be
        // listed fails here; the document is then seen on its own.
        let chain = loader.load_chain(&document.path).ok()?;
        let leaf = chain.files.last().expect("chain is never empty");
        let source = Arc::clone(&leaf.source);
        let compiled = compile(&chain);
        Some(Analysis {
            uri: document.uri.clone(),
            path: document.path.clone(),
            version: document.version,
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

    /// E-mails of the active users of the context configured for the folder
    /// of `path`: its settings file, else the initialization options.
    pub fn user_emails(&self, path: &Path) -> Vec<String> {
        let Some(context_path) = self.context_for(path) else {
            return Vec::new();
        };
        // A context named by a settings file may be a FIFO or huge: the
        // server must not block or fill its memory on it.
        let Ok(text) = crate::files::read_text(&context_path, MAX_CONTEXT_BYTES) else {
            return Vec::new();
        };
        let Ok(context) = Context::from_yaml(&text) else {
            return Vec::new();
        };
        context
            .users
            .iter()
            .filter(|user| user.active)
            .filter_map(|user| user.email.clone())
            .collect()
    }

    fn context_for(&self, path: &Path) -> Option<PathBuf> {
        let folder = folder_of(path);
        let settings = folder.join(SETTINGS_FILE);
        match crate::files::read_text(&settings, MAX_SETTINGS_BYTES) {
            Ok(text) => serde_json::from_str::<Settings>(&text)
                .ok()
                .map(|settings| folder.join(settings.context)),
            Err(_) => self.default_context.clone(),
        }
    }
}

/// Largest settings file read; a real one names a context in a line.
const MAX_SETTINGS_BYTES: usize = 64 * 1024;

/// `callassign-lsp.json` in a rules folder.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The integration context whose users complete `user "…"`, relative
    /// to the settings file.
    context: PathBuf,
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The address of a source's file, for findings and definitions. Files
/// the server loads have absolute paths (they come from addresses); the
/// built-in default has none on disk, so no address.
pub fn source_uri(source: &Source) -> Option<Uri> {
    let path = source.path.as_deref()?;
    if !path.is_absolute() {
        return None;
    }
    path_to_uri(path)
}
