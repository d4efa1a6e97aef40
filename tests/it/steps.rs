//! What each step kind decides, and every way it can fail to: one table
//! per step. Each row is a call, the assignee expected (or `-` for none)
//! and, for rows where the step does not decide, the reason the trace gives.

use callassign::model::{Call, Context};
use callassign::runtime::evaluate::{Engine, Outcome};

const CONTEXT: &str = "
integration: hubspot
contact_owner: true
fallback: installer
installer: hs-1
users:
  - {id: hs-1, email: admin@acme.com}
  - {id: hs-2, email: ' Alice@Acme.com '}
  - {id: hs-3, email: bob@acme.com}
  - {id: hs-7, email: carol@acme.com, active: false}
  - {id: hs-8}
";

/// Evaluates `call` under a plan of the one `step` then `fallback
/// unassigned`; returns the assignee id (or `-`), the deciding step and
/// what the trace says about the step.
fn run(step: &str, context: &str, call: &str) -> (String, String, String) {
    let rules = format!("ruleset t\nstep {step}\nfallback unassigned\n");
    let compiled = callassign::compile_text("t.rules", &rules);
    let plan = compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.findings));
    let context = Context::from_yaml(context).unwrap();
    let evaluator = Engine::new(plan.clone(), context.clone());
    let call = Call::from_json(call).unwrap_or_else(|error| panic!("{call}: {error}"));
    let (decision, trace) = evaluator.explain(&call);
    let assignee = decision
        .assignee
        .map_or("-".to_string(), |user| user.id.clone());
    let first = &trace[0];
    let why = match first.result {
        Outcome::Decided => "decided".to_string(),
        _ => first.reason.clone().unwrap_or_default(),
    };
    (assignee, decision.step.name().to_string(), why)
}

fn check_table(step: &str, rows: &[(&str, &str, &str)]) {
    check_table_in(step, CONTEXT, rows)
}

