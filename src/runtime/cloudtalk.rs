//! CloudTalk call records → native calls, with where each fact came from.
//!
//! Two record shapes of CloudTalk's public API (OpenAPI v1.7) are read:
//!
//! - a **call-history item** of `GET /api/calls/index.json`: an object with
//!   `Cdr` and, when present, `Contact`, `Agent`, `CallNumber`, `Tags`; a
//!   whole list response (`{"responseData": {"data": [items]}}`) holds many;
//! - a **call-detail record** of the analytics API `GET /api/calls/{id}`:
//!   an object with `cdr_id` and `call_steps`.
//!
//! The mapping is DESIGN.md section 5's table. CloudTalk records carry no
//! contact owner, no e-mail on flow steps and (in the detail record) agents
//! only by id, so the context fills those in: its agents list, its
//! `voicemail_email` and its contact owners. Every field set says where it
//! came from in a [`Fact`], for `--explain`. Unknown keys are ignored: the
//! vendor adds fields.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::runtime::directory::number_key;
use crate::runtime::model::call::UnknownKeys;
use crate::runtime::model::{Call, Contact, Context, Direction, Fact, FlowStep, Status};

/// One CloudTalk record read as a call.
#[derive(Debug, Clone)]
pub struct Record {
    pub call: Call<'static>,
    /// Where each field of the call came from, in the order they were read.
    pub facts: Vec<Fact>,
}

/// Reads one JSON Lines line: one history item or one detail record. A
/// whole list response is refused, since a batch writes one line per line.
///
/// ```
/// use callassign::runtime::{cloudtalk, model::{Context, Status}};
///
/// let context = Context::from_yaml("users: [{id: hs-4, email: support@acme.com}]\nvoicemail_email: {default: support@acme.com}\n").unwrap();
/// let record = cloudtalk::read_line(r#"{"Cdr":{"id":27,"type":"incoming","is_voicemail":true}}"#, &context).unwrap();
/// assert_eq!(record.call.status, Status::Voicemail);
/// assert_eq!(record.call.last_step.unwrap().email.as_deref(), Some("support@acme.com"));
/// assert_eq!(record.facts[2].from, "`Cdr.is_voicemail`");
/// ```
pub fn read_line(text: &str, context: &Context) -> Result<Record, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    if value.get("responseData").is_some() || value.is_array() {
        return Err("a whole list response on one line; save it as a `.json` file, or write one call-history item per line".to_string());
    }
    read_value(&value, context)
}

/// A `.json` file that holds no CloudTalk records at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    /// The line of the file the problem is on.
    pub line: u64,
    pub message: String,
}

/// Reads a `.json` file: a list response (one record per item, in order),
/// a list of records, or one record. Each item is read on its own, so one
/// bad item does not hide the others; its error names it.
pub fn read_document(
    text: &str,
    context: &Context,
) -> Result<Vec<Result<Record, String>>, DocumentError> {
    let value: Value = serde_json::from_str(text).map_err(|error| DocumentError {
        line: error.line() as u64,
        message: error.to_string(),
    })?;
    let (items, prefix) = match &value {
        Value::Array(items) => (items, ""),
        Value::Object(object) if object.contains_key("responseData") => {
            match value
                .get("responseData")
                .and_then(|data| data.get("data"))
                .and_then(Value::as_array)
            {
                Some(items) => (items, "responseData.data"),
                None => {
                    return Err(DocumentError {
                        line: 1,
                        message: "`responseData` has no `data` list of call-history items"
                            .to_string(),
                    })
                }
            }
        }
        _ => return Ok(vec![read_value(&value, context)]),
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            read_value(item, context).map_err(|error| format!("{prefix}[{index}]: {error}"))
        })
        .collect())
}

