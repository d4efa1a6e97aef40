//! The stable codes of findings and their severities: the words tests,
//! docs and CI configuration refer to.

use std::fmt;

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
            | Code::MixedScriptAddress => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Reported; fails `check` only with `--deny-warnings`.
    Warning,
    /// Fails `check`; a rule file with one has no plan.
    Error,
}

impl Severity {
    /// `warning` or `error`, as reports write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}
