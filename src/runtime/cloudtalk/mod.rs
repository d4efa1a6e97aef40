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

//!
//! Records are read by [`shape`] into typed structs that borrow their text
//! from the input, so a batch line costs no tree of allocated values.

use std::borrow::Cow;
use std::fmt::Display;

use serde::de::Deserialize;

use crate::runtime::directory::number_key;
use crate::runtime::model::call::UnknownKeys;
use crate::runtime::model::{Call, Contact, Context, Direction, Fact, FlowStep, Status};

mod shape;

use shape::{Json, ListOf};

/// One CloudTalk record read as a call, borrowing its text from the input
/// line where it can.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    pub call: Call<'a>,
    /// Where each field of the call came from, in the order they were read.
    pub facts: Vec<Fact>,
}

/// A record that borrows nothing.
pub type Record = CallRecord<'static>;

impl CallRecord<'_> {
    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Record {
        CallRecord {
            call: self.call.into_owned(),
            facts: self.facts,
        }
    }
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
pub fn read_line<'a>(text: &'a str, context: &Context) -> Result<CallRecord<'a>, String> {
    let value: Json<'a, shape::Record<'a>> =
        serde_json::from_str(text).map_err(|error| error.to_string())?;
    let list_response = match &value {
        Json::Object(record) => record.response_data.is_some(),
        Json::List(_) => true,
        _ => false,
    };
    if list_response {
        return Err("a whole list response on one line; save it as a `.json` file, or write one call-history item per line".to_string());
    }
    read_json(&value, context)
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
    let value: Json<shape::Record, Vec<Json<shape::Record>>> =
        serde_json::from_str(text).map_err(|error| DocumentError {
            line: error.line() as u64,
            message: error.to_string(),
        })?;
    let (items, prefix) = match &value {
        Json::List(items) => (items, ""),
        Json::Object(record) if record.response_data.is_some() => {
            match record
                .response_data
                .as_ref()
                .and_then(Json::object)
                .and_then(|data| data.data.as_ref())
                .and_then(Json::list)
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
        _ => return Ok(vec![read_json(&value, context).map(CallRecord::into_owned)]),
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(index, item)| match read_json(item, context) {
            Ok(record) => Ok(record.into_owned()),
            Err(error) => Err(format!("{prefix}[{index}]: {error}")),
        })
        .collect())
}

/// Reads one record, whichever of the two shapes it has.
pub fn read_value(value: &serde_json::Value, context: &Context) -> Result<Record, String> {
    let value: Json<shape::Record> = Json::deserialize(value).map_err(|error| error.to_string())?;
    read_json(&value, context).map(CallRecord::into_owned)
}

fn read_json<'a, L>(
    value: &Json<'a, shape::Record<'a>, L>,
    context: &Context,
) -> Result<CallRecord<'a>, String> {
    let Json::Object(record) = value else {
        return Err(format!(
            "expected a CloudTalk call record `{{…}}`, found {}",
            value.kind()
        ));
    };
    if let Some(cdr) = &record.cdr {
        HistoryItem {
            record,
            cdr,
            context,
        }
        .read()
    } else if record.cdr_id.is_some() {
        DetailRecord { record, context }.read()
    } else {
        Err("not a CloudTalk call record: expected `Cdr` (a call-history item of `/api/calls/index.json`) or `cdr_id` (a call-detail record of `/api/calls/{id}`)".to_string())
    }
}

/// Text from a value that may be a string or a number; `None` for null,
/// absent or empty. `at` names the value in messages.
fn text<'a, O, L>(
    value: Option<&Json<'a, O, L>>,
    at: impl Display,
) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Json::Text(text)) => Ok(Some(text.clone())),
        Some(Json::Number(number)) => Ok(Some(Cow::Owned(number.to_string()))),
        Some(other) => Err(format!(
            "`{at}` should be a string or a number, found {}",
            other.kind()
        )),
    }
}

