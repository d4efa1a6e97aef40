//! A call-history item and the call-detail record of the same call, read
//! as one call: what the live loop fetches for each call that ends.
//!
//! The history item knows the call itself (its own agent, contact and
//! favorite agent, direction, numbers, times, `Cdr.is_voicemail`); the
//! detail record knows the way the call went (`call_steps`). Each is read
//! as its own reader reads it, then where both give a field the history
//! item's wins, and the flow comes from the detail record:
//!
//! | call field | from |
//! |---|---|
//! | `id`, `direction`, `status` | the history item (the two ids must agree) |
//! | `agent` | the history item, else the detail record's answering agent |
//! | last reached step | a voicemail step when `Cdr.is_voicemail`, else the last of `call_steps` |
//! | `number`, `started_at`, `duration_s`, `tags`, `contact.id` | the history item, else the detail record |
//! | `contact.favorite_agent` | the history item (the detail record has none) |
//! | `contact.owner` | the context's contact owners, by the combined contact id, else number |
//!
//! One object holding both records' keys is such a record (their keys do
//! not overlap: the history item's are capitalised), which is how a line of
//! `eval --input cloudtalk` gives one; [`combine`] builds it from the two.

use super::*;

use serde_json::{Map, Value};

/// Joins a call-history item and the call-detail record of the same call
/// into one record that [`read_line`] (and `eval --input cloudtalk`)
/// reads as one call: the history item's keys, then the detail record's
/// (a key both hold keeps the history item's value).
///
/// ```
/// use serde_json::json;
/// use callassign::model::{cloudtalk, Context};
/// use callassign::Status;
///
/// let history = json!({"Cdr": {"id": 27, "type": "incoming", "started_at": "2026-11-23T10:00:00Z"}, "Agent": {"email": "ola@acme.com"}});
/// let detail = json!({"cdr_id": 27, "direction": "incoming", "status": "missed",
///     "call_steps": [{"type": "queue", "agent_calls": []}], "date": "2026-11-23T09:00:00Z"});
/// let record = cloudtalk::combine(&history, &detail).unwrap();
/// let line = record.to_string();
/// let read = cloudtalk::read_line(&line, &Context::from_yaml("users: []").unwrap()).unwrap();
/// assert_eq!(read.call.status, Status::Missed);
/// assert_eq!(read.call.agent.as_deref(), Some("ola@acme.com"));
/// assert_eq!(read.call.started_at.as_deref(), Some("2026-11-23T10:00:00Z")); // the history item wins
/// assert_eq!(read.call.last_step.unwrap().kind, "call_to_group"); // the flow is the detail's
/// ```
pub fn combine(history: &Value, detail: &Value) -> Result<Value, String> {
    let Some(history) = history.as_object().filter(|item| item.contains_key("Cdr")) else {
        return Err("the call-history item should be an object with `Cdr`".to_string());
    };
    let Some(detail) = detail
        .as_object()
        .filter(|record| record.contains_key("cdr_id"))
    else {
        return Err("the call-detail record should be an object with `cdr_id`".to_string());
    };
    let mut combined = Map::with_capacity(history.len() + detail.len());
    for (key, value) in history {
        combined.insert(key.clone(), value.clone());
    }
    for (key, value) in detail {
        combined.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Ok(Value::Object(combined))
}

pub(super) struct Combined<'r, 'a, 'c> {
    pub(super) record: &'r shape::Record<'a>,
    pub(super) cdr: &'r Json<'a, shape::Cdr<'a>>,
    pub(super) context: &'c Context,
    pub(super) facts: Provenance,
}

impl<'a> Combined<'_, 'a, '_> {
    pub(super) fn read(self) -> Result<CallRecord<'a>, String> {
        let Combined {
            record,
            cdr,
            context,
            facts,
        } = self;
        let history = HistoryItem {
            record,
            cdr,
            built: Builder::new(context, facts),
        }
        .read()?;
        let detail = DetailRecord {
            record,
            built: Builder::new(context, facts),
        }
        .read()?;
        if history.call.id.trim() != detail.call.id.trim() {
            return Err(format!(
                "`Cdr.id` is `{}` but `cdr_id` is `{}`: the call-history item and the call-detail record are of different calls",
                history.call.id, detail.call.id
            ));
        }
        let mut built = Builder::new(context, facts);
        let (h, d) = (history.call, detail.call);
        let (h_facts, d_facts) = (history.facts, detail.facts);
        let take = |built: &mut Builder, facts: &[Fact], field: &str| {
            if built.collect == Provenance::Collect {
                built.facts.extend(
                    facts
                        .iter()
                        .filter(|fact| {
                            fact.field == field || fact.field.starts_with(&format!("{field}."))
                        })
                        .cloned(),
                );
            }
        };
        for field in ["id", "direction", "status"] {
            take(&mut built, &h_facts, field);
        }
        let agent = if h.agent.is_some() {
            take(&mut built, &h_facts, "agent");
            h.agent
        } else {
            take(&mut built, &d_facts, "agent");
            d.agent
        };

        // A voicemail says so only in the history item; its address is
        // looked up by the internal number either record gives.
        let last_step = if h.status == Status::Voicemail {
            let cdr = cdr.object().ok_or("`Cdr` should be an object")?;
            let internal = match phone(cdr.public_internal.as_ref(), "Cdr.public_internal")? {
                Some(number) => Some(number),
                None => record
                    .internal_number
                    .as_ref()
                    .and_then(Json::object)
                    .map(|number| phone(number.number.as_ref(), "internal_number.number"))
                    .transpose()?
                    .flatten(),
            };
            built.fact(
                "last_step",
                Some("voicemail"),
                "`Cdr.is_voicemail` (CloudTalk's call steps have no voicemail step)",
            );
            Some(built.voicemail_step(None, "", internal.as_deref()))
        } else {
            take(&mut built, &d_facts, "last_step");
            d.last_step
        };

        let mut either = |field: &str, history_has: bool| {
            let facts = if history_has { &h_facts } else { &d_facts };
            take(&mut built, facts, field);
        };
        either("number", h.number.is_some());
        let number = h.number.or(d.number);
        either("started_at", h.started_at.is_some());
        let started_at = h.started_at.or(d.started_at);
        let duration_s = h.duration_s.or(d.duration_s);
        let tags = if h.tags.is_empty() { d.tags } else { h.tags };

        let (h_contact, d_contact) = (h.contact, d.contact);
        let h_id = h_contact.as_ref().and_then(|contact| contact.id.clone());
        let d_id = d_contact.as_ref().and_then(|contact| contact.id.clone());
        either("contact.id", h_id.is_some());
        let contact_id = h_id.or(d_id);
        take(&mut built, &h_facts, "contact.favorite_agent");
        let favorite_agent = h_contact
            .as_ref()
            .and_then(|contact| contact.favorite_agent.clone());
        let owner = built.owner(contact_id.as_deref(), number.as_deref());
        let contact =
            (h_contact.is_some() || d_contact.is_some() || owner.is_some()).then_some(Contact {
                id: contact_id,
                owner,
                favorite_agent,
            });

        Ok(built.finish(Fields {
            id: h.id,
            direction: h.direction,
            status: h.status,
            agent,
            started_at,
            duration_s,
            number,
            tags: tags.texts().cloned().collect(),
            last_step,
            contact,
        }))
    }
}