/// Reads one record, whichever of the two shapes it has.
pub fn read_value(value: &Value, context: &Context) -> Result<Record, String> {
    let Some(object) = value.as_object() else {
        return Err(format!(
            "expected a CloudTalk call record `{{…}}`, found {}",
            kind_of(value)
        ));
    };
    if object.contains_key("Cdr") {
        HistoryItem { object, context }.read()
    } else if object.contains_key("cdr_id") {
        DetailRecord { object, context }.read()
    } else {
        Err("not a CloudTalk call record: expected `Cdr` (a call-history item of `/api/calls/index.json`) or `cdr_id` (a call-detail record of `/api/calls/{id}`)".to_string())
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Text from a value that may be a string or a number; `None` for null,
/// absent or empty.
fn text(value: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(format!(
            "`{at}` should be a string or a number, found {}",
            kind_of(other)
        )),
    }
}

/// A phone number: CloudTalk's examples give numbers as JSON numbers
/// without the `+` of E.164; those get it back.
fn phone(value: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match value {
        Some(Value::Number(number)) => Ok(Some(format!("+{number}"))),
        other => text(other, at),
    }
}

/// A whole count that may be a number or a numeric string.
fn count(value: Option<&Value>, at: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{at}` should be a whole number, found `{number}`")),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{at}` should be a whole number, found `{text}`")),
        Some(other) => Err(format!(
            "`{at}` should be a whole number, found {}",
            kind_of(other)
        )),
    }
}

/// A flag that may be a boolean, `0`/`1` or `"0"`/`"1"`/`"true"`/`"false"`.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(text)) => matches!(text.trim(), "1" | "true"),
        _ => false,
    }
}

fn direction(value: Option<&Value>, at: &str) -> Result<Direction, String> {
    let name = text(value, at)?.ok_or_else(|| format!("`{at}` is missing"))?;
    Direction::ALL
        .into_iter()
        .find(|direction| direction.name() == name)
        .ok_or_else(|| format!("`{at}` is `{name}`, expected `incoming`, `outgoing` or `internal`"))
}

fn tags(value: Option<&Value>, key: &str, at: &str) -> Result<Vec<Cow<'static, str>>, String> {
    let Some(list) = value.filter(|value| !value.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(format!("`{at}` should be a list of tags"));
    };
    let mut tags = Vec::with_capacity(list.len());
    for (index, tag) in list.iter().enumerate() {
        if let Some(name) = text(tag.get(key), &format!("{at}[{index}].{key}"))? {
            tags.push(Cow::Owned(name));
        }
    }
    Ok(tags)
}

/// A call's fields as a record gives them.
struct Fields {
    id: String,
    direction: Direction,
    status: Status,
    agent: Option<String>,
    started_at: Option<String>,
    duration_s: Option<i64>,
    number: Option<String>,
    tags: Vec<Cow<'static, str>>,
    last_step: Option<FlowStep<'static>>,
    contact: Option<Contact<'static>>,
}

/// Collects a call and the facts behind it.
struct Builder<'c> {
    context: &'c Context,
    facts: Vec<Fact>,
}

