//! The JSON of CloudTalk records, read straight from the text into typed
//! structs whose strings borrow from it.
//!
//! A `serde_json::Value` tree allocated a map per object and a `String` per
//! key and per value, which made CloudTalk input cost twice native input.
//! These structs hold only the keys the mapping reads (others are skipped
//! unparsed, since the vendor adds fields), and every value is a [`Json`]:
//! whatever the record holds there is kept as it is, so the mapping in
//! [`super`] still decides what is wrong and says so in its own words,
//! exactly as it did with the tree. A key given twice keeps its last value,
//! as the tree did.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// One JSON value as the mapping looks at it: scalars as they are (text
/// borrowed from the input when it has no escapes), an object read as `O`
/// and a list as `L`. [`IgnoredAny`] skips a shape the mapping never reads
/// into, keeping only which kind of value was there.
pub(super) enum Json<'a, O = IgnoredAny, L = IgnoredAny> {
    Null,
    Bool(bool),
    Number(Number),
    Text(Cow<'a, str>),
    List(L),
    Object(O),
}

/// A list of `T`, each item whatever JSON it is.
pub(super) type ListOf<'a, T> = Json<'a, IgnoredAny, Vec<Json<'a, T>>>;

impl<O, L> Json<'_, O, L> {
    /// The kind of value, as messages name it.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::Text(_) => "a string",
            Json::List(_) => "a list",
            Json::Object(_) => "an object",
        }
    }

    pub(super) fn object(&self) -> Option<&O> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub(super) fn list(&self) -> Option<&L> {
        match self {
            Json::List(list) => Some(list),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a, O: Deserialize<'de>, L: Deserialize<'de>> Deserialize<'de> for Json<'a, O, L> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor(PhantomData))
    }
}

struct JsonVisitor<'a, O, L>(PhantomData<(Cow<'a, str>, O, L)>);

impl<'de: 'a, 'a, O: Deserialize<'de>, L: Deserialize<'de>> Visitor<'de> for JsonVisitor<'a, O, L> {
    type Value = Json<'a, O, L>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // As `serde_json::Value` reads it.
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::Text(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        L::deserialize(SeqAccessDeserializer::new(seq)).map(Json::List)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        O::deserialize(MapAccessDeserializer::new(map)).map(Json::Object)
    }
}

/// An object with the given keys, each `None` when absent. Other keys are
/// skipped; a key given twice keeps its last value.
macro_rules! object {
    ($(#[$doc:meta])* $name:ident<$a:lifetime> { $($field:ident: $type:ty = $key:literal,)* }) => {
        $(#[$doc])*
        #[derive(Default)]
        pub(super) struct $name<$a> {
            $(pub(super) $field: Option<$type>,)*
        }

        impl<'de: $a, $a> Deserialize<'de> for $name<$a> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[allow(non_camel_case_types)]
                enum Key {
                    $($field,)*
                    Other,
                }

                struct KeyVisitor;

                impl Visitor<'_> for KeyVisitor {
                    type Value = Key;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a key")
                    }

                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                        Ok(match v {
                            $($key => Key::$field,)*
                            _ => Key::Other,
                        })
                    }
                }

                impl<'de> Deserialize<'de> for Key {
                    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        deserializer.deserialize_identifier(KeyVisitor)
                    }
                }

                struct ObjectVisitor<$a>(PhantomData<&$a ()>);

                impl<'de: $a, $a> Visitor<'de> for ObjectVisitor<$a> {
                    type Value = $name<$a>;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object")
                    }

                    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                        let mut object = $name::default();
                        while let Some(key) = map.next_key::<Key>()? {
                            match key {
                                $(Key::$field => object.$field = Some(map.next_value()?),)*
                                Key::Other => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(object)
                    }
                }

                deserializer.deserialize_map(ObjectVisitor(PhantomData))
            }
        }
    };
}

object! {
    /// A top-level record of either shape, or a whole list response: their
    /// keys differ, so one struct reads them all.
    Record<'a> {
        // A call-history item.
        cdr: Json<'a, Cdr<'a>> = "Cdr",
        history_contact: Json<'a, HistoryContact<'a>> = "Contact",
        agent: Json<'a, AgentRef<'a>> = "Agent",
        tags: ListOf<'a, Tag<'a>> = "Tags",
        // A call-detail record.
        cdr_id: Json<'a> = "cdr_id",
        direction: Json<'a> = "direction",
        call_steps: ListOf<'a, Step<'a>> = "call_steps",
        status: Json<'a> = "status",
        internal_number: Json<'a, InternalNumber<'a>> = "internal_number",
        contact: Json<'a, DetailContact<'a>> = "contact",
        date: Json<'a> = "date",
        call_times: Json<'a, CallTimes<'a>> = "call_times",
        call_tags: ListOf<'a, Tag<'a>> = "call_tags",
        // A list response.
        response_data: Json<'a, ResponseData<'a>> = "responseData",
    }
}

object! {
    /// `responseData` of a list response.
    ResponseData<'a> {
        data: ListOf<'a, Record<'a>> = "data",
    }
}

object! {
    /// `Cdr` of a call-history item.
    Cdr<'a> {
        id: Json<'a> = "id",
        kind: Json<'a> = "type",
        is_voicemail: Json<'a> = "is_voicemail",
        answered_at: Json<'a> = "answered_at",
        user_id: Json<'a> = "user_id",
        public_internal: Json<'a> = "public_internal",
        public_external: Json<'a> = "public_external",
        started_at: Json<'a> = "started_at",
        talking_time: Json<'a> = "talking_time",
    }
}

object! {
    /// `Contact` of a call-history item.
    HistoryContact<'a> {
        id: Json<'a> = "id",
        favorite_agent: Json<'a, AgentRef<'a>> = "favorite_agent",
    }
}

object! {
    /// An agent object: `Agent`, `Contact.favorite_agent`.
    AgentRef<'a> {
        id: Json<'a> = "id",
        email: Json<'a> = "email",
    }
}

object! {
    /// A tag: `name` in `Tags`, `label` in `call_tags`.
    Tag<'a> {
        name: Json<'a> = "name",
        label: Json<'a> = "label",
    }
}

object! {
    /// One of `call_steps`.
    Step<'a> {
        kind: Json<'a> = "type",
        status: Json<'a> = "status",
        id: Json<'a> = "id",
        email: Json<'a> = "email",
        agent_calls: ListOf<'a, AgentCall<'a>> = "agent_calls",
    }
}

object! {
    /// One of a queue step's `agent_calls`.
    AgentCall<'a> {
        status: Json<'a> = "status",
        id: Json<'a> = "id",
    }
}

object! {
    /// `internal_number` of a call-detail record.
    InternalNumber<'a> {
        number: Json<'a> = "number",
    }
}

object! {
    /// `contact` of a call-detail record.
    DetailContact<'a> {
        id: Json<'a> = "id",
        number: Json<'a> = "number",
    }
}

object! {
    /// `call_times` of a call-detail record.
    CallTimes<'a> {
        talking_time: Json<'a> = "talking_time",
    }
}

object! {
    /// What a `.json` document is, read without keeping its values: a
    /// list response has `responseData`.
    Probe<'a> {
        response_data: Json<'a, ProbeData<'a>> = "responseData",
    }
}

object! {
    /// `responseData` of a list response, read without keeping `data`.
    ProbeData<'a> {
        data: Json<'a> = "data",
    }
}
