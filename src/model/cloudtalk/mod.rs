//! CloudTalk call records → native calls, with where each fact came from.
//!
//! Two record shapes of CloudTalk's public API (OpenAPI v1.7) are read:
//!
//! - a **call-history item** of `GET /api/calls/index.json`: an object with
//!   `Cdr` and, when present, `Contact`, `Agent`, `CallNumber`, `Tags`; a
//!   whole list response (`{"responseData": {"data": [items]}}`) holds many;
//! - a **call-detail record** of the analytics API `GET /api/calls/{id}`:
//!   an object with `cdr_id` and `call_steps`;
//! - both of one call in one object (`Cdr` and `cdr_id`): the history item
//!   with the detail record's call steps as its flow, see [`combine`].
//!
//! The mapping is table in docs/cloudtalk.md ("How a record becomes a call"). CloudTalk records carry no
//! contact owner, no e-mail on flow steps and (in the detail record) agents
//! only by id, so the context fills those in: its agents list, its
//! `voicemail_email` and its contact owners. Every field set says where it
//! came from in a [`Fact`], for `--explain`. Unknown keys are ignored: the
//! vendor adds fields.

//!
//! Records are read by `shape` into typed structs that borrow their text
//! from the input, so a batch line costs no tree of allocated values;
//! `values` reads each of their fields, and `builder` assembles the call
//! with the facts behind it.

use std::borrow::Cow;

use serde::de::{Deserialize, IgnoredAny};

use crate::model::call::{whole_number, NestedKeys, UnknownKeys};
use crate::model::context::lists::number_key;
use crate::model::{Call, Contact, Context, Fact, FlowStep};
use crate::vocabulary::{Direction, Status};

mod builder;
mod combined;
mod detail;
mod history;
mod shape;
mod values;

use builder::{Builder, Fields};
pub use combined::combine;
use combined::Combined;
use detail::DetailRecord;
use history::HistoryItem;
use values::*;

use shape::{Json, ListOf};

/// One CloudTalk record read as a call, borrowing its text from the input
/// line where it can.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    /// The call the record reads as.
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
/// use callassign::model::{cloudtalk, Context};
/// use callassign::Status;
///
/// let context = Context::from_yaml("users: [{id: hs-4, email: support@acme.com}]\nvoicemail_email: {default: support@acme.com}\n").unwrap();
/// let record = cloudtalk::read_line(r#"{"Cdr":{"id":27,"type":"incoming","is_voicemail":true}}"#, &context).unwrap();
/// assert_eq!(record.call.status, Status::Voicemail);
/// assert_eq!(record.call.last_step.unwrap().email.as_deref(), Some("support@acme.com"));
/// assert_eq!(record.facts[2].from, "`Cdr.is_voicemail`");
/// ```
pub fn read_line<'a>(text: &'a str, context: &Context) -> Result<CallRecord<'a>, String> {
    read_line_with(text, context, Provenance::Collect)
}

/// Whether reading a record also collects where each call field came
/// from. Only `--explain` shows them, and collecting them (a text per
/// field) was a third of the cost of reading a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Keep where each field came from (`--explain`).
    Collect,
    /// Read the call only.
    Skip,
}

impl Provenance {
    /// Collect them only when they are `wanted` (`--explain`).
    pub fn when(wanted: bool) -> Provenance {
        if wanted {
            Provenance::Collect
        } else {
            Provenance::Skip
        }
    }
}

/// [`read_line`], collecting the facts or not.
pub(crate) fn read_line_with<'a>(
    text: &'a str,
    context: &Context,
    facts: Provenance,
) -> Result<CallRecord<'a>, String> {
    // serde's position names the line as `line 1`: a batch line is
    // reported with its own number, so only the column is kept.
    let value: Json<'a, shape::Record<'a>> = serde_json::from_str(text)
        .map_err(|error| crate::model::call::friendly_json_error(&error.to_string()))?;
    let list_response = match &value {
        Json::Object(record) => record.response_data.is_some(),
        Json::List(_) => true,
        _ => false,
    };
    if list_response {
        return Err("a whole list response on one line; save it as a `.json` file, or write one call-history item per line".to_string());
    }
    read_json(&value, context, facts)
}

