//! What CloudTalk sends when a call ends: a JSON object the admin
//! composed in the workflow's *API Request* action. Only the call id is
//! read (under `call_id`, or the key `--event-call-id` names), a positive
//! whole number written with digits (as CloudTalk's ids are) or a string;
//! every other key is kept in the stored event as sent.

/// Call ids are CloudTalk's numbers, or strings of letters, digits and
/// `._:-` at most this long: they go into URLs and keys.
const MAX_ID: usize = 128;

/// A body without a usable call id, for a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub message: String,
    pub help: String,
}

/// The call id of an event body (`key` names where it is).
pub fn call_id(body: &[u8], key: &str) -> Result<String, Unusable> {
    let help = format!(
        "the workflow's body should hold the call's id under `{key}`, e.g. `{{\"{key}\": 1002402487}}`; `--event-call-id KEY` names another key"
    );
    let unusable = |message: String| Unusable {
        message,
        help: help.clone(),
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| unusable(format!("the body is not JSON: {error}")))?;
    let Some(object) = value.as_object() else {
        return Err(unusable(format!(
            "the body should be a JSON object holding `{key}`, found {}",
            kind(&value)
        )));
    };
    let Some(id) = object.get(key) else {
        let mut keys: Vec<String> = object
            .keys()
            .take(20)
            .map(|key| format!("`{}`", crate::serve::problem::echo(key)))
            .collect();
        if object.len() > 20 {
            keys.push(format!("and {} more", object.len() - 20));
        }
        let found = if keys.is_empty() {
            "it has no keys".to_string()
        } else {
            format!("it has {}", keys.join(", "))
        };
        let mut help = help.clone();
        if let Some(near) = nearest_key(key, object.keys().map(String::as_str)) {
            help = format!(
                "did you mean `{}`? {help}",
                crate::serve::problem::echo(near)
            );
        }
        return Err(Unusable {
            message: format!("the body has no `{key}` (the call id): {found}"),
            help,
        });
    };
    let id = match id {
        serde_json::Value::String(id) => id.trim().to_string(),
        serde_json::Value::Number(number) if number.as_u64().is_some_and(|id| id > 0) => {
            number.to_string()
        }
        serde_json::Value::Number(_) => {
            // A number is refused as it was written (`1e300` is read as a
            // whole number, but no call id is written so).
            let raw = raw_value(body, key).unwrap_or_default();
            return Err(unusable(format!(
                "`{key}` should be the call id, a positive whole number or a string, found {}",
                number_kind(&raw)
            )));
        }
        other => {
            return Err(unusable(format!(
                "`{key}` should be the call id, a positive whole number or a string, found {}",
                kind(other)
            )))
        }
    };
    if id.is_empty() {
        return Err(unusable(format!("`{key}` is empty")));
    }
    // A letter or a digit at least: `.` and `..` would be read as path
    // steps in the detail's URL (`calls/..`), and name nothing.
    if id.len() > MAX_ID
        || !id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._:-".contains(&byte))
        || !id.bytes().any(|byte| byte.is_ascii_alphanumeric())
    {
        return Err(unusable(format!(
            "`{key}` is `{}`, which is not a call id: at most {MAX_ID} ASCII letters, digits and `._:-`, with a letter or a digit",
            crate::serve::problem::echo(&id)
        )));
    }
    Ok(id)
}

/// The key of a body most likely meant for `key`: the same letters in
/// another case or spelling (`CALL_ID`, `callId` for `call_id`) first,
/// then a near spelling. A `…uuid` key is never suggested: CloudTalk's
/// API finds calls by their number, not by their uuid.
fn nearest_key<'k>(key: &str, keys: impl Iterator<Item = &'k str> + Clone) -> Option<&'k str> {
    let letters = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = letters(key);
    let candidates = keys.filter(|candidate| !candidate.to_ascii_lowercase().contains("uuid"));
    candidates
        .clone()
        .find(|candidate| candidate.eq_ignore_ascii_case(key))
        .or_else(|| {
            candidates
                .clone()
                .find(|candidate| letters(candidate) == wanted)
        })
        .or_else(|| callassign::diagnostics::suggest::did_you_mean(key, candidates))
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The text of `key`'s value in a body already read as a JSON object
/// (the last one, when the key is repeated, as when read).
fn raw_value(body: &[u8], key: &str) -> Option<String> {
    let object: std::collections::HashMap<String, &serde_json::value::RawValue> =
        serde_json::from_slice(body).ok()?;
    object.get(key).map(|raw| raw.get().to_string())
}

