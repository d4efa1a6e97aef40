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

/// Characters that do not show: controls, zero-width and joiner
/// characters, direction overrides, the byte-order mark and soft hyphen.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// A character that reads as something else, or as nothing, named so a
/// message about it can be acted on: `the invisible character U+200B
/// (zero-width space)`. `None` for characters that show as themselves.
///
/// ```
/// use callassign::diagnostics::terminal::odd_character;
///
/// assert_eq!(odd_character('\u{a0}').as_deref(), Some("a no-break space (U+00A0), which looks like a space"));
/// assert_eq!(odd_character('\u{1}').as_deref(), Some("the control character U+0001"));
/// assert_eq!(odd_character('\u{201c}').as_deref(), Some("a curly quote `\u{201c}` (U+201C)"));
/// assert_eq!(odd_character('a'), None);
/// ```
pub fn odd_character(c: char) -> Option<String> {
    let code = u32::from(c);
    let name = match c {
        '\u{00A0}' | '\u{202F}' => Some("no-break space"),
        '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' | '\u{1680}' => Some("wide space"),
        '\u{200B}' => Some("zero-width space"),
        '\u{200C}' => Some("zero-width non-joiner"),
        '\u{200D}' => Some("zero-width joiner"),
        '\u{2060}' => Some("word joiner"),
        '\u{FEFF}' => Some("byte-order mark"),
        '\u{00AD}' => Some("soft hyphen"),
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("text direction mark")
        }
        '\u{2028}' | '\u{2029}' => Some("line or paragraph separator"),
        _ => None,
    };
    Some(match (c, name) {
        ('\u{00A0}' | '\u{202F}', _) => {
            format!("a no-break space (U+{code:04X}), which looks like a space")
        }
        ('\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' | '\u{1680}', _) => {
            format!("a wide space (U+{code:04X}), which looks like a space")
        }
        (
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2018}' | '\u{2019}' | '\u{00AB}'
            | '\u{00BB}',
            _,
        ) => {
            format!("a curly quote `{c}` (U+{code:04X})")
        }
        (c, _) if c.is_control() => format!("the control character U+{code:04X}"),
        (_, Some(name)) => format!("the invisible character U+{code:04X} ({name})"),
        (c, None) if is_hidden(c) => format!("the invisible character U+{code:04X}"),
        _ => return None,
    })
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
