//! What conditions mean: each row is a condition, a call, and whether the
//! condition holds for it.

use callassign::model::Call;
use callassign::runtime::evaluate::holds;
use callassign::semantics::check::CheckedKind;

/// Compiles `step favorite_agent when CONDITION` and tests it on `call`.
fn holds_for(condition: &str, call: &str) -> bool {
    let loaded = callassign::semantics::load::load_text(
        "t.rules",
        &format!("ruleset t\nstep favorite_agent when {condition}\nfallback unassigned\n"),
    );
    assert!(
        loaded.findings.is_empty(),
        "{condition}: {:?}",
        loaded
            .findings
            .iter()
            .map(|f| f.message())
            .collect::<Vec<_>>()
    );
    let checked = loaded.checked.unwrap();
    let CheckedKind::Step {
        guard: Some(guard), ..
    } = &checked.statements[0].kind
    else {
        panic!("{condition}: no guard")
    };
    let call = Call::from_json(call).unwrap();
    holds(&guard.condition, &call)
}

const FULL: &str = r#"{"id":"c","direction":"incoming","status":"missed","agent":" Bob@Acme.com","number":"+442071234567","duration_s":42,
  "started_at":"2026-11-23T10:00:00+01:00","tags":["vip","new"],"flow":[{"type":"ivr"},{"type":"voicemail","email":"x@y.z"}],
  "contact":{"id":"42","owner":"hs-7","favorite_agent":"dave@acme.com"}}"#;
const BARE: &str = r#"{"id":"c","direction":"outgoing","status":"answered"}"#;

#[test]
fn conditions_on_a_full_call_and_on_a_bare_one() {
    // (condition, holds for FULL, holds for BARE)
    let rows = [
        ("direction == incoming", true, false),
        ("direction != incoming", false, true),
        ("status in [missed, voicemail]", true, false),
        ("status not in [missed, voicemail]", false, true),
        (
            "direction == incoming and status in [missed, voicemail]",
            true,
            false,
        ),
        ("direction == outgoing or status == missed", true, true),
        ("not direction == incoming", false, true),
        ("not not direction == incoming", true, false),
        (
            "not (direction == incoming and status == missed)",
            false,
            true,
        ),
        // E-mails compare trimmed and case-insensitively.
        ("agent == \"bob@acme.com\"", true, false),
        ("agent in [\"x@y.z\", \"BOB@ACME.COM \"]", true, false),
        ("agent starts_with \"bob@\"", true, false),
        // A field the call lacks fails every test but `== null`.
        ("agent == null", false, true),
        ("agent != null", true, false),
        ("agent != \"bob@acme.com\"", false, true),
        ("number starts_with \"+44\"", true, false),
        ("number == \"+442071234567\"", true, false),
        ("number in [null, \"+33\"]", false, true),
        ("duration > 30", true, false),
        (
            "duration >= 42 and duration <= 42 and duration == 42",
            true,
            false,
        ),
        ("duration < 30", false, false),
        ("duration in [0, 42]", true, false),
        ("duration == null", false, true),
        ("started_at == \"2026-11-23T09:00:00Z\"", true, false),
        ("started_at < \"2026-11-23T09:00:01Z\"", true, false),
        ("started_at > \"2026-11-23T09:00:00Z\"", false, false),
        ("\"vip\" in tags", true, false),
        ("\"VIP\" in tags", false, false),
        ("\"vip\" not in tags", false, true),
        ("contact == null", false, true),
        ("contact.owner == \"hs-7\"", true, false),
        ("contact.owner == \"HS-7\"", false, false),
        ("contact.id == 42", true, false),
        ("contact.favorite_agent == \"Dave@acme.com\"", true, false),
        ("contact.favorite_agent == null", false, true),
        ("last_step == voicemail", true, false),
        ("last_step in [call_to_agent, call_to_group]", false, false),
        ("last_step == null", false, true),
        ("last_step == \"voicemail\"", true, false),
        (
            "(direction == incoming or direction == outgoing) and (((status == missed)))",
            true,
            false,
        ),
    ];
    for (condition, full, bare) in rows {
        assert_eq!(
            holds_for(condition, FULL),
            full,
            "{condition} on the full call"
        );
        assert_eq!(
            holds_for(condition, BARE),
            bare,
            "{condition} on the bare call"
        );
    }
}

#[test]
fn a_malformed_timestamp_in_a_call_is_refused_not_compared() {
    // Accepted, it made both `started_at == null` and `started_at > "…"`
    // false, and so routed the call by neither.
    for value in [r#""yesterday""#, "5", r#""2026-02-30T00:00:00Z""#] {
        let call = format!(
            r#"{{"id":"c","direction":"incoming","status":"missed","started_at":{value}}}"#
        );
        let error = Call::from_json(&call).unwrap_err().to_string();
        assert!(error.starts_with("started_at: `"), "{error}");
        assert!(error.contains("is not an RFC 3339 timestamp"), "{error}");
    }
}

#[test]
fn unless_skips_the_step_when_the_condition_holds() {
    let compiled = callassign::compile_text(
        "t.rules",
        "ruleset t\nstep call_agent unless status == missed\nfallback unassigned\n",
    );
    let plan = compiled.plan.unwrap();
    let context =
        callassign::model::Context::from_yaml("users:\n  - {id: u1, email: a@x.com}\n").unwrap();
    let evaluator = callassign::runtime::evaluate::Engine::new(plan.clone(), context.clone());
    let missed =
        Call::from_json(r#"{"id":"m","direction":"incoming","status":"missed","agent":"a@x.com"}"#)
            .unwrap();
    let answered = Call::from_json(
        r#"{"id":"a","direction":"incoming","status":"answered","agent":"a@x.com"}"#,
    )
    .unwrap();
    assert_eq!(evaluator.decide(&missed).step.name(), "unassigned");
    assert_eq!(evaluator.decide(&answered).step.name(), "call_agent");
}

#[test]
fn internal_calls_are_a_direction_of_their_own() {
    let internal = r#"{"id":"c","direction":"internal","status":"answered"}"#;
    // (condition, holds for an internal call)
    let rows = [
        ("direction == internal", true),
        ("direction != internal", false),
        ("direction in [incoming, internal]", true),
        ("direction == incoming", false),
        ("direction == outgoing", false),
        ("not direction in [incoming, outgoing]", true),
    ];
    for (condition, expected) in rows {
        assert_eq!(holds_for(condition, internal), expected, "{condition}");
    }
    let formatted = callassign::syntax::format::format_text(
        "t.rules",
        "ruleset t\nstep call_agent   unless direction==internal\nfallback unassigned\n",
    );
    assert_eq!(
        formatted.ok().as_deref(),
        Some("ruleset t\nstep call_agent unless direction == internal\nfallback unassigned\n")
    );
}
