//! How the files teams write are described as JSON Schemas (the `schema`
//! feature): the pieces the types of calls, contexts and rule tests name in
//! their `schemars` attributes, and the document settings. The documents
//! themselves are made in [`crate::schema`].

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::vocabulary::{Direction, Status};

/// Text that may also arrive as a whole number: ids, tags, e-mails that
/// exporters write as numbers. What `deserialize_with = "text"` reads.
pub(crate) struct TextOrNumber;

impl JsonSchema for TextOrNumber {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "TextOrNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "integer"]})
    }
}

/// Closed word sets read from their words table: the schema lists the
/// same words the reader accepts.
macro_rules! word_schema {
    ($($word_type:ty),+) => {$(
        impl JsonSchema for $word_type {
            fn schema_name() -> Cow<'static, str> {
                stringify!($word_type).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let words: Vec<&str> = <$word_type>::ALL.iter().map(|word| word.name()).collect();
                json_schema!({"type": "string", "enum": words})
            }
        }
    )+};
}

word_schema!(Direction, Status);

/// A value written inline, or the path of a file holding it (relative to
/// the file that names it), as rule-test files allow.
pub(crate) struct PathOr<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for PathOr<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("PathOr{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"type": "string", "description": "a path, relative to this file"},
                generator.subschema_for::<T>(),
            ]
        })
    }
}

/// The schema of `T` as a document: draft-07, which editors' YAML support
/// reads, with a title.
pub(crate) fn document<T: JsonSchema>(title: &str) -> Schema {
    let mut schema = SchemaSettings::draft07()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    schema
}

/// A schema document as committed under `schema/`.
pub(crate) fn text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serializes");
    text.push('\n');
    text
}
