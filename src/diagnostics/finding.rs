//! Findings: everything callassign has to say about a rule file.
//!
//! A finding is a value: a stable [`Code`], a severity, the source and span
//! it points at, a one-line message, a label for the span and a help line.
//! The checker collects them all; `report.rs` renders them for people
//! (miette), for programs (JSON) and for GitHub Actions.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::diagnostics::kind::{FindingKind, Words};
use crate::syntax::source::{Source, Span};

words! {
    /// Every kind of finding has a stable code that tests, docs and CI
    /// configuration can refer to, listed in the order the documentation
    /// lists them. The text of each code is written here and nowhere else.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Code {
        Syntax = "callassign::syntax",
        NestingTooDeep = "callassign::nesting_too_deep",
        FileTooLarge = "callassign::file_too_large",
        NotUtf8 = "callassign::not_utf8",
        RulesetNameMismatch = "callassign::ruleset_name_mismatch",
        UnknownStep = "callassign::unknown_step",
        DuplicateStep = "callassign::duplicate_step",
        DuplicateFallback = "callassign::duplicate_fallback",
        MissingFallback = "callassign::missing_fallback",
        UnknownStepReference = "callassign::unknown_step_reference",
        InvalidMove = "callassign::invalid_move",
        UnreachableStep = "callassign::unreachable_step",
        MissingExtends = "callassign::missing_extends",
        UnreadableExtends = "callassign::unreadable_extends",
        ExtendsCycle = "callassign::extends_cycle",
        ExtendsOutsideFolder = "callassign::extends_outside_folder",
        ExtendsTooDeep = "callassign::extends_too_deep",
        UnknownField = "callassign::unknown_field",
        UnknownValue = "callassign::unknown_value",
        UnknownFlowStepType = "callassign::unknown_flow_step_type",
        TypeMismatch = "callassign::type_mismatch",
        InvalidOperator = "callassign::invalid_operator",
        InvalidValue = "callassign::invalid_value",
        UserNotInContext = "callassign::user_not_in_context",
        IntegrationMismatch = "callassign::integration_mismatch",
        MixedScriptAddress = "callassign::mixed_script_address",
        UnknownAllow = "callassign::unknown_allow",
        UnusedAllow = "callassign::unused_allow",
    }
}

impl Code {
    /// `callassign::unknown_step`.
    pub fn as_str(self) -> &'static str {
        self.name()
    }

    /// How serious a finding of this code is. Warnings do not fail `check`
    /// unless `--deny-warnings` is given, and do not stop a file from compiling.
    pub fn severity(self) -> Severity {
        match self {
            // Found only against a context (`check --context`): the rules
            // may be right and the context a stale export. A mixed-script
            // address may be meant.
            Code::UnreachableStep
            | Code::UnknownFlowStepType
            | Code::UserNotInContext
            | Code::IntegrationMismatch
            | Code::MixedScriptAddress
            | Code::UnknownAllow
            | Code::UnusedAllow => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl Code {
    /// The code without `callassign::`, as allow comments may write it.
    pub fn short(self) -> &'static str {
        self.as_str()
            .strip_prefix("callassign::")
            .unwrap_or(self.as_str())
    }

    /// The code written `callassign::NAME` or `NAME`.
    pub fn from_written(name: &str) -> Option<Code> {
        let short = name.strip_prefix("callassign::").unwrap_or(name);
        Code::ALL.into_iter().find(|code| code.short() == short)
    }

    /// The codes an allow comment can accept: warnings, except those
    /// about allow comments themselves.
    pub fn allowable() -> impl Iterator<Item = Code> {
        Code::ALL.into_iter().filter(|code| {
            code.severity() == Severity::Warning
                && !matches!(code, Code::UnknownAllow | Code::UnusedAllow)
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found in a rule file: a [`FindingKind`] with its facts, at
/// a span of a source. The code, severity and words are the kind's,
/// rendered once when the finding is made.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    pub code: Code,
    pub severity: Severity,
    pub source: Arc<Source>,
    pub span: Span,
    /// One line, lowercase, user input in backticks.
    pub message: String,
    /// What the span is, shown under it.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Edits that apply the help, for tools that can (an editor's quick
    /// fix): did-you-mean replacements, `=` to `==`, a line to remove.
    pub suggestions: Vec<Suggestion>,
}

/// One edit that fixes a finding: replace `span` of the finding's source
/// with `replacement` (empty to delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub span: Span,
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
pub const MAX_SHOWN_LINE: usize = 4096;

impl Finding {
    /// Whether the lines miette would draw around the span (the one before
    /// to the one after) are short enough to show.
    pub fn source_is_showable(&self) -> bool {
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
