//! What each kind of finding says: its code, message, label and help,
//! written here and nowhere else.

use super::*;

impl FindingKind {
    pub fn code(&self) -> Code {
        use FindingKind as K;
        match self {
            K::FileTooLarge { .. } => Code::FileTooLarge,
            K::NotUtf8 => Code::NotUtf8,
            K::Syntax { .. } | K::UnsupportedEscape { .. } | K::UnterminatedString => Code::Syntax,
            K::NestingTooDeep { .. } => Code::NestingTooDeep,
            K::NumberTooLarge { .. }
            | K::ExtendsFileName { .. }
            | K::NotAnEmail { .. }
            | K::HiddenCharacter { .. }
            | K::NotAnEmailValue { .. }
            | K::InvalidTimestamp { .. } => Code::InvalidValue,
            K::SingleEquals | K::WrongOperator { .. } => Code::InvalidOperator,
            K::RulesetNameMismatch { .. } => Code::RulesetNameMismatch,
            K::ExtendsPath { .. } | K::ExtendsLinkOutside { .. } => Code::ExtendsOutsideFolder,
            K::ExtendsNotAName { .. } => Code::InvalidValue,
            K::FileWithoutName { .. } => Code::RulesetNameMismatch,
            K::MissingExtends { .. } => Code::MissingExtends,
            K::UnreadableExtends { .. } => Code::UnreadableExtends,
            K::ExtendsCycle { .. } => Code::ExtendsCycle,
            K::ExtendsTooDeep { .. } => Code::ExtendsTooDeep,
            K::UnknownStep { .. } | K::UnknownFallback { .. } => Code::UnknownStep,
            K::UnknownField { .. } => Code::UnknownField,
            K::TagNotString { .. }
            | K::FieldNotFirst { .. }
            | K::NeedsList { .. }
            | K::NeedsPrefixString { .. }
            | K::NeverNull { .. }
            | K::NotComparable { .. }
            | K::NotAValueOf { .. }
            | K::NotText { .. }
            | K::NotANumber { .. }
            | K::QuotedValue { .. }
            | K::NotATimestamp { .. } => Code::TypeMismatch,
            K::UnknownValue { .. } => Code::UnknownValue,
            K::UnknownFlowStepType { .. } => Code::UnknownFlowStepType,
            K::MissingFallback { .. } => Code::MissingFallback,
            K::UnreachableStep { .. } => Code::UnreachableStep,
            K::DuplicateStep { .. } => Code::DuplicateStep,
            K::DuplicateFallback { .. } => Code::DuplicateFallback,
            K::UnknownStepReference { .. } | K::MoveAroundMissingFallback => {
                Code::UnknownStepReference
            }
            K::MoveRelativeToItself { .. } => Code::InvalidMove,
            K::UserNotInContext { .. } | K::UserMapTargetNotInContext { .. } => {
                Code::UserNotInContext
            }
            K::IntegrationMismatch { .. } => Code::IntegrationMismatch,
            K::MixedScriptAddress { .. } => Code::MixedScriptAddress,
            K::UnknownAllow { .. } => Code::UnknownAllow,
            K::UnusedAllow { .. } => Code::UnusedAllow,
        }
    }

