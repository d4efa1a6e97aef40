//! Conditions: `when` / `unless` expressions typed against the call
//! fields they compare, every part checked even after one fails.

use super::{Checker, KNOWN_FLOW_STEP_TYPES};
use crate::diagnostics::kind::{FindingKind, TextHint};
use crate::diagnostics::source::{Span, Spanned};
use crate::diagnostics::suggest::did_you_mean;
use crate::semantics::plan::{Condition, Guard, Ordering, TextField};
use crate::syntax::ast::{self, Expr, GuardKind, Operand, Operator};
use crate::vocabulary::time::parse_rfc3339;
use crate::vocabulary::{Direction, Status};
use crate::vocabulary::{Field, FieldType};

impl Checker<'_> {
    pub(super) fn guard(&mut self, guard: &ast::Guard) -> Option<Guard> {
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
                    // The e-mail rule: ASCII letters in any case.
                    prefix.trim_start().to_ascii_lowercase()
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
                    text.trim().to_ascii_lowercase()
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
                    (Operand::Path(word), FieldType::Email) => {
                        TextHint::BareEmail { word: word.clone() }
                    }
                    (Operand::Path(word), _) => TextHint::BareText { word: word.clone() },
                    _ => TextHint::Other,
                };
                let quoted = hint.bare_word().map(|word| format!("\"{word}\""));
                let kind = FindingKind::NotText {
                    field: field.name(),
                    found: describe(other),
                    hint,
                };
                match quoted {
                    Some(quoted) => self.finding_with_fix(kind, value.span, quoted),
                    None => self.finding(kind, value.span),
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