impl Builder<'_> {
    fn finish(self, fields: Fields) -> Record {
        Record {
            call: Call {
                id: Cow::Owned(fields.id),
                direction: fields.direction,
                status: fields.status,
                agent: fields.agent.map(Cow::Owned),
                started_at: fields.started_at.map(Cow::Owned),
                duration_s: fields.duration_s,
                number: fields.number.map(Cow::Owned),
                tags: fields.tags,
                last_step: fields.last_step,
                contact: fields.contact,
                unknown_keys: UnknownKeys::default(),
            },
            facts: self.facts,
        }
    }

    fn fact(&mut self, field: &'static str, value: Option<&str>, from: impl Into<String>) {
        self.facts.push(Fact {
            field,
            value: value.map(str::to_string),
            from: from.into(),
        });
    }

    /// A CloudTalk agent id as the call's e-mail: through the agents list
    /// when it knows the id, else the id itself (a `user_map` link by agent
    /// id still matches it).
    fn agent_by_id(&mut self, field: &'static str, id: &str, at: &str) -> String {
        match self.context.telephony.get(id.trim()) {
            Some(email) => {
                self.fact(
                    field,
                    Some(email),
                    format!(
                        "agent `{id}` in {at}, through the agents list (`telephony_users_from`)"
                    ),
                );
                email.clone()
            }
            None => {
                let why = if self.context.telephony_users_from.is_some() {
                    "not in the agents list"
                } else {
                    "no `telephony_users_from` to turn it into an e-mail"
                };
                self.fact(field, Some(id), format!("agent `{id}` in {at} ({why})"));
                id.to_string()
            }
        }
    }

    /// The voicemail step's e-mail from the context: for the internal
    /// number the call came in on, else `default`.
    fn voicemail_step(
        &mut self,
        own: Option<String>,
        own_at: &str,
        internal: Option<&str>,
    ) -> FlowStep<'static> {
        let email = match own {
            Some(email) => {
                self.fact("last_step.email", Some(&email), own_at.to_string());
                Some(email)
            }
            None => match self.context.voicemail_email_for(internal) {
                Some((key, email)) => {
                    let from = format!("`voicemail_email` `{key}`");
                    let email = email.to_string();
                    self.fact("last_step.email", Some(&email), from);
                    Some(email)
                }
                None => {
                    self.fact(
                        "last_step.email",
                        None,
                        "no e-mail on the step and no `voicemail_email` in the context",
                    );
                    None
                }
            },
        };
        FlowStep {
            kind: Cow::Borrowed("voicemail"),
            agent: None,
            email: email.map(Cow::Owned),
        }
    }

    /// The contact owner from the context's contact owners file: by contact
    /// id, else by number.
    fn owner(&mut self, contact_id: Option<&str>, number: Option<&str>) -> Option<String> {
        let owners = self.context.contact_owners.as_ref()?;
        let by_contact = contact_id.and_then(|id| {
            owners
                .by_contact
                .get(id.trim())
                .map(|owner| (owner, format!("contact `{id}`")))
        });
        let found = by_contact.or_else(|| {
            let number = number?;
            owners
                .by_number
                .get(&number_key(number))
                .map(|owner| (owner, format!("number `{number}`")))
        });
        match found {
            Some((owner, key)) => {
                let from = format!("the contact owners file `{}`, by {key}", owners.source);
                let owner = owner.clone();
                self.fact("contact.owner", Some(&owner), from);
                Some(owner)
            }
            None => {
                let from = format!(
                    "neither the contact nor the number is in the contact owners file `{}`",
                    owners.source
                );
                self.fact("contact.owner", None, from);
                None
            }
        }
    }
}

/// A call-history item: `Cdr`, `Contact`, `Agent`, `CallNumber`, `Tags`.
struct HistoryItem<'v, 'c> {
    object: &'v Map<String, Value>,
    context: &'c Context,
}

impl HistoryItem<'_, '_> {
    fn read(self) -> Result<Record, String> {
        let cdr = self
            .object
            .get("Cdr")
            .and_then(Value::as_object)
            .ok_or("`Cdr` should be an object")?;
        let mut built = Builder {
            context: self.context,
            facts: Vec::new(),
        };
        let id = text(cdr.get("id"), "Cdr.id")?
            .ok_or("`Cdr.id` is missing: a call-history item needs its call id")?;
        built.fact("id", Some(&id), "`Cdr.id`");
        let direction = direction(cdr.get("type"), "Cdr.type")?;
        built.fact("direction", Some(direction.name()), "`Cdr.type`");
        let voicemail = flag(cdr.get("is_voicemail"));
        let answered = text(cdr.get("answered_at"), "Cdr.answered_at")?.is_some();
        let (status, from) = if voicemail {
            (Status::Voicemail, "`Cdr.is_voicemail`")
        } else if answered {
            (Status::Answered, "`Cdr.answered_at` is set")
        } else {
            (
                Status::Missed,
                "no `Cdr.answered_at`, not `Cdr.is_voicemail`",
            )
        };
        built.fact("status", Some(status.name()), from);

        let agent_email = self
            .object
            .get("Agent")
            .and_then(|agent| agent.get("email"));
        let agent = match text(agent_email, "Agent.email")? {
            Some(email) => {
                built.fact("agent", Some(&email), "`Agent.email`");
                Some(email)
            }
            None => text(cdr.get("user_id"), "Cdr.user_id")?
                .filter(|id| id != "0")
                .map(|id| built.agent_by_id("agent", &id, "`Cdr.user_id`")),
        };

        let internal = phone(cdr.get("public_internal"), "Cdr.public_internal")?;
        let last_step = voicemail.then(|| {
            built.fact(
                "last_step",
                Some("voicemail"),
                "`Cdr.is_voicemail` (a history item has no call steps)",
            );
            built.voicemail_step(None, "", internal.as_deref())
        });

        let number = phone(cdr.get("public_external"), "Cdr.public_external")?;
        if let Some(number) = &number {
            built.fact("number", Some(number), "`Cdr.public_external`");
        }
        let started_at = text(cdr.get("started_at"), "Cdr.started_at")?;
        let duration_s = count(cdr.get("talking_time"), "Cdr.talking_time")?;
        let tags = tags(self.object.get("Tags"), "name", "Tags")?;

        let contact = match self.object.get("Contact").filter(|c| !c.is_null()) {
            Some(contact) => {
                let contact = contact.as_object().ok_or("`Contact` should be an object")?;
                let id = text(contact.get("id"), "Contact.id")?;
                if let Some(id) = &id {
                    built.fact("contact.id", Some(id), "`Contact.id`");
                }
                let favorite_agent = match contact.get("favorite_agent") {
                    Some(Value::Object(agent)) => {
                        match text(agent.get("email"), "Contact.favorite_agent.email")? {
                            Some(email) => {
                                built.fact(
                                    "contact.favorite_agent",
                                    Some(&email),
                                    "`Contact.favorite_agent.email`",
                                );
                                Some(email)
                            }
                            None => text(agent.get("id"), "Contact.favorite_agent.id")?.map(|id| {
                                built.agent_by_id(
                                    "contact.favorite_agent",
                                    &id,
                                    "`Contact.favorite_agent.id`",
                                )
                            }),
                        }
                    }
                    other => text(other, "Contact.favorite_agent")?.map(|id| {
                        built.agent_by_id("contact.favorite_agent", &id, "`Contact.favorite_agent`")
                    }),
                };
                let owner = built.owner(id.as_deref(), number.as_deref());
                Some(Contact {
                    id: id.map(Cow::Owned),
                    owner: owner.map(Cow::Owned),
                    favorite_agent: favorite_agent.map(Cow::Owned),
                })
            }
            None => built.owner(None, number.as_deref()).map(|owner| Contact {
                id: None,
                owner: Some(Cow::Owned(owner)),
                favorite_agent: None,
            }),
        };

        Ok(built.finish(Fields {
            id,
            direction,
            status,
            agent,
            started_at,
            duration_s,
            number,
            tags,
            last_step,
            contact,
        }))
    }
}

