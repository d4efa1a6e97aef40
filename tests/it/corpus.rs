//! The shipped default rules against an independent reading of the
//! documented priority (DESIGN.md section 1), over thousands of generated
//! calls. The reference below is written from the documentation, not from
//! the evaluator: if the two disagree, one of them misreads the product.

use callassign::runtime::evaluate::Evaluator;
use callassign::runtime::model::{Call, Context};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

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
fn optional(random: &mut Random, key: &str, values: &[&str]) -> Option<String> {
    match random.below(5) {
        0 => None,
        1 => Some(format!("\"{key}\":null")),
        _ => Some(format!(
            "\"{key}\":{}",
            serde_json::to_string(random.pick(values)).unwrap()
        )),
    }
}

fn generate_call(random: &mut Random, index: usize) -> String {
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

/// The documented priority, read straight from the call as JSON.
mod reference {
    use serde_json::Value;

    pub struct User {
        pub id: &'static str,
        pub email: &'static str,
        pub active: bool,
    }

    pub struct Integration {
        pub contact_owner: bool,
        pub installer_fallback: bool,
        pub installer: Option<&'static str>,
        pub users: Vec<User>,
    }

    impl Integration {
        fn by_email(&self, email: &Value) -> Option<&'static str> {
            let email = email.as_str()?.trim().to_lowercase();
            self.users
                .iter()
                .find(|user| user.active && user.email.to_lowercase() == email)
                .map(|user| user.id)
        }

        fn by_id(&self, id: &Value) -> Option<&'static str> {
            let id = id.as_str()?.trim();
            self.users
                .iter()
                .find(|user| user.active && user.id == id)
                .map(|user| user.id)
        }

        /// (assignee, step) as DESIGN.md section 1 describes them.
        pub fn assign(&self, call: &Value) -> (Option<&'static str>, &'static str) {
            let incoming = call["direction"] == "incoming";
            let missed_or_voicemail = call["status"] == "missed" || call["status"] == "voicemail";
            // Step 0: only calls that are not incoming missed/voicemail keep their agent.
            if !(incoming && missed_or_voicemail) {
                if let Some(id) = self.by_email(&call["agent"]) {
                    return (Some(id), "call_agent");
                }
            }
            let last = call["flow"].as_array().and_then(|flow| flow.last());
            // Step 1: the last reached step rang an agent or a group and carries an agent.
            if let Some(last) = last {
                if last["type"] == "call_to_agent" || last["type"] == "call_to_group" {
                    if let Some(id) = self.by_email(&last["agent"]) {
                        return (Some(id), "last_step_agent");
                    }
                }
                // Step 2: the last reached step is a voicemail.
                if last["type"] == "voicemail" {
                    if let Some(id) = self.by_email(&last["email"]) {
                        return (Some(id), "voicemail_email");
                    }
                }
            }
            // Step 3: contact owner, when the integration has them.
            if self.contact_owner {
                if let Some(id) = self.by_id(&call["contact"]["owner"]) {
                    return (Some(id), "contact_owner");
                }
            }
            // Step 4: favorite agent.
            if let Some(id) = self.by_email(&call["contact"]["favorite_agent"]) {
                return (Some(id), "favorite_agent");
            }
            // Step 5: the integration's own fallback.
            let installer = if self.installer_fallback {
                self.installer.and_then(|id| self.by_id(&Value::from(id)))
            } else {
                None
            };
            (installer, "integration_fallback")
        }
    }
}

fn context_yaml(contact_owner: bool, installer_fallback: bool) -> String {
    format!(
        "integration: crm\ncontact_owner: {contact_owner}\nfallback: {}\ninstaller: hs-1\nusers:\n  - {{id: hs-1, email: Admin@acme.com}}\n  - {{id: hs-2, email: ' alice@ACME.com'}}\n  - {{id: hs-3, email: bob@acme.com}}\n  - {{id: hs-7, email: carol@acme.com, active: false}}\n  - {{id: hs-9, email: support@acme.com, active: false}}\n",
        if installer_fallback { "installer" } else { "unassigned" }
    )
}

fn reference_integration(contact_owner: bool, installer_fallback: bool) -> reference::Integration {
    use reference::User;
    reference::Integration {
        contact_owner,
        installer_fallback,
        installer: Some("hs-1"),
        users: vec![
            User {
                id: "hs-1",
                email: "Admin@acme.com",
                active: true,
            },
            User {
                id: "hs-2",
                email: "alice@ACME.com",
                active: true,
            },
            User {
                id: "hs-3",
                email: "bob@acme.com",
                active: true,
            },
            User {
                id: "hs-7",
                email: "carol@acme.com",
                active: false,
            },
            User {
                id: "hs-9",
                email: "support@acme.com",
                active: false,
            },
        ],
    }
}

#[test]
fn default_rules_follow_the_documented_priority() {
    let compiled = callassign::compile_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/default.rules"),
    )
    .unwrap();
    let plan = compiled.plan.expect("default rules compile");
    let mut random = Random(0x5eed_ca11_a551_9e11);
    let mut steps_seen = std::collections::BTreeMap::new();
    for (contact_owner, installer_fallback) in
        [(true, true), (false, true), (true, false), (false, false)]
    {
        let context = Context::from_yaml(&context_yaml(contact_owner, installer_fallback)).unwrap();
        let evaluator = Evaluator::new(&plan, &context);
        let reference = reference_integration(contact_owner, installer_fallback);
        for index in 0..5_000 {
            let json = generate_call(&mut random, index);
            let call = Call::from_json(&json).unwrap_or_else(|error| panic!("{json}: {error}"));
            let decision = evaluator.decide(&call);
            let got = (
                decision.assignee.map(|user| user.id.as_str()),
                decision.step.name(),
            );
            let expected = reference.assign(&serde_json::from_str(&json).unwrap());
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