/// A `.json` file that holds no CloudTalk records at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DocumentError {
    /// The line of the file the problem is on.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// An item of a `.json` file that could not be read as a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ItemError {
    /// What is wrong, naming the item (`responseData.data[3]: …`).
    pub message: String,
    /// The call's id (`Cdr.id`, `cdr_id`), when it could be read: which
    /// call to fix.
    pub call: Option<String>,
}

/// The call id of a batch line holding a CloudTalk record that could not
/// be read, when the id itself reads (`Cdr.id` or `cdr_id`, text or a
/// whole number): error lines name the call to fix.
///
/// ```
/// use callassign::model::cloudtalk::call_id_of;
///
/// assert_eq!(call_id_of(r#"{"Cdr":{"id":27,"type":"sideways"}}"#).as_deref(), Some("27"));
/// assert_eq!(call_id_of(r#"{"cdr_id":"12346","call_steps":7}"#).as_deref(), Some("12346"));
/// assert_eq!(call_id_of(r#"{"Cdr":{"id":27.5}}"#), None);
/// ```
pub fn call_id_of(text: &str) -> Option<String> {
    let value: Json<'_, shape::Record<'_>> = serde_json::from_str(text).ok()?;
    record_id(&value)
}

fn record_id<L>(value: &Json<'_, shape::Record<'_>, L>) -> Option<String> {
    let record = value.object()?;
    let id = match &record.cdr {
        Some(cdr) => text(cdr.object()?.id.as_ref(), "Cdr.id"),
        None => text(record.cdr_id.as_ref(), "cdr_id"),
    };
    id.ok().flatten().map(Cow::into_owned)
}

/// Reads a `.json` file: a list response (one record per item, in order),
/// a list of records, or one record. Each item is read on its own, so one
/// bad item does not hide the others; its error names it, and the call's
/// id when that could be read.
///
/// Holds every record at once: for a file of any size, use
/// [`for_each_document_record`], which holds one item at a time.
pub fn read_document(
    text: &str,
    context: &Context,
) -> Result<Vec<Result<Record, ItemError>>, DocumentError> {
    let mut records = Vec::new();
    for_each_document_record(text, context, Provenance::Collect, |record| {
        records.push(record.map(CallRecord::into_owned));
        Ok(())
    })?
    .map_err(|error: std::io::Error| DocumentError {
        line: 1,
        message: error.to_string(),
    })?;
    Ok(records)
}

