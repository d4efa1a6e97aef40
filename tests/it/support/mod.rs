//! What the tests share besides running the binary (that is [`crate::common`]): the seeded generator of calls and histories (one
//! [`Rng`]), and [`reference`], the one independent reading of the
//! documented priority that tests check the library against. [`cloudtalk`]
//! generates CloudTalk records and reads them by docs/contract.md section 3.

#![allow(dead_code)]

pub mod cloudtalk;
pub mod reference;
mod rng;

pub use rng::Rng;

pub use reference::{End, Facts, Model, Step, Users};

use std::path::Path;

use serde_json::{json, Value};

pub const CONTEXT: &str = "\
integration: hubspot
contact_owner: true
fallback: installer
installer: hs-1
users:
  - {id: hs-1, email: admin@acme.com}
  - {id: hs-2, email: Alice@Acme.com}
  - {id: hs-3, email: bob@acme.com}
  - {id: hs-4, email: support@acme.com}
  - {id: hs-5, email: dave@acme.com}
  - {id: hs-6, email: sales-ops@acme.com}
  - {id: hs-7, email: carol@acme.com, active: false}
";

/// The users of [`CONTEXT`]: id, e-mail, active.
pub const USERS: &[(&str, &str, bool)] = &[
    ("hs-1", "admin@acme.com", true),
    ("hs-2", "Alice@Acme.com", true),
    ("hs-3", "bob@acme.com", true),
    ("hs-4", "support@acme.com", true),
    ("hs-5", "dave@acme.com", true),
    ("hs-6", "sales-ops@acme.com", true),
    ("hs-7", "carol@acme.com", false),
];
pub const INSTALLER: &str = "hs-1";

/// A rework of the default rules touching most kinds of edits.
pub const REWORKED: &str = "\
ruleset reworked extends default
move contact_owner before last_step_agent
disable favorite_agent
step user \"sales-ops@acme.com\" when \"vip\" in tags
move user \"sales-ops@acme.com\" first
fallback unassigned
";

/// Rules with dead steps: an inactive user, and a step after the fallback.
pub const STALE: &str = "\
ruleset stale extends default

# Carol left; her VIP step can no longer decide.
step user \"carol@acme.com\" when \"vip\" in tags
move user \"carol@acme.com\" first
move voicemail_email after fallback
";

/// The shipped default rules.
pub fn default_rules() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/default.rules"))
        .unwrap()
}

/// A folder holding `default.rules`, the other rule files, a context and a history.
pub fn workspace(history: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(folder.path().join(name), text).unwrap();
    write("default.rules", &default_rules());
    write("reworked.rules", REWORKED);
    write("stale.rules", STALE);
    write("hubspot.rules", "ruleset hubspot extends default\n");
    write("context.yaml", CONTEXT);
    write("calls.jsonl", history);
    folder
}

/// A generated call, as the test understands it.
#[derive(Debug, Clone)]
pub struct GenCall {
    pub id: String,
    pub incoming: bool,
    pub status: &'static str,
    pub agent: Option<&'static str>,
    pub tags: Vec<&'static str>,
    /// Type of the last flow step and the agent or e-mail it carries.
    pub last_step: Option<(&'static str, Option<&'static str>)>,
    pub contact: Option<(Option<&'static str>, Option<&'static str>)>,
}

const EMAILS: &[Option<&str>] = &[
    None,
    Some("alice@acme.com"),
    Some(" ALICE@acme.com "),
    Some("Bob@Acme.com"),
    Some("carol@acme.com"),
    Some("eve@acme.com"),
    Some("dave@acme.com"),
    Some("support@acme.com"),
    Some("admin@acme.com"),
];
const OWNERS: &[Option<&str>] = &[
    None,
    Some("hs-2"),
    Some("hs-3"),
    Some(" hs-5 "),
    Some("hs-7"),
    Some("hs-9"),
];
const STATUSES: &[&str] = &["answered", "missed", "voicemail"];
const TAGS: &[&[&str]] = &[&[], &[], &["vip"], &["VIP"], &["new", "vip"], &["new"]];

