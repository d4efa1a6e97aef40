//! Reading a call: by hand rather than derived, so that unknown keys are
//! counted (and CloudTalk-shaped or misspelt ones refused with a
//! did-you-mean) and every error names its field. Each field's value is
//! read by `values.rs`.

use super::values::*;
use super::*;

/// The position of a key in [`CALL_KEYS`]. A `match`, which compiles to
/// a length test and a compare, as serde's derived code does: every call
/// of a batch reads these keys.
pub(super) fn known_key(key: &str) -> Option<usize> {
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
pub(super) enum Key<'de> {
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

/// `error` with the field's name in front: serde's errors do not say
/// which field they are about, and a batch error line must. Nested fields
/// read `contact.owner: …`.
pub(super) fn named_error<E: de::Error>(field: &str, error: E) -> E {
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
pub(crate) fn strip_position(message: &str) -> &str {
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

/// Why a call's keys cannot be trusted, once the whole object is read: a
/// CloudTalk record read as a native call, or a misspelt key (a misspelt
/// key silently ignored misroutes calls). Each unknown key is looked at
/// once, as it is read ([`SuspiciousKeys::note`]); walking the kept keys
/// again after the object cost more than the looking.
#[derive(Default)]
pub(super) struct SuspiciousKeys {
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
        self.near_miss.map(|(key, known)| {
            if key == "duration" && known == "duration_s" {
                // Rules say `duration`; a call carries it as `duration_s`.
                "`duration` is not a call key; did you mean `duration_s`? (a call carries the talking time in seconds as `duration_s`; rules test it as `duration`)".to_string()
            } else {
                format!("`{key}` is not a call key; did you mean `{known}`?")
            }
        })
    }
}

thread_local! {
    /// Unknown keys already found not to be near misses, each with the
    /// keys it was held against. An export adds the same key or two to
    /// every call (and every flow step); the edit distances are worked out
    /// once per key instead of once per call. Bounded, so a batch of ever
    /// new keys costs memory no more than this.
    static NOT_NEAR_MISSES: std::cell::RefCell<Vec<(usize, Box<str>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The call key an unknown one is a slip away from, if any.
pub(super) fn near_miss(key: &str) -> Option<&'static str> {
    near_miss_of(key, &CALL_KEYS)
}

/// The key of `known` an unknown one is a slip away from, if any.
pub(super) fn near_miss_of(key: &str, known: &'static [&'static str]) -> Option<&'static str> {
    const REMEMBERED: usize = 64;
    // The key set, told apart by where it lives.
    let set = known.as_ptr() as usize;
    let remembered = NOT_NEAR_MISSES.with(|keys| {
        keys.borrow()
            .iter()
            .any(|(against, own)| *against == set && **own == *key)
    });
    if remembered {
        return None;
    }
    let found = crate::diagnostics::suggest::did_you_mean(key, known.iter().copied());
    if found.is_none() {
        NOT_NEAR_MISSES.with(|keys| {
            let mut keys = keys.borrow_mut();
            if keys.len() < REMEMBERED {
                keys.push((set, key.into()));
            }
        });
    }
    found
}

impl<'de: 'a, 'a> Deserialize<'de> for Call<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut call = Call::bare(Direction::Incoming, Status::Answered);
        de::DeserializeSeed::deserialize(CallSeed(&mut call), deserializer)?;
        Ok(call)
    }
}