/// Reads a `.json` file as [`read_document`] does, handing `visit` each
/// record (or its error) as it is read: the items of a list are read one
/// at a time, so memory stays that of one item however many the file
/// holds (held all at once, a 60 MB file of empty items asked for 11 GB).
/// The text is checked whole first, so a file that is not JSON is one
/// error and `visit` sees nothing. An error `visit` returns stops the
/// reading and is returned (inside `Ok`); otherwise the number of records.
pub fn for_each_document_record<E>(
    text: &str,
    context: &Context,
    facts: Provenance,
    mut visit: impl FnMut(Result<CallRecord<'_>, ItemError>) -> Result<(), E>,
) -> Result<Result<u64, E>, DocumentError> {
    // The first pass checks the text and finds its shape, skipping every
    // value without keeping it.
    let probe: Json<shape::Probe, IgnoredAny> =
        serde_json::from_str(text).map_err(|error| DocumentError {
            line: error.line() as u64,
            message: crate::files::plain_json_message(&error.to_string()),
        })?;
    let prefix = match &probe {
        Json::List(_) => "",
        Json::Object(probe) if probe.response_data.is_some() => {
            let has_list = probe
                .response_data
                .as_ref()
                .and_then(Json::object)
                .and_then(|data| data.data.as_ref())
                .is_some_and(|data| matches!(data, Json::List(_)));
            if !has_list {
                return Err(DocumentError {
                    line: 1,
                    message: "`responseData` has no `data` list of call-history items".to_string(),
                });
            }
            "responseData.data"
        }
        _ => {
            let value: Json<shape::Record> =
                serde_json::from_str(text).map_err(|error| DocumentError {
                    line: error.line() as u64,
                    message: crate::files::plain_json_message(&error.to_string()),
                })?;
            let record = read_json(&value, context, facts).map_err(|message| ItemError {
                message,
                call: record_id(&value),
            });
            return Ok(visit(record).map(|()| 1));
        }
    };
    let mut items = Items {
        visit: &mut visit,
        context,
        facts,
        prefix,
        count: 0,
        stopped: None,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let read = if prefix.is_empty() {
        serde::de::DeserializeSeed::deserialize(&mut items, &mut deserializer)
    } else {
        let mut data = Field {
            key: "data",
            inner: &mut items,
        };
        let mut response = Field {
            key: "responseData",
            inner: &mut data,
        };
        serde::de::DeserializeSeed::deserialize(&mut response, &mut deserializer)
    };
    if let Some(stopped) = items.stopped.take() {
        return Ok(Err(stopped));
    }
    // The text was read whole once already; a second reading cannot fail
    // but by a bug, said as a document error rather than a panic.
    read.map_err(|error| DocumentError {
        line: error.line() as u64,
        message: crate::files::plain_json_message(&error.to_string()),
    })?;
    Ok(Ok(items.count))
}

/// The items of a list, each read as a record and handed on, then dropped.
struct Items<'v, 'c, F, E> {
    visit: &'v mut F,
    context: &'c Context,
    facts: Provenance,
    /// How an item's error names the list (`responseData.data`).
    prefix: &'static str,
    count: u64,
    /// The error `visit` stopped the reading with.
    stopped: Option<E>,
}

impl<'de, F, E> serde::de::DeserializeSeed<'de> for &mut Items<'_, '_, F, E>
where
    F: FnMut(Result<CallRecord<'_>, ItemError>) -> Result<(), E>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F, E> serde::de::Visitor<'de> for &mut Items<'_, '_, F, E>
where
    F: FnMut(Result<CallRecord<'_>, ItemError>) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of call records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Json<'de, shape::Record<'de>>>()? {
            let index = self.count;
            self.count += 1;
            let record = read_json(&item, self.context, self.facts).map_err(|error| ItemError {
                message: format!("{}[{index}]: {error}", self.prefix),
                call: record_id(&item),
            });
            if let Err(stopped) = (self.visit)(record) {
                self.stopped = Some(stopped);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// The value of `key` in an object, read with `inner`; other keys are
/// skipped. A key given twice is read twice.
struct Field<'s, S> {
    key: &'static str,
    inner: &'s mut S,
}

impl<'de, S> serde::de::DeserializeSeed<'de> for &mut Field<'_, S>
where
    for<'x> &'x mut S: serde::de::DeserializeSeed<'de, Value = ()>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S> serde::de::Visitor<'de> for &mut Field<'_, S>
where
    for<'x> &'x mut S: serde::de::DeserializeSeed<'de, Value = ()>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.key {
                map.next_value_seed(&mut *self.inner)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Reads one record, whichever of the two shapes it has.
pub fn read_value(value: &serde_json::Value, context: &Context) -> Result<Record, String> {
    let value: Json<shape::Record> = Json::deserialize(value).map_err(|error| error.to_string())?;
    read_json(&value, context, Provenance::Collect).map(CallRecord::into_owned)
}

fn read_json<'a, L>(
    value: &Json<'a, shape::Record<'a>, L>,
    context: &Context,
    facts: Provenance,
) -> Result<CallRecord<'a>, String> {
    let Json::Object(record) = value else {
        return Err(format!(
            "expected a CloudTalk call record `{{…}}`, found {}",
            value.kind()
        ));
    };
    if let Some(cdr) = record.cdr.as_ref().filter(|_| record.cdr_id.is_some()) {
        Combined {
            record,
            cdr,
            context,
            facts,
        }
        .read()
    } else if let Some(cdr) = &record.cdr {
        HistoryItem {
            record,
            cdr,
            built: Builder::new(context, facts),
        }
        .read()
    } else if record.cdr_id.is_some() {
        DetailRecord {
            record,
            built: Builder::new(context, facts),
        }
        .read()
    } else {
        Err("not a CloudTalk call record: expected `Cdr` (a call-history item of `/api/calls/index.json`) or `cdr_id` (a call-detail record of `/api/calls/{id}`)".to_string())
    }
}

#[cfg(test)]
mod tests;
