//! Check: one file's syntax tree → typed statements, plus every finding.
//!
//! This is where names get their meaning: step words become [`StepId`]s,
//! condition paths become [`Field`](crate::vocabulary::Field)s and values are typed against their
//! field. Nothing stops at the first problem: a statement with an error is
//! dropped from the result and checking goes on, so a file shows all its
//! problems at once. Findings that need the whole `extends` chain (steps
//! named twice, edits of steps the plan lacks) come from `compile.rs`.

mod address;
mod condition;

use std::sync::Arc;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span, Spanned};
use crate::diagnostics::suggest::did_you_mean;
use crate::semantics::plan::{Fallback, Guard, StepId};
use crate::syntax::ast::{Anchor, Placement, RuleFile, StatementKind, StepName};
use crate::vocabulary::Builtin;

/// Flow step types the telephony system is known to export. The set is
/// open; these only serve to catch typos (`voicemial`).
pub const KNOWN_FLOW_STEP_TYPES: [&str; 5] = [
    "welcome_message",
    "ivr",
    "call_to_agent",
    "call_to_group",
    "voicemail",
];

/// A rule file whose names have been resolved and whose conditions are typed.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub source: Arc<Source>,
    pub name: Spanned<String>,
    /// The file's `extends` target, as written.
    pub extends: Option<Spanned<String>>,
    pub header_span: Span,
    pub statements: Vec<CheckedStatement>,
}

