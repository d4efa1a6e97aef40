//! A call as the telephony system exports it.
//!
//! Strings borrow from the input line where JSON allows it (no escapes), so
//! reading a call allocates little. Only the *last* flow step is kept: it is
//! the only one any step or condition looks at, and keeping one step instead
//! of a list keeps memory flat however long a call flow is.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

words! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Direction {
        Incoming = "incoming",
        Outgoing = "outgoing",
        /// Between two telephony users of the same company (CloudTalk's
        /// `internal` calls).
        Internal = "internal",
    }
}

impl Direction {
    /// This direction's bit in a [`crate::semantics::plan::Condition::Direction`] set.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

words! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Status {
        Answered = "answered",
        Missed = "missed",
        Voicemail = "voicemail",
    }
}

impl Status {
    /// This status's bit in a [`crate::semantics::plan::Condition::Status`] set.
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Reads a closed set of words, saying which words when it meets anything
/// else (serde's derived enums say little when given a number).
struct WordVisitor<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
}

impl<'de, T: Copy> Visitor<'de> for WordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .all
            .iter()
            .map(|value| format!("`{}`", (self.name)(*value)))
            .collect();
        match words.split_last() {
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} or {last}", rest.join(", ")),
            None => Ok(()),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match self.all.iter().find(|value| (self.name)(**value) == v) {
            Some(value) => Ok(*value),
            None => Err(E::custom(format_args!(
                "unknown value `{v}`, expected {}",
                ExpectingWords(&self)
            ))),
        }
    }
}

/// `expecting` as a value, for messages.
struct ExpectingWords<'v, T: 'static>(&'v WordVisitor<T>);

impl<T: Copy> fmt::Display for ExpectingWords<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Visitor::expecting(self.0, f)
    }
}

impl<'de> Deserialize<'de> for Direction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WordVisitor {
            all: &Direction::ALL,
            name: Direction::name,
        })
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WordVisitor {
            all: &Status::ALL,
            name: Status::name,
        })
    }
}

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
        schemars(with = "crate::runtime::model::schema::TextOrNumber")
    )]
    pub id: Cow<'a, str>,
    pub direction: Direction,
    pub status: Status,
    /// The e-mail of the telephony user (agent) who had the call.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub agent: Option<Cow<'a, str>>,
    /// When the call started, RFC 3339 (`2026-11-23T10:00:00Z`).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub started_at: Option<Cow<'a, str>>,
    /// Talking time in seconds.
    pub duration_s: Option<i64>,
    /// The other party's number, E.164 (`+442071234567`).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub number: Option<Cow<'a, str>>,
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<crate::runtime::model::schema::TextOrNumber>>")
    )]
    pub tags: Vec<Cow<'a, str>>,
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
    pub contact: Option<Contact<'a>>,
    /// Top-level keys callassign does not read, in input order, for the
    /// batch summary (exporters add their own; none are silently dropped).
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown_keys: UnknownKeys<'a>,
}

/// The keys of a call that callassign does not read. The first few are
/// kept inline: exporters add a key or two to every call (a recording
/// link, a uuid), and a batch must not allocate per call for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownKeys<'a> {
    inline: [Cow<'a, str>; UnknownKeys::INLINE],
    len: usize,
    /// Keys past the inline ones; empty (and unallocated) for most calls.
    more: Vec<Cow<'a, str>>,
}

impl<'a> UnknownKeys<'a> {
    const INLINE: usize = 4;

    pub fn push(&mut self, key: Cow<'a, str>) {
        if self.len < Self::INLINE {
            self.inline[self.len] = key;
            self.len += 1;
        } else {
            self.more.push(key);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len + self.more.len()
    }

    /// The keys, in input order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.inline[..self.len]
            .iter()
            .chain(&self.more)
            .map(|key| key.as_ref())
    }

    fn into_owned(self) -> UnknownKeys<'static> {
        let own = |key: Cow<'a, str>| Cow::Owned(key.into_owned());
        UnknownKeys {
            inline: self.inline.map(own),
            len: self.len,
            more: self.more.into_iter().map(own).collect(),
        }
    }
}

