//! Keeping the editor's diagnostics current: which open documents are
//! analyzed again after an open, an edit or a close (the edited one and
//! those whose `extends` chain reads its file, not every open document),
//! and which files' diagnostics are published again (only those whose
//! findings changed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use lsp_server::Notification;
use lsp_types::notification::{self, Notification as _};
use lsp_types::{Diagnostic, PublishDiagnosticsParams, Uri};

use callassign::diagnostics::finding::sort_and_dedup;

use super::workspace::{self, Workspace};
use super::{diagnose, Server};

/// What one open document's last analysis reached and found.
pub(super) struct Analyzed {
    /// Its own address (as text), published even when it has no findings.
    own: String,
    reaches: Vec<PathBuf>,
    /// The addresses its findings are in.
    files: Vec<String>,
}

impl Server<'_> {
    /// Marks the document at `uri` out of date, and every open document
    /// whose analysis read its file.
    pub(super) fn outdate(&mut self, uri: &Uri) {
        self.stale.insert(Workspace::key(uri));
        if let Some(path) = Workspace::path_of(uri) {
            if let Some(dependents) = self.dependents.get(&path) {
                self.stale.extend(dependents.iter().cloned());
            }
        }
    }

    /// Analyzes the documents that are out of date, and publishes the
    /// diagnostics of every file whose findings they change: the edited
    /// file, the files that extend it, and the files it extends. Each
    /// other open document keeps its last analysis, so opening the
    /// hundredth document costs one analysis, not a hundred.
    pub(super) fn publish(&mut self) -> Result<(), String> {
        self.due = None;
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for key in std::mem::take(&mut self.stale) {
            if let Some(old) = self.analyzed.remove(&key) {
                for path in &old.reaches {
                    if let Some(dependents) = self.dependents.get_mut(path) {
                        dependents.remove(&key);
                        if dependents.is_empty() {
                            self.dependents.remove(path);
                        }
                    }
                }
                for file in &old.files {
                    if let Some((_, by_document)) = self.found.get_mut(file) {
                        by_document.remove(&key);
                    }
                }
                touched.insert(old.own);
                touched.extend(old.files);
            }
            let Some((uri, _)) = self.workspace.opened(&key) else {
                continue; // closed
            };
            let Some(analysis) = self.workspace.analyze(&uri) else {
                continue;
            };
            let mut files = Vec::new();
            for finding in &analysis.compiled.findings {
                if let Some(address) = self.workspace.address(finding.source()) {
                    let file = address.as_str().to_string();
                    self.found
                        .entry(file.clone())
                        .or_insert_with(|| (address, BTreeMap::new()))
                        .1
                        .entry(key.clone())
                        .or_default()
                        .push(finding.clone());
                    files.push(file);
                }
            }
            files.sort();
            files.dedup();
            let reaches = reached_paths(&analysis);
            for path in &reaches {
                self.dependents
                    .entry(path.clone())
                    .or_default()
                    .insert(key.clone());
            }
            let own = uri.as_str().to_string();
            touched.insert(own.clone());
            touched.extend(files.iter().cloned());
            self.analyzed.insert(
                key,
                Analyzed {
                    own,
                    reaches,
                    files,
                },
            );
        }
        for file in touched {
            let (uri, mut findings) = match self.found.get(&file) {
                Some((uri, by_document)) => (
                    uri.clone(),
                    by_document.values().flatten().cloned().collect::<Vec<_>>(),
                ),
                None => match self.published.get(&file) {
                    Some((uri, _)) => (uri.clone(), Vec::new()),
                    None => match file.parse::<Uri>() {
                        Ok(uri) => (uri, Vec::new()),
                        Err(_) => continue,
                    },
                },
            };
            if self
                .found
                .get(&file)
                .is_some_and(|(_, by_document)| by_document.is_empty())
            {
                self.found.remove(&file);
            }
            sort_and_dedup(&mut findings);
            let diagnostics: Vec<Diagnostic> = findings.iter().map(diagnose::diagnostic).collect();
            // The version of the open document published at this address.
            let version = self
                .workspace
                .opened(&Workspace::key(&uri))
                .filter(|(open, _)| *open == uri)
                .map(|(_, version)| version);
            let unchanged =
                self.published.get(&file).map(|(_, published)| published) == Some(&diagnostics);
            if !unchanged {
                let params =
                    PublishDiagnosticsParams::new(uri.clone(), diagnostics.clone(), version);
                self.send(
                    Notification::new(notification::PublishDiagnostics::METHOD.to_string(), params)
                        .into(),
                )?;
            }
            // A closed file without findings is forgotten; an open one is
            // remembered as clean, so that it is not published again.
            if diagnostics.is_empty() && version.is_none() {
                self.published.remove(&file);
            } else {
                self.published.insert(file, (uri, diagnostics));
            }
        }
        Ok(())
    }
}

/// The paths an analysis read or looked for: each file of its `extends`
/// chain, and the base each one names (missing or not), so that opening,
/// editing or closing any of them brings the analysis up to date.
fn reached_paths(analysis: &workspace::Analysis) -> Vec<PathBuf> {
    let mut paths = vec![analysis.path.clone()];
    for file in &analysis.chain.files {
        let Some(path) = file.source.path.clone() else {
            continue;
        };
        if let Some(extends) = file
            .checked
            .as_ref()
            .and_then(|checked| checked.extends.as_ref())
        {
            paths.push(path.with_file_name(format!(
                "{}.{}",
                extends.node,
                callassign::semantics::load::RULE_EXTENSION
            )));
        }
        paths.push(path);
    }
    paths.sort();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests {
    use lsp_server::Connection;

    use super::*;
    use crate::lsp::position;

    fn open(server: &mut Server<'_>, path: &std::path::Path, text: &str) {
        let params = serde_json::json!({"textDocument": {
            "uri": position::path_to_uri(path).unwrap(), "languageId": "callassign",
            "version": 1, "text": text}});
        server
            .notice(Notification::new(
                notification::DidOpenTextDocument::METHOD.to_string(),
                params,
            ))
            .unwrap();
    }

    #[test]
    fn a_document_opened_or_edited_is_analyzed_with_its_dependents_only() {
        // Every open document was analyzed again on each open: opening n
        // documents cost n²/2 analyses (800 documents: 92 s).
        let dir = tempfile::tempdir().unwrap();
        let (server_side, _client_side) = Connection::memory();
        let mut server = Server::new(&server_side, Workspace::default());
        let files = 60;
        for index in 0..files {
            let path = dir.path().join(format!("team{index}.rules"));
            open(
                &mut server,
                &path,
                &format!("ruleset team{index} extends base\n"),
            );
        }
        assert_eq!(server.workspace.analyses(), files);
        // Every file extends `base`, missing until it opens: all of them
        // depend on it, and are analyzed again once.
        open(
            &mut server,
            &dir.path().join("base.rules"),
            "ruleset base\nfallback integration\n",
        );
        assert_eq!(server.workspace.analyses(), 2 * files + 1);
        // A document no other reads: itself only.
        open(
            &mut server,
            &dir.path().join("alone.rules"),
            "ruleset alone\nfallback integration\n",
        );
        assert_eq!(server.workspace.analyses(), 2 * files + 2);
        // Every file was told it is fine now that `base` exists.
        let missing = server
            .found
            .values()
            .flat_map(|(_, by_document)| by_document.values().flatten())
            .filter(|finding| finding.code() == callassign::Code::MissingExtends)
            .count();
        assert_eq!(missing, 0);
    }
}
