//! A ruleset ready to run: a rule file compiled with its `extends` chain,
//! the integration context with every file it reads, the [`Engine`] built
//! from both, and the hash that names this version of them.
//!
//! This is what `eval` loads once and what a service loads again on every
//! change: the hash tells versions apart (equal content, equal hash, on
//! any machine), and the list of files says what to watch.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::diagnostics::finding::{sort_and_dedup, Finding};
use crate::diagnostics::source::Source;
use crate::error::Error;
use crate::model::context::ContextWarning;
use crate::model::Context;
use crate::runtime::evaluate::Engine;
use crate::semantics::compile::compile;
use crate::semantics::fit::{context_file_findings, context_findings};
use crate::semantics::load::Loader;

/// A rule file and its context, checked and bound into an engine.
#[derive(Debug, Clone)]
pub struct Ruleset {
    /// The name its `ruleset` line gives.
    pub name: String,
    /// The engine deciding with these rules and this context.
    pub engine: Engine,
    /// Hex SHA-256 over the rule file, every file it extends, the context
    /// and every file the context reads: see [`Ruleset::load`].
    pub hash: String,
    /// The rule file's own text as it was read (what the hash counts):
    /// what a service shows as the version it serves.
    pub text: Arc<str>,
    /// Every file read from disk, rule files first (base first, the
    /// file asked for last), then the context and the files it names.
    /// The built-in `default` is not among them.
    pub files: Vec<PathBuf>,
    /// What `check --context` reports that does not stop the rules from
    /// running (warnings), sorted.
    pub findings: Vec<Finding>,
    /// What is odd but usable in the context (an installer who left), as
    /// `eval` prints it on stderr.
    pub context_warnings: Vec<ContextWarning>,
}

impl Ruleset {
    /// Loads `rules` with its `extends` chain and `context` with its
    /// directory files, checks both as `check --context` does, and builds
    /// the engine. Refused, with every reason, when the rules have error
    /// findings or the context cannot be used.
    ///
    /// The hash is SHA-256 over each file's own SHA-256, in the order of
    /// [`Ruleset::files`], each marked as a rule file or a context file;
    /// names and places do not count, so two copies of one folder hash
    /// alike. The built-in `default` counts by its text.
    ///
    /// ```
    /// let ruleset = callassign::Ruleset::load(
    ///     "rules/hubspot.rules".as_ref(),
    ///     "examples/hubspot.context.yaml".as_ref(),
    /// ).unwrap();
    /// assert_eq!(ruleset.name, "hubspot");
    /// assert_eq!(ruleset.hash.len(), 64);
    /// assert_eq!(ruleset.files.len(), 3); // default.rules, hubspot.rules, the context
    /// assert_eq!(&*ruleset.text, std::fs::read_to_string("rules/hubspot.rules").unwrap());
    /// ```
    pub fn load(rules: &Path, context: &Path) -> Result<Ruleset, Error> {
        let context = Context::load(context).map_err(|problems| Error::Context {
            path: context.to_path_buf(),
            problems,
        })?;
        Ruleset::with_context(rules, context)
    }

    /// [`Ruleset::load`] with a context already read by [`Context::load`]
    /// (whose files it counts in the hash): several rule files served with
    /// one context read it once.
    pub(crate) fn with_context(
        rules: &Path,
        context: impl Into<Arc<Context>>,
    ) -> Result<Ruleset, Error> {
        let context: Arc<Context> = context.into();
        let chain = Loader::new()
            .load_chain(rules)
            .map_err(|source| Error::Io {
                path: rules.to_path_buf(),
                source,
            })?;
        let compiled = compile(&chain);
        let mut findings = compiled.findings;
        let Some(plan) = compiled.plan else {
            sort_and_dedup(&mut findings);
            return Err(Error::Rules {
                path: rules.to_path_buf(),
                findings,
            });
        };
        let context_name = context.files.files.first().map_or_else(
            || "the context".to_string(),
            |file| file.path.display().to_string(),
        );
        findings.extend(context_findings(&chain, &plan, &context, &context_name));
        if let Some(first) = context.files.files.first() {
            // `user_map` links that match nothing are reported in the
            // context file, as `check --context` does.
            if let Ok(text) =
                crate::files::read_text(&first.path, crate::model::context::MAX_CONTEXT_BYTES)
            {
                findings.extend(context_file_findings(
                    &context,
                    &Arc::new(Source::from_path(&first.path, text)),
                ));
            }
        }
        sort_and_dedup(&mut findings);

        let mut hasher = Sha256::new();
        let mut files = Vec::new();
        for file in &chain.files {
            hasher.update(b"rules\0");
            hasher.update(Sha256::digest(file.source.text.as_bytes()));
            if let Some(path) = &file.source.path {
                if file.source.name != crate::semantics::load::BUILTIN_DEFAULT_NAME {
                    files.push(path.clone());
                }
            }
        }
        for file in &context.files.files {
            hasher.update(b"context\0");
            hasher.update(file.sha256);
            files.push(file.path.clone());
        }
        let hash = hex(&hasher.finalize());
        let text = chain
            .files
            .last()
            .map_or_else(|| Arc::from(""), |file| Arc::clone(&file.source.text));
        let name = plan.name.clone();
        let context_warnings = context
            .warnings()
            .into_iter()
            .filter(|warning| !matches!(warning, ContextWarning::UserMapTarget { .. }))
            .collect();
        Ok(Ruleset {
            name,
            engine: Engine::new(plan, context),
            hash,
            text,
            files,
            findings,
            context_warnings,
        })
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}