/// The top-level keys of a call, as the input spells them.
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

/// Whether a key is one that only CloudTalk's API records have: a native
/// read of such a record says to read it as one. A `match`, like
/// [`known_key`]: every unknown key of a batch goes through it.
fn is_cloudtalk_key(key: &str) -> bool {
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlowStep<'a> {
    #[serde(borrow, rename = "type", deserialize_with = "step_type")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::runtime::model::schema::TextOrNumber")
    )]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "agent")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub agent: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "email")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub email: Option<Cow<'a, str>>,
}

/// The contact the call was with, as the integrated app knows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Contact<'a> {
    #[serde(borrow, default, deserialize_with = "contact_id")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub id: Option<Cow<'a, str>>,
    /// An integration user **id**, not an e-mail.
    #[serde(borrow, default, deserialize_with = "owner")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub owner: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "favorite_agent")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::runtime::model::schema::TextOrNumber>")
    )]
    pub favorite_agent: Option<Cow<'a, str>>,
}

/// The position of a key in [`CALL_KEYS`]. A `match`, which compiles to
/// a length test and a compare, as serde's derived code does: every call
/// of a batch reads these keys.
fn known_key(key: &str) -> Option<usize> {
    Some(match key {
        "id" => 0,
        "direction" => 1,
        "status" => 2,
        "agent" => 3,
        "started_at" => 4,
        "duration_s" => 5,
        "number" => 6,
        "tags" => 7,
        "flow" => 8,
        "contact" => 9,
        _ => return None,
    })
}

/// A top-level key of a call.
enum Key<'de> {
    Known(usize),
    Unknown(Cow<'de, str>),
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(match known_key(v) {
                    Some(index) => Key::Known(index),
                    None => Key::Unknown(Cow::Borrowed(v)),
                })
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(match known_key(v) {
                    Some(index) => Key::Known(index),
                    None => Key::Unknown(Cow::Owned(v.to_owned())),
                })
            }
        }

        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Wrappers that read one field's value the way the call reads it.
#[derive(Deserialize)]
struct TextValue<'a>(#[serde(borrow, deserialize_with = "text")] Cow<'a, str>);
#[derive(Deserialize)]
struct OptionalTextValue<'a>(
    #[serde(borrow, deserialize_with = "optional_text")] Option<Cow<'a, str>>,
);
#[derive(Deserialize)]
struct TagsValue<'a>(#[serde(borrow, deserialize_with = "tags")] Vec<Cow<'a, str>>);
#[derive(Deserialize)]
struct FlowValue<'a>(#[serde(borrow, deserialize_with = "last_flow_step")] Option<FlowStep<'a>>);
#[derive(Deserialize)]
struct ContactValue<'a>(#[serde(borrow, deserialize_with = "contact")] Option<Contact<'a>>);

/// serde's errors do not say which field they are about; a batch error
/// line must. A field read with its name in front of its errors: nested
/// fields read `contact.owner: …`.
fn named<'de, D: Deserializer<'de>, T>(
    field: &'static str,
    read: impl FnOnce(D) -> Result<T, D::Error>,
    deserializer: D,
) -> Result<T, D::Error> {
    read(deserializer).map_err(|error| named_error(field, error))
}

/// `error` with the field's name in front.
fn named_error<E: de::Error>(field: &str, error: E) -> E {
    if std::any::type_name::<E>().starts_with("serde_yaml::") {
        // serde_yaml puts the field's path in front of its errors itself.
        return error;
    }
    {
        let message = error.to_string();
        // The position is added again where the whole line is read.
        let message = strip_position(&message);
        let is_field_path = |head: &str| {
            !head.is_empty()
                && head
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.')
        };
        match message.split_once(": ") {
            Some((head, rest)) if is_field_path(head) => {
                E::custom(format_args!("{field}.{head}: {rest}"))
            }
            _ => E::custom(format_args!("{field}: {message}")),
        }
    }
}

/// A message without serde_json's ` at line L column C` suffix.
pub fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at)
            if message[at + " at line ".len()..]
                .split(" column ")
                .all(|number| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())) =>
        {
            &message[..at]
        }
        _ => message,
    }
}

