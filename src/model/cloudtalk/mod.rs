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
//! from the input, so a batch line costs no tree of allocated values.

use std::borrow::Cow;
use std::fmt::Display;

use serde::de::{Deserialize, IgnoredAny};

use crate::model::call::{whole_number, NestedKeys, UnknownKeys};
use crate::model::context::lists::number_key;
use crate::model::{Call, Contact, Context, Fact, FlowStep};
use crate::vocabulary::{Direction, Status};

mod combined;
mod detail;
mod history;
mod shape;

pub use combined::combine;
use combined::Combined;
use detail::DetailRecord;
use history::HistoryItem;

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
        // A fraction or a number past 64 bits (read as a float) would be
        // written back rounded (`1.2345678901234568e29`): no longer the id
        // or number the vendor sent, so it is refused, not matched wrongly.
        Some(Json::Number(number)) if number.is_f64() => Err(format!(
            "`{at}` is `{number}`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number"
        )),
        Some(Json::Number(number)) => Ok(Some(Cow::Owned(number.to_string()))),
        Some(other) => Err(format!(
            "`{at}` should be a string or a number, found {}",
            other.kind()
        )),
    }
}

/// A phone number: CloudTalk's examples give numbers as JSON numbers
/// without the `+` of E.164; those get it back. A negative number would
/// become `+-421`, so it is refused with the fractions [`text`] refuses.
fn phone<'a>(value: Option<&Json<'a>>, at: &str) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        Some(Json::Number(number)) if number.is_u64() => {
            Ok(Some(Cow::Owned(format!("+{number}"))))
        }
        Some(Json::Number(number)) if number.is_i64() => Err(format!(
            "`{at}` is `{number}`, which is not a phone number; send it as a string (`\"+421221291400\"`) or a whole number"
        )),
        other => text(other, at),
    }
}

/// A start time, which `started_at` conditions compare, so it must be RFC
/// 3339: a value that cannot be compared makes both `started_at == null`
/// and `started_at > "…"` false and routes the call silently. CloudTalk's
/// reference says its times are UTC and shows `2017-10-04T06:33:37.000Z`
/// for `Cdr.started_at`, but its envelope examples write
/// `2018-01-10 12:34:56` and real records carry local offsets (`+02:00`);
/// a time without an offset is refused, not guessed, since a wrong guess
/// moves the call by hours. The context has no time zone setting to read.
fn timestamp<'a>(value: Option<&Json<'a>>, at: &str) -> Result<Option<Cow<'a, str>>, String> {
    let Some(written) = text(value, at)? else {
        return Ok(None);
    };
    let Err(message) = crate::vocabulary::time::check_started_at(&written) else {
        return Ok(Some(written));
    };
    let trimmed = written.trim();
    let utc = format!("{}Z", trimmed.replacen(' ', "T", 1));
    if crate::vocabulary::time::check_started_at(&utc).is_ok() {
        return Err(format!(
            "`{at}` is `{trimmed}`, which has no time zone offset, and callassign does not guess one; if it is UTC (as CloudTalk's API documents), write `{utc}`, else add its offset (`+01:00`)"
        ));
    }
    Err(format!("`{at}`: {message}"))
}

/// A whole count that may be a number or a numeric string; never below
/// zero (a talking time below zero would make `duration_s < 10` hold).
fn count(value: Option<&Json>, at: &str) -> Result<Option<i64>, String> {
    let count = whole_count(value, at)?;
    if let Some(negative) = count.filter(|count| *count < 0) {
        return Err(format!(
            "`{at}` is `{negative}`, below zero; a count is 0 or more"
        ));
    }
    Ok(count)
}

fn whole_count(value: Option<&Json>, at: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(number)) => number
            .as_i64()
            // `21.0` is whole all the same.
            .or_else(|| number.as_f64().and_then(whole_number))
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

/// A value as messages quote it: text and numbers as written, other
/// kinds by name.
fn shown<O, L>(value: &Json<'_, O, L>) -> String {
    match value {
        Json::Text(text) => format!("`{text:?}`"),
        Json::Number(number) => format!("`{number}`"),
        Json::Bool(flag) => format!("`{flag}`"),
        other => other.kind().to_string(),
    }
}

/// A flag: a boolean, `0`/`1`, or `"0"`/`"1"`/`"true"`/`"false"`; absent,
/// null or empty is false. Anything else (`"True"`, `"yes"`, `0.4`) is
/// refused rather than guessed: read as false, a voicemail would be
/// routed as a missed call.
fn flag(value: Option<&Json>, at: &str) -> Result<bool, String> {
    match value {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(flag)) => Ok(*flag),
        Some(Json::Number(number)) if number.as_u64() == Some(0) => Ok(false),
        Some(Json::Number(number)) if number.as_u64() == Some(1) => Ok(true),
        Some(Json::Text(text)) if matches!(text.trim(), "" | "0" | "false") => Ok(false),
        Some(Json::Text(text)) if matches!(text.trim(), "1" | "true") => Ok(true),
        Some(other) => Err(format!(
            "`{at}` is {}, which is not a flag; write `true` or `false` (or `1` or `0`)",
            shown(other)
        )),
    }
}

