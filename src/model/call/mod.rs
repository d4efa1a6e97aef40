//! A call as the telephony system exports it.
//!
//! Strings borrow from the input line where JSON allows it (no escapes), so
//! reading a call allocates little. Only the *last* flow step is kept: it is
//! the only one any step or condition looks at, and keeping one step instead
//! of a list keeps memory flat however long a call flow is.

mod parts;
mod read;
mod values;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use crate::diagnostics::problem::{offset_of, Problem, ProblemCode};
use crate::diagnostics::source::Span;
use crate::vocabulary::{Direction, Status};
use parts::*;
pub(crate) use read::friendly_json_error;
use read::*;
pub(crate) use values::whole_number;

/// One exported call.
// Read by hand (`impl Deserialize` below), so that unknown keys are
// counted and near-misses refused; the schema attributes say what the
// reader accepts.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Call<'a> {
    /// The call's id in the telephony system.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::model::schema::TextOrNumber")
    )]
    pub id: Cow<'a, str>,
    /// Which way the call went.
    pub direction: Direction,
    /// How it ended.
    pub status: Status,
    /// The e-mail of the telephony user (agent) who had the call.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub agent: Option<Cow<'a, str>>,
    /// When the call started, RFC 3339 (`2026-11-23T10:00:00Z`).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub started_at: Option<Cow<'a, str>>,
    /// Talking time in seconds.
    pub duration_s: Option<i64>,
    /// The other party's number, E.164 (`+442071234567`).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub number: Option<Cow<'a, str>>,
    /// Its tags, as the telephony system exports them.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<crate::model::schema::TextOrNumber>>")
    )]
    pub tags: Tags<'a>,
    /// The last reached step of the call flow (`flow` in the input).
    #[cfg_attr(
        feature = "schema",
        schemars(
            rename = "flow",
            with = "Option<Vec<FlowStep<'a>>>",
            description = "The reached call-flow steps, in order; the rules look at the last one."
        )
    )]
    pub last_step: Option<FlowStep<'a>>,
    /// The contact called or calling, when known.
    pub contact: Option<Contact<'a>>,
    /// Top-level keys callassign does not read, in input order, for the
    /// batch summary (exporters add their own; none are silently dropped).
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown_keys: UnknownKeys<'a>,
    /// Keys inside the flow's steps that callassign does not read, each once.
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown_flow_keys: NestedKeys<'a>,
    /// Keys inside the contact that callassign does not read.
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown_contact_keys: NestedKeys<'a>,
}

/// A short list of texts whose first `INLINE` items live in the list
/// itself: a batch must not allocate per call for a call's tags or its
/// extra keys (exporters add a key or two, a call has a tag or two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineTexts<'a, const INLINE: usize> {
    inline: [Cow<'a, str>; INLINE],
    len: usize,
    /// Items past the inline ones; empty (and unallocated) for most calls.
    more: Vec<Cow<'a, str>>,
}

/// A call's tags.
pub type Tags<'a> = InlineTexts<'a, 3>;

/// The keys of a call that callassign does not read.
pub type UnknownKeys<'a> = InlineTexts<'a, 4>;

/// The keys inside a call's flow steps, or inside its contact, that
/// callassign does not read, each once.
pub(crate) type NestedKeys<'a> = InlineTexts<'a, 3>;

impl<const INLINE: usize> Default for InlineTexts<'_, INLINE> {
    fn default() -> Self {
        InlineTexts {
            inline: std::array::from_fn(|_| Cow::Borrowed("")),
            len: 0,
            more: Vec::new(),
        }
    }
}

impl<'a, const INLINE: usize> InlineTexts<'a, INLINE> {
    pub fn push(&mut self, text: Cow<'a, str>) {
        if self.len < INLINE {
            self.inline[self.len] = text;
            self.len += 1;
        } else {
            self.more.push(text);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len + self.more.len()
    }

    /// The texts, in input order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.texts().map(|text| text.as_ref())
    }

    /// The texts as read: borrowed from the input where it had no escapes.
    pub fn texts(&self) -> impl Iterator<Item = &Cow<'a, str>> {
        self.inline[..self.len].iter().chain(&self.more)
    }

    fn into_owned(self) -> InlineTexts<'static, INLINE> {
        let own = |text: Cow<'a, str>| Cow::Owned(text.into_owned());
        InlineTexts {
            inline: self.inline.map(own),
            len: self.len,
            more: self.more.into_iter().map(own).collect(),
        }
    }
}