/// One function per field, each naming its field in errors (serde's
/// `deserialize_with` takes a function path, not a closure).
macro_rules! named_fields {
    ($($name:ident: $field:literal => $read:expr, $value:ty;)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$value, D::Error> {
            named($field, $read, deserializer)
        }
    )*};
}

named_fields! {
    step_type: "type" => text, Cow<'de, str>;
    agent: "agent" => optional_text, Option<Cow<'de, str>>;
    email: "email" => optional_text, Option<Cow<'de, str>>;
    contact_id: "id" => optional_text, Option<Cow<'de, str>>;
    owner: "owner" => optional_text, Option<Cow<'de, str>>;
    favorite_agent: "favorite_agent" => optional_text, Option<Cow<'de, str>>;
}

/// A whole number of seconds. serde would say "expected i64".
struct WholeSeconds(i64);

impl<'de> Deserialize<'de> for WholeSeconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = i64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of seconds")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(format_args!("`{v}` seconds is out of range")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
                // `1e23`, not twenty-four digits.
                let shown = if v.abs() >= 1e15 {
                    format!("{v:e}")
                } else {
                    v.to_string()
                };
                Err(E::custom(format_args!(
                    "`{shown}` is not a whole number of seconds"
                )))
            }
        }

        deserializer
            .deserialize_any(SecondsVisitor)
            .map(WholeSeconds)
    }
}

/// Why a call's keys cannot be trusted, once the whole object is read: a
/// CloudTalk record read as a native call, or a misspelt key (a misspelt
/// key silently ignored misroutes calls). Each unknown key is looked at
/// once, as it is read ([`SuspiciousKeys::note`]); walking the kept keys
/// again after the object cost more than the looking.
#[derive(Default)]
struct SuspiciousKeys {
    /// The first key only CloudTalk records have.
    cloudtalk: Option<String>,
    /// The first near miss of a call key, with that call key.
    near_miss: Option<(String, &'static str)>,
}

impl SuspiciousKeys {
    fn note(&mut self, key: &str) {
        if self.cloudtalk.is_some() {
            return;
        }
        if is_cloudtalk_key(key) {
            self.cloudtalk = Some(key.to_string());
        } else if self.near_miss.is_none() {
            self.near_miss = near_miss(key).map(|known| (key.to_string(), known));
        }
    }

