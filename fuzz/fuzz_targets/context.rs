//! Arbitrary text as an integration context, YAML and JSON: read or
//! refused, never a panic, an abort or an expansion (anchors, nesting).
#![no_main]

use callassign::model::{Context, Directory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let from_json = serde_json::from_str::<Context>(text);
    for context in [Context::from_yaml(text).ok(), from_json.ok()].into_iter().flatten() {
        let _ = context.problems();
        let directory = Directory::new(&context.users);
        for user in &context.users {
            let _ = directory.by_id(&user.id);
            if let Some(email) = &user.email {
                let _ = directory.by_email(email);
            }
        }
    }
});