impl<const INLINE: usize, const N: usize> PartialEq<[&str; N]> for InlineTexts<'_, INLINE> {
    fn eq(&self, texts: &[&str; N]) -> bool {
        self.len() == N && self.iter().eq(texts.iter().copied())
    }
}

impl<'a, const INLINE: usize> FromIterator<Cow<'a, str>> for InlineTexts<'a, INLINE> {
    fn from_iter<I: IntoIterator<Item = Cow<'a, str>>>(texts: I) -> Self {
        let mut list = InlineTexts::default();
        for text in texts {
            list.push(text);
        }
        list
    }
}

/// The top-level keys of a call, as the input spells them; the first
/// [`REQUIRED_KEYS`] are required.
pub const CALL_KEYS: [&str; 10] = [
    "id",
    "direction",
    "status",
    "agent",
    "started_at",
    "duration_s",
    "number",
    "tags",
    "flow",
    "contact",
];

/// How many of [`CALL_KEYS`], from the first, every call must have.
pub const REQUIRED_KEYS: usize = 3;

/// Whether a key is one that only CloudTalk's API records have: a native
/// read of such a record says to read it as one. A `match`, like
/// [`known_key`]: every unknown key of a batch goes through it.
pub(crate) fn is_cloudtalk_key(key: &str) -> bool {
    matches!(key, "Cdr" | "cdr_id" | "call_steps" | "responseData")
}

/// Where one field of a call came from, when the call was read from a
/// telephony system's own record (CloudTalk): `--explain` shows these.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fact {
    /// The call field, as rule files name it (`status`, `last_step.email`).
    pub field: &'static str,
    /// The value it got; absent when the source gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where it came from (`` `Cdr.is_voicemail` ``, the agents list, …).
    pub from: String,
}