fn check_table_in(step: &str, context: &str, rows: &[(&str, &str, &str)]) {
    for (call, assignee, why) in rows {
        let call = format!(r#"{{"id":"c","direction":"incoming","status":"missed",{call}}}"#)
            .replace(",}", "}");
        let (got, decided_by, got_why) = run(step, context, &call);
        assert_eq!(
            (got.as_str(), got_why.as_str()),
            (*assignee, *why),
            "step {step}, call {call}"
        );
        let expected_step = if *assignee == "-" {
            "unassigned"
        } else {
            step.split(' ').next().unwrap()
        };
        assert_eq!(decided_by, expected_step, "step {step}, call {call}");
    }
}

#[test]
fn call_agent() {
    check_table(
        "call_agent",
        &[
            (r#""agent":"bob@acme.com""#, "hs-3", "decided"),
            (r#""agent":"  ALICE@acme.COM ""#, "hs-2", "decided"),
            ("", "-", "the call has no agent"),
            (r#""agent":null"#, "-", "the call has no agent"),
            (
                r#""agent":"zoe@acme.com""#,
                "-",
                "`zoe@acme.com` is not a user of hubspot",
            ),
            (
                r#""agent":"Carol@acme.com""#,
                "-",
                "`Carol@acme.com` is hubspot user `hs-7`, who is not active",
            ),
            (r#""agent":"""#, "-", "the e-mail address is empty"),
        ],
    );
}

#[test]
fn last_step_agent() {
    check_table(
        "last_step_agent",
        &[
            (
                r#""flow":[{"type":"call_to_agent","agent":"bob@acme.com"}]"#,
                "hs-3",
                "decided",
            ),
            (
                r#""flow":[{"type":"call_to_group","group":"Support","agent":" Bob@ACME.com"}]"#,
                "hs-3",
                "decided",
            ),
            // Only the last reached step counts.
            (
                r#""flow":[{"type":"call_to_agent","agent":"bob@acme.com"},{"type":"voicemail","email":"bob@acme.com"}]"#,
                "-",
                "the last flow step is `voicemail`, not a call to an agent or group",
            ),
            (
                r#""flow":[{"type":"call_to_agent","agent":"zoe@acme.com"},{"type":"call_to_agent","agent":"bob@acme.com"}]"#,
                "hs-3",
                "decided",
            ),
            ("", "-", "the call has no flow steps"),
            (r#""flow":null"#, "-", "the call has no flow steps"),
            (r#""flow":[]"#, "-", "the call has no flow steps"),
            (
                r#""flow":[{"type":"call_to_group","group":"Support","agent":null}]"#,
                "-",
                "no agent on the last flow step (`call_to_group`)",
            ),
            (
                r#""flow":[{"type":"call_to_agent"}]"#,
                "-",
                "no agent on the last flow step (`call_to_agent`)",
            ),
            (
                r#""flow":[{"type":"call_to_agent","agent":"zoe@acme.com"}]"#,
                "-",
                "`zoe@acme.com` is not a user of hubspot",
            ),
            (
                r#""flow":[{"type":"call_to_agent","agent":"carol@acme.com"}]"#,
                "-",
                "`carol@acme.com` is hubspot user `hs-7`, who is not active",
            ),
            (
                r#""flow":[{"type":"smart_queue","agent":"bob@acme.com"}]"#,
                "-",
                "the last flow step is `smart_queue`, not a call to an agent or group",
            ),
            (
                r#""flow":[{"type":"ivr","choice":"2"}]"#,
                "-",
                "the last flow step is `ivr`, not a call to an agent or group",
            ),
        ],
    );
}

#[test]
fn voicemail_email() {
    check_table(
        "voicemail_email",
        &[
            (
                r#""flow":[{"type":"voicemail","email":"bob@acme.com"}]"#,
                "hs-3",
                "decided",
            ),
            (
                r#""flow":[{"type":"voicemail","email":"\tALICE@acme.com  "}]"#,
                "hs-2",
                "decided",
            ),
            (
                r#""flow":[{"type":"voicemail","email":"bob@acme.com"},{"type":"hangup"}]"#,
                "-",
                "the last flow step is `hangup`, not a voicemail",
            ),
            (
                r#""flow":[{"type":"call_to_agent","agent":"bob@acme.com"}]"#,
                "-",
                "the last flow step is `call_to_agent`, not a voicemail",
            ),
            ("", "-", "the call has no flow steps"),
            (r#""flow":[]"#, "-", "the call has no flow steps"),
            (
                r#""flow":[{"type":"voicemail"}]"#,
                "-",
                "the last flow step is a voicemail with no e-mail",
            ),
            (
                r#""flow":[{"type":"voicemail","email":null}]"#,
                "-",
                "the last flow step is a voicemail with no e-mail",
            ),
            (
                r#""flow":[{"type":"voicemail","email":"support@acme.com"}]"#,
                "-",
                "`support@acme.com` is not a user of hubspot",
            ),
            (
                r#""flow":[{"type":"voicemail","email":"CAROL@acme.com"}]"#,
                "-",
                "`CAROL@acme.com` is hubspot user `hs-7`, who is not active",
            ),
        ],
    );
}

#[test]
fn contact_owner() {
    check_table(
        "contact_owner",
        &[
            (r#""contact":{"owner":"hs-3"}"#, "hs-3", "decided"),
            (r#""contact":{"owner":" hs-3 "}"#, "hs-3", "decided"),
            ("", "-", "the call has no contact"),
            (r#""contact":null"#, "-", "the call has no contact"),
            (r#""contact":{"id":"42"}"#, "-", "the contact has no owner"),
            (
                r#""contact":{"owner":null}"#,
                "-",
                "the contact has no owner",
            ),
            // Owners are ids, matched exactly, never e-mails.
            (
                r#""contact":{"owner":"HS-3"}"#,
                "-",
                "`HS-3` is not a user id of hubspot",
            ),
            (
                r#""contact":{"owner":"bob@acme.com"}"#,
                "-",
                "`bob@acme.com` is not a user id of hubspot",
            ),
            (
                r#""contact":{"owner":"hs-7"}"#,
                "-",
                "hubspot user `hs-7` is not active",
            ),
        ],
    );
    let no_owners = CONTEXT
        .replace("contact_owner: true", "contact_owner: false")
        .replace("integration: hubspot", "integration: zendesk");
    check_table_in(
        "contact_owner",
        &no_owners,
        &[(
            r#""contact":{"owner":"hs-3"}"#,
            "-",
            "zendesk has no contact owners (`contact_owner: false`)",
        )],
    );
}

#[test]
fn favorite_agent() {
    check_table(
        "favorite_agent",
        &[
            (
                r#""contact":{"favorite_agent":"bob@acme.com"}"#,
                "hs-3",
                "decided",
            ),
            (
                r#""contact":{"favorite_agent":"ALICE@ACME.COM"}"#,
                "hs-2",
                "decided",
            ),
            ("", "-", "the call has no contact"),
            (
                r#""contact":{"owner":"hs-3"}"#,
                "-",
                "the contact has no favorite agent",
            ),
            (
                r#""contact":{"favorite_agent":null}"#,
                "-",
                "the contact has no favorite agent",
            ),
            (
                r#""contact":{"favorite_agent":"zoe@acme.com"}"#,
                "-",
                "`zoe@acme.com` is not a user of hubspot",
            ),
            (
                r#""contact":{"favorite_agent":"carol@acme.com"}"#,
                "-",
                "`carol@acme.com` is hubspot user `hs-7`, who is not active",
            ),
        ],
    );
}

#[test]
fn fixed_user() {
    for (email, assignee, why) in [
        ("bob@acme.com", "hs-3", "decided"),
        (" Bob@Acme.COM", "hs-3", "decided"),
        (
            "zoe@acme.com",
            "-",
            "`zoe@acme.com` is not a user of hubspot",
        ),
        (
            "carol@acme.com",
            "-",
            "`carol@acme.com` is hubspot user `hs-7`, who is not active",
        ),
    ] {
        let (got, step, got_why) = run(
            &format!("user \"{email}\""),
            CONTEXT,
            r#"{"id":"c","direction":"incoming","status":"missed"}"#,
        );
        assert_eq!(
            (got.as_str(), got_why.as_str()),
            (assignee, why),
            "user {email}"
        );
        assert_eq!(
            step,
            if assignee == "-" {
                "unassigned"
            } else {
                "user"
            }
        );
    }
}

/// Runs a plan that has only a fallback.
fn fallback(fallback: &str, context: &str) -> (String, String, String) {
    let compiled =
        callassign::compile_text("t.rules", &format!("ruleset t\nfallback {fallback}\n"));
    let plan = compiled.plan.unwrap();
    let context = Context::from_yaml(context).unwrap();
    let evaluator = Engine::new(plan.clone(), context.clone());
    let call = Call::from_json(r#"{"id":"c","direction":"incoming","status":"missed"}"#).unwrap();
    let (decision, trace) = evaluator.explain(&call);
    (
        decision
            .assignee
            .map_or("-".to_string(), |user| user.id.clone()),
        decision.step.name().to_string(),
        trace.last().unwrap().reason.clone().unwrap(),
    )
}

#[test]
fn integration_fallback() {
    let rows = [
        (CONTEXT.to_string(), "hs-1", "hubspot falls back to its installer `hs-1`"),
        (CONTEXT.replace("fallback: installer", "fallback: unassigned"), "-", "hubspot leaves calls unassigned (`fallback: unassigned`)"),
        (CONTEXT.replace("installer: hs-1", "installer: hs-7"), "-", "hubspot falls back to its installer, but hubspot user `hs-7` is not active: unassigned"),
        (CONTEXT.replace("installer: hs-1", "installer: hs-99"), "-", "hubspot falls back to its installer, but `hs-99` is not a user id of hubspot: unassigned"),
        (CONTEXT.replace("installer: hs-1\n", ""), "-", "hubspot falls back to its installer, but none is configured: unassigned"),
    ];
    for (context, assignee, why) in rows {
        let (got, step, got_why) = fallback("integration", &context);
        assert_eq!(
            (got.as_str(), step.as_str(), got_why.as_str()),
            (assignee, "integration_fallback", why)
        );
    }
}

#[test]
fn unassigned_and_user_fallbacks() {
    assert_eq!(
        fallback("unassigned", CONTEXT),
        (
            "-".into(),
            "unassigned".into(),
            "the rules leave the call unassigned".into()
        )
    );
    assert_eq!(
        fallback("user \"BOB@acme.com\"", CONTEXT),
        (
            "hs-3".into(),
            "user".into(),
            "`bob@acme.com` is an active user of hubspot".into()
        )
    );
    // A fixed-user fallback that does not match leaves the call unassigned,
    // still reported as decided by `user`.
    assert_eq!(
        fallback("user \"zoe@acme.com\"", CONTEXT),
        (
            "-".into(),
            "user".into(),
            "`zoe@acme.com` is not a user of hubspot: unassigned".into()
        )
    );
}