    /// The problem, CloudTalk keys first: they say more.
    fn problem(self) -> Option<String> {
        if let Some(key) = self.cloudtalk {
            return Some(format!(
                "this is a CloudTalk record (it has `{key}`), not a call; read it with `--input cloudtalk`"
            ));
        }
        self.near_miss
            .map(|(key, known)| format!("`{key}` is not a call key; did you mean `{known}`?"))
    }
}

thread_local! {
    /// Unknown keys already found not to be near misses. An export adds
    /// the same key or two to every call; the edit distances are worked out
    /// once per key instead of once per call. Bounded, so a batch of ever
    /// new keys costs memory no more than this.
    static NOT_NEAR_MISSES: std::cell::RefCell<Vec<Box<str>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The known key an unknown one is a slip away from, if any.
fn near_miss(key: &str) -> Option<&'static str> {
    const REMEMBERED: usize = 64;
    let remembered = NOT_NEAR_MISSES.with(|keys| keys.borrow().iter().any(|own| **own == *key));
    if remembered {
        return None;
    }
    let known = crate::diagnostics::suggest::did_you_mean(key, CALL_KEYS);
    if known.is_none() {
        NOT_NEAR_MISSES.with(|keys| {
            let mut keys = keys.borrow_mut();
            if keys.len() < REMEMBERED {
                keys.push(key.into());
            }
        });
    }
    known
}

impl<'de: 'a, 'a> Deserialize<'de> for Call<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for CallVisitor<'a> {
            type Value = Call<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a call object")
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Call<'a>, A::Error> {
                fn once<T, E: de::Error>(
                    slot: &mut Option<T>,
                    value: T,
                    key: &'static str,
                ) -> Result<(), E> {
                    if slot.is_some() {
                        return Err(E::duplicate_field(key));
                    }
                    *slot = Some(value);
                    Ok(())
                }
                let mut id = None;
                let mut direction = None;
                let mut status = None;
                let mut agent = None;
                let mut started_at = None;
                let mut duration_s = None;
                let mut number = None;
                let mut tags = None;
                let mut last_step = None;
                let mut contact = None;
                let mut unknown_keys = UnknownKeys::default();
                let mut suspicious = SuspiciousKeys::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let index = match key {
                        Key::Known(index) => index,
                        Key::Unknown(name) => {
                            map.next_value::<de::IgnoredAny>()?;
                            suspicious.note(&name);
                            unknown_keys.push(name);
                            continue;
                        }
                    };
                    let name = CALL_KEYS[index];
                    // serde's errors do not say which field they are about;
                    // a batch error line must.
                    let named = |error: A::Error| named_error(name, error);
                    match index {
                        0 => once(
                            &mut id,
                            map.next_value::<TextValue>().map_err(named)?.0,
                            name,
                        )?,
                        1 => once(
                            &mut direction,
                            map.next_value::<Direction>().map_err(named)?,
                            name,
                        )?,
                        2 => once(
                            &mut status,
                            map.next_value::<Status>().map_err(named)?,
                            name,
                        )?,
                        3 => once(
                            &mut agent,
                            map.next_value::<OptionalTextValue>().map_err(named)?.0,
                            name,
                        )?,
                        4 => {
                            let text = map.next_value::<OptionalTextValue>().map_err(named)?.0;
                            if let Some(text) = &text {
                                crate::runtime::time::check_started_at(text)
                                    .map_err(|message| named(de::Error::custom(message)))?;
                            }
                            once(&mut started_at, text, name)?;
                        }
                        5 => once(
                            &mut duration_s,
                            map.next_value::<Option<WholeSeconds>>()
                                .map_err(named)?
                                .map(|seconds| seconds.0),
                            name,
                        )?,
                        6 => once(
                            &mut number,
                            map.next_value::<OptionalTextValue>().map_err(named)?.0,
                            name,
                        )?,
                        7 => once(
                            &mut tags,
                            map.next_value::<TagsValue>().map_err(named)?.0,
                            name,
                        )?,
                        8 => once(
                            &mut last_step,
                            map.next_value::<FlowValue>().map_err(named)?.0,
                            name,
                        )?,
                        _ => once(
                            &mut contact,
                            map.next_value::<ContactValue>().map_err(named)?.0,
                            name,
                        )?,
                    }
                }
                if let Some(problem) = suspicious.problem() {
                    return Err(de::Error::custom(problem));
                }
                Ok(Call {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    direction: direction.ok_or_else(|| de::Error::missing_field("direction"))?,
                    status: status.ok_or_else(|| de::Error::missing_field("status"))?,
                    agent: agent.flatten(),
                    started_at: started_at.flatten(),
                    duration_s: duration_s.flatten(),
                    number: number.flatten(),
                    tags: tags.unwrap_or_default(),
                    last_step: last_step.flatten(),
                    contact: contact.flatten(),
                    unknown_keys,
                })
            }
        }

        deserializer.deserialize_map(CallVisitor(std::marker::PhantomData))
    }
}

impl<'a> Call<'a> {
    /// Reads one call from JSON.
    ///
    /// ```
    /// let call = callassign::runtime::model::Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed"}"#).unwrap();
    /// assert_eq!(call.id, "c-1");
    /// assert!(call.last_step.is_none());
    /// ```
    pub fn from_json(json: &'a str) -> Result<Call<'a>, serde_json::Error> {
        // serde also reads a struct from a positional array; a call is
        // only ever an object.
        let trimmed = json.trim();
        let found = match trimmed.as_bytes().first() {
            Some(b'[') => Some("a list"),
            Some(b'"') => Some("a string"),
            Some(b'-' | b'0'..=b'9') => Some("a number"),
            _ if trimmed == "true" || trimmed == "false" => Some("a boolean"),
            _ if trimmed == "null" => Some("null"),
            _ => None,
        };
        if let Some(found) = found {
            return Err(<serde_json::Error as de::Error>::custom(format!(
                "expected a call object `{{…}}`, found {found}"
            )));
        }
        serde_json::from_str(json)
    }

    /// Reads one call from YAML (or JSON, which is YAML too).
    pub fn from_yaml(yaml: &str) -> Result<Call<'static>, serde_yaml::Error> {
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
            tags: Vec::new(),
            last_step: None,
            contact: None,
            unknown_keys: UnknownKeys::default(),
        }
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
            tags: self.tags.into_iter().map(own).collect(),
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
        }
    }
}