/// A phone number: CloudTalk's examples give numbers as JSON numbers
/// without the `+` of E.164; those get it back.
fn phone<'a>(value: Option<&Json<'a>>, at: &str) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        Some(Json::Number(number)) => Ok(Some(Cow::Owned(format!("+{number}")))),
        other => text(other, at),
    }
}

/// A whole count that may be a number or a numeric string.
fn count(value: Option<&Json>, at: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(number)) => number
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{at}` should be a whole number, found `{number}`")),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Json::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{at}` should be a whole number, found `{text}`")),
        Some(other) => Err(format!(
            "`{at}` should be a whole number, found {}",
            other.kind()
        )),
    }
}

/// A flag that may be a boolean, `0`/`1` or `"0"`/`"1"`/`"true"`/`"false"`.
fn flag(value: Option<&Json>) -> bool {
    match value {
        Some(Json::Bool(flag)) => *flag,
        Some(Json::Number(number)) => number.as_f64().is_some_and(|n| n != 0.0),
        Some(Json::Text(text)) => matches!(text.trim(), "1" | "true"),
        _ => false,
    }
}

/// Whether a call step or an agent call has status `answered`.
fn answered(status: Option<&Json>) -> bool {
    matches!(status, Some(Json::Text(status)) if status == "answered")
}

fn direction(value: Option<&Json>, at: &str) -> Result<Direction, String> {
    let name = text(value, at)?.ok_or_else(|| format!("`{at}` is missing"))?;
    Direction::ALL
        .into_iter()
        .find(|direction| direction.name() == name)
        .ok_or_else(|| format!("`{at}` is `{name}`, expected `incoming`, `outgoing` or `internal`"))
}

/// The tags of a record: `key` of each item of the list `at`, which
/// `field` picks from the item.
fn tags<'a>(
    value: Option<&ListOf<'a, shape::Tag<'a>>>,
    (key, field): (&str, for<'t> fn(&'t shape::Tag<'a>) -> Option<&'t Json<'a>>),
    at: &str,
) -> Result<Vec<Cow<'a, str>>, String> {
    let Some(list) = value.filter(|value| !matches!(value, Json::Null)) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.list() else {
        return Err(format!("`{at}` should be a list of tags"));
    };
    let mut tags = Vec::with_capacity(list.len());
    for (index, tag) in list.iter().enumerate() {
        let name = tag.object().and_then(field);
        if let Some(name) = text(name, format_args!("{at}[{index}].{key}"))? {
            tags.push(name);
        }
    }
    Ok(tags)
}

/// A call's fields as a record gives them.
struct Fields<'a> {
    id: Cow<'a, str>,
    direction: Direction,
    status: Status,
    agent: Option<Cow<'a, str>>,
    started_at: Option<Cow<'a, str>>,
    duration_s: Option<i64>,
    number: Option<Cow<'a, str>>,
    tags: Vec<Cow<'a, str>>,
    last_step: Option<FlowStep<'a>>,
    contact: Option<Contact<'a>>,
}

/// Collects a call and the facts behind it.
struct Builder<'c> {
    context: &'c Context,
    facts: Vec<Fact>,
}