impl GenCall {
    pub fn json(&self) -> Value {
        let mut flow = vec![json!({"type": "welcome_message"})];
        if let Some((kind, who)) = self.last_step {
            flow.push(match kind {
                "voicemail" => json!({"type": kind, "email": who}),
                "ivr" => json!({"type": kind, "choice": "2"}),
                _ => json!({"type": kind, "agent": who}),
            });
        }
        let mut call = json!({
            "id": self.id,
            "direction": if self.incoming { "incoming" } else { "outgoing" },
            "status": self.status,
            "agent": self.agent,
            "tags": self.tags,
            "duration_s": 30,
            "unknown_field": {"kept": "out"},
        });
        if self.last_step.is_some() {
            call["flow"] = Value::from(flow);
        }
        if let Some((owner, favorite)) = self.contact {
            call["contact"] = json!({"id": "42", "owner": owner, "favorite_agent": favorite});
        }
        call
    }
}

/// `count` calls from a fixed seed.
pub fn generate(seed: u64, count: usize) -> Vec<GenCall> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|n| {
            let last_step = match rng.next() % 6 {
                0 => None,
                1 => Some(("call_to_agent", rng.pick(EMAILS))),
                2 => Some(("call_to_group", rng.pick(EMAILS))),
                3 => Some(("voicemail", rng.pick(EMAILS))),
                4 => Some(("ivr", None)),
                _ => Some(("welcome_message", None)),
            };
            let contact = match rng.next() % 4 {
                0 => None,
                _ => Some((rng.pick(OWNERS), rng.pick(EMAILS))),
            };
            GenCall {
                id: format!("c-{n:04}"),
                incoming: rng.next() % 4 != 0,
                status: rng.pick(STATUSES),
                agent: rng.pick(EMAILS),
                tags: rng.pick(TAGS).to_vec(),
                last_step,
                contact,
            }
        })
        .collect()
}

/// Lines that are not calls, to be mixed into a history.
pub const BAD_LINES: &[&str] = &[
    "not json at all",
    "",
    r#"{"id":"x-1","direction":"sideways","status":"missed"}"#,
    r#"{"direction":"incoming","status":"missed"}"#,
    "[1, 2, 3]",
    r#"{"id":"x-2","direction":"incoming""#,
];

/// The history as JSON Lines: the calls, with [`BAD_LINES`] inserted
/// every `every` lines (`0`: none). Returns the text and the 1-based
/// numbers of the bad lines.
pub fn history(calls: &[GenCall], every: usize) -> (String, Vec<u64>) {
    let mut text = String::new();
    let mut bad = Vec::new();
    let mut line = 0u64;
    let mut bad_index = 0;
    for (n, call) in calls.iter().enumerate() {
        if every > 0 && n % every == every - 1 {
            line += 1;
            text.push_str(BAD_LINES[bad_index % BAD_LINES.len()]);
            text.push('\n');
            bad.push(line);
            bad_index += 1;
        }
        line += 1;
        text.push_str(&call.json().to_string());
        text.push('\n');
    }
    (text, bad)
}

// ---- The rule files of these tests, modelled (see [`reference`]) ----

/// The context of [`CONTEXT`], for the reference.
pub fn integration() -> Users {
    Users {
        users: USERS.to_vec(),
        contact_owner: true,
        installer: Some(INSTALLER),
    }
}

impl GenCall {
    /// What the documented priority reads of this call.
    pub fn facts(&self) -> Facts<'_> {
        Facts {
            incoming: self.incoming,
            status: self.status,
            agent: self.agent,
            last_step: self.last_step,
            owner: self.contact.and_then(|(owner, _)| owner),
            favorite_agent: self.contact.and_then(|(_, favorite)| favorite),
            tags: &self.tags,
        }
    }
}

impl Model {
    /// [`REWORKED`]: VIP user first, contact owner before the last step
    /// agent, no favorite agent, calls nobody takes stay unassigned.
    pub fn reworked() -> Model {
        Model {
            steps: vec![
                Step::VipUser("sales-ops@acme.com"),
                Step::CallAgent,
                Step::ContactOwner,
                Step::LastStepAgent,
                Step::VoicemailEmail,
            ],
            end: End::Unassigned,
        }
    }

    /// [`STALE`]: Carol's VIP step first, voicemail e-mail never run.
    pub fn stale() -> Model {
        Model {
            steps: vec![
                Step::VipUser("carol@acme.com"),
                Step::CallAgent,
                Step::LastStepAgent,
                Step::ContactOwner,
                Step::FavoriteAgent,
            ],
            end: End::Integration,
        }
    }

    /// Who gets a generated call under [`CONTEXT`] (a user id), and the
    /// label of the deciding entry.
    pub fn decide_call(&self, call: &GenCall) -> (Option<&'static str>, String) {
        let (assignee, decided) = self.decide(&call.facts(), &integration());
        (assignee, decided.label())
    }
}

/// The line of `text` on which `needle` first appears, 1-based.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + 1
}
