//! Deciding a fetched call: the combined CloudTalk record goes through
//! the library exactly as a line of `eval --input cloudtalk` does, and the
//! line `eval` would write becomes the decision every target receives:
//!
//! ```json
//! {"call":"1002","ruleset":"hubspot","hash":"9f…","assignee":{"id":"104","email":"ola@acme.com"},"step":"last_step_agent","decided_at":"2026-12-02T03:15:36.123Z"}
//! ```
//!
//! (`schema/decision.schema.json` describes it). With `--explain-store`
//! the facts and the trace `eval --explain` writes are stored beside it.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use callassign::{DocumentFormat, Engine, InputFormat, Options, OutputFormat};

use super::store::{Decided, Key, Millis};

/// The keys of `eval`'s line that go into the stored trace, not the
/// decision.
const EXPLAINED: [&str; 2] = ["facts", "trace"];

/// Decides `record` (one combined CloudTalk record) with `engine`. An
/// error is the message of the error line `eval` would write for it.
pub fn decide(
    engine: &Engine,
    key: &Key,
    hash: &str,
    record: &str,
    explain: bool,
    decided_at: Millis,
) -> Result<Decided, String> {
    let options = Options {
        format: OutputFormat::Json,
        explain,
        input: InputFormat::CloudTalk,
    };
    let mut line = Vec::new();
    let written = engine
        .assign_document(record, DocumentFormat::Json, options, &mut line, &mut ())
        .map_err(|refused| refused.to_string())?
        .map_err(|error| error.to_string())?;
    let fields: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(&line).map_err(|error| error.to_string())?;
    if written.unreadable > 0 || written.lines != 1 {
        let message = fields
            .get("error")
            .and_then(|error| serde_json::from_str::<String>(error.get()).ok())
            .unwrap_or_else(|| "the record is not one call".to_string());
        return Err(message);
    }
    let decided_at_text = super::clock::rfc3339(decided_at);
    let mut decision = String::with_capacity(line.len() + 160);
    decision.push('{');
    let mut put = |name: &str, value: &str| {
        if decision.len() > 1 {
            decision.push(',');
        }
        decision.push_str(&serde_json::to_string(name).expect("a key serializes"));
        decision.push(':');
        decision.push_str(value);
    };
    let text = |value: &str| serde_json::to_string(value).expect("a string serializes");
    let raw = |name: &str| fields.get(name).map_or("null", |value| value.get());
    put("call", &text(&key.call));
    put("ruleset", &text(&key.ruleset));
    put("hash", &text(hash));
    put("assignee", raw("assignee"));
    put("step", raw("step"));
    // Whatever else `eval` writes beside them (`user` beside `"step":"user"`).
    for (name, value) in &fields {
        if !matches!(name.as_str(), "call" | "assignee" | "step")
            && !EXPLAINED.contains(&name.as_str())
        {
            put(name, value.get());
        }
    }
    put("decided_at", &text(&decided_at_text));
    decision.push('}');

    let trace = explain.then(|| {
        let explained: BTreeMap<&str, &RawValue> = EXPLAINED
            .iter()
            .filter_map(|name| fields.get(*name).map(|value| (*name, &**value)))
            .collect();
        serde_json::to_string(&explained).expect("raw values serialize")
    });
    Ok(Decided {
        hash: hash.to_string(),
        decision,
        trace,
        record: record.to_string(),
        decided_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let plan = callassign::compile_text("team.rules", "ruleset team extends default\nstep user \"ops@acme.com\" when \"vip\" in tags\nmove user \"ops@acme.com\" first\n")
            .plan
            .unwrap();
        let context = callassign::Context::from_yaml(
            "integration: hubspot\ncontact_owner: true\nusers:\n  - {id: '7', email: ops@acme.com}\n  - {id: '8', email: bob@acme.com}\n",
        )
        .unwrap();
        Engine::new(plan, context)
    }

    fn key() -> Key {
        Key {
            ruleset: "team".to_string(),
            call: "27".to_string(),
        }
    }

    const RECORD: &str = r#"{"Cdr":{"id":27,"type":"incoming"},"cdr_id":27,"direction":"incoming","status":"missed","call_steps":[{"type":"agent","id":"bob@acme.com","status":"missed"}]}"#;

    #[test]
    fn the_decision_is_evals_line_with_ruleset_hash_and_time() {
        let decided = decide(&engine(), &key(), "abc", RECORD, false, 1_795_922_136_123).unwrap();
        assert_eq!(
            decided.decision,
            r#"{"call":"27","ruleset":"team","hash":"abc","assignee":{"id":"8","email":"bob@acme.com"},"step":"last_step_agent","decided_at":"2026-11-29T03:15:36.123Z"}"#
        );
        assert_eq!(decided.trace, None);
        assert_eq!(decided.record, RECORD);
    }

    #[test]
    fn a_fixed_user_decision_names_the_user_and_the_trace_is_kept_apart() {
        let record = RECORD.replace(r#""cdr_id""#, r#""Tags":[{"name":"vip"}],"cdr_id""#);
        let decided = decide(&engine(), &key(), "abc", &record, true, 0).unwrap();
        assert_eq!(
            decided.decision,
            r#"{"call":"27","ruleset":"team","hash":"abc","assignee":{"id":"7","email":"ops@acme.com"},"step":"user","user":"ops@acme.com","decided_at":"1970-01-01T00:00:00.000Z"}"#
        );
        let trace: serde_json::Value =
            serde_json::from_str(decided.trace.as_deref().unwrap()).unwrap();
        assert!(
            trace["facts"].is_array() && trace["trace"].is_array(),
            "{trace}"
        );
    }

    #[test]
    fn a_record_eval_cannot_read_is_its_error_line_message() {
        let record = r#"{"Cdr":{"id":27,"type":"sideways"},"cdr_id":27,"direction":"incoming","status":"missed"}"#;
        assert_eq!(
            decide(&engine(), &key(), "abc", record, false, 0).unwrap_err(),
            "`Cdr.type` is `sideways`, expected `incoming`, `outgoing` or `internal`"
        );
    }
}
