//! A seeded, realistic corpus for the benchmarks, and the hand-written
//! baseline they are measured against.
//!
//! Shared by `benches/evaluate.rs` (in-process) and `benches/cli.rs`
//! (whole process) through `#[path]`, so both measure the same calls.

#![allow(dead_code)] // each bench uses its own part of this module

use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write as _;

#[path = "../../tests/it/support/rng.rs"]
mod rng;
pub use rng::Rng;

/// Integration users in the generated context.
pub const USERS: u64 = 200;

/// The generated integration context: `USERS` users, every tenth
/// inactive, e-mails in mixed case, installer fallback with contact owners.
pub fn context_yaml() -> String {
    let mut out = String::from(
        "integration: hubspot\ncontact_owner: true\nfallback: installer\ninstaller: hs-1\nusers:\n",
    );
    for n in 1..=USERS {
        let email = if n % 3 == 0 {
            format!("Agent{n}@Acme.com")
        } else {
            format!("agent{n}@acme.com")
        };
        let active = if n % 10 == 7 { ", active: false" } else { "" };
        let _ = writeln!(out, "  - {{id: hs-{n}, email: {email}{active}}}");
    }
    out
}

/// A telephony e-mail: usually a user of the context in odd case or with
/// spaces, sometimes someone the integration does not know.
fn email(rng: &mut Rng) -> String {
    let n = 1 + rng.below(USERS + USERS / 4); // a fifth are unknown
    match rng.below(4) {
        0 => format!("AGENT{n}@ACME.COM"),
        1 => format!(" agent{n}@Acme.com "),
        _ => format!("agent{n}@acme.com"),
    }
}

