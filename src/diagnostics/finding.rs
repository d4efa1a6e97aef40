//! Findings: everything callassign has to say about a rule file.
//!
//! A finding is a value: a stable [`Code`], a severity, the source and span
//! it points at, a one-line message, a label for the span and a help line.
//! The checker collects them all; `report.rs` renders them for people
//! (miette), for programs (JSON) and for GitHub Actions.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};

pub use crate::diagnostics::code::{Code, Severity};
use crate::diagnostics::kind::{FindingKind, Words};
use crate::diagnostics::source::{Source, Span};

/// One problem found in a rule file: a [`FindingKind`] with its facts, at
/// a span of a source. The code, severity and words are the kind's,
/// rendered once when the finding is made.
#[derive(Debug, Clone)]
pub struct Finding {
    // Private, so that the code, severity and words cannot disagree with
    // the kind they are made from: read them through the methods.
    kind: FindingKind,
    code: Code,
    severity: Severity,
    source: Arc<Source>,
    span: Span,
    message: String,
    label: String,
    help: Option<String>,
    suggestions: Vec<Suggestion>,
}

/// One edit that fixes a finding: replace `span` of the finding's source
/// with `replacement` (empty to delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What to replace.
    pub span: Span,
    /// The new text (empty to delete).
    pub replacement: String,
    /// What the edit does, as a quick fix's title: "replace with `==`".
    pub title: String,
}

impl Finding {
    /// A finding of `kind` at `span` of `source`.
    pub fn new(kind: FindingKind, source: &Arc<Source>, span: Span) -> Finding {
        let code = kind.code();
        let Words {
            message,
            label,
            help,
        } = kind.words();
        Finding {
            kind,
            code,
            severity: code.severity(),
            source: Arc::clone(source),
            span,
            message,
            label,
            help,
            suggestions: Vec::new(),
        }
    }

    /// Adds an edit that fixes the finding; see [`Suggestion`].
    pub fn suggest(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        title: impl Into<String>,
    ) -> Finding {
        self.suggestions.push(Suggestion {
            span,
            replacement: replacement.into(),
            title: title.into(),
        });
        self
    }

    /// What was found, with its facts.
    pub fn kind(&self) -> &FindingKind {
        &self.kind
    }

    /// The stable code of the finding's kind.
    pub fn code(&self) -> Code {
        self.code
    }

    /// How serious it is (the code's severity).
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The source text it points into.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// Where in the source.
    pub fn span(&self) -> Span {
        self.span
    }

    /// One line, lowercase, user input in backticks.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the span is, shown under it (may be empty).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// How to fix it.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// Edits that apply the help, for tools that can (an editor's quick
    /// fix): did-you-mean replacements, `=` to `==`, a line to remove.
    pub fn suggestions(&self) -> &[Suggestion] {
        &self.suggestions
    }

    /// Says the label in a tool's own words, where the tool knows more
    /// than the kind does (an editor's unsaved document). The code and the
    /// message stay the kind's.
    pub fn set_label(&mut self, label: impl Into<String>) {
        self.label = label.into();
    }

    /// Says how to fix it in a tool's own words; see [`Finding::set_label`].
    pub fn set_help(&mut self, help: impl Into<String>) {
        self.help = Some(help.into());
    }

    /// Whether it is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        self.source.line_col(self.span.start)
    }

    /// The file name as reports show it.
    pub fn file(&self) -> &str {
        &self.source.name
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Finding {}

/// Longest line shown under a finding, in characters. miette cannot draw a
/// label past column 65,535 (it panics), and nobody reads such a line on a
/// terminal anyway; such a finding is reported without its source.
pub(crate) const MAX_SHOWN_LINE: usize = 4096;

impl Finding {
    /// Whether the lines miette would draw around the span (the one before
    /// to the one after) are short enough to show.
    pub(crate) fn source_is_showable(&self) -> bool {
        let source = &self.source;
        let first = source.line(self.span.start).saturating_sub(1).max(1);
        let last = source.line(self.span.end) + 1;
        (first..=last)
            .filter_map(|line| source.line_text(line))
            .all(|text| text.chars().count() <= MAX_SHOWN_LINE)
    }
}

/// A finding is a miette diagnostic: embedders can hand it to any miette
/// report handler, or `?` it into a `miette::Result`.
impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source_is_showable()
            .then_some(&*self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.source_is_showable() {
            return None;
        }
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label, self.span,
        ))))
    }
}

/// Sorts findings by file, position and code, so that reports are stable
/// whatever order the checks ran in, and drops exact repeats (a file that
/// two others extend is checked once per chain).
pub fn sort_and_dedup(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (a.file(), a.span.start, a.code, &a.message).cmp(&(
            b.file(),
            b.span.start,
            b.code,
            &b.message,
        ))
    });
    findings.dedup_by(|a, b| {
        a.file() == b.file() && a.span == b.span && a.code == b.code && a.message == b.message
    });
}