#[derive(Debug, Clone)]
pub struct CheckedStatement {
    pub kind: CheckedKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum CheckedKind {
    Step {
        step: Spanned<StepId>,
        guard: Option<Guard>,
    },
    Disable {
        step: Spanned<StepId>,
    },
    Move {
        step: Spanned<StepId>,
        placement: CheckedPlacement,
    },
    Fallback {
        fallback: Spanned<Fallback>,
    },
}

#[derive(Debug, Clone)]
pub enum CheckedPlacement {
    Before(Target),
    After(Target),
    First,
    Last,
}

#[derive(Debug, Clone)]
pub enum Target {
    Step(Spanned<StepId>),
    Fallback(Span),
}

/// Checks one parsed file on its own.
pub(crate) fn check_file(source: &Arc<Source>, file: &RuleFile) -> (CheckedFile, Vec<Finding>) {
    let mut checker = Checker {
        source,
        findings: Vec::new(),
    };
    checker.header(file);
    let statements = file
        .statements
        .iter()
        .filter_map(|statement| checker.statement(&statement.kind, statement.span))
        .collect();
    let checked = CheckedFile {
        source: Arc::clone(source),
        name: file.name.clone(),
        extends: file.extends.clone(),
        header_span: file.header_span,
        statements,
    };
    (checked, checker.findings)
}

/// Whether `extends` names a file in the same folder: a plain name, no
/// path separators, no `..`, no drive or home prefix.
pub fn is_plain_name(target: &str) -> bool {
    !target.is_empty()
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !target.starts_with('-')
}

struct Checker<'a> {
    source: &'a Arc<Source>,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn finding(&mut self, kind: FindingKind, span: Span) {
        self.findings.push(Finding::new(kind, self.source, span));
    }

    /// A finding whose fix is one replacement of its own span.
    fn finding_with_fix(&mut self, kind: FindingKind, span: Span, replacement: String) {
        let title = format!("replace with `{replacement}`");
        self.findings
            .push(Finding::new(kind, self.source, span).suggest(span, replacement, title));
    }

    fn header(&mut self, file: &RuleFile) {
        if let Some(stem) = self.source.stem() {
            if stem == ".rules" {
                // A file named only `.rules`: its stem is the extension.
                self.finding(
                    FindingKind::FileWithoutName {
                        name: stem.to_string(),
                    },
                    file.name.span,
                );
            } else if stem != file.name.node && !crate::syntax::parse::is_name(stem) {
                // No quick fix: the file's name is no ruleset name.
                self.finding(
                    FindingKind::RulesetNameMismatch {
                        name: file.name.node.clone(),
                        stem: stem.to_string(),
                        stem_is_name: false,
                    },
                    file.name.span,
                );
            } else if stem != file.name.node {
                self.finding_with_fix(
                    FindingKind::RulesetNameMismatch {
                        name: file.name.node.clone(),
                        stem: stem.to_string(),
                        stem_is_name: true,
                    },
                    file.name.span,
                    stem.to_string(),
                );
            }
        }
        if let Some(extends) = &file.extends {
            if !is_plain_name(&extends.node) {
                let base = extends
                    .node
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(".rules");
                let only_suffix = extends
                    .node
                    .strip_suffix(".rules")
                    .is_some_and(is_plain_name);
                if only_suffix {
                    // `extends base.rules`: the right file, named the wrong way.
                    self.finding_with_fix(
                        FindingKind::ExtendsFileName {
                            written: extends.node.clone(),
                            base: base.to_string(),
                        },
                        extends.span,
                        base.to_string(),
                    );
                } else if !extends.node.contains(['/', '\\']) && !extends.node.contains("..") {
                    // `extends a.b`: no path, just not a name.
                    self.finding(
                        FindingKind::ExtendsNotAName {
                            written: extends.node.clone(),
                        },
                        extends.span,
                    );
                } else {
                    self.finding(
                        FindingKind::ExtendsPath {
                            written: extends.node.clone(),
                            base: is_plain_name(base).then(|| base.to_string()),
                        },
                        extends.span,
                    );
                }
            }
        }
    }

    fn statement(&mut self, kind: &StatementKind, span: Span) -> Option<CheckedStatement> {
        let kind = match kind {
            StatementKind::Step { step, guard } => {
                let step = self.step_id(step, true);
                // A step whose condition has errors is kept (without its
                // condition) so that edits naming it are not reported too.
                let guard = guard.as_ref().and_then(|guard| self.guard(guard));
                CheckedKind::Step { step: step?, guard }
            }
            StatementKind::Disable { step } => CheckedKind::Disable {
                step: self.step_id(step, false)?,
            },
            StatementKind::Move { step, placement } => {
                let step = self.step_id(step, false);
                let placement = self.placement(&placement.node);
                CheckedKind::Move {
                    step: step?,
                    placement: placement?,
                }
            }
            StatementKind::Fallback { target } => CheckedKind::Fallback {
                fallback: self.fallback(target)?,
            },
        };
        Some(CheckedStatement { kind, span })
    }

    fn step_id(&mut self, step: &Spanned<StepName>, defining: bool) -> Option<Spanned<StepId>> {
        match &step.node {
            StepName::Word(word) => match Builtin::from_name(word) {
                Some(builtin) => Some(Spanned::new(StepId::Builtin(builtin), step.span)),
                None => {
                    self.unknown_step(word, step.span, defining);
                    None
                }
            },
            StepName::User(email) => {
                let email = self.email(email, step.span)?;
                Some(Spanned::new(StepId::User(email), step.span))
            }
        }
    }

    fn unknown_step(&mut self, word: &str, span: Span, defining: bool) {
        let suggestion = did_you_mean(word, Builtin::ALL.map(Builtin::name));
        let kind = FindingKind::UnknownStep {
            word: word.to_string(),
            defining,
            suggestion,
        };
        match suggestion {
            Some(suggestion) => self.finding_with_fix(kind, span, suggestion.to_string()),
            None => self.finding(kind, span),
        }
    }

    /// A fixed user's e-mail, trimmed; a finding if it cannot be an address.
    fn email(&mut self, email: &str, span: Span) -> Option<String> {
        if let Some(character) = email.chars().find(|&c| address::is_hidden(c)) {
            // It would match no telephony address, and looks like one that does.
            self.finding(
                FindingKind::HiddenCharacter {
                    written: email.to_string(),
                    character,
                },
                span,
            );
            return None;
        }
        if let Some(mixed) = address::mixed_scripts(email) {
            self.finding(
                FindingKind::MixedScriptAddress {
                    written: email.to_string(),
                    main: mixed.main.name(),
                    odd: mixed.odd.name(),
                    odd_letter: mixed.odd_letter,
                },
                span,
            );
        }
        if crate::vocabulary::email::looks_like_email(email) {
            Some(email.trim().to_string())
        } else {
            self.finding(
                FindingKind::NotAnEmail {
                    written: email.to_string(),
                },
                span,
            );
            None
        }
    }

    fn placement(&mut self, placement: &Placement) -> Option<CheckedPlacement> {
        let mut target = |anchor: &Anchor| match anchor {
            Anchor::Step(step) => self.step_id(step, false).map(Target::Step),
            Anchor::Fallback(span) => Some(Target::Fallback(*span)),
        };
        Some(match placement {
            Placement::Before(anchor) => CheckedPlacement::Before(target(anchor)?),
            Placement::After(anchor) => CheckedPlacement::After(target(anchor)?),
            Placement::First => CheckedPlacement::First,
            Placement::Last => CheckedPlacement::Last,
        })
    }

    fn fallback(&mut self, target: &Spanned<StepName>) -> Option<Spanned<Fallback>> {
        let fallback = match &target.node {
            StepName::Word(word) if word == "integration" => Fallback::Integration,
            StepName::Word(word) if word == "unassigned" => Fallback::Unassigned,
            StepName::Word(word) => {
                let suggestion = did_you_mean(word, ["integration", "unassigned"]);
                let kind = FindingKind::UnknownFallback {
                    word: word.clone(),
                    suggestion,
                };
                match suggestion {
                    Some(suggestion) => {
                        self.finding_with_fix(kind, target.span, suggestion.to_string())
                    }
                    None => self.finding(kind, target.span),
                }
                return None;
            }
            StepName::User(email) => Fallback::User(self.email(email, target.span)?),
        };
        Some(Spanned::new(fallback, target.span))
    }
}