/// A call-detail record of the analytics API: `cdr_id`, `call_steps`, …
struct DetailRecord<'v, 'c> {
    object: &'v Map<String, Value>,
    context: &'c Context,
}

impl DetailRecord<'_, '_> {
    fn read(self) -> Result<Record, String> {
        let object = self.object;
        let mut built = Builder {
            context: self.context,
            facts: Vec::new(),
        };
        let id = text(object.get("cdr_id"), "cdr_id")?
            .ok_or("`cdr_id` is missing: a call-detail record needs its call id")?;
        built.fact("id", Some(&id), "`cdr_id`");
        let direction = direction(object.get("direction"), "direction")?;
        built.fact("direction", Some(direction.name()), "`direction`");

        let steps = match object.get("call_steps") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(steps)) => steps.as_slice(),
            Some(other) => {
                return Err(format!(
                    "`call_steps` should be a list, found {}",
                    kind_of(other)
                ))
            }
        };
        let mut kinds = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let at = format!("call_steps[{index}].type");
            kinds.push(text(step.get("type"), &at)?.ok_or(format!("`{at}` is missing"))?);
        }
        let last_kind = kinds.last().map(String::as_str);

        let status = if last_kind == Some("voicemail") {
            built.fact(
                "status",
                Some("voicemail"),
                format!("`call_steps[{}]` is a voicemail", steps.len() - 1),
            );
            Status::Voicemail
        } else {
            let status = match text(object.get("status"), "status")?.as_deref() {
                Some("answered") => Status::Answered,
                Some("missed") => Status::Missed,
                Some(other) => {
                    return Err(format!(
                        "`status` is `{other}`, expected `answered` or `missed`"
                    ))
                }
                None => return Err("`status` is missing".to_string()),
            };
            built.fact("status", Some(status.name()), "`status`");
            status
        };

        // The call's own agent: whoever answered, at the top level or in a
        // queue; the last one when the call was passed on.
        let mut answered_by = None;
        for (index, step) in steps.iter().enumerate() {
            match kinds[index].as_str() {
                "agent" if answered(step) => {
                    answered_by = text(step.get("id"), &format!("call_steps[{index}].id"))?
                        .map(|id| (id, format!("`call_steps[{index}]` (answered)")));
                }
                "queue" => {
                    if let Some(found) = queue_answerer(step, index)? {
                        answered_by = Some(found);
                    }
                }
                _ => {}
            }
        }
        let agent = answered_by.map(|(id, at)| built.agent_by_id("agent", &id, &at));

        let internal = object
            .get("internal_number")
            .map(|number| phone(number.get("number"), "internal_number.number"))
            .transpose()?
            .flatten();
        let last_step = match steps.last() {
            None => None,
            Some(step) => {
                let index = steps.len() - 1;
                let kind = kinds[index].as_str();
                let at = format!("`call_steps[{index}]` ({kind})");
                Some(match kind {
                    "agent" => {
                        built.fact("last_step", Some("call_to_agent"), at.clone());
                        let agent = text(step.get("id"), &format!("call_steps[{index}].id"))?
                            .map(|id| built.agent_by_id("last_step.agent", &id, &at));
                        FlowStep {
                            kind: Cow::Borrowed("call_to_agent"),
                            agent: agent.map(Cow::Owned),
                            email: None,
                        }
                    }
                    "queue" => {
                        built.fact("last_step", Some("call_to_group"), at.clone());
                        let agent = match queue_answerer(step, index)? {
                            Some((id, at)) => Some(built.agent_by_id("last_step.agent", &id, &at)),
                            None => {
                                built.fact(
                                    "last_step.agent",
                                    None,
                                    format!("no agent call of {at} was answered"),
                                );
                                None
                            }
                        };
                        FlowStep {
                            kind: Cow::Borrowed("call_to_group"),
                            agent: agent.map(Cow::Owned),
                            email: None,
                        }
                    }
                    "voicemail" => {
                        built.fact("last_step", Some("voicemail"), at.clone());
                        let own_at = format!("`call_steps[{index}].email`");
                        let own = text(step.get("email"), &own_at)?;
                        built.voicemail_step(own, &own_at, internal.as_deref())
                    }
                    other => {
                        built.fact("last_step", Some(other), at.clone());
                        FlowStep {
                            kind: Cow::Owned(other.to_string()),
                            agent: None,
                            email: None,
                        }
                    }
                })
            }
        };

        let contact_object = object.get("contact").and_then(Value::as_object);
        let number = contact_object
            .map(|contact| phone(contact.get("number"), "contact.number"))
            .transpose()?
            .flatten();
        if let Some(number) = &number {
            built.fact("number", Some(number), "`contact.number`");
        }
        let contact_id = contact_object
            .map(|contact| text(contact.get("id"), "contact.id"))
            .transpose()?
            .flatten();
        if let Some(id) = &contact_id {
            built.fact("contact.id", Some(id), "`contact.id`");
        }
        let owner = built.owner(contact_id.as_deref(), number.as_deref());
        let contact = (contact_id.is_some() || owner.is_some()).then(|| Contact {
            id: contact_id.map(Cow::Owned),
            owner: owner.map(Cow::Owned),
            favorite_agent: None,
        });
        let started_at = text(object.get("date"), "date")?;
        let duration_s = count(
            object
                .get("call_times")
                .and_then(|times| times.get("talking_time")),
            "call_times.talking_time",
        )?;
        let tags = tags(object.get("call_tags"), "label", "call_tags")?;

        Ok(built.finish(Fields {
            id,
            direction,
            status,
            agent,
            started_at,
            duration_s,
            number,
            tags,
            last_step,
            contact,
        }))
    }
}

fn answered(step: &Value) -> bool {
    step.get("status").and_then(Value::as_str) == Some("answered")
}

/// The agent id of a queue step's last answered agent call, with where it
/// is written.
fn queue_answerer(step: &Value, index: usize) -> Result<Option<(String, String)>, String> {
    let Some(calls) = step.get("agent_calls").and_then(Value::as_array) else {
        return Ok(None);
    };
    let Some((position, call)) = calls
        .iter()
        .enumerate()
        .rev()
        .find(|(_, call)| answered(call))
    else {
        return Ok(None);
    };
    let at = format!("call_steps[{index}].agent_calls[{position}]");
    Ok(text(call.get("id"), &format!("{at}.id"))?.map(|id| (id, format!("`{at}` (answered)"))))
}
