//! The stable codes of findings and their severities: the words tests,
//! docs and CI configuration refer to.

use std::fmt;

words! {
    /// Every kind of finding has a stable code that tests, docs and CI
    /// configuration can refer to, listed in the order the documentation
    /// lists them. The text of each code is written here and nowhere else.
    /// New codes come as the language grows (hence `#[non_exhaustive]`: a
    /// `match` outside callassign keeps a `_` arm); a code never changes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
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

    /// What a finding of this code is about, in one line: the table of
    /// codes in the documentation is generated from these.
    pub fn summary(self) -> &'static str {
        match self {
            Code::Syntax => "the text does not parse; says what was expected",
            Code::NestingTooDeep => "parentheses nest more than 32 deep",
            Code::FileTooLarge => "a rule file over 1 MiB",
            Code::NotUtf8 => "a rule file that is not UTF-8",
            Code::RulesetNameMismatch => "`ruleset NAME` differs from the file name",
            Code::UnknownStep => "a step or fallback kind that does not exist (with a did-you-mean)",
            Code::DuplicateStep => "the same step added twice, here or in what the file extends",
            Code::DuplicateFallback => "two `fallback` lines in one file",
            Code::MissingFallback => "no fallback in the file or what it extends",
            Code::UnknownStepReference => "`disable`/`move` names a step the plan does not have",
            Code::InvalidMove => "a step moved relative to itself",
            Code::UnreachableStep => "a step placed after the fallback",
            Code::MissingExtends => "`extends` names a file that is not in the folder",
            Code::UnreadableExtends => "the file `extends` names is there but cannot be read (a folder, a pipe, no permission)",
            Code::ExtendsCycle => "files extend each other in a circle",
            Code::ExtendsOutsideFolder => "`extends` with a path, or a link leading out of the folder",
            Code::ExtendsTooDeep => "an `extends` chain of more than 16 files",
            Code::UnknownField => "a condition names a field that does not exist",
            Code::UnknownValue => "`status == mised`: not a value of the field",
            Code::UnknownFlowStepType => "`last_step == voicemial`: looks like a typo of a known flow step type",
            Code::TypeMismatch => "a field compared with a value of the wrong type",
            Code::InvalidOperator => "an operator the field does not take (`=`, `<` on `status`, …)",
            Code::InvalidValue => "a malformed e-mail, timestamp or number; a `user` address holding a control, zero-width or direction character",
            Code::UserNotInContext => "with `--context`: a fixed user, or a `user_map` link, to a user the context lacks or has inactive",
            Code::IntegrationMismatch => "with `--context`: the rules are for another integration than the context",
            Code::UnknownAllow => "`# callassign: allow CODE` naming no warning (unknown, misspelt, or an error)",
            Code::UnusedAllow => "an allow comment that accepts nothing on its line",
            Code::MixedScriptAddress => "a `user` address mixing look-alike scripts (`pаypal@acme.com` with a Cyrillic `а`), which matches no telephony user",
        }
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
