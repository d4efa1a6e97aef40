//! Reading a call's nested objects, its flow steps and its contact, the
//! way the call itself is read: the keys inside them that callassign does
//! not read are kept for the batch summary (`flow[].group`,
//! `contact.name`), and one a slip away from a known key (`emial`,
//! `favourite_agent`) is refused with a did-you-mean, since a misspelt
//! `favorite_agent` silently ignored would misroute calls.

use std::collections::HashSet;

use super::read::*;
use super::values::*;
use super::*;

/// The keys of a flow step callassign reads.
pub(crate) const STEP_KEYS: [&str; 3] = ["type", "agent", "email"];

/// The keys of a contact callassign reads.
pub(crate) const CONTACT_KEYS: [&str; 3] = ["id", "owner", "favorite_agent"];

/// Reads `flow` (a list of steps, or null), keeping only its last step:
/// the only one any step or condition looks at. The steps' unknown keys
/// go to the list it holds, each once.
pub(super) struct FlowSeed<'s, 'a>(pub(super) &'s mut NestedKeys<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for FlowSeed<'_, 'a> {
    type Value = Option<FlowStep<'a>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for FlowSeed<'_, 'a> {
    type Value = Option<FlowStep<'a>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of call-flow steps or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut last = None;
        let mut seen = SeenKeys::new(self.0);
        while let Some(step) = seq.next_element_seed(StepSeed(&mut seen))? {
            last = Some(step);
        }
        Ok(last)
    }
}

/// Reads one flow step, from an object only (serde's derived structs also
/// take a positional array, which no export means).
struct StepSeed<'s, 'k, 'a>(&'s mut SeenKeys<'k, 'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for StepSeed<'_, '_, 'a> {
    type Value = FlowStep<'a>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for StepSeed<'_, '_, 'a> {
    type Value = FlowStep<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a flow step object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        // A `match`, like the call's own keys: every step of a batch goes
        // through it.
        let role = |key: &str| match key {
            "type" => Role::Read(0),
            "agent" => Role::Read(1),
            "email" => Role::Read(2),
            // In the data contract (docs/contract.md section 2) but not read: not
            // unknown, so not in the summary.
            "group" | "choice" => Role::NotRead,
            _ => Role::Unknown,
        };
        let [kind, agent, email] = read_object(map, &STEP_KEYS, role, "flow step", self.0)?;
        Ok(FlowStep {
            kind: kind.ok_or_else(|| de::Error::missing_field("type"))?,
            agent,
            email,
        })
    }
}

/// A flow step read on its own: as a call reads its steps, its unknown
/// keys dropped (there is no summary to name them in).
impl<'de: 'a, 'a> Deserialize<'de> for FlowStep<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut dropped = NestedKeys::default();
        de::DeserializeSeed::deserialize(StepSeed(&mut SeenKeys::new(&mut dropped)), deserializer)
    }
}

/// Reads `contact` (an object, or null). Its unknown keys go to the list
/// it holds.
pub(super) struct ContactSeed<'s, 'a>(pub(super) &'s mut NestedKeys<'a>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for ContactSeed<'_, 'a> {
    type Value = Option<Contact<'a>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ContactSeed<'_, 'a> {
    type Value = Option<Contact<'a>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a contact object")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer
            .deserialize_map(ContactFields(self.0))
            .map(Some)
    }
}

/// Reads a contact object.
struct ContactFields<'s, 'a>(&'s mut NestedKeys<'a>);

impl<'de: 'a, 'a> Visitor<'de> for ContactFields<'_, 'a> {
    type Value = Contact<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a contact object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let role = |key: &str| match key {
            "id" => Role::Read(0),
            "owner" => Role::Read(1),
            "favorite_agent" => Role::Read(2),
            _ => Role::Unknown,
        };
        let [id, owner, favorite_agent] = read_object(
            map,
            &CONTACT_KEYS,
            role,
            "contact",
            &mut SeenKeys::new(self.0),
        )?;
        Ok(Contact {
            id,
            owner,
            favorite_agent,
        })
    }
}

/// A contact read on its own: as a call reads its contact, its unknown
/// keys dropped (there is no summary to name them in).
impl<'de: 'a, 'a> Deserialize<'de> for Contact<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ContactFields(&mut NestedKeys::default()))
    }
}