/// Text that may also arrive as a number (ids often do).
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

struct OptionalTextVisitor;

impl<'de> Visitor<'de> for OptionalTextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        text(deserializer).map(Some)
    }
}

fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    deserializer.deserialize_option(OptionalTextVisitor)
}

fn tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Tag<'a>(#[serde(borrow, deserialize_with = "text")] Cow<'a, str>);
    let tags: Option<Vec<Tag<'de>>> = Option::deserialize(deserializer)?;
    Ok(tags
        .unwrap_or_default()
        .into_iter()
        .map(|tag| tag.0)
        .collect())
}

/// Reads the `flow` array keeping only its last element.
fn last_flow_step<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FlowStep<'de>>, D::Error> {
    struct LastStep;

    impl<'de> Visitor<'de> for LastStep {
        type Value = Option<FlowStep<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of call-flow steps or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(LastStep)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut last = None;
            while let Some(ObjectOnly(step)) = seq.next_element::<ObjectOnly<FlowStep<'de>>>()? {
                last = Some(step);
            }
            Ok(last)
        }
    }

    deserializer.deserialize_option(LastStep)
}

/// A struct read only from an object. serde's derived structs also accept
/// a positional array (`["42", "hs-7"]` as a contact), which no export
/// means; this refuses it.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de> + Named> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapOnly<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Named> Visitor<'de> for MapOnly<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::NAME)
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(MapOnly(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// What error messages call a kind of object.
trait Named {
    const NAME: &'static str;
}

impl Named for FlowStep<'_> {
    const NAME: &'static str = "a flow step object";
}

impl Named for Contact<'_> {
    const NAME: &'static str = "a contact object";
}

