//! Every kind of finding, and its words: the message, the label under the
//! span and the help line of each are written here and nowhere else. The
//! stages that find problems only say which kind, with its facts; how a
//! kind reads is this table's business (as `just`'s `CompileErrorKind`).
//!
//! Words follow one style: lowercase, no final period, user input in
//! backticks, never a Rust type name; anything long goes in the help.

use crate::diagnostics::code::Code;
use crate::diagnostics::terminal::printable;
use crate::vocabulary::{Builtin, FieldType};

/// What a finding is about, with the facts its words need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    // ---- reading a file ----
    FileTooLarge {
        bytes: usize,
        limit: usize,
    },
    NotUtf8,

    // ---- syntax ----
    /// pest's error, worded by the parser: what it expected, what it found,
    /// and a help line for the common slips it recognises.
    Syntax {
        expected: String,
        found: String,
        help: Option<String>,
    },
    UnsupportedEscape {
        escaped: char,
    },
    UnterminatedString,
    NestingTooDeep {
        limit: usize,
    },
    NumberTooLarge {
        written: String,
    },
    /// `status = missed`.
    SingleEquals,

    // ---- the header and `extends` ----
    RulesetNameMismatch {
        name: String,
        stem: String,
        /// Whether the file's stem can name a ruleset (`hubspot.v2` cannot).
        stem_is_name: bool,
    },
    /// `extends base.rules`: the right file, named the wrong way.
    ExtendsFileName {
        written: String,
        base: String,
    },
    /// `extends ../shared/base`: a path, not a name.
    ExtendsPath {
        written: String,
        base: Option<String>,
    },
    /// `extends a.b`: not a path, but not a ruleset name either.
    ExtendsNotAName {
        written: String,
    },
    /// A rule file named only `.rules`: no ruleset name to match.
    FileWithoutName {
        name: String,
    },
    /// `extends NAME` where `NAME.rules` is a link out of the folder.
    ExtendsLinkOutside {
        name: String,
    },
    MissingExtends {
        name: String,
        suggestion: Option<String>,
        /// A few rule files of the folder (those nearest the name), and
        /// how many more it has: a folder of thousands of files is not
        /// listed in each finding.
        siblings: Vec<String>,
        more: usize,
    },
    UnreadableExtends {
        path: String,
        error: String,
    },
    ExtendsCycle {
        cycle: Vec<String>,
    },
    ExtendsTooDeep {
        limit: usize,
        leaf: String,
        current: String,
        target: String,
    },

    // ---- steps ----
    /// `defining`: written after `step` (rather than named by an edit).
    UnknownStep {
        word: String,
        defining: bool,
        suggestion: Option<&'static str>,
    },
    UnknownFallback {
        word: String,
        suggestion: Option<&'static str>,
    },
    NotAnEmail {
        written: String,
    },
    /// A control, zero-width or direction character in a `user` address.
    HiddenCharacter {
        written: String,
        character: char,
    },
    /// `pаypal@acme.com` with a Cyrillic `а`.
    MixedScriptAddress {
        written: String,
        /// The script of most of its letters, and the other one.
        main: &'static str,
        odd: &'static str,
        odd_letter: char,
    },

    // ---- allow comments ----
    /// `# callassign: allow CODE` naming no warning: an unknown code, an
    /// error (which cannot be accepted), or not `allow` at all.
    UnknownAllow {
        written: String,
        /// A warning code it is one slip away from.
        suggestion: Option<&'static str>,
        /// It names an error code.
        error: bool,
    },
    /// An allow comment that accepts no finding on its line.
    UnusedAllow {
        code: &'static str,
    },

    // ---- conditions ----
    UnknownField {
        path: String,
        suggestion: Option<&'static str>,
        is_value: bool,
    },
    /// `5 in tags`.
    TagNotString {
        found: String,
    },
    /// `missed == status`; `field` is set when the right side is a field.
    FieldNotFirst {
        found: String,
        flipped: Option<String>,
    },
    NeedsList {
        op: &'static str,
        found: String,
        field: &'static str,
        written: String,
    },
    NeedsPrefixString {
        found: String,
        field: &'static str,
    },
    WrongOperator {
        op: &'static str,
        field: &'static str,
        field_type: FieldType,
    },
    NeverNull {
        field: &'static str,
    },
    /// `contact == "x"`, `tags == "vip"`.
    NotComparable {
        field: &'static str,
        found: String,
    },
    NotAValueOf {
        field: &'static str,
        found: String,
        values: Vec<&'static str>,
    },
    NotText {
        field: &'static str,
        found: String,
        hint: TextHint,
    },
    NotANumber {
        field: &'static str,
        found: String,
    },
    NotAnEmailValue {
        field: &'static str,
        text: String,
    },
    UnknownValue {
        field: &'static str,
        word: String,
        suggestion: Option<&'static str>,
        values: Vec<&'static str>,
    },
    QuotedValue {
        field: &'static str,
        text: String,
    },
    UnknownFlowStepType {
        written: String,
        suggestion: &'static str,
    },
    InvalidTimestamp {
        text: String,
    },
    NotATimestamp {
        found: String,
    },

    // ---- the plan ----
    MissingFallback {
        ruleset: String,
    },
    UnreachableStep {
        step: String,
    },
    DuplicateStep {
        step: String,
        first_at: String,
    },
    DuplicateFallback {
        first_line: usize,
    },
    UnknownStepReference {
        verb: &'static str,
        step: String,
        hint: ReferenceHint,
    },
    MoveRelativeToItself {
        step: String,
    },
    MoveAroundMissingFallback,

    // ---- against a context (`check --context`) ----
    /// A fixed user that is not an active user of the context: `inactive`
    /// holds the id of an inactive user with that address.
    UserNotInContext {
        email: String,
        context: String,
        inactive: Option<String>,
        is_fallback: bool,
    },
    IntegrationMismatch {
        ruleset: String,
        context: String,
        integration: String,
    },
    /// A `user_map` link, in the context file, to a user who matches
    /// nothing: `inactive` when the user exists but is inactive.
    UserMapTargetNotInContext {
        from: String,
        to: String,
        integration: String,
        inactive: bool,
    },
}

/// Why a text comparison got something else, for its help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextHint {
    /// The right side is a field too.
    TwoFields,
    /// A bare word where an address was meant: `agent == bob`.
    BareEmail {
        word: String,
    },
    /// A bare word where text was meant.
    BareText {
        word: String,
    },
    Other,
}

impl TextHint {
    /// The word that only lacks its quotes, if that is the problem.
    pub(crate) fn bare_word(&self) -> Option<&str> {
        match self {
            TextHint::BareEmail { word } | TextHint::BareText { word } => Some(word),
            TextHint::TwoFields | TextHint::Other => None,
        }
    }
}

/// What an edit naming a step not in the plan is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceHint {
    /// Disabled earlier, at `file:line`.
    Disabled {
        at: String,
    },
    Suggestion(String),
    /// The steps the plan has, in order (empty: none yet).
    Listing(Vec<String>),
}

/// A finding's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

fn words(message: impl Into<String>, label: impl Into<String>, help: impl Into<String>) -> Words {
    Words {
        message: message.into(),
        label: label.into(),
        help: Some(help.into()),
    }
}

fn listing(names: &[&str]) -> String {
    format!("`{}`", names.join("`, `"))
}

mod words;
