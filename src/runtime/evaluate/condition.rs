//! Conditions at evaluation time: a step's guard prepared once (a bit table
//! when it tests only direction and status), and a condition tested
//! against a call's fields.

use super::*;

/// A step's guard, prepared once per evaluator.
///
/// A condition over direction and status alone (the default rules'
/// `unless direction == incoming and status in [missed, voicemail]`) has only
/// nine possible inputs, so it becomes a table of them: deciding a call then
/// tests one bit instead of walking the condition tree.
#[derive(Debug, Clone, Copy)]
pub(super) enum PreparedGuard {
    Always,
    /// Bit `direction * 3 + status` is set when the step runs.
    Table(u16),
    /// Walk the condition for every call.
    Walk,
}

impl PreparedGuard {
    pub(super) fn new(guard: Option<&crate::semantics::plan::Guard>) -> PreparedGuard {
        let Some(guard) = guard else {
            return PreparedGuard::Always;
        };
        if !only_direction_and_status(&guard.condition) {
            return PreparedGuard::Walk;
        }
        let mut table = 0u16;
        for direction in Direction::ALL {
            for status in Status::ALL {
                // Such a condition reads nothing else of a call, so a call
                // with only these two fields stands for every call like it.
                let call = Call::bare(direction, status);
                if holds(&guard.condition, &call) != guard.unless {
                    table |= 1 << table_bit(direction, status);
                }
            }
        }
        PreparedGuard::Table(table)
    }
}

pub(super) fn table_bit(direction: Direction, status: Status) -> u16 {
    direction as u16 * Status::ALL.len() as u16 + status as u16
}

pub(super) fn only_direction_and_status(condition: &Condition) -> bool {
    match condition {
        Condition::All(parts) | Condition::Any(parts) => {
            parts.iter().all(only_direction_and_status)
        }
        Condition::Not(inner) => only_direction_and_status(inner),
        Condition::Direction(_) | Condition::Status(_) => true,
        _ => false,
    }
}

/// Whether a condition holds for a call.
pub fn holds(condition: &Condition, call: &Call<'_>) -> bool {
    match condition {
        Condition::All(parts) => parts.iter().all(|part| holds(part, call)),
        Condition::Any(parts) => parts.iter().any(|part| holds(part, call)),
        Condition::Not(inner) => !holds(inner, call),
        Condition::Direction(set) => set & call.direction.bit() != 0,
        Condition::Status(set) => set & call.status.bit() != 0,
        Condition::TextIn {
            field,
            values,
            fold_case,
        } => text(call, *field).is_some_and(|value| {
            if *fold_case {
                let value = value.trim();
                values.iter().any(|wanted| eq_folded(wanted, value))
            } else {
                values.iter().any(|wanted| **wanted == *value)
            }
        }),
        Condition::TextStartsWith {
            field,
            prefix,
            fold_case,
        } => text(call, *field).is_some_and(|value| {
            if *fold_case {
                starts_with_folded(value.trim_start(), prefix)
            } else {
                value.starts_with(&**prefix)
            }
        }),
        Condition::IsNull(field) => is_null(call, *field),
        Condition::HasTag(tag) => call.tags.iter().any(|own| own == &**tag),
        Condition::Duration { op, value } => call
            .duration_s
            .is_some_and(|duration| op.holds(duration, *value)),
        Condition::DurationIn(values) => call
            .duration_s
            .is_some_and(|duration| values.contains(&duration)),
        Condition::StartedAt { op, millis } => call
            .started_at
            .as_deref()
            .and_then(parse_rfc3339)
            .is_some_and(|at| op.holds(at, *millis)),
    }
}

pub(super) fn text<'c>(call: &'c Call<'_>, field: TextField) -> Option<&'c str> {
    match field {
        TextField::Agent => call.agent.as_deref(),
        TextField::Number => call.number.as_deref(),
        TextField::ContactId => call.contact.as_ref()?.id.as_deref(),
        TextField::ContactOwner => call.contact.as_ref()?.owner.as_deref(),
        TextField::ContactFavoriteAgent => call.contact.as_ref()?.favorite_agent.as_deref(),
        TextField::LastStep => call.last_step.as_ref().map(|step| &*step.kind),
    }
}

pub(super) fn is_null(call: &Call<'_>, field: Field) -> bool {
    match field {
        Field::Agent => call.agent.is_none(),
        Field::Number => call.number.is_none(),
        Field::Duration => call.duration_s.is_none(),
        Field::StartedAt => call.started_at.is_none(),
        Field::Contact => call.contact.is_none(),
        Field::ContactId => text(call, TextField::ContactId).is_none(),
        Field::ContactOwner => text(call, TextField::ContactOwner).is_none(),
        Field::ContactFavoriteAgent => text(call, TextField::ContactFavoriteAgent).is_none(),
        Field::LastStep => call.last_step.is_none(),
        Field::Direction | Field::Status | Field::Tags => false,
    }
}

/// `lowered` has its ASCII letters lowercased already. E-mails compare by
/// the e-mail rule: ASCII letters in any case, every other character as it
/// is (see `runtime::model::context::matching`).
pub(super) fn eq_folded(lowered: &str, value: &str) -> bool {
    value.eq_ignore_ascii_case(lowered)
}

pub(super) fn starts_with_folded(value: &str, lowered_prefix: &str) -> bool {
    // Bytes equal but for ASCII case are the same characters but for
    // ASCII case, so a byte prefix is a character prefix.
    value.len() >= lowered_prefix.len()
        && value.as_bytes()[..lowered_prefix.len()].eq_ignore_ascii_case(lowered_prefix.as_bytes())
}