impl Builder<'_> {
    fn finish(self, fields: Fields<'_>) -> CallRecord<'_> {
        CallRecord {
            call: Call {
                id: fields.id,
                direction: fields.direction,
                status: fields.status,
                agent: fields.agent,
                started_at: fields.started_at,
                duration_s: fields.duration_s,
                number: fields.number,
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
    fn agent_by_id<'a>(&mut self, field: &'static str, id: Cow<'a, str>, at: &str) -> Cow<'a, str> {
        match self.context.telephony.get(id.trim()) {
            Some(email) => {
                self.fact(
                    field,
                    Some(email),
                    format!(
                        "agent `{id}` in {at}, through the agents list (`telephony_users_from`)"
                    ),
                );
                Cow::Owned(email.clone())
            }
            None => {
                let why = if self.context.telephony_users_from.is_some() {
                    "not in the agents list"
                } else {
                    "no `telephony_users_from` to turn it into an e-mail"
                };
                self.fact(field, Some(&id), format!("agent `{id}` in {at} ({why})"));
                id
            }
        }
    }

    /// The voicemail step's e-mail from the context: for the internal
    /// number the call came in on, else `default`.
    fn voicemail_step<'a>(
        &mut self,
        own: Option<Cow<'a, str>>,
        own_at: &str,
        internal: Option<&str>,
    ) -> FlowStep<'a> {
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
                    Some(Cow::Owned(email))
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
            email,
        }
    }

    /// The contact owner from the context's contact owners file: by contact
    /// id, else by number.
    fn owner<'a>(
        &mut self,
        contact_id: Option<&str>,
        number: Option<&str>,
    ) -> Option<Cow<'a, str>> {
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
                Some(Cow::Owned(owner))
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
struct HistoryItem<'r, 'a, 'c> {
    record: &'r shape::Record<'a>,
    cdr: &'r Json<'a, shape::Cdr<'a>>,
    context: &'c Context,
}

impl<'a> HistoryItem<'_, 'a, '_> {
    fn read(self) -> Result<CallRecord<'a>, String> {
        let record = self.record;
        let cdr = self.cdr.object().ok_or("`Cdr` should be an object")?;
        let mut built = Builder {
            context: self.context,
            facts: Vec::new(),
        };
        let id = text(cdr.id.as_ref(), "Cdr.id")?
            .ok_or("`Cdr.id` is missing: a call-history item needs its call id")?;
        built.fact("id", Some(&id), "`Cdr.id`");
        let direction = direction(cdr.kind.as_ref(), "Cdr.type")?;
        built.fact("direction", Some(direction.name()), "`Cdr.type`");
        let voicemail = flag(cdr.is_voicemail.as_ref());
        let answered = text(cdr.answered_at.as_ref(), "Cdr.answered_at")?.is_some();
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

        let agent_email = record
            .agent
            .as_ref()
            .and_then(Json::object)
            .and_then(|agent| agent.email.as_ref());
        let agent = match text(agent_email, "Agent.email")? {
            Some(email) => {
                built.fact("agent", Some(&email), "`Agent.email`");
                Some(email)
            }
            None => text(cdr.user_id.as_ref(), "Cdr.user_id")?
                .filter(|id| id != "0")
                .map(|id| built.agent_by_id("agent", id, "`Cdr.user_id`")),
        };

        let internal = phone(cdr.public_internal.as_ref(), "Cdr.public_internal")?;
        let last_step = voicemail.then(|| {
            built.fact(
                "last_step",
                Some("voicemail"),
                "`Cdr.is_voicemail` (a history item has no call steps)",
            );
            built.voicemail_step(None, "", internal.as_deref())
        });

        let number = phone(cdr.public_external.as_ref(), "Cdr.public_external")?;
        if let Some(number) = &number {
            built.fact("number", Some(number), "`Cdr.public_external`");
        }
        let started_at = text(cdr.started_at.as_ref(), "Cdr.started_at")?;
        let duration_s = count(cdr.talking_time.as_ref(), "Cdr.talking_time")?;
        let tags = tags(
            record.tags.as_ref(),
            ("name", |tag| tag.name.as_ref()),
            "Tags",
        )?;

