//! RFC 3339 timestamps (`2026-11-23T10:00:00Z`) as milliseconds since the
//! Unix epoch: all that `started_at` comparisons need. Hand-written on
//! purpose: every call of a batch with a `started_at` is checked here, and
//! a date crate's ISO 8601 parser (jiff's, say) accepts more than RFC 3339
//! (offsets without minutes, week dates) and costs more per call.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; `t` and a space are
/// accepted for `T`, `z` for `Z`. `None` for anything else, including
/// impossible dates such as February 30.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let stamp = read_stamp(text)?;
    let days = days_from_civil(stamp.year, stamp.month, stamp.day);
    let seconds = days * 86_400 + stamp.hour * 3_600 + stamp.minute * 60 + stamp.second
        - stamp.offset_minutes * 60;
    Some(seconds * 1_000 + stamp.millis)
}

/// A timestamp's fields, checked.
struct Stamp {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
    offset_minutes: i64,
}

/// Reads and checks a timestamp's fields. Every call of a batch that has
/// a `started_at` goes through this, so the fixed part is read from one
/// bounds-checked array.
fn read_stamp(text: &str) -> Option<Stamp> {
    let bytes = text.as_bytes();
    // `trim` decodes characters at both ends; a timestamp starts with a
    // digit and ends with a letter or a digit, so it is rarely needed.
    let bytes = match bytes {
        [first, .., last] if first.is_ascii_digit() && last.is_ascii_alphanumeric() => bytes,
        _ => text.trim().as_bytes(),
    };
    let digits = |from: usize, count: usize| -> Option<i64> {
        let slice = bytes.get(from..from + count)?;
        slice.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    // `YYYY-MM-DDTHH:MM:SS`: digits everywhere but at the separators,
    // checked in one pass without early exits, then read unchecked.
    let head: &[u8; 19] = bytes.get(..19)?.try_into().ok()?;
    const DIGITS_AT: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let all_digits = DIGITS_AT
        .iter()
        .fold(true, |all, &at| all & head[at].is_ascii_digit());
    if !all_digits
        || head[4] != b'-'
        || head[7] != b'-'
        || !matches!(head[10], b'T' | b't' | b' ')
        || head[13] != b':'
        || head[16] != b':'
    {
        return None;
    }
    let two = |at: usize| i64::from(head[at] - b'0') * 10 + i64::from(head[at + 1] - b'0');
    let year = two(0) * 100 + two(2);
    let month = two(5);
    let day = two(8);
    let hour = two(11);
    let minute = two(14);
    let second = two(17);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut millis = 0i64;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(bytes[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match bytes.get(at) {
        Some(b'Z' | b'z') if at + 1 == bytes.len() => 0,
        Some(&sign @ (b'+' | b'-')) if at + 6 == bytes.len() && bytes[at + 3] == b':' => {
            let (hours, minutes) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            // RFC 3339 offsets are real time zones' offsets: `+99:99` is none.
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return None,
    };
    Some(Stamp {
        year,
        month,
        day,
        hour,
        minute,
        second,
        millis,
        offset_minutes,
    })
}

/// What a call's `started_at` must be, said once for every reader of
/// calls: a malformed timestamp would make both `started_at == null` and
/// `started_at > "…"` false, and so route the call silently.
pub(crate) fn check_started_at(text: &str) -> Result<(), String> {
    read_stamp(text).map(|_| ()).ok_or_else(|| {
        format!(
            "`{text}` is not an RFC 3339 timestamp; write it as `2026-11-23T10:00:00Z` (or with an offset, `+01:00`)"
        )
    })
}

/// Whether text is a date and time, RFC 3339 with or without its offset
/// (`2026-11-23 10:00:00`): for a value whose presence alone counts.
pub fn is_date_time(text: &str) -> bool {
    read_stamp(text).is_some() || read_stamp(&format!("{}Z", text.trim())).is_some()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn parses_utc_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-23T10:00:00Z"),
            Some(1_795_428_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T11:00:00+01:00"),
            parse_rfc3339("2026-11-23T10:00:00Z")
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for text in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-23T10:00:00",
            "2026-11-23T10:00:00Zjunk",
            "yesterday",
            "2026-11-23T10:00:00+99:99",
            "2026-11-23T10:00:00+24:00",
            "2026-11-23T10:00:00+01:60",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }
}
