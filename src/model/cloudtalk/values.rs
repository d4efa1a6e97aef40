//! Reading one value of a CloudTalk record: text that may be a number,
//! phone numbers (given back their `+`), RFC 3339 start times, counts,
//! flags, directions and tags. Each refusal names the value's place in
//! the record (`Cdr.billsec`).

use std::borrow::Cow;
use std::fmt::Display;

use super::*;

/// Text from a value that may be a string or a number; `None` for null,
/// absent or empty. `at` names the value in messages.
pub(super) fn text<'a, O, L>(
    value: Option<&Json<'a, O, L>>,
    at: impl Display,
) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Json::Text(text)) => Ok(Some(text.clone())),
        // A fraction or a number past 64 bits (read as a float) would be
        // written back rounded (`1.2345678901234568e29`): no longer the id
        // or number the vendor sent, so it is refused, not matched wrongly.
        Some(Json::Number(number)) if number.is_f64() => Err(format!(
            "`{at}` is `{number}`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number"
        )),
        Some(Json::Number(number)) => Ok(Some(Cow::Owned(number.to_string()))),
        Some(other) => Err(format!(
            "`{at}` should be a string or a number, found {}",
            other.kind()
        )),
    }
}

/// A phone number: CloudTalk's examples give numbers as JSON numbers
/// without the `+` of E.164; those get it back. A negative number would
/// become `+-421`, so it is refused with the fractions [`text`] refuses.
pub(super) fn phone<'a>(
    value: Option<&Json<'a>>,
    at: &str,
) -> Result<Option<Cow<'a, str>>, String> {
    match value {
        Some(Json::Number(number)) if number.is_u64() => {
            Ok(Some(Cow::Owned(format!("+{number}"))))
        }
        Some(Json::Number(number)) if number.is_i64() => Err(format!(
            "`{at}` is `{number}`, which is not a phone number; send it as a string (`\"+421221291400\"`) or a whole number"
        )),
        other => text(other, at),
    }
}

/// A start time, which `started_at` conditions compare, so it must be RFC
/// 3339: a value that cannot be compared makes both `started_at == null`
/// and `started_at > "…"` false and routes the call silently. CloudTalk's
/// reference says its times are UTC and shows `2017-10-04T06:33:37.000Z`
/// for `Cdr.started_at`, but its envelope examples write
/// `2018-01-10 12:34:56` and real records carry local offsets (`+02:00`);
/// a time without an offset is refused, not guessed, since a wrong guess
/// moves the call by hours. The context has no time zone setting to read.
pub(super) fn timestamp<'a>(
    value: Option<&Json<'a>>,
    at: &str,
) -> Result<Option<Cow<'a, str>>, String> {
    let Some(written) = text(value, at)? else {
        return Ok(None);
    };
    let Err(message) = crate::vocabulary::time::check_started_at(&written) else {
        return Ok(Some(written));
    };
    let trimmed = written.trim();
    let utc = format!("{}Z", trimmed.replacen(' ', "T", 1));
    if crate::vocabulary::time::check_started_at(&utc).is_ok() {
        return Err(format!(
            "`{at}` is `{trimmed}`, which has no time zone offset, and callassign does not guess one; if it is UTC (as CloudTalk's API documents), write `{utc}`, else add its offset (`+01:00`)"
        ));
    }
    Err(format!("`{at}`: {message}"))
}

/// A whole count that may be a number or a numeric string; never below
/// zero (a talking time below zero would make `duration_s < 10` hold).
pub(super) fn count(value: Option<&Json>, at: &str) -> Result<Option<i64>, String> {
    let count = whole_count(value, at)?;
    if let Some(negative) = count.filter(|count| *count < 0) {
        return Err(format!(
            "`{at}` is `{negative}`, below zero; a count is 0 or more"
        ));
    }
    Ok(count)
}

