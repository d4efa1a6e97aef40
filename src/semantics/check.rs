//! Check: one file's syntax tree → typed statements, plus every finding.
//!
//! This is where names get their meaning: step words become [`StepId`]s,
//! condition paths become [`Field`]s and values are typed against their
//! field. Nothing stops at the first problem: a statement with an error is
//! dropped from the result and checking goes on, so a file shows all its
//! problems at once. Findings that need the whole `extends` chain (steps
//! named twice, edits of steps the plan lacks) come from `compile.rs`.

use std::sync::Arc;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::{FindingKind, TextHint};
use crate::diagnostics::suggest::did_you_mean;
use crate::runtime::model::{Direction, Status};
use crate::runtime::time::parse_rfc3339;
use crate::semantics::plan::{
    Builtin, Condition, Fallback, Field, FieldType, Guard, Ordering, StepId, TextField,
};
use crate::syntax::ast::{
    self, Anchor, Expr, GuardKind, Operand, Operator, Placement, RuleFile, StatementKind, StepName,
};
use crate::syntax::source::{Source, Span, Spanned};

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
pub fn check_file(source: &Arc<Source>, file: &RuleFile) -> (CheckedFile, Vec<Finding>) {
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
            if stem != file.name.node {
                self.finding_with_fix(
                    FindingKind::RulesetNameMismatch {
                        name: file.name.node.clone(),
                        stem: stem.to_string(),
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
        let trimmed = email.trim();
        let valid = trimmed.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        }) && !trimmed.contains(char::is_whitespace);
        if valid {
            Some(trimmed.to_string())
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

    fn guard(&mut self, guard: &ast::Guard) -> Option<Guard> {
        let condition = self.condition(&guard.condition)?;
        Some(Guard {
            unless: guard.kind == GuardKind::Unless,
            condition,
            text: guard.condition.node.to_string(),
        })
    }

    /// Types a condition. Every part is checked even after one fails.
    fn condition(&mut self, expr: &Spanned<Expr>) -> Option<Condition> {
        match &expr.node {
            Expr::Or(parts) => self.all_parts(parts).map(Condition::Any),
            Expr::And(parts) => self.all_parts(parts).map(Condition::All),
            Expr::Not(inner) => self
                .condition(inner)
                .map(|inner| Condition::Not(Box::new(inner))),
            Expr::Group(inner) => self.condition(inner),
            Expr::Compare { left, op, right } => self.comparison(left, *op, right),
        }
    }

    fn all_parts(&mut self, parts: &[Spanned<Expr>]) -> Option<Box<[Condition]>> {
        let checked: Vec<Option<Condition>> =
            parts.iter().map(|part| self.condition(part)).collect();
        checked
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(Vec::into_boxed_slice)
    }

    fn comparison(
        &mut self,
        left: &Spanned<Operand>,
        op: Spanned<Operator>,
        right: &Spanned<Operand>,
    ) -> Option<Condition> {
        // `"vip" in tags`: the one comparison whose field is on the right.
        if let (Operand::Path(path), Operator::In | Operator::NotIn) = (&right.node, op.node) {
            if path == "tags" {
                let Operand::Str(tag) = &left.node else {
                    self.finding(
                        FindingKind::TagNotString {
                            found: describe(&left.node),
                        },
                        left.span,
                    );
                    return None;
                };
                let has = Condition::HasTag(tag.as_str().into());
                return Some(if op.node == Operator::NotIn {
                    Condition::Not(Box::new(has))
                } else {
                    has
                });
            }
            // `"vip" in tag`: a misspelt field on the right.
            if matches!(left.node, Operand::Str(_)) && Field::from_name(path).is_none() {
                self.field(path, right.span);
                return None;
            }
        }
        let Operand::Path(path) = &left.node else {
            let flipped = match &right.node {
                Operand::Path(field) if Field::from_name(field).is_some() => {
                    Some(format!("{field} {} {}", flip(op.node).as_str(), left.node))
                }
                _ => None,
            };
            self.finding(
                FindingKind::FieldNotFirst {
                    found: describe(&left.node),
                    flipped,
                },
                left.span,
            );
            return None;
        };
        let field = self.field(path, left.span)?;
        let field_type = field.field_type();

        match op.node {
            Operator::Eq | Operator::Ne => {
                let negate = op.node == Operator::Ne;
                let condition = self.equality(field, right)?;
                Some(if negate {
                    Condition::Not(Box::new(condition))
                } else {
                    condition
                })
            }
            Operator::In | Operator::NotIn => {
                let Operand::List(items) = &right.node else {
                    self.finding(
                        FindingKind::NeedsList {
                            op: op.node.as_str(),
                            found: describe(&right.node),
                            field: field.name(),
                            written: right.node.to_string(),
                        },
                        right.span,
                    );
                    return None;
                };
                if matches!(field_type, FieldType::Tags | FieldType::Object) {
                    self.wrong_operator(field, op);
                    return None;
                }
                let parts: Vec<Option<Condition>> = items
                    .iter()
                    .map(|item| self.equality(field, item))
                    .collect();
                let condition =
                    merge_alternatives(field, parts.into_iter().collect::<Option<Vec<_>>>()?);
                Some(if op.node == Operator::NotIn {
                    Condition::Not(Box::new(condition))
                } else {
                    condition
                })
            }
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                let ordering = match op.node {
                    Operator::Lt => Ordering::Lt,
                    Operator::Le => Ordering::Le,
                    Operator::Gt => Ordering::Gt,
                    _ => Ordering::Ge,
                };
                match field_type {
                    FieldType::Integer => Some(Condition::Duration {
                        op: ordering,
                        value: self.integer(field, right)?,
                    }),
                    FieldType::Timestamp => Some(Condition::StartedAt {
                        op: ordering,
                        millis: self.timestamp(right)?,
                    }),
                    _ => {
                        self.wrong_operator(field, op);
                        None
                    }
                }
            }
            Operator::StartsWith => {
                let Some(text_field) = text_field(field) else {
                    self.wrong_operator(field, op);
                    return None;
                };
                let Operand::Str(prefix) = &right.node else {
                    self.finding(
                        FindingKind::NeedsPrefixString {
                            found: describe(&right.node),
                            field: field.name(),
                        },
                        right.span,
                    );
                    return None;
                };
                let fold_case = field_type == FieldType::Email;
                let prefix = if fold_case {
                    prefix.trim_start().to_lowercase()
                } else {
                    prefix.clone()
                };
                Some(Condition::TextStartsWith {
                    field: text_field,
                    prefix: prefix.into(),
                    fold_case,
                })
            }
        }
    }

    fn field(&mut self, path: &str, span: Span) -> Option<Field> {
        if let Some(field) = Field::from_name(path) {
            return Some(field);
        }
        let suggestion = did_you_mean(path, Field::ALL.map(Field::name));
        let kind = FindingKind::UnknownField {
            path: path.to_string(),
            suggestion,
            is_value: Status::ALL.iter().any(|s| s.name() == path)
                || Direction::ALL.iter().any(|d| d.name() == path),
        };
        match suggestion {
            Some(suggestion) => self.finding_with_fix(kind, span, suggestion.to_string()),
            None => self.finding(kind, span),
        }
        None
    }

    fn wrong_operator(&mut self, field: Field, op: Spanned<Operator>) {
        self.finding(
            FindingKind::WrongOperator {
                op: op.node.as_str(),
                field: field.name(),
                field_type: field.field_type(),
            },
            op.span,
        );
    }

    /// `field == value` as a condition.
    fn equality(&mut self, field: Field, value: &Spanned<Operand>) -> Option<Condition> {
        if value.node == Operand::Null {
            if field.nullable() {
                return Some(Condition::IsNull(field));
            }
            self.finding(
                FindingKind::NeverNull {
                    field: field.name(),
                },
                value.span,
            );
            return None;
        }
        match field.field_type() {
            FieldType::Direction => {
                let direction =
                    self.enum_value(field, value, &Direction::ALL.map(Direction::name))?;
                Some(Condition::Direction(Direction::ALL[direction].bit()))
            }
            FieldType::Status => {
                let status = self.enum_value(field, value, &Status::ALL.map(Status::name))?;
                Some(Condition::Status(Status::ALL[status].bit()))
            }
            FieldType::Email | FieldType::Text | FieldType::FlowStepType => {
                let text = self.text_value(field, value)?;
                let fold_case = field.field_type() == FieldType::Email;
                if fold_case && !text.contains('@') {
                    // It could never equal a telephony user's address.
                    self.finding(
                        FindingKind::NotAnEmailValue {
                            field: field.name(),
                            text,
                        },
                        value.span,
                    );
                    return None;
                }
                let text = if fold_case {
                    text.trim().to_lowercase()
                } else {
                    text
                };
                Some(Condition::TextIn {
                    field: text_field(field).expect("text-typed field"),
                    values: vec![text.into_boxed_str()].into(),
                    fold_case,
                })
            }
            FieldType::Integer => Some(Condition::Duration {
                op: Ordering::Eq,
                value: self.integer(field, value)?,
            }),
            FieldType::Timestamp => Some(Condition::StartedAt {
                op: Ordering::Eq,
                millis: self.timestamp(value)?,
            }),
            FieldType::Tags | FieldType::Object => {
                self.finding(
                    FindingKind::NotComparable {
                        field: field.name(),
                        found: describe(&value.node),
                    },
                    value.span,
                );
                None
            }
        }
    }

    /// Index of a bare enum value among `names`.
    fn enum_value(
        &mut self,
        field: Field,
        value: &Spanned<Operand>,
        names: &[&'static str],
    ) -> Option<usize> {
        match &value.node {
            Operand::Path(word) => {
                if let Some(index) = names.iter().position(|name| name == word) {
                    return Some(index);
                }
                let suggestion = did_you_mean(word, names.iter().copied());
                let kind = FindingKind::UnknownValue {
                    field: field.name(),
                    word: word.clone(),
                    suggestion,
                    values: names.to_vec(),
                };
                match suggestion {
                    Some(suggestion) => {
                        self.finding_with_fix(kind, value.span, suggestion.to_string())
                    }
                    None => self.finding(kind, value.span),
                }
                None
            }
            Operand::Str(text) if names.contains(&text.as_str()) => {
                self.finding_with_fix(
                    FindingKind::QuotedValue {
                        field: field.name(),
                        text: text.clone(),
                    },
                    value.span,
                    text.clone(),
                );
                None
            }
            other => {
                self.finding(
                    FindingKind::NotAValueOf {
                        field: field.name(),
                        found: describe(other),
                        values: names.to_vec(),
                    },
                    value.span,
                );
                None
            }
        }
    }

    fn text_value(&mut self, field: Field, value: &Spanned<Operand>) -> Option<String> {
        match (&value.node, field.field_type()) {
            (Operand::Str(text), _) => {
                if field.field_type() == FieldType::FlowStepType {
                    self.flow_step_type(text, value.span);
                }
                Some(text.clone())
            }
            (Operand::Path(word), FieldType::FlowStepType) => {
                self.flow_step_type(word, value.span);
                Some(word.clone())
            }
            (Operand::Int(number), FieldType::Text) => Some(number.to_string()),
            (other, field_type) => {
                let hint = match (other, field_type) {
                    (Operand::Path(path), _) if Field::from_name(path).is_some() => {
                        TextHint::TwoFields
                    }
                    (Operand::Path(_), FieldType::Email) => TextHint::BareEmail,
                    (Operand::Path(_), _) => TextHint::BareText,
                    _ => TextHint::Other,
                };
                let kind = FindingKind::NotText {
                    field: field.name(),
                    found: describe(other),
                    hint,
                };
                match (other, hint) {
                    (Operand::Path(path), TextHint::BareEmail | TextHint::BareText) => {
                        self.finding_with_fix(kind, value.span, format!("\"{path}\""))
                    }
                    _ => self.finding(kind, value.span),
                }
                None
            }
        }
    }

    fn flow_step_type(&mut self, kind: &str, span: Span) {
        if KNOWN_FLOW_STEP_TYPES.contains(&kind) {
            return;
        }
        if let Some(suggestion) = did_you_mean(kind, KNOWN_FLOW_STEP_TYPES) {
            self.finding_with_fix(
                FindingKind::UnknownFlowStepType {
                    written: kind.to_string(),
                    suggestion,
                },
                span,
                suggestion.to_string(),
            );
        }
    }

    fn integer(&mut self, field: Field, value: &Spanned<Operand>) -> Option<i64> {
        if let Operand::Int(number) = value.node {
            return Some(number);
        }
        self.finding(
            FindingKind::NotANumber {
                field: field.name(),
                found: describe(&value.node),
            },
            value.span,
        );
        None
    }

    fn timestamp(&mut self, value: &Spanned<Operand>) -> Option<i64> {
        match &value.node {
            Operand::Str(text) => {
                let parsed = parse_rfc3339(text);
                if parsed.is_none() {
                    self.finding(
                        FindingKind::InvalidTimestamp { text: text.clone() },
                        value.span,
                    );
                }
                parsed
            }
            other => {
                self.finding(
                    FindingKind::NotATimestamp {
                        found: describe(other),
                    },
                    value.span,
                );
                None
            }
        }
    }
}

/// `a in [x, y]` as one test where the field allows it.
fn merge_alternatives(field: Field, parts: Vec<Condition>) -> Condition {
    match field.field_type() {
        FieldType::Direction => Condition::Direction(parts.iter().fold(0, |set, part| {
            set | if let Condition::Direction(bits) = part {
                *bits
            } else {
                0
            }
        })),
        FieldType::Status => Condition::Status(parts.iter().fold(0, |set, part| {
            set | if let Condition::Status(bits) = part {
                *bits
            } else {
                0
            }
        })),
        FieldType::Email | FieldType::Text | FieldType::FlowStepType => {
            let mut values = Vec::new();
            let mut nulls = Vec::new();
            for part in parts {
                match part {
                    Condition::TextIn {
                        values: part_values,
                        ..
                    } => values.extend(part_values.into_vec()),
                    other => nulls.push(other),
                }
            }
            let text = Condition::TextIn {
                field: text_field(field).expect("text-typed field"),
                values: values.into(),
                fold_case: field.field_type() == FieldType::Email,
            };
            if nulls.is_empty() {
                text
            } else {
                nulls.push(text);
                Condition::Any(nulls.into())
            }
        }
        FieldType::Integer
            if parts.iter().all(|part| {
                matches!(
                    part,
                    Condition::Duration {
                        op: Ordering::Eq,
                        ..
                    }
                )
            }) =>
        {
            Condition::DurationIn(
                parts
                    .iter()
                    .filter_map(|part| {
                        if let Condition::Duration { value, .. } = part {
                            Some(*value)
                        } else {
                            None
                        }
                    })
                    .collect(),
            )
        }
        _ => Condition::Any(parts.into()),
    }
}

fn text_field(field: Field) -> Option<TextField> {
    Some(match field {
        Field::Agent => TextField::Agent,
        Field::Number => TextField::Number,
        Field::ContactId => TextField::ContactId,
        Field::ContactOwner => TextField::ContactOwner,
        Field::ContactFavoriteAgent => TextField::ContactFavoriteAgent,
        Field::LastStep => TextField::LastStep,
        _ => return None,
    })
}

fn flip(op: Operator) -> Operator {
    match op {
        Operator::Lt => Operator::Gt,
        Operator::Le => Operator::Ge,
        Operator::Gt => Operator::Lt,
        Operator::Ge => Operator::Le,
        other => other,
    }
}

/// How a message names an operand.
fn describe(operand: &Operand) -> String {
    match operand {
        Operand::Path(path) => format!("`{path}`"),
        Operand::Str(_) => format!("the string `{operand}`"),
        Operand::Int(_) => format!("the number `{operand}`"),
        Operand::Null => "`null`".to_string(),
        Operand::List(_) => "a list".to_string(),
    }
}