    /// The message, label and help of this kind of finding.
    pub fn words(&self) -> Words {
        use FindingKind as K;
        match self {
            // Reading stops one byte past the limit, so `bytes` is a floor.
            K::FileTooLarge { limit, .. } => words(
                format!("rule file is larger than the {limit} bytes allowed"),
                "file too large",
                "a rule file lists a handful of steps; is this the right file?",
            ),
            K::NotUtf8 => words(
                "rule file is not valid UTF-8",
                "this byte is not UTF-8",
                "save the file as UTF-8",
            ),
            K::Syntax { expected, found, help } => words(
                format!("expected {expected}, found {found}"),
                format!("expected {expected}"),
                help.clone().unwrap_or_else(|| "a rule file is `ruleset NAME`, then `step`, `disable`, `move` and `fallback` statements; `callassign print-default` prints one, commented".to_string()),
            ),
            K::UnsupportedEscape { escaped } => words(
                format!("unsupported escape `\\{escaped}` in a string"),
                "not an escape the rule language has",
                "only `\\\"` and `\\\\` can be escaped; write other characters as they are",
            ),
            K::UnterminatedString => words(
                "unterminated string",
                "this string is not closed",
                "close it with `\"` on the same line; a string cannot span lines",
            ),
            K::NestingTooDeep { limit } => words(
                format!("condition nests parentheses more than {limit} deep"),
                "this parenthesis is one too many",
                "split the condition over several steps, or remove parentheses that group a single comparison",
            ),
            K::NumberTooLarge { written } => words(
                format!("`{written}` is too large a number"),
                "does not fit in 64 bits",
                "durations are whole seconds; use a smaller number",
            ),
            K::SingleEquals => words(
                "`=` is not a valid operator",
                "not an operator",
                "try using `==` instead",
            ),
            K::RulesetNameMismatch {
                name,
                stem,
                stem_is_name: true,
            } => words(
                format!("ruleset `{name}` is in a file named `{stem}.rules`"),
                "the ruleset name",
                format!("rename the ruleset to `{stem}` (other files extend it by its file name)"),
            ),
            // `hubspot.v2.rules`: no ruleset can be named after the file.
            K::RulesetNameMismatch { name, stem, .. } => words(
                format!("ruleset `{name}` is in a file named `{stem}.rules`"),
                "the ruleset name",
                format!(
                    "rename the file to `{name}.rules`: `{stem}` cannot name a ruleset (a letter, then letters, digits, `_` and `-`; no keyword)"
                ),
            ),
            K::ExtendsFileName { written, base } => words(
                format!("`extends {written}` names a file; `extends` takes a ruleset name"),
                "a file name",
                format!("drop the extension: `extends {base}`"),
            ),
            K::ExtendsPath { written, base } => words(
                format!("`extends {written}` reaches outside the rule folder"),
                "not a rule file name",
                format!(
                    "a ruleset extends another file of the same folder by its name{}",
                    base.as_ref()
                        .map_or_else(String::new, |base| format!(": `extends {base}`"))
                ),
            ),
            K::ExtendsNotAName { written } => words(
                format!("`extends {written}` is not a ruleset name"),
                "not a ruleset name",
                "a ruleset name has only letters, digits, `_` and `-`, and is the name of a `.rules` file in this folder without its extension",
            ),
            K::FileWithoutName { name } => words(
                format!("the rule file `{name}` has no name before its extension"),
                "the ruleset name",
                "name the file after its ruleset: a file `NAME.rules` holds `ruleset NAME`, and other files extend it by that name",
            ),
            K::ExtendsLinkOutside { name } => words(
                format!("`{name}.rules` links to a file outside the rule folder"),
                "leads outside this folder",
                "copy the rules into this folder instead of linking to them",
            ),
            K::MissingExtends { name, suggestion, siblings, more } => words(
                format!("no rule file `{name}.rules` to extend"),
                "not found in this folder",
                match suggestion {
                    Some(suggestion) => format!("did you mean `extends {suggestion}`?"),
                    None if siblings.is_empty() => format!(
                        "create `{name}.rules` beside this file, or extend one of: (no rule files here)"
                    ),
                    None if *more == 0 => format!(
                        "create `{name}.rules` beside this file, or extend one of: `{}`",
                        siblings.join("`, `")
                    ),
                    None => format!(
                        "create `{name}.rules` beside this file, or extend one of: `{}` and {more} more",
                        siblings.join("`, `")
                    ),
                },
            ),
            K::UnreadableExtends { path, error } => words(
                format!("cannot read `{path}`: {error}"),
                "cannot be read",
                format!("`{path}` must be a readable rule file: check what is at that path and its permissions"),
            ),
            K::ExtendsCycle { cycle } => words(
                format!("`extends` goes round in a circle: {}", cycle.join(" → ")),
                "closes the circle",
                "a ruleset cannot extend itself, directly or through others; extend the common base instead",
            ),
            K::ExtendsTooDeep { limit, leaf, current, target } => words(
                format!("`extends` chain from `{leaf}` is longer than {limit} files"),
                format!("{limit} files up, `{current}` still extends `{target}`"),
                "extend a file nearer the base; long chains are hard to review",
            ),
            K::UnknownStep { word, defining, suggestion } => {
                let known = Builtin::ALL.map(Builtin::name);
                let help = if matches!(
                    word.as_str(),
                    "integration_fallback" | "fallback" | "integration" | "unassigned"
                ) {
                    "the fallback is its own statement and closes the plan: write `fallback integration` (or `fallback unassigned`)".to_string()
                } else if let Some(suggestion) = suggestion {
                    format!("did you mean `{suggestion}`?")
                } else if *defining {
                    format!(
                        "a step is one of {}, or a fixed user: `user \"ops@acme.com\"`",
                        listing(&known)
                    )
                } else {
                    format!("steps are named {}, or `user \"email\"`", listing(&known))
                };
                words(format!("unknown step `{word}`"), "not a step kind", help)
            }
            K::UnknownFallback { word, suggestion } => words(
                format!("unknown fallback `{word}`"),
                "not a fallback",
                suggestion.map_or_else(
                    || "the fallback is `integration`, `unassigned` or `user \"email\"`".to_string(),
                    |suggestion| format!("did you mean `fallback {suggestion}`?"),
                ),
            ),
            K::NotAnEmail { written } => words(
                format!("`{written}` is not an e-mail address"),
                "a user is named by e-mail",
                "write the integration user's e-mail address: `user \"ops@acme.com\"`",
            ),
            K::HiddenCharacter { written, character } => words(
                format!(
                    "`{}` holds the {} character U+{:04X}",
                    printable(written),
                    if character.is_control() {
                        "control"
                    } else {
                        "invisible"
                    },
                    u32::from(*character)
                ),
                "a user is named by e-mail",
                "retype the address: control, zero-width and direction characters are never part of one",
            ),
            K::UnknownAllow {
                written,
                suggestion,
                error,
            } => words(
                if *error {
                    format!("`{written}` is an error, which an allow comment cannot accept")
                } else {
                    format!("`{written}` names no warning to allow")
                },
                "not a warning code",
                if *error {
                    "fix what the error says: a rule file with errors has no plan".to_string()
                } else if let Some(suggestion) = suggestion {
                    format!("did you mean `{suggestion}`?")
                } else {
                    format!(
                        "write `# callassign: allow CODE`, CODE one of {}",
                        listing(&Code::allowable().map(|code| code.short()).collect::<Vec<_>>())
                    )
                },
            ),
            K::UnusedAllow { code } => words(
                format!("nothing to allow: no `{code}` on the line it is about"),
                "allows nothing",
                "remove the comment (or move it to the line whose warning it accepts)",
            ),
            K::MixedScriptAddress {
                written,
                main,
                odd,
                odd_letter,
            } => words(
                format!("`{written}` mixes {main} and {odd} letters"),
                "looks like another address",
                format!(
                    "`{odd_letter}` (U+{:04X}) is a {odd} letter among {main} ones and matches no telephony address that looks the same; retype the address",
                    u32::from(*odd_letter)
                ),
            ),
            K::UnknownField { path, suggestion, is_value } => words(
                format!("unknown field `{path}`"),
                "not a call field",
                if path == "duration_s" {
                    // The call's key is `duration_s`; rules say `duration`.
                    "rules test the talking time as `duration` (whole seconds); `duration_s` is the key calls carry it in".to_string()
                } else if let Some(suggestion) = suggestion {
                    format!("did you mean `{suggestion}`?")
                } else if *is_value {
                    format!("`{path}` is a value; compare a field with it: `status == {path}`")
                } else {
                    let names = crate::vocabulary::Field::ALL
                        .map(crate::vocabulary::Field::name);
                    format!("the fields are {}", listing(&names))
                },
            ),
            K::TagNotString { found } => words(
                format!("{found} is not a tag"),
                "expected a string",
                "tags are strings: `\"vip\" in tags`",
            ),
            K::FieldNotFirst { found, flipped } => words(
                format!("a comparison must start with a field, found {found}"),
                "expected a field",
                match flipped {
                    Some(flipped) => format!("put the field first: `{flipped}`"),
                    None => "a comparison starts with a field, as in `status == missed`".to_string(),
                },
            ),
            K::NeedsList { op, found, field, written } => words(
                format!("`{op}` needs a list, found {found}"),
                "expected a list",
                format!("write the values in brackets: `{field} {op} [{written}]`"),
            ),
            K::NeedsPrefixString { found, field } => words(
                format!("`starts_with` needs a string, found {found}"),
                "expected a string",
                format!("write the prefix in double quotes: `{field} starts_with \"+44\"`"),
            ),
            K::WrongOperator { op, field, field_type } => words(
                format!("`{op}` cannot be used on `{field}`"),
                "not an operator of this field",
                match field_type {
                    FieldType::Tags => "test for one tag with `\"vip\" in tags` (or `not in`)".to_string(),
                    FieldType::Object => "test a contact field such as `contact.owner`, or presence with `contact == null`".to_string(),
                    FieldType::Integer | FieldType::Timestamp => {
                        format!("`{field}` takes `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` and `not in`")
                    }
                    FieldType::Email | FieldType::Text | FieldType::FlowStepType => {
                        format!("`{field}` takes `==`, `!=`, `in`, `not in` and `starts_with`")
                    }
                    FieldType::Direction | FieldType::Status => {
                        format!("`{field}` takes `==`, `!=`, `in` and `not in`")
                    }
                },
            ),
            K::NeverNull { field } => words(
                format!("`{field}` is never null"),
                "every call has this field",
                if *field == "tags" {
                    "`tags` is a list, empty when a call has none; test for one tag with `\"vip\" in tags`".to_string()
                } else {
                    format!("compare `{field}` with one of its values")
                },
            ),
            K::NotComparable { field, found } => words(
                format!("`{field}` cannot be compared with {found}"),
                "not comparable",
                if *field == "tags" {
                    "test for one tag with `\"vip\" in tags`"
                } else {
                    "test a contact field such as `contact.owner == \"hs-7\"`, or `contact == null`"
                },
            ),
            K::NotAValueOf { field, found, values } => words(
                format!("`{field}` cannot be compared with {found}"),
                format!("expected a {field}"),
                format!("`{field}` is one of {}", listing(values)),
            ),
            K::NotText { field, found, hint } => words(
                format!("`{field}` cannot be compared with {found}"),
                "expected a string",
                match hint {
                    TextHint::TwoFields => {
                        "comparing two fields is not supported; compare with a value".to_string()
                    }
                    TextHint::BareEmail { word } => {
                        format!("e-mail addresses are written in double quotes: `\"{word}\"`")
                    }
                    TextHint::BareText { word } => {
                        format!("text is written in double quotes: `\"{word}\"`")
                    }
                    TextHint::Other => {
                        format!("compare `{field}` with a string in double quotes")
                    }
                },
            ),
            K::NotANumber { field, found } => words(
                format!("`{field}` cannot be compared with {found}"),
                "expected a number",
                format!("`{field}` is a whole number of seconds: `{field} > 30`"),
            ),
            K::NotAnEmailValue { field, text } => words(
                format!("`{text}` is not an e-mail address"),
                format!("`{field}` holds an e-mail address"),
                format!("compare with a whole address (`{field} == \"bob@acme.com\"`), or match a part with `starts_with`"),
            ),
            K::UnknownValue { field, word, suggestion, values } => {
                let values = format!("`{field}` is one of {}", listing(values));
                words(
                    format!("unknown {field} `{word}`"),
                    format!("not a {field}"),
                    match suggestion {
                        Some(suggestion) => format!("did you mean `{suggestion}`? {values}"),
                        None => values,
                    },
                )
            }
            K::QuotedValue { field, text } => words(
                format!("`{field}` values are written without quotes"),
                "a quoted string",
                format!("write `{text}`"),
            ),
            K::UnknownFlowStepType { written, suggestion } => words(
                format!("`{written}` is not a known flow step type"),
                "never seen in exported calls",
                format!("did you mean `{suggestion}`? (other step types are allowed, this one looks like a typo)"),
            ),
            K::InvalidTimestamp { text } => words(
                format!("`{text}` is not a timestamp"),
                "not RFC 3339",
                "write a full RFC 3339 timestamp: `\"2026-11-23T10:00:00Z\"`",
            ),
            K::NotATimestamp { found } => words(
                format!("`started_at` cannot be compared with {found}"),
                "expected a timestamp",
                "write a timestamp in double quotes: `started_at >= \"2026-11-23T10:00:00Z\"`",
            ),
            K::MissingFallback { ruleset } => words(
                format!("ruleset `{ruleset}` has no fallback"),
                "no `fallback` here or in what it extends",
                "close the steps with `fallback integration` (or `fallback unassigned`, `fallback user \"email\"`)",
            ),
            K::UnreachableStep { step } => words(
                format!("step `{step}` can never run"),
                "placed after the fallback, which always decides",
                format!("write it above the `fallback` line, or place it with `move {step} before fallback`"),
            ),
            K::DuplicateStep { step, first_at } => words(
                format!("step `{step}` is already in the plan"),
                "added a second time",
                format!("`{step}` is already added at {first_at}; place it with `move`, or `disable` it first to redefine it"),
            ),
            K::DuplicateFallback { first_line } => words(
                "this ruleset already has a fallback",
                "second fallback",
                format!("a ruleset has one fallback, written at line {first_line}; remove one of them"),
            ),
            K::UnknownStepReference { verb, step, hint } => words(
                format!("`{verb}` names `{step}`, which the plan does not have"),
                "not in the plan",
                match hint {
                    ReferenceHint::Disabled { at } => format!("`{step}` was disabled at {at}"),
                    ReferenceHint::Suggestion(suggestion) => {
                        format!("did you mean `{suggestion}`?")
                    }
                    ReferenceHint::Listing(names) if names.is_empty() => {
                        "the plan has no steps yet".to_string()
                    }
                    ReferenceHint::Listing(names) => {
                        format!("the plan has `{}`", names.join("`, `"))
                    }
                },
            ),
            K::MoveRelativeToItself { step } => words(
                format!("cannot move `{step}` relative to itself"),
                "the step being moved",
                "name another step to place it before or after",
            ),
            K::MoveAroundMissingFallback => words(
                "`move` names the fallback, which the plan does not have yet",
                "no fallback above this line",
                "write the `fallback` line before moving steps around it",
            ),
            K::UserNotInContext {
                email,
                context,
                inactive,
                is_fallback,
            } => {
                let outcome = if *is_fallback {
                    "this fallback leaves every call it gets unassigned"
                } else {
                    "this step never decides"
                };
                match inactive {
                    Some(id) => words(
                        format!("`{email}` is an inactive user (`{id}`) of `{context}`"),
                        "inactive in this context",
                        format!("{outcome}: name an active user, or reactivate `{id}` (then export the context again)"),
                    ),
                    None => words(
                        format!("`{email}` is not a user of `{context}`"),
                        "no such user in this context",
                        format!("{outcome}: fix the address, or add the user to the integration (then export the context again)"),
                    ),
                }
            }
            K::IntegrationMismatch {
                ruleset,
                context,
                integration,
            } => words(
                format!("the rules are for `{ruleset}` but `{context}` is for `{integration}`"),
                "the integration these rules are for",
                format!("pass the context of `{ruleset}`, or check the rules of `{integration}` against this context"),
            ),
            K::UserMapTargetNotInContext {
                from,
                to,
                integration,
                inactive,
            } => words(
                if *inactive {
                    format!("`user_map` links `{from}` to `{to}`, who is not active in {integration}")
                } else {
                    format!("`user_map` links `{from}` to `{to}`, who is not a user of {integration}")
                },
                if *inactive { "an inactive user" } else { "no such user" },
                format!("the link wins over e-mail matching, so `{from}` matches no user: link an active user's id, or remove the line"),
            ),
        }
    }
}
