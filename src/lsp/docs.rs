//! What hover says about step kinds and fields: the words of the README's
//! tables, so that the editor and the documentation never disagree (a test
//! holds them to it).

use callassign::vocabulary::{Builtin, Field};

/// "decides when", from the README's table of the default priority.
pub fn step_kind(step: Builtin) -> &'static str {
    match step {
        Builtin::CallAgent => "the call's own agent is an active integration user, and the call is not an incoming missed call or voicemail",
        Builtin::LastStepAgent => "the last reached call-flow step is `call_to_agent` or `call_to_group` with an `agent` who is an active user",
        Builtin::VoicemailEmail => "the last reached call-flow step is a `voicemail` whose `email` is an active user",
        Builtin::ContactOwner => "the integration has contact owners and the contact's `owner` id is an active user",
        Builtin::FavoriteAgent => "the contact's `favorite_agent` is an active user",
    }
}

/// What a `fallback` kind does, from the README's rule language section.
pub fn fallback_kind(word: &str) -> Option<&'static str> {
    match word {
        "integration" => Some("always: the integration's installer (when configured and active), otherwise unassigned"),
        "unassigned" => Some("always: the call is left unassigned"),
        _ => None,
    }
}

/// A row of the README's table of condition fields: the fields it covers,
/// their values and their operators.
pub struct FieldRow {
    pub fields: &'static [Field],
    pub values: &'static str,
    pub operators: &'static str,
}

pub const FIELD_ROWS: [FieldRow; 9] = [
    FieldRow {
        fields: &[Field::Direction],
        values: "`incoming`, `outgoing`, `internal` (between two telephony users)",
        operators: "`==`, `!=`, `in`, `not in`",
    },
    FieldRow {
        fields: &[Field::Status],
        values: "`answered`, `missed`, `voicemail`",
        operators: "`==`, `!=`, `in`, `not in`",
    },
    FieldRow {
        fields: &[Field::Agent, Field::ContactFavoriteAgent],
        values: "e-mail strings, compared as e-mails match (ASCII letters in any case)",
        operators: "`==`, `!=`, `in`, `not in`, `starts_with`",
    },
    FieldRow {
        fields: &[Field::Number, Field::ContactId, Field::ContactOwner],
        values: "strings",
        operators: "`==`, `!=`, `in`, `not in`, `starts_with`",
    },
    FieldRow {
        fields: &[Field::LastStep],
        values: "the last flow step's type: `voicemail`, `call_to_agent`, …",
        operators: "`==`, `!=`, `in`, `not in`, `starts_with`",
    },
    FieldRow {
        fields: &[Field::Duration],
        values: "whole seconds (a call's `duration_s`)",
        operators: "`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`",
    },
    FieldRow {
        fields: &[Field::StartedAt],
        values: "RFC 3339 timestamps: `\"2026-11-23T10:00:00Z\"`",
        operators: "`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`",
    },
    FieldRow {
        fields: &[Field::Tags],
        values: "`\"vip\" in tags`, `\"vip\" not in tags`",
        operators: "",
    },
    FieldRow {
        fields: &[Field::Contact],
        values: "`contact == null`, `contact != null`",
        operators: "",
    },
];

/// Hover text for a field: its values and operators, in markdown.
pub fn field(field: Field) -> String {
    let row = FIELD_ROWS
        .iter()
        .find(|row| row.fields.contains(&field))
        .expect("every field has a row");
    let mut text = format!("field `{}`: {}", field.name(), row.values);
    if !row.operators.is_empty() {
        text.push_str(&format!("\n\noperators: {}", row.operators));
    }
    if field.nullable() {
        text.push_str("\n\n`== null` / `!= null` test whether the call has it");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));

    #[test]
    fn step_kinds_are_described_as_the_readme_table_does() {
        for step in Builtin::ALL {
            let row = format!("| `{}` | {} |", step.name(), step_kind(step));
            assert!(README.contains(&row), "README lacks the row {row}");
        }
        let row = format!(
            "| `fallback integration` (step `integration_fallback`) | {} |",
            fallback_kind("integration").unwrap()
        );
        assert!(README.contains(&row), "README lacks the row {row}");
    }

    #[test]
    fn every_field_is_described_as_the_readme_table_does() {
        for field in Field::ALL {
            assert!(FIELD_ROWS.iter().any(|row| row.fields.contains(&field)));
        }
        for row in &FIELD_ROWS {
            let names: Vec<String> = row
                .fields
                .iter()
                .map(|field| format!("`{}`", field.name()))
                .collect();
            // An empty cell is written `| |`.
            let operators = format!(" {}", row.operators);
            let line = format!(
                "| {} | {} |{} |",
                names.join(", "),
                row.values,
                operators.trim_end()
            );
            assert!(README.contains(&line), "README lacks the row {line}");
        }
    }
}
