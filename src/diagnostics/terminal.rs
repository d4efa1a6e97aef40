//! User text as it is shown on a terminal: escaped, so that one call or
//! address stays on one line and cannot restyle the terminal, and padded
//! into columns without `format!` widths, which panic past 65,535.

use std::borrow::Cow;

/// Text from a call or a rule file as it may be shown on a terminal: with
/// control characters (line breaks, escape sequences) escaped.
pub fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(text.chars().flat_map(char::escape_default).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Which side of a column the padding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// Appends `text` padded with spaces to `width` characters. A rule file
/// may hold a condition of a million characters; `format!("{:<width$}")`
/// panics on such a width, this does not.
pub(crate) fn push_padded(out: &mut String, text: &str, width: usize, align: Align) {
    let pad = width.saturating_sub(text.chars().count());
    if align == Align::Right {
        out.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(text);
    if align == Align::Left {
        out.extend(std::iter::repeat_n(' ', pad));
    }
}

/// `1 call`, `2 calls`: a count and its noun, singular for one. Every
/// summary counts through this, so none says `1 calls`.
pub fn counted(count: impl Into<u64>, one: &str, many: &str) -> String {
    let count = count.into();
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `1204567` → `1,204,567`: counts in reports read at a glance.
pub fn thousands(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("c-1"), "c-1");
        assert_eq!(printable("a\nb\u{1b}[31mRED"), "a\\nb\\u{1b}[31mRED");
    }

    #[test]
    fn counts_say_one_in_the_singular() {
        assert_eq!(counted(1u64, "call", "calls"), "1 call");
        assert_eq!(counted(0u64, "call", "calls"), "0 calls");
        assert_eq!(
            counted(2u32, "history line", "history lines"),
            "2 history lines"
        );
    }

    #[test]
    fn padding_takes_any_width() {
        let mut out = String::new();
        push_padded(&mut out, "ab", 4, Align::Left);
        push_padded(&mut out, "c", 3, Align::Right);
        assert_eq!(out, "ab    c");
        let long = "x".repeat(70_000);
        let mut out = String::new();
        push_padded(&mut out, "y", long.len(), Align::Left);
        assert_eq!(out.len(), 70_000);
    }

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_204_567), "1,204,567");
    }
}