        let contact = match record
            .history_contact
            .as_ref()
            .filter(|contact| !matches!(contact, Json::Null))
        {
            Some(contact) => {
                let contact = contact.object().ok_or("`Contact` should be an object")?;
                let id = text(contact.id.as_ref(), "Contact.id")?;
                if let Some(id) = &id {
                    built.fact("contact.id", Some(id), "`Contact.id`");
                }
                let favorite_agent = match contact.favorite_agent.as_ref() {
                    Some(Json::Object(agent)) => {
                        match text(agent.email.as_ref(), "Contact.favorite_agent.email")? {
                            Some(email) => {
                                built.fact(
                                    "contact.favorite_agent",
                                    Some(&email),
                                    "`Contact.favorite_agent.email`",
                                );
                                Some(email)
                            }
                            None => {
                                text(agent.id.as_ref(), "Contact.favorite_agent.id")?.map(|id| {
                                    built.agent_by_id(
                                        "contact.favorite_agent",
                                        id,
                                        "`Contact.favorite_agent.id`",
                                    )
                                })
                            }
                        }
                    }
                    other => text(other, "Contact.favorite_agent")?.map(|id| {
                        built.agent_by_id("contact.favorite_agent", id, "`Contact.favorite_agent`")
                    }),
                };
                let owner = built.owner(id.as_deref(), number.as_deref());
                Some(Contact {
                    id,
                    owner,
                    favorite_agent,
                })
            }
            None => built.owner(None, number.as_deref()).map(|owner| Contact {
                id: None,
                owner: Some(owner),
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
struct DetailRecord<'r, 'a, 'c> {
    record: &'r shape::Record<'a>,
    context: &'c Context,
}

impl<'a> DetailRecord<'_, 'a, '_> {
    fn read(self) -> Result<CallRecord<'a>, String> {
        let record = self.record;
        let mut built = Builder {
            context: self.context,
            facts: Vec::new(),
        };
        let id = text(record.cdr_id.as_ref(), "cdr_id")?
            .ok_or("`cdr_id` is missing: a call-detail record needs its call id")?;
        built.fact("id", Some(&id), "`cdr_id`");
        let direction = direction(record.direction.as_ref(), "direction")?;
        built.fact("direction", Some(direction.name()), "`direction`");

        let steps = match &record.call_steps {
            None | Some(Json::Null) => &[][..],
            Some(Json::List(steps)) => steps.as_slice(),
            Some(other) => {
                return Err(format!(
                    "`call_steps` should be a list, found {}",
                    other.kind()
                ))
            }
        };
        let mut kinds = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let kind = step.object().and_then(|step| step.kind.as_ref());
            let at = format_args!("call_steps[{index}].type");
            kinds.push(text(kind, at)?.ok_or_else(|| format!("`{at}` is missing"))?);
        }
        let last_kind = kinds.last().map(|kind| &**kind);

        let status = if last_kind == Some("voicemail") {
            built.fact(
                "status",
                Some("voicemail"),
                format!("`call_steps[{}]` is a voicemail", steps.len() - 1),
            );
            Status::Voicemail
        } else {
            let status = match text(record.status.as_ref(), "status")?.as_deref() {
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
            let Some(fields) = step.object() else {
                continue;
            };
            match &*kinds[index] {
                "agent" if answered(fields.status.as_ref()) => {
                    answered_by = text(fields.id.as_ref(), format_args!("call_steps[{index}].id"))?
                        .map(|id| (id, format!("`call_steps[{index}]` (answered)")));
                }
                "queue" => {
                    if let Some(found) = queue_answerer(fields, index)? {
                        answered_by = Some(found);
                    }
                }
                _ => {}
            }
        }
        let agent = answered_by.map(|(id, at)| built.agent_by_id("agent", id, &at));

        let internal = record
            .internal_number
            .as_ref()
            .map(|number| {
                let number = number.object().and_then(|number| number.number.as_ref());
                phone(number, "internal_number.number")
            })
            .transpose()?
            .flatten();
        let last_step = match steps.last() {
            None => None,
            Some(step) => {
                let fields = step.object();
                let index = steps.len() - 1;
                let kind = &*kinds[index];
                let at = format!("`call_steps[{index}]` ({kind})");
                Some(match kind {
                    "agent" => {
                        built.fact("last_step", Some("call_to_agent"), at.clone());
                        let id = fields.and_then(|step| step.id.as_ref());
                        let agent = text(id, format_args!("call_steps[{index}].id"))?
                            .map(|id| built.agent_by_id("last_step.agent", id, &at));
                        FlowStep {
                            kind: Cow::Borrowed("call_to_agent"),
                            agent,
                            email: None,
                        }
                    }
                    "queue" => {
                        built.fact("last_step", Some("call_to_group"), at.clone());
                        let answerer = match fields {
                            Some(fields) => queue_answerer(fields, index)?,
                            None => None,
                        };
                        let agent = match answerer {
                            Some((id, at)) => Some(built.agent_by_id("last_step.agent", id, &at)),
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
                            agent,
                            email: None,
                        }
                    }
                    "voicemail" => {
                        built.fact("last_step", Some("voicemail"), at.clone());
                        let own_at = format!("`call_steps[{index}].email`");
                        let email = fields.and_then(|step| step.email.as_ref());
                        let own = text(email, &own_at)?;
                        built.voicemail_step(own, &own_at, internal.as_deref())
                    }
                    other => {
                        built.fact("last_step", Some(other), at.clone());
                        FlowStep {
                            kind: kinds[index].clone(),
                            agent: None,
                            email: None,
                        }
                    }
                })
            }
        };

        let contact_fields = record.contact.as_ref().and_then(Json::object);
        let number = contact_fields
            .map(|contact| phone(contact.number.as_ref(), "contact.number"))
            .transpose()?
            .flatten();
        if let Some(number) = &number {
            built.fact("number", Some(number), "`contact.number`");
        }
        let contact_id = contact_fields
            .map(|contact| text(contact.id.as_ref(), "contact.id"))
            .transpose()?
            .flatten();
        if let Some(id) = &contact_id {
            built.fact("contact.id", Some(id), "`contact.id`");
        }
        let owner = built.owner(contact_id.as_deref(), number.as_deref());
        let contact = (contact_id.is_some() || owner.is_some()).then_some(Contact {
            id: contact_id,
            owner,
            favorite_agent: None,
        });
        let started_at = text(record.date.as_ref(), "date")?;
        let talking_time = record
            .call_times
            .as_ref()
            .and_then(Json::object)
            .and_then(|times| times.talking_time.as_ref());
        let duration_s = count(talking_time, "call_times.talking_time")?;
        let tags = tags(
            record.call_tags.as_ref(),
            ("label", |tag| tag.label.as_ref()),
            "call_tags",
        )?;

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

/// The agent id of a queue step's last answered agent call, with where it
/// is written.
fn queue_answerer<'a>(
    step: &shape::Step<'a>,
    index: usize,
) -> Result<Option<(Cow<'a, str>, String)>, String> {
    let Some(calls) = step.agent_calls.as_ref().and_then(Json::list) else {
        return Ok(None);
    };
    let Some((position, call)) = calls.iter().enumerate().rev().find_map(|(position, call)| {
        call.object()
            .filter(|call| answered(call.status.as_ref()))
            .map(|call| (position, call))
    }) else {
        return Ok(None);
    };
    let at = format!("call_steps[{index}].agent_calls[{position}]");
    Ok(text(call.id.as_ref(), format_args!("{at}.id"))?
        .map(|id| (id, format!("`{at}` (answered)"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        let mut context = Context::from_yaml(
            "users: [{id: hs-4, email: support@acme.com}]\nvoicemail_email: {default: support@acme.com}\n",
        )
        .unwrap();
        context.telephony.insert("11".into(), "ola@acme.com".into());
        context
    }

    /// What a record reads as, comparably: the call and its facts, or the
    /// error.
    fn outcome(read: Result<CallRecord<'_>, String>) -> String {
        match read {
            Ok(record) => format!("{:?} {:?}", record.call.into_owned(), record.facts),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn a_line_reads_as_the_same_record_from_text_and_from_a_value() {
        // Every kind of value in every place the mapping reads, good and bad.
        let lines = [
            r#"{"Cdr":{"id":27,"type":"incoming","is_voicemail":"1","public_internal":421221291400,"user_id":"11"},"Tags":[{"name":"vip"},{"name":null},7,{"label":"x"}],"Agent":[1]}"#,
            r#"{"Cdr":{"id":"c\u002d1","type":"outgoing","answered_at":"2026-11-23 10:00:00","talking_time":"42","public_external":"+44 20"},"Contact":{"id":42,"favorite_agent":{"id":11}},"Agent":{"email":"Max@acme.com"}}"#,
            r#"{"Cdr":{"id":1,"type":"internal","talking_time":1.5}}"#,
            r#"{"Cdr":{"id":1,"type":"incoming"},"Contact":{"favorite_agent":[1]}}"#,
            r#"{"Cdr":{"id":1,"type":"incoming"},"Contact":"x"}"#,
            r#"{"Cdr":{"id":1,"type":"incoming"},"Tags":{"name":"a"}}"#,
            r#"{"Cdr":{"id":1,"type":"incoming","talking_time":true}}"#,
            r#"{"Cdr":{"id":" ","type":"incoming"}}"#,
            r#"{"Cdr":{"id":[],"type":"incoming"}}"#,
            r#"{"Cdr":{"id":1,"type":"sideways"}}"#,
            r#"{"Cdr":null,"cdr_id":1}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"missed","call_steps":[{"type":"ivr"},{"type":"queue","agent_calls":[{"id":11,"status":"answered"},{"id":12,"status":"missed"},"x"]},{"type":"agent","id":"11","status":"answered"},{"type":"voicemail"}],"internal_number":{"number":421221291400},"contact":{"id":"c","number":"+1"},"call_times":{"talking_time":3},"call_tags":[{"label":"a"}],"date":"2026-11-23"}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"queue","agent_calls":[{"id":12,"status":"missed"}]}]}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"agent","id":12}],"contact":[1],"call_times":3}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"conference"}]}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"voicemail","email":"v@acme.com"}]}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"id":1}]}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[3]}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":{}}"#,
            r#"{"cdr_id":5,"direction":"incoming","status":"ringing"}"#,
            r#"{"cdr_id":5,"direction":"incoming"}"#,
            r#"{"id":"c-1"}"#,
            r#"17"#,
            r#""text""#,
            r#"null"#,
        ];
        let context = context();
        for line in lines {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let from_value = outcome(read_value(&value, &context));
            assert_eq!(outcome(read_line(line, &context)), from_value, "{line}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_line() {
        let line = r#"{"Cdr":{"id":"c-1","type":"incoming","answered_at":"x","started_at":"2026-11-23T10:00:00Z"},"Agent":{"email":"max@acme.com"},"Tags":[{"name":"vip"},{"name":"n\u00e9"}]}"#;
        let call = read_line(line, &context()).unwrap().call;
        assert!(matches!(call.id, Cow::Borrowed("c-1")));
        assert!(matches!(call.agent, Some(Cow::Borrowed("max@acme.com"))));
        assert!(matches!(call.started_at, Some(Cow::Borrowed(_))));
        assert!(matches!(call.tags[0], Cow::Borrowed("vip")));
        assert!(matches!(&call.tags[1], Cow::Owned(tag) if tag == "né"));
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_as_a_json_value_does() {
        let line =
            r#"{"Cdr":{"id":1,"type":"outgoing","id":2,"Cdr":3},"Cdr":{"id":3,"type":"incoming"}}"#;
        let call = read_line(line, &context()).unwrap().call;
        assert_eq!((&*call.id, call.direction), ("3", Direction::Incoming));
    }

    #[test]
    fn list_responses_are_refused_on_one_line_whatever_they_hold() {
        for line in [r#"{"responseData":null}"#, r#"[{"Cdr":{}}]"#, "[]"] {
            let error = read_line(line, &context()).unwrap_err();
            assert!(
                error.starts_with("a whole list response on one line"),
                "{line}: {error}"
            );
        }
    }
}