/// A number that is not a call id, as written: CloudTalk's call ids are
/// positive whole numbers written with digits only.
fn number_kind(raw: &str) -> String {
    let shown = crate::serve::problem::echo(raw);
    let what = if raw.starts_with('-') {
        "a negative number"
    } else if raw.contains(['e', 'E']) {
        "a number in exponent form"
    } else if raw.contains('.') {
        "a number with a decimal point"
    } else if raw.bytes().all(|byte| byte == b'0') {
        return format!("`{shown}`");
    } else {
        "a whole number too large for a call id"
    };
    format!("{what}, `{shown}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_id_is_a_number_or_a_string_under_its_key() {
        for (body, key, id) in [
            (
                r#"{"call_id":1002402487,"agent_id":null}"#,
                "call_id",
                "1002402487",
            ),
            (r#"{"call_id":" 27 ","x":[1]}"#, "call_id", "27"),
            (r#"{"cdr":{"a":1},"id":"c-1.2:3"}"#, "id", "c-1.2:3"),
            (
                r#"{"call_id":18446744073709551615}"#,
                "call_id",
                "18446744073709551615",
            ),
            (r#"{"call_id":"-5"}"#, "call_id", "-5"),
        ] {
            assert_eq!(call_id(body.as_bytes(), key), Ok(id.to_string()), "{body}");
        }
    }

    #[test]
    fn a_body_without_a_usable_call_id_says_what_it_looked_for_and_found() {
        for (body, message) in [
            (r#"{"call_uuid":"44fe","internal_number":40312296109}"#, "the body has no `call_id` (the call id): it has `call_uuid`, `internal_number`"),
            ("{}", "the body has no `call_id` (the call id): it has no keys"),
            ("[1]", "the body should be a JSON object holding `call_id`, found a list"),
            (r#"{"call_id":1.5}"#, "`call_id` should be the call id, a positive whole number or a string, found a number with a decimal point, `1.5`"),
            (r#"{"call_id":1e300}"#, "`call_id` should be the call id, a positive whole number or a string, found a number in exponent form, `1e300`"),
            (r#"{"call_id":1E3,"call_id":2.0}"#, "`call_id` should be the call id, a positive whole number or a string, found a number with a decimal point, `2.0`"),
            (r#"{"call_id":-3}"#, "`call_id` should be the call id, a positive whole number or a string, found a negative number, `-3`"),
            (r#"{"call_id":-1e3}"#, "`call_id` should be the call id, a positive whole number or a string, found a negative number, `-1e3`"),
            (r#"{"call_id":0}"#, "`call_id` should be the call id, a positive whole number or a string, found `0`"),
            (r#"{"call_id":18446744073709551616}"#, "`call_id` should be the call id, a positive whole number or a string, found a whole number too large for a call id, `18446744073709551616`"),
            (r#"{"call_id":null}"#, "`call_id` should be the call id, a positive whole number or a string, found null"),
            (r#"{"call_id":"  "}"#, "`call_id` is empty"),
            (r#"{"call_id":"1/../2"}"#, "`call_id` is `1/../2`, which is not a call id: at most 128 ASCII letters, digits and `._:-`, with a letter or a digit"),
            (r#"{"call_id":".."}"#, "`call_id` is `..`, which is not a call id: at most 128 ASCII letters, digits and `._:-`, with a letter or a digit"),
            (r#"{"call_id":"."}"#, "`call_id` is `.`, which is not a call id: at most 128 ASCII letters, digits and `._:-`, with a letter or a digit"),
        ] {
            let refused = call_id(body.as_bytes(), "call_id").unwrap_err();
            assert_eq!(refused.message, message, "{body}");
            assert!(refused.help.contains("--event-call-id"));
        }
        // The same letters first; never a uuid (CloudTalk finds calls by number).
        for (body, meant) in [
            (r#"{"callId":1,"CALL_ID":2}"#, "did you mean `CALL_ID`?"),
            (
                r#"{"call_uuid":"a-b","callId":2}"#,
                "did you mean `callId`?",
            ),
        ] {
            let refused = call_id(body.as_bytes(), "call_id").unwrap_err();
            assert!(refused.help.starts_with(meant), "{body}: {}", refused.help);
        }
        let refused = call_id(br#"{"call_uuid":"a-b","agent_id":3}"#, "call_id").unwrap_err();
        assert!(!refused.help.contains("did you mean"), "{}", refused.help);
        let refused = call_id(br#"{"callid":7}"#, "call_id").unwrap_err();
        assert!(
            refused.help.starts_with("did you mean `callid`?"),
            "{}",
            refused.help
        );
        assert!(call_id(b"not json", "call_id")
            .unwrap_err()
            .message
            .starts_with("the body is not JSON"));
    }
}
