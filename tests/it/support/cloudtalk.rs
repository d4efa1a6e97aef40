//! A seeded generator of CloudTalk records (call-history items and
//! call-detail records) and a second, plain implementation of docs/contract.md
//! sections 1 and 3 to say who must get each one, without the library.

use serde_json::{json, Value};

use super::reference::{Facts, Integration, Model};
use super::Rng;

/// The integration's users: id, e-mail, active.
pub const USERS: &[(&str, &str, bool)] = &[
    ("101", "max.yellow@acme.com", true),
    ("102", "Eva.Green@acme.com", true),
    ("103", "support@acme.com", true),
    ("104", "sales@acme.com", true),
    ("105", "old.admin@acme.com", false),
];
pub const INSTALLER: &str = "104";

/// CloudTalk's agents: id, e-mail.
pub const AGENTS: &[(&str, &str)] = &[
    ("1234", "max.yellow@acme.sk"),
    ("1235", "eva.green@acme.com"),
    ("1236", "tom.blue@acme.com"),
    ("1237", "ola.white@acme.com"),
];

/// `user_map`: a telephony e-mail or agent id → a user id.
pub const LINKS: &[(&str, &str)] = &[
    ("max.yellow@acme.sk", "101"),
    ("1237", "104"),
    ("tom.blue@acme.com", "105"),
    ("9999", "102"),
];

/// `voicemail_email`: an internal number → an address; then `default`.
pub const VOICEMAIL: &[(&str, &str)] = &[("+421221291400", "support@acme.com")];
pub const VOICEMAIL_DEFAULT: &str = "sales@acme.com";

/// Contact owners by contact id, and by number.
pub const OWNERS_BY_CONTACT: &[(&str, &str)] = &[("42", "102"), ("43", "105"), ("44", "777")];
pub const OWNERS_BY_NUMBER: &[(&str, &str)] = &[("+442079460958", "103")];

/// The context and the files it names, to write into a folder.
pub fn context_files() -> Vec<(&'static str, String)> {
    let users: String = USERS
        .iter()
        .map(|(id, email, active)| {
            format!("  - {{id: '{id}', email: '{email}', active: {active}}}\n")
        })
        .collect();
    let links: String = LINKS
        .iter()
        .map(|(from, to)| format!("  '{from}': '{to}'\n"))
        .collect();
    let voicemail: String = VOICEMAIL
        .iter()
        .map(|(number, email)| format!("  '{number}': {email}\n"))
        .collect();
    let context = format!(
        "integration: hubspot\ncontact_owner: true\nfallback: installer\ninstaller: '{INSTALLER}'\nusers:\n{users}\
         telephony_users_from: {{format: cloudtalk_agents, path: agents.json}}\n\
         user_map:\n{links}voicemail_email:\n{voicemail}  default: {VOICEMAIL_DEFAULT}\n\
         contact_owners_from: {{format: csv, path: owners.csv}}\n"
    );
    let agents = json!({"responseData": {"data": AGENTS.iter().map(|(id, email)| json!({"Agent": {"id": id, "email": email}})).collect::<Vec<_>>()}});
    let mut owners = String::from("contact,number,owner\n");
    for (contact, owner) in OWNERS_BY_CONTACT {
        owners.push_str(&format!("{contact},,{owner}\n"));
    }
    for (number, owner) in OWNERS_BY_NUMBER {
        owners.push_str(&format!(",{number},{owner}\n"));
    }
    vec![
        ("context.yaml", context),
        ("agents.json", agents.to_string()),
        ("owners.csv", owners),
    ]
}

const TELEPHONY_EMAILS: &[&str] = &[
    "max.yellow@acme.sk",
    "EVA.GREEN@acme.com",
    "support@acme.com",
    "tom.blue@acme.com",
    "nobody@acme.com",
    "old.admin@acme.com",
];
const AGENT_IDS: &[&str] = &["1234", "1235", "1236", "1237", "9999", "5555"];
const CONTACT_IDS: &[&str] = &["42", "43", "44", "45"];
const EXTERNALS: &[&str] = &["+442079460958", "+421905111222"];
const INTERNALS: &[&str] = &["+421221291400", "+442012345678"];
const DIRECTIONS: &[&str] = &["incoming", "outgoing", "internal"];