/// Reads a call into the call it holds, field by field. A batch reads
/// each line into a call on its own stack this way: returned by value, a
/// call (some 400 bytes) was copied once per layer of serde's return
/// values, five times a line.
pub(super) struct CallSeed<'s, 'a>(pub(super) &'s mut Call<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for CallSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for CallSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a call object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let call = self.0;
        // One bit per key of `CALL_KEYS`: which keys were read.
        let mut seen = 0u16;
        let mut suspicious = SuspiciousKeys::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let index = match key {
                Key::Known(index) => index,
                Key::Unknown(name) => {
                    map.next_value::<de::IgnoredAny>()?;
                    suspicious.note(&name);
                    call.unknown_keys.push(name);
                    continue;
                }
            };
            let name = CALL_KEYS[index];
            // serde's errors do not say which field they are about; a
            // batch error line must.
            let named = |error: A::Error| named_error(name, error);
            // The value is read before a repeated key is refused, so a
            // bad value is reported as such.
            let once = |seen: &mut u16| {
                if *seen & (1 << index) != 0 {
                    return Err(de::Error::duplicate_field(name));
                }
                *seen |= 1 << index;
                Ok(())
            };
            match index {
                0 => {
                    let id = map.next_value::<TextValue>().map_err(named)?.0;
                    if id.trim().is_empty() {
                        // Output lines name calls by id: an empty one
                        // names none, and joins with nothing downstream.
                        return Err(named(de::Error::custom(
                            "the call id is empty; every call needs the id it has in the exporting system",
                        )));
                    }
                    once(&mut seen)?;
                    call.id = id;
                }
                1 => {
                    let direction = map.next_value::<Direction>().map_err(named)?;
                    once(&mut seen)?;
                    call.direction = direction;
                }
                2 => {
                    let status = map.next_value::<Status>().map_err(named)?;
                    once(&mut seen)?;
                    call.status = status;
                }
                3 => {
                    let agent = map.next_value::<OptionalTextValue>().map_err(named)?.0;
                    once(&mut seen)?;
                    call.agent = agent;
                }
                4 => {
                    let text = map.next_value::<OptionalTextValue>().map_err(named)?.0;
                    if let Some(text) = &text {
                        crate::vocabulary::time::check_started_at(text)
                            .map_err(|message| named(de::Error::custom(message)))?;
                    }
                    once(&mut seen)?;
                    call.started_at = text;
                }
                5 => {
                    let seconds = map.next_value::<Option<WholeSeconds>>().map_err(named)?;
                    once(&mut seen)?;
                    call.duration_s = seconds.map(|seconds| seconds.0);
                }
                6 => {
                    let number = map.next_value::<OptionalTextValue>().map_err(named)?.0;
                    once(&mut seen)?;
                    call.number = number;
                }
                7 => {
                    let tags = map.next_value::<TagsValue>().map_err(named)?.0;
                    once(&mut seen)?;
                    call.tags = tags;
                }
                8 => {
                    let last_step = map
                        .next_value_seed(FlowSeed(&mut call.unknown_flow_keys))
                        .map_err(named)?;
                    once(&mut seen)?;
                    call.last_step = last_step;
                }
                _ => {
                    let contact = map
                        .next_value_seed(ContactSeed(&mut call.unknown_contact_keys))
                        .map_err(named)?;
                    once(&mut seen)?;
                    call.contact = contact;
                }
            }
        }
        if let Some(problem) = suspicious.problem() {
            return Err(de::Error::custom(problem));
        }
        for (index, required) in CALL_KEYS[..REQUIRED_KEYS].iter().enumerate() {
            if seen & (1 << index) == 0 {
                return Err(de::Error::missing_field(required));
            }
        }
        Ok(())
    }
}

/// serde's message for a batch line, in the words of the data: its
/// position ends as a column (the line is the batch line's, reported
/// beside it, not serde's `line 1`), and serde's wording of some errors
/// becomes the product's. Only serde's own words are rewritten, never user
/// data.
pub(crate) fn friendly_json_error(message: &str) -> String {
    let text = strip_position(message);
    let column = message[text.len()..]
        .rsplit_once(" column ")
        .map(|(_, column)| column);
    // (The readers of a call and its parts say what they expect
    // themselves, so no Rust type name reaches here.)
    let mut friendly = crate::files::plain_json_message(text)
        // Two calls on one line, or a stray byte (a NUL) after one.
        .replace(
            "trailing characters",
            "more after the end of the object; a batch holds one call per line",
        )
        // serde_json's words for a `\ud800` without its second half.
        .replace(
            "lone leading surrogate in hex escape",
            "a `\\u` escape holds half a character (a lone surrogate), which is not text",
        )
        .replace(
            "unexpected end of hex escape",
            "a `\\u` escape is cut short or holds half a character (a lone surrogate) without its second half",
        );
    // serde's `duplicate field `id``, said as the product says it of a
    // context's keys, with how to fix it.
    if let Some((head, rest)) = friendly.split_once("duplicate field `") {
        if let Some((key, tail)) = rest.split_once('`') {
            friendly = format!("{head}`{key}` is given twice; keep one{tail}");
        }
    }
    if let Some(column) = column {
        friendly.push_str(&format!(" (column {column})"));
    }
    friendly
}
