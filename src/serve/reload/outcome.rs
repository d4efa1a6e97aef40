//! What a reload attempt leaves behind: a version swapped into the store
//! (or kept, when its hash is the one served), a refusal that keeps the
//! last good version serving, and either way the log line, the metrics
//! and the `last_reload` entry the status routes show.

use std::io::IsTerminal;
use std::path::Path;

use callassign::diagnostics::finding::Finding;
use callassign::diagnostics::report::{self, JsonFinding, Style};
use callassign::{Error, Ruleset};

use super::{Reloader, Watched};
use crate::serve::app::{LastReload, NotServed, StatusFinding};
use crate::serve::clock;
use crate::serve::store::Entry;

impl Reloader {
    /// Serves a loaded version (unless it is the one served).
    pub(super) fn apply(&self, name: &str, watched: &Watched, ruleset: Ruleset, context: &Path) {
        let previous = self.state.store.entry(&ruleset.name);
        let findings = ruleset.findings.iter().map(to_json).collect();
        let at = clock::now();
        if previous
            .as_ref()
            .is_some_and(|previous| previous.hash == ruleset.hash)
        {
            // The same content (a file touched, saved unchanged, or put
            // back after a refused change): nothing to swap. After a refused
            // change, stderr says it is over, not only `/v1/status`: the
            // last line an operator reads would otherwise be the error.
            let mut book = self.state.book();
            let was_refused = book
                .last_reload
                .get(&ruleset.name)
                .is_some_and(|last| last.result == "refused");
            if was_refused && self.started {
                tracing::info!(
                    "{}: back to the version served (hash {}); the refused change is gone",
                    ruleset.name,
                    &ruleset.hash[..12]
                );
            }
            book.last_reload.insert(
                ruleset.name,
                LastReload {
                    at,
                    result: "applied",
                    findings,
                },
            );
            return;
        }
        let hash = ruleset.hash.clone();
        let served_name = ruleset.name.clone();
        let metrics = self.state.metrics.ruleset(&served_name);
        let entry = Entry::new(
            ruleset,
            watched.rules.clone(),
            context.to_path_buf(),
            at.clone(),
            metrics,
        );
        self.state.store.put(entry);
        self.state.metrics.serving(
            &served_name,
            previous.as_ref().map(|previous| previous.hash.as_str()),
            &hash,
        );
        if self.started {
            self.state.metrics.reloaded(&served_name, true);
            match &previous {
                Some(previous) => tracing::info!(
                    "reloaded {served_name}: {} → {}",
                    &previous.hash[..12],
                    &hash[..12]
                ),
                None => tracing::info!(
                    "serving {served_name} from {} and {} (hash {})",
                    watched.rules.display(),
                    context.display(),
                    &hash[..12]
                ),
            }
        }
        let mut book = self.state.book();
        book.not_served.remove(name);
        book.last_reload.insert(
            served_name,
            LastReload {
                at,
                result: "applied",
                findings,
            },
        );
    }

    /// Reports a version that cannot be served; the last good one, if
    /// any, keeps serving.
    pub(super) fn refuse(&self, name: &str, rules: &Path, served: bool, error: &Error) {
        if let Error::Rules { findings, .. } = error {
            self.print_findings(findings);
        }
        let findings = json_findings(error);
        if self.started {
            self.state.metrics.reloaded(name, false);
        }
        if served {
            let hash = self
                .state
                .store
                .get(name)
                .map(|entry| entry.hash[..12].to_string())
                .unwrap_or_default();
            tracing::error!(
                "not reloading {name}: {}; the last good version ({hash}) keeps serving",
                describe(error)
            );
            self.state.book().last_reload.insert(
                name.to_string(),
                LastReload {
                    at: clock::now(),
                    result: "refused",
                    findings,
                },
            );
        } else {
            tracing::error!("not serving {name}: {}", describe(error));
            self.not_served(name, rules, error.to_string(), findings);
        }
    }

    pub(super) fn not_served(
        &self,
        name: &str,
        rules: &Path,
        reason: String,
        findings: Vec<StatusFinding>,
    ) {
        self.state.book().not_served.insert(
            name.to_string(),
            NotServed {
                name: name.to_string(),
                rules: rules.to_path_buf(),
                reason,
                findings,
            },
        );
    }
    pub(super) fn print_findings(&self, findings: &[Finding]) {
        let style = Style {
            color: self.color && std::io::stderr().is_terminal(),
            width: 100,
        };
        for block in report::human_capped(findings, style) {
            note!("{block}");
        }
    }
}

/// A refusal in one line, as the command line says it.
pub(super) fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    if let Error::Context { problems, .. } = error {
        for problem in problems.iter().skip(1) {
            text.push_str("; also: ");
            text.push_str(&problem.message);
        }
    }
    if let Some(help) = error.help() {
        text.push_str(" (help: ");
        text.push_str(&help);
        text.push(')');
    }
    text
}

fn to_json(finding: &Finding) -> StatusFinding {
    StatusFinding::from(JsonFinding::from(finding))
}

/// A refusal that is not a rule file's finding (a context, a file that
/// cannot be read, the token file), with a finding's keys in its order.
pub(in crate::serve) fn refusal(
    code: &str,
    file: Option<&Path>,
    message: &str,
    help: Option<&str>,
) -> StatusFinding {
    StatusFinding {
        code: code.to_string(),
        severity: "error".to_string(),
        file: file.map(|file| file.display().to_string()),
        line: None,
        column: None,
        end_line: None,
        end_column: None,
        message: message.to_string(),
        label: None,
        help: help.map(str::to_string),
    }
}

/// A refusal's findings, in the shape of `check --format json`'s.
pub(super) fn json_findings(error: &Error) -> Vec<StatusFinding> {
    match error {
        Error::Rules { findings, .. } => findings.iter().map(to_json).collect(),
        Error::Context { path, problems } => problems
            .iter()
            .map(|problem| {
                refusal(
                    error.code(),
                    Some(path),
                    &problem.message,
                    problem.help.as_deref(),
                )
            })
            .collect(),
        Error::Io { path, .. } => vec![refusal(
            error.code(),
            Some(path),
            &error.to_string(),
            error.help().as_deref(),
        )],
        other => vec![refusal(
            other.code(),
            None,
            &other.to_string(),
            other.help().as_deref(),
        )],
    }
}