/// Who may be named: by e-mail or by CloudTalk agent id.
#[derive(Debug, Clone, Copy)]
pub enum Who {
    Email(&'static str),
    Id(&'static str),
}

/// A flow step of a detail record.
#[derive(Debug, Clone)]
pub enum Step {
    Ivr,
    Playback,
    Transfer,
    Agent { id: &'static str, answered: bool },
    Queue { calls: Vec<(&'static str, bool)> },
    Voicemail { email: Option<&'static str> },
    Other,
}

#[derive(Debug, Clone)]
pub enum Shape {
    History {
        voicemail: bool,
        answered: bool,
        agent: Option<Who>,
        favorite: Option<Who>,
    },
    Detail {
        answered: bool,
        steps: Vec<Step>,
    },
}

#[derive(Debug, Clone)]
pub struct GenRecord {
    pub id: u64,
    pub direction: &'static str,
    pub shape: Shape,
    pub contact: Option<&'static str>,
    pub external: Option<&'static str>,
    pub internal: Option<&'static str>,
}

fn maybe<T: Copy>(rng: &mut Rng, items: &[T]) -> Option<T> {
    (rng.next() % 3 != 0).then(|| rng.pick(items))
}

fn who(rng: &mut Rng) -> Option<Who> {
    match rng.next() % 3 {
        0 => None,
        1 => Some(Who::Email(rng.pick(TELEPHONY_EMAILS))),
        _ => Some(Who::Id(rng.pick(AGENT_IDS))),
    }
}

fn step(rng: &mut Rng) -> Step {
    match rng.next() % 7 {
        0 => Step::Ivr,
        1 => Step::Playback,
        2 => Step::Transfer,
        3 => Step::Agent {
            id: rng.pick(AGENT_IDS),
            answered: rng.next() % 2 == 0,
        },
        4 => Step::Queue {
            calls: (0..rng.next() % 3)
                .map(|_| (rng.pick(AGENT_IDS), rng.next() % 3 == 0))
                .collect(),
        },
        5 => Step::Voicemail {
            email: maybe(rng, &["ops@acme.com", "support@acme.com", "Sales@acme.com"]),
        },
        _ => Step::Other,
    }
}

/// `count` records from a fixed seed.
pub fn generate(seed: u64, count: usize) -> Vec<GenRecord> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|n| {
            let shape = if rng.next() % 2 == 0 {
                Shape::History {
                    voicemail: rng.next() % 4 == 0,
                    answered: rng.next() % 2 == 0,
                    agent: who(&mut rng),
                    favorite: who(&mut rng),
                }
            } else {
                Shape::Detail {
                    answered: rng.next() % 2 == 0,
                    steps: (0..rng.next() % 4).map(|_| step(&mut rng)).collect(),
                }
            };
            GenRecord {
                id: 1000 + n as u64,
                direction: rng.pick(DIRECTIONS),
                shape,
                contact: maybe(&mut rng, CONTACT_IDS),
                external: maybe(&mut rng, EXTERNALS),
                internal: maybe(&mut rng, INTERNALS),
            }
        })
        .collect()
}

fn step_json(step: &Step) -> Value {
    let agent = |id: &str, answered: bool| json!({"type": "agent", "id": id.parse::<u64>().unwrap(), "name": "A", "status": if answered { "answered" } else { "missed" }});
    match step {
        Step::Ivr => json!({"type": "ivr", "id": 1, "option": "1"}),
        Step::Playback => json!({"type": "playback", "id": 2, "file": "x.wav"}),
        Step::Transfer => {
            json!({"type": "transfer", "id": 3, "endpoint": "+421900", "status": "answered"})
        }
        Step::Agent { id, answered } => agent(id, *answered),
        Step::Queue { calls } => json!({"type": "queue", "id": 10, "status": "missed",
            "agent_calls": calls.iter().map(|(id, answered)| agent(id, *answered)).collect::<Vec<_>>()}),
        Step::Voicemail { email } => json!({"type": "voicemail", "id": 4, "email": email}),
        Step::Other => json!({"type": "ai_voice_agent", "id": 5}),
    }
}

impl GenRecord {
    pub fn json(&self) -> Value {
        // Ids and numbers come as strings and as numbers, as in the wild.
        let id = if self.id % 2 == 0 {
            json!(self.id)
        } else {
            json!(self.id.to_string())
        };
        match &self.shape {
            Shape::History {
                voicemail,
                answered,
                agent,
                favorite,
            } => {
                let mut cdr = json!({"id": id, "type": self.direction, "is_voicemail": voicemail,
                    "answered_at": if *answered { json!("2026-11-23T10:00:05Z") } else { Value::Null },
                    "started_at": "2026-11-23T10:00:00Z", "talking_time": "12",
                    "public_external": self.external, "public_internal": self.internal});
                let mut item =
                    json!({"Cdr": {}, "Tags": [{"id": 1, "name": "vip"}], "CallNumber": {"id": 1}});
                match agent {
                    Some(Who::Email(email)) => item["Agent"] = json!({"id": "1", "email": email}),
                    Some(Who::Id(id)) => cdr["user_id"] = json!(id),
                    None => {}
                }
                item["Cdr"] = cdr;
                if let Some(contact) = self.contact {
                    let favorite = match favorite {
                        Some(Who::Email(email)) => json!({"id": "1", "email": email}),
                        Some(Who::Id(id)) => json!(id),
                        None => Value::Null,
                    };
                    item["Contact"] =
                        json!({"id": contact, "name": "Ann", "favorite_agent": favorite});
                }
                item
            }
            Shape::Detail { answered, steps } => json!({
                "cdr_id": id, "direction": self.direction,
                "status": if *answered { "answered" } else { "missed" },
                "date": "2026-11-23T10:00:00Z",
                "contact": {"id": self.contact, "number": self.external},
                "internal_number": {"id": 1, "number": self.internal},
                "call_times": {"talking_time": 12},
                "call_steps": steps.iter().map(step_json).collect::<Vec<_>>(),
            }),
        }
    }
}

// ---- docs/contract.md sections 1 and 3, written out plainly ----

fn agent_email(id: &str) -> String {
    AGENTS
        .iter()
        .find(|(agent, _)| *agent == id)
        .map_or(id.to_string(), |(_, email)| email.to_string())
}

fn resolve(who: Who) -> String {
    match who {
        Who::Email(email) => email.to_string(),
        Who::Id(id) => agent_email(id),
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

fn active_user_by_id(id: &str) -> Option<&'static str> {
    USERS
        .iter()
        .find(|(own, _, active)| *own == id && *active)
        .map(|(own, _, _)| *own)
}

/// A telephony e-mail or agent id → an active user: `user_map` first (by
/// key, or by the e-mail of an agent id key), then e-mail matching.
fn matches(who: &str) -> Option<&'static str> {
    let key = who.trim().to_lowercase();
    let linked = LINKS
        .iter()
        .find(|(from, _)| from.to_lowercase() == key)
        .or_else(|| {
            LINKS.iter().find(|(from, _)| {
                agent_email(from).to_lowercase() == key && agent_email(from) != *from
            })
        });
    if let Some((_, to)) = linked {
        return active_user_by_id(to);
    }
    USERS
        .iter()
        .find(|(_, email, active)| email.to_lowercase() == key && *active)
        .map(|(id, _, _)| *id)
}

/// The call as the test reads a record (owned: resolved through the
/// directories), before the priority reads it.
struct Record {
    incoming: bool,
    status: &'static str,
    agent: Option<String>,
    /// The last step's kind and who it carries (agent or e-mail).
    last: Option<(&'static str, Option<String>)>,
    owner: Option<&'static str>,
    favorite: Option<String>,
}

impl GenRecord {
    fn record(&self) -> Record {
        let owner = self
            .contact
            .and_then(|contact| OWNERS_BY_CONTACT.iter().find(|(own, _)| *own == contact))
            .or_else(|| {
                let number = digits(self.external?);
                OWNERS_BY_NUMBER
                    .iter()
                    .find(|(own, _)| digits(own) == number)
            })
            .map(|(_, owner)| *owner);
        let voicemail_address = || {
            let internal = self.internal.map(digits);
            VOICEMAIL
                .iter()
                .find(|(number, _)| Some(digits(number)) == internal)
                .map_or(VOICEMAIL_DEFAULT, |(_, email)| email)
                .to_string()
        };
        match &self.shape {
            Shape::History {
                voicemail,
                answered,
                agent,
                favorite,
            } => Record {
                incoming: self.direction == "incoming",
                status: if *voicemail {
                    "voicemail"
                } else if *answered {
                    "answered"
                } else {
                    "missed"
                },
                agent: agent.map(resolve),
                last: voicemail.then(|| ("voicemail", Some(voicemail_address()))),
                owner,
                favorite: self.contact.and(favorite.map(resolve)),
            },
            Shape::Detail { answered, steps } => {
                let queue_answerer = |calls: &[(&'static str, bool)]| {
                    calls
                        .iter()
                        .rev()
                        .find(|(_, answered)| *answered)
                        .map(|(id, _)| agent_email(id))
                };
                let mut agent = None;
                for step in steps {
                    match step {
                        Step::Agent { id, answered: true } => agent = Some(agent_email(id)),
                        Step::Queue { calls } => {
                            if let Some(found) = queue_answerer(calls) {
                                agent = Some(found);
                            }
                        }
                        _ => {}
                    }
                }
                let last = steps.last().map(|step| match step {
                    Step::Agent { id, .. } => ("call_to_agent", Some(agent_email(id))),
                    Step::Queue { calls } => ("call_to_group", queue_answerer(calls)),
                    Step::Voicemail { email } => (
                        "voicemail",
                        Some(email.map_or_else(voicemail_address, str::to_string)),
                    ),
                    _ => ("other", None),
                });
                let is_voicemail = matches!(last, Some(("voicemail", _)));
                Record {
                    incoming: self.direction == "incoming",
                    status: if is_voicemail {
                        "voicemail"
                    } else if *answered {
                        "answered"
                    } else {
                        "missed"
                    },
                    agent,
                    last,
                    owner,
                    favorite: None,
                }
            }
        }
    }

    /// Who gets the call under the default rules, and the deciding step.
    pub fn decide(&self) -> (Option<&'static str>, &'static str) {
        let record = self.record();
        let facts = Facts {
            incoming: record.incoming,
            status: record.status,
            agent: record.agent.as_deref(),
            last_step: record
                .last
                .as_ref()
                .map(|(kind, who)| (*kind, who.as_deref())),
            owner: record.owner,
            favorite_agent: record.favorite.as_deref(),
            tags: &[],
        };
        let (assignee, decided) = Model::default_rules().decide(&facts, &Directory);
        (assignee, decided.name())
    }
}

/// The context of [`context_files`] as the reference sees it: `user_map`
/// links first, then e-mails; contact owners; the installer fallback.
struct Directory;

impl Integration for Directory {
    fn by_telephony_user(&self, who: &str) -> Option<&'static str> {
        matches(who)
    }

    fn by_id(&self, id: &str) -> Option<&'static str> {
        active_user_by_id(id)
    }

    fn has_contact_owners(&self) -> bool {
        true
    }

    fn installer(&self) -> Option<&'static str> {
        active_user_by_id(INSTALLER)
    }
}
