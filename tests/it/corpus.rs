//! The shipped default rules against an independent reading of the
//! documented priority (docs/contract.md section 1), over thousands of generated
//! calls. The reference below is written from the documentation, not from
//! the evaluator: if the two disagree, one of them misreads the product.

use callassign::model::{Call, Context};
use callassign::runtime::evaluate::Engine;
use serde_json::Value;

use crate::support::{Facts, Model, Rng, Users};

const EMAILS: [&str; 9] = [
    "admin@acme.com",
    "alice@acme.com",
    " ALICE@Acme.com",
    "bob@acme.com",
    "Bob@ACME.com ",
    "carol@acme.com",
    "zoe@acme.com",
    "",
    "support@acme.com",
];
const OWNERS: [&str; 6] = ["hs-1", "hs-2", "hs-7", "hs-99", " hs-3", "HS-2"];

/// A JSON value for an optional string: absent (None), null, or a string.
fn optional(random: &mut Rng, key: &str, values: &[&str]) -> Option<String> {
    match random.below(5) {
        0 => None,
        1 => Some(format!("\"{key}\":null")),
        _ => Some(format!(
            "\"{key}\":{}",
            serde_json::to_string(random.pick(values)).unwrap()
        )),
    }
}

fn generate_call(random: &mut Rng, index: usize) -> String {
    let mut fields = vec![format!("\"id\":\"c-{index}\"")];
    fields.push(format!(
        "\"direction\":\"{}\"",
        random.pick(&["incoming", "incoming", "outgoing"])
    ));
    fields.push(format!(
        "\"status\":\"{}\"",
        random.pick(&["answered", "missed", "missed", "voicemail"])
    ));
    fields.extend(optional(random, "agent", &EMAILS));
    if random.chance(85) {
        let length = random.below(7);
        let steps: Vec<String> = (0..length)
            .map(|_| {
                let kind = random.pick(&[
                    "welcome_message",
                    "ivr",
                    "call_to_group",
                    "call_to_agent",
                    "call_to_agent",
                    "voicemail",
                    "voicemail",
                    "smart_queue",
                ]);
                let mut step = vec![format!("\"type\":\"{kind}\"")];
                step.extend(optional(random, "agent", &EMAILS));
                step.extend(optional(random, "email", &EMAILS));
                format!("{{{}}}", step.join(","))
            })
            .collect();
        fields.push(format!("\"flow\":[{}]", steps.join(",")));
    }
    match random.below(4) {
        0 => {}
        1 => fields.push("\"contact\":null".to_string()),
        _ => {
            let mut contact = vec![format!("\"id\":\"{}\"", random.below(1000))];
            contact.extend(optional(random, "owner", &OWNERS));
            contact.extend(optional(random, "favorite_agent", &EMAILS));
            fields.push(format!("\"contact\":{{{}}}", contact.join(",")));
        }
    }
    format!("{{{}}}", fields.join(","))
}

/// What the documented priority reads of a generated call: a field that
/// is absent, `null` or not a string is not there.
fn facts(call: &Value) -> Facts<'_> {
    fn text(value: &Value) -> Option<&str> {
        value.as_str()
    }
    let last = call["flow"].as_array().and_then(|flow| flow.last());
    Facts {
        incoming: call["direction"] == "incoming",
        status: text(&call["status"]).unwrap_or_default(),
        agent: text(&call["agent"]),
        last_step: last.map(|step| {
            let kind = text(&step["type"]).unwrap_or_default();
            let carried = if kind == "voicemail" {
                &step["email"]
            } else {
                &step["agent"]
            };
            (kind, text(carried))
        }),
        owner: text(&call["contact"]["owner"]),
        favorite_agent: text(&call["contact"]["favorite_agent"]),
        tags: &[],
    }
}

fn context_yaml(contact_owner: bool, installer_fallback: bool) -> String {
    format!(
        "integration: crm\ncontact_owner: {contact_owner}\nfallback: {}\ninstaller: hs-1\nusers:\n  - {{id: hs-1, email: Admin@acme.com}}\n  - {{id: hs-2, email: ' alice@ACME.com'}}\n  - {{id: hs-3, email: bob@acme.com}}\n  - {{id: hs-7, email: carol@acme.com, active: false}}\n  - {{id: hs-9, email: support@acme.com, active: false}}\n",
        if installer_fallback { "installer" } else { "unassigned" }
    )
}

fn reference_integration(contact_owner: bool, installer_fallback: bool) -> Users {
    Users {
        users: vec![
            ("hs-1", "Admin@acme.com", true),
            ("hs-2", " alice@ACME.com", true),
            ("hs-3", "bob@acme.com", true),
            ("hs-7", "carol@acme.com", false),
            ("hs-9", "support@acme.com", false),
        ],
        contact_owner,
        installer: installer_fallback.then_some("hs-1"),
    }
}

#[test]
fn default_rules_follow_the_documented_priority() {
    let compiled = callassign::compile_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/default.rules"),
    )
    .unwrap();
    let plan = compiled.plan.expect("default rules compile");
    let mut random = Rng::new(0x5eed_ca11_a551_9e11);
    let mut steps_seen = std::collections::BTreeMap::new();
    for (contact_owner, installer_fallback) in
        [(true, true), (false, true), (true, false), (false, false)]
    {
        let context = Context::from_yaml(&context_yaml(contact_owner, installer_fallback)).unwrap();
        let evaluator = Engine::new(plan.clone(), context.clone());
        let reference = reference_integration(contact_owner, installer_fallback);
        for index in 0..5_000 {
            let json = generate_call(&mut random, index);
            let call = Call::from_json(&json).unwrap_or_else(|error| panic!("{json}: {error}"));
            let decision = evaluator.decide(&call);
            let got = (
                decision.assignee.map(|user| user.id.as_str()),
                decision.step.name(),
            );
            let value: Value = serde_json::from_str(&json).unwrap();
            let (assignee, decided) = Model::default_rules().decide(&facts(&value), &reference);
            let expected = (assignee, decided.name());
            assert_eq!(
                got, expected,
                "context contact_owner={contact_owner} installer={installer_fallback}, call {json}"
            );
            *steps_seen.entry(got.1).or_insert(0) += 1;
        }
    }
    // The corpus reaches every step, so the comparison covers them all.
    assert_eq!(
        steps_seen.keys().copied().collect::<Vec<_>>(),
        [
            "call_agent",
            "contact_owner",
            "favorite_agent",
            "integration_fallback",
            "last_step_agent",
            "voicemail_email"
        ]
    );
    assert!(
        steps_seen.values().all(|&count| count > 100),
        "{steps_seen:?}"
    );
}