/// A reached call-flow step. `type` is open: unknown types are kept and
/// never carry an assignee.
// Read as a call reads its steps, in `parts.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlowStep<'a> {
    /// The step's `type` (`call_to_agent`, `voicemail`, …), kept even when unknown.
    #[cfg_attr(
        feature = "schema",
        schemars(rename = "type", with = "crate::model::schema::TextOrNumber")
    )]
    pub kind: Cow<'a, str>,
    /// The agent the step rang, by e-mail.
    #[cfg_attr(
        feature = "schema",
        schemars(default, with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub agent: Option<Cow<'a, str>>,
    /// The e-mail a voicemail step sends to.
    #[cfg_attr(
        feature = "schema",
        schemars(default, with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub email: Option<Cow<'a, str>>,
}

/// The contact the call was with, as the integrated app knows it.
// Read as a call reads its contact, in `parts.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Contact<'a> {
    /// The contact's id in the integrated app.
    #[cfg_attr(
        feature = "schema",
        schemars(default, with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub id: Option<Cow<'a, str>>,
    /// An integration user **id**, not an e-mail.
    #[cfg_attr(
        feature = "schema",
        schemars(default, with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub owner: Option<Cow<'a, str>>,
    /// The contact's favorite agent, by e-mail.
    #[cfg_attr(
        feature = "schema",
        schemars(default, with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub favorite_agent: Option<Cow<'a, str>>,
}

/// What JSON text that is not an object holds, named for an error
/// message; `None` for an object (or text that is not JSON at all).
fn not_an_object(trimmed: &str) -> Option<&'static str> {
    match trimmed.as_bytes().first() {
        Some(b'[') => Some("a list"),
        Some(b'"') => Some("a string"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        _ if trimmed == "true" || trimmed == "false" => Some("a boolean"),
        _ if trimmed == "null" => Some("null"),
        _ => None,
    }
}

impl<'a> Call<'a> {
    /// Reads one call from JSON.
    ///
    /// ```
    /// let call = callassign::model::Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed"}"#).unwrap();
    /// assert_eq!(call.id, "c-1");
    /// assert!(call.last_step.is_none());
    /// ```
    pub fn from_json(json: &'a str) -> Result<Call<'a>, serde_json::Error> {
        let mut call = Call::bare(Direction::Incoming, Status::Answered);
        Call::read_json_into(json, &mut call)?;
        Ok(call)
    }

    /// Reads one call from JSON, refused as a [`Problem`] with a code
    /// (`callassign::unreadable_call`), the words of the error line a
    /// batch writes for it (``\`duration\` is not a call key; did you mean
    /// \`duration_s\`? (column 68)``), and the span where the reader
    /// stopped: what a service answers a call it cannot read with.
    /// [`Call::from_json`] gives serde's own error instead.
    ///
    /// ```
    /// use callassign::{Call, ProblemCode};
    ///
    /// let call = Call::read_json(r#"{"id":"c-1","direction":"incoming","status":"missed"}"#).unwrap();
    /// assert_eq!(call.id, "c-1");
    ///
    /// let text = r#"{"id":"c-2","direction":"sideways","status":"missed"}"#;
    /// let problem = Call::read_json(text).unwrap_err();
    /// assert_eq!(problem.code, ProblemCode::UnreadableCall);
    /// assert_eq!(problem.code.name(), "callassign::unreadable_call");
    /// assert_eq!(
    ///     problem.message,
    ///     "direction: unknown value `sideways`, expected `incoming`, `outgoing` or `internal` (column 34)"
    /// );
    /// assert_eq!(problem.line_col(text), Some((1, 34)));
    /// ```
    pub fn read_json(json: &'a str) -> Result<Call<'a>, Problem> {
        Call::from_json(json).map_err(|error| {
            let problem = Problem::new(
                ProblemCode::UnreadableCall,
                read::friendly_json_error(&error.to_string()),
                "",
            );
            match offset_of(json, error.line(), error.column()) {
                Some(at) => problem.at(Span::new(at, at)),
                None => problem,
            }
        })
    }

    /// Reads one call from JSON into `call`, which must be fresh from
    /// [`Call::bare`]: a batch reads each line into a call of its own
    /// stack frame rather than moving one out of serde (see [`CallSeed`]).
    pub(crate) fn read_json_into(
        json: &'a str,
        call: &mut Call<'a>,
    ) -> Result<(), serde_json::Error> {
        // serde also reads a struct from a positional array; a call is
        // only ever an object. (Most lines start with its brace.)
        if !json.starts_with('{') {
            if let Some(found) = not_an_object(json.trim()) {
                return Err(<serde_json::Error as de::Error>::custom(format!(
                    "expected a call object `{{…}}`, found {found}"
                )));
            }
        }
        let mut deserializer = serde_json::Deserializer::from_str(json);
        de::DeserializeSeed::deserialize(CallSeed(call), &mut deserializer)?;
        deserializer.end()
    }

    /// Reads one call from YAML (or JSON, which is YAML too). A call that
    /// cannot be read is a [`Problem`] that points where the reader stopped.
    pub fn from_yaml(yaml: &str) -> Result<Call<'static>, Problem> {
        Call::read_yaml(yaml).map_err(|error| {
            let problem = Problem::new(ProblemCode::InvalidInput, error.to_string(), "");
            match error.location() {
                Some(at) => problem.at(Span::new(at.index(), at.index())),
                None => problem,
            }
        })
    }

    /// [`Call::from_yaml`] with the YAML reader's own error, for the
    /// readers that say where in a batch it is.
    pub(crate) fn read_yaml(yaml: &str) -> Result<Call<'static>, serde_yaml::Error> {
        let call: Call<'_> = crate::files::yaml::from_str(yaml)?;
        Ok(call.into_owned())
    }

    /// A call with only a direction and a status, every other field absent.
    pub fn bare(direction: Direction, status: Status) -> Call<'static> {
        Call {
            id: Cow::Borrowed(""),
            direction,
            status,
            agent: None,
            started_at: None,
            duration_s: None,
            number: None,
            tags: Tags::default(),
            last_step: None,
            contact: None,
            unknown_keys: UnknownKeys::default(),
            unknown_flow_keys: NestedKeys::default(),
            unknown_contact_keys: NestedKeys::default(),
        }
    }

    /// Whether the call, its flow steps or its contact have keys
    /// callassign does not read.
    pub fn has_unknown_keys(&self) -> bool {
        !(self.unknown_keys.is_empty()
            && self.unknown_flow_keys.is_empty()
            && self.unknown_contact_keys.is_empty())
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Call<'static> {
        fn own(text: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(text.into_owned())
        }
        Call {
            id: own(self.id),
            direction: self.direction,
            status: self.status,
            agent: self.agent.map(own),
            started_at: self.started_at.map(own),
            duration_s: self.duration_s,
            number: self.number.map(own),
            tags: self.tags.into_owned(),
            last_step: self.last_step.map(|step| FlowStep {
                kind: own(step.kind),
                agent: step.agent.map(own),
                email: step.email.map(own),
            }),
            contact: self.contact.map(|contact| Contact {
                id: contact.id.map(own),
                owner: contact.owner.map(own),
                favorite_agent: contact.favorite_agent.map(own),
            }),
            unknown_keys: self.unknown_keys.into_owned(),
            unknown_flow_keys: self.unknown_flow_keys.into_owned(),
            unknown_contact_keys: self.unknown_contact_keys.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