fn contact<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Contact<'de>>, D::Error> {
    Ok(Option::<ObjectOnly<Contact<'de>>>::deserialize(deserializer)?.map(|object| object.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_design_example() {
        let json = r#"{
          "id": "c-1001", "direction": "incoming", "status": "missed", "agent": "alice@acme.com",
          "started_at": "2026-11-23T10:00:00Z", "duration_s": 0, "number": "+442071234567", "tags": ["vip"],
          "flow": [
            {"type": "welcome_message"}, {"type": "ivr", "choice": "2"},
            {"type": "call_to_group", "group": "Support", "agent": null},
            {"type": "call_to_agent", "agent": "bob@acme.com"},
            {"type": "voicemail", "email": "support@acme.com"}
          ],
          "contact": {"id": "42", "owner": "hs-7", "favorite_agent": "dave@acme.com"}
        }"#;
        let call = Call::from_json(json).unwrap();
        assert_eq!(call.status, Status::Missed);
        let last = call.last_step.unwrap();
        assert_eq!(last.kind, "voicemail");
        assert_eq!(last.email.as_deref(), Some("support@acme.com"));
        assert_eq!(call.tags, ["vip"]);
        assert_eq!(call.contact.unwrap().owner.as_deref(), Some("hs-7"));
    }

    #[test]
    fn absent_null_and_unknown_fields_are_accepted() {
        let json = r#"{"id": 17, "direction": "outgoing", "status": "answered", "agent": null,
                       "flow": null, "tags": null, "contact": {"owner": 123}, "recording": {"url": "x"}}"#;
        let call = Call::from_json(json).unwrap();
        assert_eq!(call.id, "17");
        assert!(call.agent.is_none() && call.last_step.is_none() && call.tags.is_empty());
        assert_eq!(call.contact.unwrap().owner.as_deref(), Some("123"));
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let call = Call::from_json(
            r#"{"id":"c-1","direction":"incoming","status":"missed","agent":"a@b.c"}"#,
        )
        .unwrap();
        assert!(matches!(call.id, Cow::Borrowed(_)));
        assert!(matches!(call.agent, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn nested_objects_are_not_read_from_arrays() {
        let contact = Call::from_json(
            r#"{"id":"c","direction":"incoming","status":"missed","contact":["42","hs-7"]}"#,
        )
        .unwrap_err();
        assert_eq!(
            contact.to_string(),
            "contact: invalid type: sequence, expected a contact object at line 1 column 61"
        );
        let step = Call::from_json(
            r#"{"id":"c","direction":"incoming","status":"missed","flow":[["voicemail"]]}"#,
        )
        .unwrap_err();
        assert!(
            step.to_string()
                .starts_with("flow: invalid type: sequence, expected a flow step object"),
            "{step}"
        );
    }

    #[test]
    fn known_keys_are_found_where_call_keys_lists_them() {
        for (index, key) in CALL_KEYS.iter().enumerate() {
            assert_eq!(known_key(key), Some(index), "{key}");
        }
        assert_eq!(known_key("Status"), None);
    }

    #[test]
    fn unknown_keys_are_kept_in_order_and_near_misses_refused() {
        let call = Call::from_json(
            r#"{"id":"c","direction":"internal","status":"missed","uuid":"u","recording":{"a":[1]}}"#,
        )
        .unwrap();
        assert_eq!(call.direction, Direction::Internal);
        assert_eq!(
            call.unknown_keys.iter().collect::<Vec<_>>(),
            ["uuid", "recording"]
        );
        let many = Call::from_json(
            r#"{"id":"c","direction":"internal","status":"missed","a":1,"b":2,"c":3,"e":4,"f":5,"g":6}"#,
        )
        .unwrap();
        assert_eq!(many.unknown_keys.len(), 6);
        assert_eq!(
            many.into_owned().unknown_keys.iter().collect::<Vec<_>>(),
            ["a", "b", "c", "e", "f", "g"]
        );
        let error =
            Call::from_json(r#"{"id":"c","direction":"incoming","status":"missed","duration":3}"#)
                .unwrap_err();
        assert!(error
            .to_string()
            .starts_with("`duration` is not a call key; did you mean `duration_s`?"));
        let error =
            Call::from_json(r#"{"id":"c","id":"d","direction":"incoming","status":"missed"}"#)
                .unwrap_err();
        assert!(
            error.to_string().starts_with("duplicate field `id`"),
            "{error}"
        );
        let error = Call::from_json(r#"{"id":"c","status":"missed"}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("missing field `direction`"),
            "{error}"
        );
    }

    #[test]
    fn a_cloudtalk_key_is_named_before_near_misses_and_the_first_near_miss_is_named() {
        let error = Call::from_json(
            r#"{"id":"c","direction":"incoming","status":"missed","flows":[],"cdr_id":1,"Cdr":{}}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "this is a CloudTalk record (it has `cdr_id`), not a call; read it with `--input cloudtalk`"
            ),
            "{error}"
        );
        let error = Call::from_json(
            r#"{"id":"c","direction":"incoming","status":"missed","uuid":1,"Status":"x","flows":[]}"#,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`Status` is not a call key; did you mean `status`?"),
            "{error}"
        );
    }

    #[test]
    fn near_misses_are_found_the_same_the_second_time() {
        for _ in 0..2 {
            assert_eq!(near_miss("recording"), None);
            assert_eq!(near_miss("duration"), Some("duration_s"));
            assert_eq!(near_miss("Status"), Some("status"));
        }
    }

    #[test]
    fn yaml_calls_are_read_too() {
        let call = Call::from_yaml("id: c-9\ndirection: incoming\nstatus: voicemail\nflow:\n  - type: voicemail\n    email: x@y.z\n").unwrap();
        assert_eq!(call.last_step.unwrap().email.as_deref(), Some("x@y.z"));
    }
}
