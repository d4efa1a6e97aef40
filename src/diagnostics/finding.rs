//! Findings: everything callassign has to say about a rule file.
//!
//! A finding is a value: a stable [`Code`], a severity, the source and span
//! it points at, a one-line message, a label for the span and a help line.
//! The checker collects them all; `report.rs` renders them for people
//! (miette), for programs (JSON) and for GitHub Actions.

use std::fmt;
use std::sync::Arc;

use crate::syntax::source::{Source, Span};

/// Every kind of finding, each with a stable code that tests, docs and CI
/// configuration can refer to. The text of the code is in [`Code::as_str`]
/// and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Syntax,
    NestingTooDeep,
    FileTooLarge,
    NotUtf8,
    RulesetNameMismatch,
    UnknownStep,
    DuplicateStep,
    DuplicateFallback,
    MissingFallback,
    UnknownStepReference,
    InvalidMove,
    UnreachableStep,
    MissingExtends,
    ExtendsCycle,
    ExtendsOutsideFolder,
    ExtendsTooDeep,
    UnknownField,
    UnknownValue,
    UnknownFlowStepType,
    TypeMismatch,
    InvalidOperator,
    InvalidValue,
}

impl Code {
    /// All codes, in the order the documentation lists them.
    pub const ALL: [Code; 22] = [
        Code::Syntax,
        Code::NestingTooDeep,
        Code::FileTooLarge,
        Code::NotUtf8,
        Code::RulesetNameMismatch,
        Code::UnknownStep,
        Code::DuplicateStep,
        Code::DuplicateFallback,
        Code::MissingFallback,
        Code::UnknownStepReference,
        Code::InvalidMove,
        Code::UnreachableStep,
        Code::MissingExtends,
        Code::ExtendsCycle,
        Code::ExtendsOutsideFolder,
        Code::ExtendsTooDeep,
        Code::UnknownField,
        Code::UnknownValue,
        Code::UnknownFlowStepType,
        Code::TypeMismatch,
        Code::InvalidOperator,
        Code::InvalidValue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "callassign::syntax",
            Code::NestingTooDeep => "callassign::nesting_too_deep",
            Code::FileTooLarge => "callassign::file_too_large",
            Code::NotUtf8 => "callassign::not_utf8",
            Code::RulesetNameMismatch => "callassign::ruleset_name_mismatch",
            Code::UnknownStep => "callassign::unknown_step",
            Code::DuplicateStep => "callassign::duplicate_step",
            Code::DuplicateFallback => "callassign::duplicate_fallback",
            Code::MissingFallback => "callassign::missing_fallback",
            Code::UnknownStepReference => "callassign::unknown_step_reference",
            Code::InvalidMove => "callassign::invalid_move",
            Code::UnreachableStep => "callassign::unreachable_step",
            Code::MissingExtends => "callassign::missing_extends",
            Code::ExtendsCycle => "callassign::extends_cycle",
            Code::ExtendsOutsideFolder => "callassign::extends_outside_folder",
            Code::ExtendsTooDeep => "callassign::extends_too_deep",
            Code::UnknownField => "callassign::unknown_field",
            Code::UnknownValue => "callassign::unknown_value",
            Code::UnknownFlowStepType => "callassign::unknown_flow_step_type",
            Code::TypeMismatch => "callassign::type_mismatch",
            Code::InvalidOperator => "callassign::invalid_operator",
            Code::InvalidValue => "callassign::invalid_value",
        }
    }

    /// How serious a finding of this code is. Warnings do not fail `check`
    /// unless `--deny-warnings` is given, and do not stop a file from compiling.
    pub fn severity(self) -> Severity {
        match self {
            Code::UnreachableStep | Code::UnknownFlowStepType => Severity::Warning,
            _ => Severity::Error,
        }
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

/// One problem found in a rule file.
#[derive(Debug, Clone)]
pub struct Finding {
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
}

impl Finding {
    pub fn new(
        code: Code,
        source: &Arc<Source>,
        span: Span,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            source: Arc::clone(source),
            span,
            message: message.into(),
            label: String::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Finding {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
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