fn flow_step(rng: &mut Rng, out: &mut String) {
    match rng.below(6) {
        0 => out.push_str(r#"{"type":"welcome_message"}"#),
        1 => {
            let _ = write!(out, r#"{{"type":"ivr","choice":"{}"}}"#, rng.below(9));
        }
        2 => {
            if rng.chance(50) {
                out.push_str(r#"{"type":"call_to_group","group":"Support","agent":null}"#)
            } else {
                let _ = write!(
                    out,
                    r#"{{"type":"call_to_group","group":"Sales","agent":"{}"}}"#,
                    email(rng)
                );
            }
        }
        3 | 4 => {
            let _ = write!(
                out,
                r#"{{"type":"call_to_agent","agent":"{}","ring_s":{}}}"#,
                email(rng),
                rng.below(30)
            );
        }
        _ => {
            let _ = write!(out, r#"{{"type":"voicemail","email":"{}"}}"#, email(rng));
        }
    }
}

/// One call as a JSON line (without the line break), written into `out`.
pub fn call_line(rng: &mut Rng, index: u64, out: &mut String) {
    let direction = if rng.chance(80) {
        "incoming"
    } else {
        "outgoing"
    };
    let status = match rng.below(10) {
        0..=4 => "answered",
        5..=7 => "missed",
        _ => "voicemail",
    };
    let _ = write!(
        out,
        r#"{{"id":"c-{index}","direction":"{direction}","status":"{status}""#
    );
    if rng.chance(75) {
        let _ = write!(out, r#","agent":"{}""#, email(rng));
    } else if rng.chance(50) {
        out.push_str(r#","agent":null"#);
    }
    let _ = write!(
        out,
        r#","started_at":"2026-11-{:02}T{:02}:{:02}:00Z","duration_s":{},"number":"+4420{:07}""#,
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        if status == "answered" {
            rng.below(900)
        } else {
            0
        },
        rng.below(10_000_000)
    );
    match rng.below(4) {
        0 => out.push_str(r#","tags":["vip"]"#),
        1 => out.push_str(r#","tags":["support","emea"]"#),
        _ => {}
    }
    let steps = rng.below(7);
    if steps > 0 || rng.chance(50) {
        out.push_str(r#","flow":["#);
        for step in 0..steps {
            if step > 0 {
                out.push(',');
            }
            flow_step(rng, out);
        }
        out.push(']');
    }
    if rng.chance(70) {
        let _ = write!(out, r#","contact":{{"id":"{}""#, 1000 + rng.below(100_000));
        if rng.chance(50) {
            let _ = write!(out, r#","owner":"hs-{}""#, 1 + rng.below(USERS + 20));
        }
        if rng.chance(40) {
            let _ = write!(out, r#","favorite_agent":"{}""#, email(rng));
        }
        out.push('}');
    }
    out.push_str(r#","recording":{"url":"https://rec.example/x","size":123456}}"#);
}

/// `count` calls as JSON Lines.
pub fn calls_jsonl(seed: u64, count: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(count as usize * 400);
    for index in 0..count {
        call_line(&mut rng, index, &mut out);
        out.push('\n');
    }
    out
}

/// The hand-written default priority: steps 0–5 of docs/contract.md section 1 in plain
/// Rust, with the same e-mail matching (trimmed, case-insensitive). It is
/// what callassign's evaluator is measured against, so its indexes hash as
/// callassign's do (FxHash): with std's SipHash the baseline paid about a
/// tenth more per call than callassign, which flattered callassign.
pub struct Baseline {
    pub users: Vec<BaselineUser>,
    by_email: HashMap<String, u32>,
    by_id: HashMap<String, u32>,
    contact_owner: bool,
    installer: Option<u32>,
}

pub struct BaselineUser {
    pub id: String,
    pub email: Option<String>,
    pub active: bool,
}

/// The fields of a call the default priority reads.
pub struct Facts<'a> {
    pub incoming: bool,
    /// `missed` or `voicemail`.
    pub unanswered: bool,
    pub agent: Option<&'a str>,
    /// The last flow step: type, agent, email.
    pub last_step: Option<(&'a str, Option<&'a str>, Option<&'a str>)>,
    pub owner: Option<&'a str>,
    pub favorite_agent: Option<&'a str>,
}

impl Baseline {
    /// `users` as (id, email, active); the generated context's settings.
    pub fn new(users: Vec<BaselineUser>, contact_owner: bool, installer: Option<&str>) -> Baseline {
        let mut by_email = HashMap::default();
        let mut by_id = HashMap::default();
        for (index, user) in users.iter().enumerate() {
            if let Some(email) = &user.email {
                by_email.insert(email.trim().to_lowercase(), index as u32);
            }
            by_id.insert(user.id.clone(), index as u32);
        }
        let installer = installer.and_then(|id| by_id.get(id).copied());
        Baseline {
            users,
            by_email,
            by_id,
            contact_owner,
            installer,
        }
    }

    fn active(&self, index: Option<&u32>) -> Option<u32> {
        index
            .copied()
            .filter(|&index| self.users[index as usize].active)
    }

    fn by_email(&self, email: &str) -> Option<u32> {
        let email = email.trim();
        let mut buffer = [0u8; 128];
        if email.is_ascii() && email.len() <= buffer.len() {
            let lower = &mut buffer[..email.len()];
            lower.copy_from_slice(email.as_bytes());
            lower.make_ascii_lowercase();
            self.active(self.by_email.get(std::str::from_utf8(lower).unwrap()))
        } else {
            self.active(self.by_email.get(&email.to_lowercase()))
        }
    }

    /// The deciding user (index) and step name.
    pub fn decide(&self, call: &Facts<'_>) -> (Option<u32>, &'static str) {
        if !(call.incoming && call.unanswered) {
            if let Some(user) = call.agent.and_then(|agent| self.by_email(agent)) {
                return (Some(user), "call_agent");
            }
        }
        if let Some((kind, agent, email)) = call.last_step {
            if kind == "call_to_agent" || kind == "call_to_group" {
                if let Some(user) = agent.and_then(|agent| self.by_email(agent)) {
                    return (Some(user), "last_step_agent");
                }
            }
            if kind == "voicemail" {
                if let Some(user) = email.and_then(|email| self.by_email(email)) {
                    return (Some(user), "voicemail_email");
                }
            }
        }
        if self.contact_owner {
            if let Some(user) = call
                .owner
                .and_then(|owner| self.active(self.by_id.get(owner.trim())))
            {
                return (Some(user), "contact_owner");
            }
        }
        if let Some(user) = call.favorite_agent.and_then(|agent| self.by_email(agent)) {
            return (Some(user), "favorite_agent");
        }
        (self.active(self.installer.as_ref()), "integration_fallback")
    }
}

/// The baseline for the context of [`context_yaml`].
pub fn baseline() -> Baseline {
    let users = (1..=USERS)
        .map(|n| BaselineUser {
            id: format!("hs-{n}"),
            email: Some(if n % 3 == 0 {
                format!("Agent{n}@Acme.com")
            } else {
                format!("agent{n}@acme.com")
            }),
            active: n % 10 != 7,
        })
        .collect();
    Baseline::new(users, true, Some("hs-1"))
}

/// A call as a hand-written program would read it with plain serde_json:
/// borrowed `&str` fields (so it cannot read escaped strings; the corpus has
/// none) and the whole flow as a list.
#[derive(serde::Deserialize)]
pub struct PlainCall<'a> {
    pub id: &'a str,
    pub direction: &'a str,
    pub status: &'a str,
    #[serde(default)]
    pub agent: Option<&'a str>,
    #[serde(default, borrow)]
    pub flow: Vec<PlainStep<'a>>,
    #[serde(default, borrow)]
    pub contact: Option<PlainContact<'a>>,
}

#[derive(serde::Deserialize)]
pub struct PlainStep<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(default)]
    pub agent: Option<&'a str>,
    #[serde(default)]
    pub email: Option<&'a str>,
}

#[derive(serde::Deserialize)]
pub struct PlainContact<'a> {
    #[serde(default)]
    pub owner: Option<&'a str>,
    #[serde(default)]
    pub favorite_agent: Option<&'a str>,
}

impl<'a> PlainCall<'a> {
    pub fn facts(&self) -> Facts<'a> {
        Facts {
            incoming: self.direction == "incoming",
            unanswered: self.status == "missed" || self.status == "voicemail",
            agent: self.agent,
            last_step: self
                .flow
                .last()
                .map(|step| (step.kind, step.agent, step.email)),
            owner: self.contact.as_ref().and_then(|contact| contact.owner),
            favorite_agent: self
                .contact
                .as_ref()
                .and_then(|contact| contact.favorite_agent),
        }
    }
}

/// The assignment line the baseline writes: the same bytes callassign writes.
#[derive(serde::Serialize)]
pub struct PlainAssignment<'a> {
    pub call: &'a str,
    pub assignee: Option<PlainAssignee<'a>>,
    pub step: &'static str,
}

#[derive(serde::Serialize)]
pub struct PlainAssignee<'a> {
    pub id: &'a str,
    pub email: Option<&'a str>,
}

impl Baseline {
    /// Decides one call the hand-written way and writes its assignment line,
    /// line break included: what both benchmarks time against callassign.
    pub fn write_line(
        &self,
        call: &PlainCall<'_>,
        output: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let (user, step) = self.decide(&call.facts());
        let user = user.map(|index| &self.users[index as usize]);
        let line = PlainAssignment {
            call: call.id,
            assignee: user.map(|user| PlainAssignee {
                id: &user.id,
                email: user.email.as_deref(),
            }),
            step,
        };
        serde_json::to_writer(&mut *output, &line)?;
        output.write_all(b"\n")
    }
}

/// The same call as a CloudTalk call-history item (`GET /api/calls/index.json`),
/// for timing `--input cloudtalk` against native input on the same calls. A
/// history item has no call flow and no contact owner, so the decisions
/// differ from the native line's; the work of reading is what is compared.
pub fn cloudtalk_history_line(native: &str) -> String {
    let call: serde_json::Value = serde_json::from_str(native).expect("a generated call");
    let field = |name: &str| call.get(name).cloned().unwrap_or(serde_json::Value::Null);
    let status = call["status"].as_str().unwrap_or_default();
    let mut item = serde_json::json!({
        "Cdr": {
            "id": field("id"),
            "type": field("direction"),
            "is_voicemail": status == "voicemail",
            "answered_at": if status == "answered" { field("started_at") } else { serde_json::Value::Null },
            "public_external": field("number"),
            "started_at": field("started_at"),
            "talking_time": field("duration_s"),
            "recording_link": "https://rec.example/x",
        },
    });
    if let Some(agent) = call.get("agent").and_then(|agent| agent.as_str()) {
        item["Agent"] = serde_json::json!({"email": agent});
    }
    if let Some(contact) = call.get("contact") {
        let mut converted = serde_json::json!({"id": contact["id"]});
        if let Some(favorite) = contact.get("favorite_agent") {
            converted["favorite_agent"] = serde_json::json!({"email": favorite});
        }
        item["Contact"] = converted;
    }
    if let Some(tags) = call.get("tags").and_then(|tags| tags.as_array()) {
        item["Tags"] = tags
            .iter()
            .map(|tag| serde_json::json!({"name": tag}))
            .collect();
    }
    item.to_string()
}
