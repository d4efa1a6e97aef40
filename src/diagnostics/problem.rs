//! Problems outside rule files: in a context, a rule-test file, a call or
//! a command's input. Rule files have findings (many kinds, each with a
//! span of a parsed source); everything else callassign refuses is a
//! [`Problem`]: a stable code, one line of message, how to fix it, and the
//! file and byte span it points at when there is one, so an editor or a
//! SARIF log can point into a context file as it points into rules.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostics::source::Span;

words! {
    /// What kind of input a [`Problem`] is about. Stable: scripts and
    /// services match on these. New codes may come in a minor release
    /// (hence `#[non_exhaustive]`: a `match` keeps a `_` arm).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    pub enum ProblemCode {
        /// A file that cannot be read: missing, not a regular file, too
        /// large, not UTF-8.
        UnreadableFile = "callassign::unreadable_file",
        /// An integration context, or a list it names, that cannot be used.
        InvalidContext = "callassign::invalid_context",
        /// A rule-test file that cannot be run.
        InvalidRuleTest = "callassign::invalid_rule_test",
        /// A command's arguments or input that cannot be used.
        InvalidInput = "callassign::invalid_input",
        /// A call that cannot be read (`Call::read_json`): the words of
        /// the error line a batch writes for it, and serve's 422.
        UnreadableCall = "callassign::unreadable_call",
    }
}

impl ProblemCode {
    /// What a problem of this code is about and where to look, for
    /// `callassign explain CODE`.
    pub fn explanation(self) -> &'static str {
        match self {
            ProblemCode::UnreadableFile => "A file callassign was given cannot be read: it is missing, not a regular file (a folder, a named pipe, a device), larger than its limit, or not UTF-8. The message names the file and why; name a regular file, or save a pipe's output to one first.",
            ProblemCode::InvalidContext => "An integration context (or a user list or link file it names) cannot be used: a key it does not know, a value of the wrong kind, two users with one id, an address that is not one, links that contradict each other. The message names the file, the line where the reader knows it, and the entry; `callassign check --context FILE` shows every such problem at once.",
            ProblemCode::InvalidRuleTest => "A rule-test file cannot be run: its `rules` or `context` cannot be loaded, a case has a key it does not know, or its `assignee` is no user of the context. The message names the case; the case is a problem of the test file, not a failure of the rules.",
            ProblemCode::InvalidInput => "A command's arguments or input cannot be used: a file of the wrong kind for the command (a list of calls where one call is expected, a rule file given as a context), or a history in which no call could be read. The message says what was expected and how to give it.",
            ProblemCode::UnreadableCall => "A call cannot be read: not JSON, a key with a value of the wrong kind, a field missing or misspelt (with a did-you-mean). In a batch it is that line's error line and the batch goes on; `callassign serve` answers it with a 422 in the same words.",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem with an input that is not a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of input is wrong.
    pub code: ProblemCode,
    /// One line, lowercase, user input in backticks.
    pub message: String,
    /// How to fix it, when there is more to say than the message.
    pub help: Option<String>,
    /// The file it is in, when it is in one.
    pub file: Option<PathBuf>,
    /// Where in that file's text (bytes), when the reader knows.
    pub span: Option<Span>,
    /// Where in the file, in its own terms (``case 3 (`typo`)``), when
    /// that says more than a span would.
    pub place: Option<Box<str>>,
}

impl Problem {
    /// A problem of `code`; an empty `help` is none.
    pub fn new(code: ProblemCode, message: impl Into<String>, help: impl Into<String>) -> Problem {
        let help = help.into();
        Problem {
            code,
            message: message.into(),
            help: (!help.is_empty()).then_some(help),
            file: None,
            span: None,
            place: None,
        }
    }

    /// A problem with a context or a list it names.
    pub fn context(message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem::new(ProblemCode::InvalidContext, message, help)
    }

    /// The problem, in `file` unless it already names one.
    pub fn in_file(mut self, file: &Path) -> Problem {
        self.file.get_or_insert_with(|| file.to_path_buf());
        self
    }

    /// The problem, at `span` of its file's text.
    pub fn at(mut self, span: Span) -> Problem {
        self.span = Some(span);
        self
    }

    /// The problem, at `place` of its file (see [`Problem::place`]).
    pub fn at_place(mut self, place: impl Into<String>) -> Problem {
        self.place = Some(place.into().into_boxed_str());
        self
    }

    /// The message after the file and the place it is about:
    /// ``\`tests/a.yaml\`, case 3 (`typo`): no `assignee` ``.
    pub fn located(&self) -> String {
        match (&self.file, &self.place) {
            (Some(file), Some(place)) => format!("`{}`, {place}: {}", file.display(), self.message),
            (Some(file), None) => format!("`{}`: {}", file.display(), self.message),
            (None, Some(place)) => format!("{place}: {}", self.message),
            (None, None) => self.message.clone(),
        }
    }

    /// 1-based line and column (in characters) of the start of
    /// [`Problem::span`] in `text`, the text of [`Problem::file`] (or of
    /// the document read): what `file:line:column` shows. `None` without
    /// a span, or for a span that is not in `text`.
    ///
    /// ```
    /// let text = "integration: hubspot\nusers:\n  - {id: hs-1, emial: a@acme.com}\n";
    /// let problem = callassign::Context::from_yaml(text).unwrap_err();
    /// assert_eq!(problem.code, callassign::ProblemCode::InvalidContext);
    /// assert_eq!(problem.line_col(text), Some((3, 16)));
    /// ```
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        let start = self.span?.start;
        let before = text.get(..start)?;
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        Some((
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        ))
    }

    /// How to fix it, or nothing.
    pub fn help_text(&self) -> &str {
        self.help.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

/// The byte offset of 1-based `line` and `column` (in characters) in
/// `text`, for readers that report positions that way (serde_json).
pub fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let rest = &text[start..];
    let within = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(index, _)| index);
    Some(start + within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_help_is_none_and_a_file_once_named_stays() {
        let problem = Problem::context("`users` is empty", "")
            .in_file(Path::new("a.yaml"))
            .in_file(Path::new("b.yaml"));
        assert_eq!(problem.help, None);
        assert_eq!(problem.file.as_deref(), Some(Path::new("a.yaml")));
        assert_eq!(problem.code.name(), "callassign::invalid_context");
        assert_eq!(problem.to_string(), "`users` is empty");
    }

    #[test]
    fn a_problem_is_located_by_its_file_and_its_place() {
        let problem = Problem::new(ProblemCode::InvalidRuleTest, "no `assignee`", "write one");
        assert_eq!(problem.located(), "no `assignee`");
        let problem = problem.in_file(Path::new("tests/a.yaml"));
        assert_eq!(problem.located(), "`tests/a.yaml`: no `assignee`");
        let problem = problem.at_place("case 3 (`typo`)");
        assert_eq!(
            problem.located(),
            "`tests/a.yaml`, case 3 (`typo`): no `assignee`"
        );
    }

    #[test]
    fn offsets_count_lines_and_characters() {
        let text = "a: 1\nné: [x\n";
        assert_eq!(offset_of(text, 1, 1), Some(0));
        assert_eq!(offset_of(text, 2, 1), Some(5));
        // `é` is two bytes: the fourth character of line 2 is at byte 9.
        assert_eq!(offset_of(text, 2, 4), Some(9));
        assert_eq!(offset_of(text, 9, 1), None);
    }
}
