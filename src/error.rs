//! [`Error`]: what the library refuses, in one type. Everything wrong
//! *inside* a rule file is a [`Finding`] (many at once, each with a code
//! and a span); an `Error` is what stops an operation as a whole.

use std::io;
use std::path::PathBuf;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::problem::Problem;
use crate::diagnostics::report;

/// What the library refuses. Each kind has a stable [`Error::code`], which
/// services put in their error bodies and scripts match on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file cannot be read at all.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A rule file (or a file it extends) has error findings: it has no plan.
    #[error("`{}` has errors ({})", path.display(), report::summary(findings))]
    Rules {
        /// The rule file compiled.
        path: PathBuf,
        /// Every finding, errors and warnings, sorted.
        findings: Vec<Finding>,
    },
    /// A context that cannot be used: every problem found, the first
    /// naming the file.
    #[error("{}", problems.first().map_or("the context cannot be used", |problem| problem.message.as_str()))]
    Context {
        /// The context file.
        path: PathBuf,
        /// Every problem found, each with its code, and its file and span where known.
        problems: Vec<Problem>,
    },
}

impl Error {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "callassign::unreadable_file",
            Error::Rules { .. } => "callassign::rules_have_errors",
            Error::Context { .. } => "callassign::context_refused",
        }
    }

    /// How to fix it, when there is more to say than the message.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::Io { source, .. } => crate::files::irregular_help(source).map(str::to_string),
            Error::Rules { path, .. } => Some(format!(
                "run `callassign check {}` for the full report",
                path.display()
            )),
            Error::Context { problems, .. } => {
                problems.first().and_then(|problem| problem.help.clone())
            }
        }
    }
}