/// Whether `Cdr.answered_at` is set: absent, null or empty is not; a date
/// and time is (with or without an offset: only its presence counts).
/// Anything else (`"0000-00-00 00:00:00"`, `"no"`, a number) is refused:
/// read as set, a missed call would count as answered.
fn answered_at(value: Option<&Json>, at: &str) -> Result<bool, String> {
    match value {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(false),
        Some(Json::Text(text)) if crate::vocabulary::time::is_date_time(text) => Ok(true),
        Some(other) => Err(format!(
            "`{at}` is {}, which is not a date and time; leave it out (or null) for a call nobody answered, or write it as `2026-11-23T10:00:00Z`",
            shown(other)
        )),
    }
}

/// Whether a call step or an agent call has status `answered`; a status
/// that is not text is refused.
fn answered(status: Option<&Json>, at: impl Display) -> Result<bool, String> {
    match status {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Text(status)) => Ok(status == "answered"),
        Some(other) => Err(format!(
            "`{at}` should be a status such as `answered`, found {}",
            shown(other)
        )),
    }
}

/// An object that may be absent or null; any other value there is
/// refused, never read as absent.
fn object_at<'r, O, L>(
    value: Option<&'r Json<'_, O, L>>,
    at: &str,
) -> Result<Option<&'r O>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(object)) => Ok(Some(object)),
        Some(other) => Err(format!(
            "`{at}` should be an object, found {}",
            shown(other)
        )),
    }
}

fn direction(value: Option<&Json>, at: &str) -> Result<Direction, String> {
    let name = text(value, at)?.ok_or_else(|| format!("`{at}` is missing"))?;
    Direction::ALL
        .into_iter()
        .find(|direction| direction.name() == name)
        .ok_or_else(|| format!("`{at}` is `{name}`, expected `incoming`, `outgoing` or `internal`"))
}

/// The tags of a record: `key` of each item of the list `at`, which
/// `field` picks from the item; `other` is the key the other record shape
/// names its tags by. An item that is not an object with `key` is
/// refused: a tag dropped silently would make `"vip" in tags` false.
fn tags<'a>(
    value: Option<&ListOf<'a, shape::Tag<'a>>>,
    (key, field): (&str, for<'t> fn(&'t shape::Tag<'a>) -> Option<&'t Json<'a>>),
    other: &str,
    at: &str,
) -> Result<Vec<Cow<'a, str>>, String> {
    let Some(list) = value.filter(|value| !matches!(value, Json::Null)) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.list() else {
        return Err(format!(
            "`{at}` should be a list of tags (`[{{\"{key}\": \"vip\"}}]`), found {}",
            list.kind()
        ));
    };
    let mut tags = Vec::with_capacity(list.len());
    for (index, tag) in list.iter().enumerate() {
        let Some(object) = tag.object() else {
            return Err(format!(
                "`{at}[{index}]` should be a tag object with `{key}` (`{{\"{key}\": \"vip\"}}`), found {}",
                shown(tag)
            ));
        };
        let name = field(object).filter(|name| !matches!(name, Json::Null));
        match text(name, format_args!("{at}[{index}].{key}"))? {
            Some(name) => tags.push(name),
            None if name.is_some() => {} // an empty name: no tag to match
            None => {
                let has_other = if other == "label" {
                    object.label.is_some()
                } else {
                    object.name.is_some()
                };
                let help = if has_other {
                    format!(
                        " (it has `{other}`, which is how the other record shape names its tags)"
                    )
                } else {
                    String::new()
                };
                return Err(format!("`{at}[{index}].{key}` is missing{help}"));
            }
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
    collect: Provenance,
}

impl<'c> Builder<'c> {
    fn new(context: &'c Context, collect: Provenance) -> Builder<'c> {
        Builder {
            context,
            facts: Vec::new(),
            collect,
        }
    }

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
                tags: fields.tags.into_iter().collect(),
                last_step: fields.last_step,
                contact: fields.contact,
                unknown_keys: UnknownKeys::default(),
                unknown_flow_keys: NestedKeys::default(),
                unknown_contact_keys: NestedKeys::default(),
            },
            facts: self.facts,
        }
    }

    /// Notes where a field came from; `from` is only written out when the
    /// facts are collected (callers pass `format_args!`, not `format!`).
    fn fact(&mut self, field: &'static str, value: Option<&str>, from: impl Display) {
        if self.collect == Provenance::Skip {
            return;
        }
        self.facts.push(Fact {
            field,
            value: value.map(str::to_string),
            from: from.to_string(),
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
                    format_args!(
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
                self.fact(
                    field,
                    Some(&id),
                    format_args!("agent `{id}` in {at} ({why})"),
                );
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
                self.fact("last_step.email", Some(&email), own_at);
                Some(email)
            }
            None => match self.context.voicemail_email_for(internal) {
                Some((key, email)) => {
                    let email = email.to_string();
                    self.fact(
                        "last_step.email",
                        Some(&email),
                        format_args!("`voicemail_email` `{key}`"),
                    );
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
                .map(|owner| (owner, "contact", id))
        });
        let found = by_contact.or_else(|| {
            let number = number?;
            owners
                .by_number
                .get(&number_key(number))
                .map(|owner| (owner, "number", number))
        });
        match found {
            Some((owner, by, key)) => {
                let owner = owner.clone();
                self.fact(
                    "contact.owner",
                    Some(&owner),
                    format_args!(
                        "the contact owners file `{}`, by {by} `{key}`",
                        owners.source
                    ),
                );
                Some(Cow::Owned(owner))
            }
            None => {
                self.fact(
                    "contact.owner",
                    None,
                    format_args!(
                        "neither the contact nor the number is in the contact owners file `{}`",
                        owners.source
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
