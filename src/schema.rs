//! JSON Schemas of the files teams write, generated from the types that
//! read them (the `schema` feature): the native call, the integration
//! context and the rule-test file. Editors use
//! them to complete and check YAML as it is typed; `schema/` in the
//! repository holds the generated files.

use crate::model::schema::{document, text};
use crate::model::{Call, Context};

/// The schema of a native call (`.json`, `.yaml`, or one line of a
/// `.jsonl` batch).
pub fn call() -> String {
    text(&document::<Call<'static>>("callassign call"))
}

/// The schema of an integration context.
pub fn context() -> String {
    let mut schema = document::<Context>("callassign integration context");
    // schemars shows the empty list these mappings default to as a
    // default value, which no mapping matches; an editor would offer it.
    for key in ["user_map", "voicemail_email"] {
        if let Some(property) = schema
            .pointer_mut(&format!("/properties/{key}"))
            .and_then(serde_json::Value::as_object_mut)
        {
            property.remove("default");
        }
    }
    text(&schema)
}

/// The schema of a rule-test file.
pub fn test() -> String {
    crate::rule_test::schema()
}