pub(super) fn whole_count(value: Option<&Json>, at: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(number)) => number
            .as_i64()
            // `21.0` is whole all the same.
            .or_else(|| number.as_f64().and_then(whole_number))
            .map(Some)
            .ok_or_else(|| format!("`{at}` should be a whole number, found `{number}`")),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Json::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{at}` should be a whole number, found `{text}`")),
        Some(other) => Err(format!(
            "`{at}` should be a whole number, found {}",
            other.kind()
        )),
    }
}

/// A value as messages quote it: text and numbers as written, other
/// kinds by name.
pub(super) fn shown<O, L>(value: &Json<'_, O, L>) -> String {
    match value {
        Json::Text(text) => format!("`{text:?}`"),
        Json::Number(number) => format!("`{number}`"),
        Json::Bool(flag) => format!("`{flag}`"),
        other => other.kind().to_string(),
    }
}

/// A flag: a boolean, `0`/`1`, or `"0"`/`"1"`/`"true"`/`"false"`; absent,
/// null or empty is false. Anything else (`"True"`, `"yes"`, `0.4`) is
/// refused rather than guessed: read as false, a voicemail would be
/// routed as a missed call.
pub(super) fn flag(value: Option<&Json>, at: &str) -> Result<bool, String> {
    match value {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(flag)) => Ok(*flag),
        Some(Json::Number(number)) if number.as_u64() == Some(0) => Ok(false),
        Some(Json::Number(number)) if number.as_u64() == Some(1) => Ok(true),
        Some(Json::Text(text)) if matches!(text.trim(), "" | "0" | "false") => Ok(false),
        Some(Json::Text(text)) if matches!(text.trim(), "1" | "true") => Ok(true),
        Some(other) => Err(format!(
            "`{at}` is {}, which is not a flag; write `true` or `false` (or `1` or `0`)",
            shown(other)
        )),
    }
}

/// Whether `Cdr.answered_at` is set: absent, null or empty is not; a date
/// and time is (with or without an offset: only its presence counts).
/// Anything else (`"0000-00-00 00:00:00"`, `"no"`, a number) is refused:
/// read as set, a missed call would count as answered.
pub(super) fn answered_at(value: Option<&Json>, at: &str) -> Result<bool, String> {
    match value {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Text(text)) if text.trim().is_empty() => Ok(false),
        Some(Json::Text(text)) if crate::vocabulary::time::is_date_time(text) => Ok(true),
        Some(other) => Err(format!(
            "`{at}` is {}, which is not a date and time; leave it out (or null) for a call nobody answered, or write it as `2026-11-23T10:00:00Z`",
            shown(other)
        )),
    }
}

/// Whether a call step or an agent call has status `answered`; a status
/// that is not text is refused.
pub(super) fn answered(status: Option<&Json>, at: impl Display) -> Result<bool, String> {
    match status {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Text(status)) => Ok(status == "answered"),
        Some(other) => Err(format!(
            "`{at}` should be a status such as `answered`, found {}",
            shown(other)
        )),
    }
}

/// An object that may be absent or null; any other value there is
/// refused, never read as absent.
pub(super) fn object_at<'r, O, L>(
    value: Option<&'r Json<'_, O, L>>,
    at: &str,
) -> Result<Option<&'r O>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(object)) => Ok(Some(object)),
        Some(other) => Err(format!(
            "`{at}` should be an object, found {}",
            shown(other)
        )),
    }
}

pub(super) fn direction(value: Option<&Json>, at: &str) -> Result<Direction, String> {
    let name = text(value, at)?.ok_or_else(|| format!("`{at}` is missing"))?;
    Direction::ALL
        .into_iter()
        .find(|direction| direction.name() == name)
        .ok_or_else(|| format!("`{at}` is `{name}`, expected `incoming`, `outgoing` or `internal`"))
}

/// The tags of a record: `key` of each item of the list `at`, which
/// `field` picks from the item; `other` is the key the other record shape
/// names its tags by. An item that is not an object with `key` is
/// refused: a tag dropped silently would make `"vip" in tags` false.
pub(super) fn tags<'a>(
    value: Option<&ListOf<'a, shape::Tag<'a>>>,
    (key, field): (&str, for<'t> fn(&'t shape::Tag<'a>) -> Option<&'t Json<'a>>),
    other: &str,
    at: &str,
) -> Result<Vec<Cow<'a, str>>, String> {
    let Some(list) = value.filter(|value| !matches!(value, Json::Null)) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.list() else {
        return Err(format!(
            "`{at}` should be a list of tags (`[{{\"{key}\": \"vip\"}}]`), found {}",
            list.kind()
        ));
    };
    let mut tags = Vec::with_capacity(list.len());
    for (index, tag) in list.iter().enumerate() {
        let Some(object) = tag.object() else {
            return Err(format!(
                "`{at}[{index}]` should be a tag object with `{key}` (`{{\"{key}\": \"vip\"}}`), found {}",
                shown(tag)
            ));
        };
        let name = field(object).filter(|name| !matches!(name, Json::Null));
        match text(name, format_args!("{at}[{index}].{key}"))? {
            Some(name) => tags.push(name),
            None if name.is_some() => {} // an empty name: no tag to match
            None => {
                let has_other = if other == "label" {
                    object.label.is_some()
                } else {
                    object.name.is_some()
                };
                let help = if has_other {
                    format!(
                        " (it has `{other}`, which is how the other record shape names its tags)"
                    )
                } else {
                    String::new()
                };
                return Err(format!("`{at}[{index}].{key}` is missing{help}"));
            }
        }
    }
    Ok(tags)
}
