//! Reading one value of a call or of its parts, the way every field is
//! read: a closed set of words (directions, statuses) that says which
//! words it expects, text that may arrive as a number (ids often do),
//! optional text, tags, and whole seconds (`184.0` is one).

use super::*;

/// Reads a closed set of words, saying which words when it meets anything
/// else (serde's derived enums say little when given a number).
pub(super) struct WordVisitor<T: 'static> {
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
pub(super) struct ExpectingWords<'v, T: 'static>(&'v WordVisitor<T>);

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
/// Wrappers that read one field's value the way the call reads it.
#[derive(Deserialize)]
pub(super) struct TextValue<'a>(
    #[serde(borrow, deserialize_with = "text")] pub(super) Cow<'a, str>,
);
#[derive(Deserialize)]
pub(super) struct OptionalTextValue<'a>(
    #[serde(borrow, deserialize_with = "optional_text")] pub(super) Option<Cow<'a, str>>,
);
#[derive(Deserialize)]
pub(super) struct TagsValue<'a>(#[serde(borrow, deserialize_with = "tags")] pub(super) Tags<'a>);

/// A whole number of seconds. serde would say "expected i64".
pub(super) struct WholeSeconds(pub(super) i64);

impl<'de> Deserialize<'de> for WholeSeconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = i64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of seconds")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                // A talking time below zero is a broken export, and would
                // make `duration_s < 10` hold for it.
                if v < 0 {
                    return Err(E::custom(format_args!(
                        "`{v}` seconds is negative; a talking time is 0 or more"
                    )));
                }
                Ok(v)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(format_args!("`{v}` seconds is out of range")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
                // serde_json reads `184.0`, `1e3` and `-0` as floats; they
                // are whole seconds all the same (Python writes `184.0`).
                if let Some(seconds) = whole_number(v) {
                    return self.visit_i64(seconds);
                }
                // `1e23`, not twenty-four digits.
                let shown = if v.abs() >= 1e15 {
                    format!("{v:e}")
                } else {
                    v.to_string()
                };
                if v.fract() == 0.0 {
                    return Err(E::custom(format_args!("`{shown}` seconds is out of range")));
                }
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

/// A float that holds a whole number exactly (`184.0`, `1e3`, `-0`), as
/// that number; `None` for a fraction or past 2^53, where a float no
/// longer holds every whole number.
pub(crate) fn whole_number(v: f64) -> Option<i64> {
    const EXACT: f64 = (1u64 << 53) as f64;
    (v.fract() == 0.0 && v.abs() <= EXACT).then_some(v as i64)
}

/// Text that may also arrive as a number (ids often do).
pub(super) struct TextVisitor;

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

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Written back, `27.0` would be `27` and a number past 64 bits
        // rounded: no longer the id or tag that was sent.
        Err(E::custom(format_args!(
            "`{v:?}` cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number"
        )))
    }
}

pub(super) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

pub(super) struct OptionalTextVisitor;

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

pub(super) fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    deserializer.deserialize_option(OptionalTextVisitor)
}

pub(super) fn tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tags<'de>, D::Error> {
    struct TagsVisitor;

    impl<'de> Visitor<'de> for TagsVisitor {
        type Value = Tags<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of tags or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Tags::default())
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Tags::default())
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(TagsVisitor)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            #[derive(Deserialize)]
            struct Tag<'a>(#[serde(borrow, deserialize_with = "text")] Cow<'a, str>);
            let mut tags = Tags::default();
            while let Some(Tag(tag)) = seq.next_element::<Tag<'de>>()? {
                tags.push(tag);
            }
            Ok(tags)
        }
    }

    deserializer.deserialize_option(TagsVisitor)
}