/// What a key of a nested object is to its reader.
enum Role {
    /// A key callassign reads: the index of its slot.
    Read(usize),
    /// A key of the data contract that callassign does not read.
    NotRead,
    Unknown,
}

/// Reads a nested object whose read keys (`keys`) all hold text: each
/// into its slot, null and absent alike `None`, a key given twice refused.
/// `role` sorts the keys; unknown ones go to `unknown_keys`, and the first
/// that is a slip of a read key is refused, naming `what` the object is.
fn read_object<'de: 'a, 'a, A: de::MapAccess<'de>, const N: usize>(
    mut map: A,
    keys: &'static [&'static str; N],
    role: impl Fn(&str) -> Role,
    what: &str,
    unknown_keys: &mut SeenKeys<'_, 'a>,
) -> Result<[Option<Cow<'a, str>>; N], A::Error> {
    let mut fields: [Option<Option<Cow<'a, str>>>; N] = [const { None }; N];
    let mut slip = None;
    while let Some(KeyName(key)) = map.next_key::<KeyName<'de>>()? {
        match role(&key) {
            Role::Read(index) => read_once(&mut map, &mut fields[index], keys[index])?,
            Role::NotRead => {
                map.next_value::<de::IgnoredAny>()?;
            }
            Role::Unknown => unknown(&mut map, key, keys, &mut slip, unknown_keys)?,
        }
    }
    if let Some((key, known)) = slip {
        return Err(de::Error::custom(format_args!(
            "`{key}` is not a {what} key; did you mean `{known}`?"
        )));
    }
    Ok(fields.map(Option::flatten))
}

/// Reads a known key's value (text, a number or null) into its slot,
/// naming the key in errors; a key given twice is refused.
fn read_once<'de: 'a, 'a, A: de::MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<Option<Cow<'a, str>>>,
    name: &'static str,
) -> Result<(), A::Error> {
    let value = map
        .next_value::<OptionalTextValue<'de>>()
        .map_err(|error| named_error(name, error))?
        .0;
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Skips an unknown key's value, keeps the key for the summary (once per
/// call) and remembers the first that is a slip away from a known key.
fn unknown<'de: 'a, 'a, A: de::MapAccess<'de>>(
    map: &mut A,
    key: Cow<'de, str>,
    known: &'static [&'static str],
    slip: &mut Option<(String, &'static str)>,
    keys: &mut SeenKeys<'_, 'a>,
) -> Result<(), A::Error> {
    map.next_value::<de::IgnoredAny>()?;
    // A key already kept for this call (`ring_s` in every step) was
    // looked at when first seen.
    if keys.contains(&key) {
        return Ok(());
    }
    if slip.is_none() {
        *slip = near_miss_of(&key, known).map(|found| (key.to_string(), found));
    }
    keys.push(key);
    Ok(())
}

/// The unknown keys kept for a call, each once. A call has a key or two,
/// looked for in the list itself; a call of a megabyte may hold a hundred
/// thousand, and past [`SeenKeys::LISTED`] they are looked for in a set
/// (a search of the list per key would take seconds).
pub(super) struct SeenKeys<'k, 'a> {
    keys: &'k mut NestedKeys<'a>,
    set: Option<HashSet<Cow<'a, str>>>,
}

impl<'k, 'a> SeenKeys<'k, 'a> {
    const LISTED: usize = 16;

    pub(super) fn new(keys: &'k mut NestedKeys<'a>) -> SeenKeys<'k, 'a> {
        SeenKeys { keys, set: None }
    }

    fn contains(&mut self, key: &str) -> bool {
        if self.keys.len() <= Self::LISTED {
            return self.keys.iter().any(|seen| seen == key);
        }
        let keys = &*self.keys;
        self.set
            .get_or_insert_with(|| keys.texts().cloned().collect())
            .contains(key)
    }

    fn push(&mut self, key: Cow<'a, str>) {
        if let Some(set) = &mut self.set {
            set.insert(key.clone());
        }
        self.keys.push(key);
    }
}

/// A key, borrowed from the input when it has no escapes.
struct KeyName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyNameVisitor;

        impl<'de> Visitor<'de> for KeyNameVisitor {
            type Value = KeyName<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<KeyName<'de>, E> {
                Ok(KeyName(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName<'de>, E> {
                Ok(KeyName(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_identifier(KeyNameVisitor)
    }
}
