//! YAML text checked before serde_yaml reads it.
//!
//! serde_yaml expands aliases: one anchored 1 MB string aliased 30,000
//! times is a 1.8 MB file that asks for tens of gigabytes. Its repetition
//! limit counts aliased nodes, not bytes, so strings slip through. And its
//! parser takes tens of seconds to refuse 100,000 nested `[`. Neither
//! anchors nor deep nesting have a use in a context, a call or a rule test,
//! so both are refused here, in one linear pass over the text, before the
//! parser sees it.
//!
//! The same pass refuses plain scalars that YAML reads as a number other
//! than the one written: `+442071234567` becomes `442071234567` and `0x1F`
//! becomes `31`, so a phone number loses its `+` and an id its spelling
//! wherever a string may also be a number (ids, numbers, e-mails, tags).
//! Quoted, they are read as written.

/// Deepest `[`/`{` nesting accepted. A context or call nests three levels.
pub const MAX_FLOW_NESTING: usize = 32;

/// Why YAML text was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeYaml {
    /// An anchor (`&name`) or alias (`*name`) at this 1-based line.
    #[error("line {line}: YAML anchors and aliases (`{text}`) are not accepted; write the value out in full")]
    AnchorOrAlias { line: usize, text: String },
    /// `[`/`{` nested deeper than [`MAX_FLOW_NESTING`], at this line.
    #[error("line {line}: lists or maps nest deeper than {MAX_FLOW_NESTING} levels")]
    TooDeep { line: usize },
    /// A plain scalar that YAML reads as a number written otherwise
    /// (`+44…`, `0x1F`, `1e3`, `.inf`): `read_as` is what YAML makes of it.
    #[error("line {line}: YAML reads `{text}` as the number {read_as}, not as written; quote it (`\"{text}\"`) to keep it as written, or write the number as {read_as}")]
    RetypedNumber {
        line: usize,
        text: String,
        read_as: String,
    },
}

/// `serde_yaml::from_str` after [`check`]: the one way callassign reads
/// YAML. A refusal is a serde_yaml error, so callers report it like any
/// other problem of the file.
pub fn from_str<'de, T: serde::Deserialize<'de>>(text: &'de str) -> Result<T, serde_yaml::Error> {
    check(text).map_err(<serde_yaml::Error as serde::de::Error>::custom)?;
    serde_yaml::from_str(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Comment,
    /// Inside a `|` or `>` block scalar opened on a line with this indent.
    BlockScalar(usize),
}

/// Refuses anchors, aliases and deep flow nesting. A lexer, not a parser:
/// it tracks quotes, comments, block scalars and where a node may start
/// (an `&`/`*` inside plain text such as `Tom & Jerry` is not an anchor).
pub fn check(text: &str) -> Result<(), UnsafeYaml> {
    let bytes = text.as_bytes();
    let mut state = State::Plain;
    let mut line = 1;
    let mut depth = 0usize;
    // Whether a node (and so an anchor or alias) may start here.
    let mut node_start = true;
    let mut line_indent = 0;
    let mut at_line_start = true;
    // Whether the node about to start has a tag (`!!str 0x1F`).
    let mut after_tag = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        // A tag applies to the node that follows it, after blanks.
        let tagged = after_tag;
        if !matches!(byte, b' ' | b'\t') {
            after_tag = false;
        }
        let next = bytes.get(index + 1).copied();
        let blank_after = matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n'));
        if at_line_start {
            let indent = bytes[index..].iter().take_while(|&&b| b == b' ').count();
            let rest = &bytes[index + indent..];
            let blank = matches!(rest.first(), None | Some(b'\r' | b'\n'));
            if let State::BlockScalar(opened_at) = state {
                if blank || indent > opened_at {
                    // Content of the block scalar: skip the line.
                    match memchr::memchr(b'\n', &bytes[index..]) {
                        Some(at) => {
                            index += at + 1;
                            line += 1;
                        }
                        None => index = bytes.len(),
                    }
                    continue;
                }
                state = State::Plain;
            }
            line_indent = indent;
            at_line_start = false;
        }
        match state {
            State::Comment => {
                if byte == b'\n' {
                    state = State::Plain;
                }
            }
            State::SingleQuoted => {
                if byte == b'\'' {
                    if next == Some(b'\'') {
                        index += 1;
                    } else {
                        state = State::Plain;
                    }
                }
            }
            State::DoubleQuoted => match byte {
                b'\\' if next.is_some_and(|next| next != b'\n') => index += 1,
                b'"' => state = State::Plain,
                _ => {}
            },
            State::BlockScalar(_) => {}
            State::Plain => match byte {
                b'#' if index == 0 || matches!(bytes[index - 1], b' ' | b'\t' | b'\n') => {
                    state = State::Comment;
                }
                b'\'' if node_start => {
                    state = State::SingleQuoted;
                    node_start = false;
                }
                b'"' if node_start => {
                    state = State::DoubleQuoted;
                    node_start = false;
                }
                b'&' | b'*' if node_start => {
                    let end = bytes[index..]
                        .iter()
                        .position(|b| {
                            matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}')
                        })
                        .map_or(bytes.len(), |at| index + at);
                    let mut end = end.min(index + 40);
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    return Err(UnsafeYaml::AnchorOrAlias {
                        line,
                        text: text[index..end].to_string(),
                    });
                }
                b'[' | b'{' if node_start || depth > 0 => {
                    depth += 1;
                    if depth > MAX_FLOW_NESTING {
                        return Err(UnsafeYaml::TooDeep { line });
                    }
                    node_start = true;
                }
                b']' | b'}' if depth > 0 => {
                    depth -= 1;
                    node_start = false;
                }
                b',' if depth > 0 => node_start = true,
                b':' if blank_after || depth > 0 => node_start = true,
                b'-' | b'?' if node_start && blank_after => {}
                b'|' | b'>' if node_start && depth == 0 => {
                    state = State::BlockScalar(line_indent);
                }
                b'!' if node_start => {
                    // A tag (`!!str`): the node starts after it, and is
                    // read as the tag says, not as its text looks.
                    let tag = bytes[index..]
                        .iter()
                        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                        .unwrap_or(bytes.len() - index);
                    index += tag;
                    after_tag = true;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'+' | b'-' | b'.' | b'0'..=b'9' if node_start && !tagged => {
                    let end = plain_scalar_end(bytes, index, depth > 0);
                    let scalar = text[index..end].trim_end();
                    if let Some(read_as) = retyped_number(scalar) {
                        if depth > 0 || !continues_on_next_line(bytes, end, line_indent) {
                            return Err(UnsafeYaml::RetypedNumber {
                                line,
                                text: scalar.to_string(),
                                read_as,
                            });
                        }
                    }
                    node_start = false;
                }
                _ => node_start = false,
            },
        }
        if byte == b'\n' {
            line += 1;
            at_line_start = true;
            if state == State::Plain {
                node_start = true;
            }
        }
        index += 1;
    }
    Ok(())
}

/// Where a plain scalar starting at `start` ends: at a line end, a `: `
/// or ` #`, and in a flow collection also at `,`, `]`, `}` or `:`.
fn plain_scalar_end(bytes: &[u8], start: usize, in_flow: bool) -> usize {
    let mut at = start;
    while at < bytes.len() {
        let next = bytes.get(at + 1).copied();
        let ends = match bytes[at] {
            b'\n' | b'\r' => true,
            b':' => in_flow || matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n')),
            b'#' => at > start && matches!(bytes[at - 1], b' ' | b'\t'),
            b',' | b']' | b'}' => in_flow,
            _ => false,
        };
        if ends {
            break;
        }
        at += 1;
    }
    at
}

/// Whether a block plain scalar ending at `end` goes on on the next line:
/// that line is indented more than `indent` and is neither an entry
/// (`- `, `key: `) nor a comment. A scalar that goes on is text
/// (`+44\n  20 7946`), not a number.
fn continues_on_next_line(bytes: &[u8], end: usize, indent: usize) -> bool {
    let rest = &bytes[end..];
    if rest.first().is_some_and(|&b| b != b'\n' && b != b'\r') {
        // Ended by `: ` or ` #` on its own line.
        return false;
    }
    for line in rest.split(|&b| b == b'\n').skip(1) {
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        let depth = content.iter().take_while(|&&b| b == b' ').count();
        let content = &content[depth..];
        if content.is_empty() {
            continue; // a blank line folds into the scalar
        }
        return depth > indent
            && !content.starts_with(b"#")
            && !content.starts_with(b"- ")
            && content != b"-"
            && !content
                .windows(2)
                .any(|pair| pair[0] == b':' && matches!(pair[1], b' ' | b'\t'))
            && !content.ends_with(b":");
    }
    false
}

/// What YAML (as serde_yaml reads plain scalars) makes of `scalar`, when
/// it is a number written otherwise than that number is: a sign `+`, a
/// base (`0x`, `0o`, `0b`), an exponent, a leading or trailing `.`,
/// `.inf` or `.nan`. `None` for text and for numbers written plainly
/// (`42`, `-7`, `2.5`), which are read as written.
fn retyped_number(scalar: &str) -> Option<String> {
    let negative = scalar.starts_with('-');
    let magnitude = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    if magnitude.starts_with(['+', '-']) {
        return None; // `+-5`, `-+5`, `--5`: text
    }
    // Leading zeros (`007`) are text to YAML 1.2.
    if magnitude.len() > 1
        && magnitude.starts_with('0')
        && magnitude[1..].bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole = |rest: &str, radix: u32| -> Option<String> {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        let value = u128::from_str_radix(rest, radix).ok()?;
        Some(if negative && value != 0 {
            format!("-{value}")
        } else {
            value.to_string()
        })
    };
    let read = if let Some(rest) = magnitude.strip_prefix("0x") {
        whole(rest, 16)
    } else if let Some(rest) = magnitude.strip_prefix("0o") {
        whole(rest, 8)
    } else if let Some(rest) = magnitude.strip_prefix("0b") {
        whole(rest, 2)
    } else if let Some(value) = whole(magnitude, 10) {
        Some(value)
    } else {
        match magnitude {
            ".inf" | ".Inf" | ".INF" => {
                Some(if negative { "-infinity" } else { "infinity" }.to_string())
            }
            ".nan" | ".NaN" | ".NAN" if scalar == magnitude => Some("not-a-number".to_string()),
            _ => magnitude
                .parse::<f64>()
                .ok()
                .filter(|float| float.is_finite())
                // `2.5` is read as written; `1e3`, `.5`, `5.`, `+2.5` are not.
                .filter(|_| !is_plain_decimal(magnitude) || scalar.starts_with('+'))
                .map(|float| format!("{}", if negative { -float } else { float })),
        }
    }?;
    (read != scalar).then_some(read)
}

/// `digits.digits`: a decimal read as written.
fn is_plain_decimal(text: &str) -> bool {
    text.split_once('.').is_some_and(|(whole, fraction)| {
        !whole.is_empty()
            && !fraction.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_and_aliases_are_refused_wherever_a_node_starts() {
        for (text, line, found) in [
            ("a: &big x\nb: *big\n", 1, "&big"),
            ("tags: [vip, *t]\n", 1, "*t"),
            ("users:\n  - &u {id: 1}\n", 2, "&u"),
            ("users:\n  - *u\n", 2, "*u"),
            ("? *k\n: v\n", 1, "*k"),
            ("a: !!str &s x\n", 1, "&s"),
            ("{a: *x}\n", 1, "*x"),
        ] {
            assert_eq!(
                check(text),
                Err(UnsafeYaml::AnchorOrAlias {
                    line,
                    text: found.to_string()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn ampersands_and_stars_in_text_are_not_anchors() {
        for text in [
            "name: Tom & Jerry\n",
            "email: a&b@x.com\n",
            "name: '&not'\n",
            "name: \"*not\"\n",
            "name: \"say \\\"*\\\"\"\n",
            "# *comment\nname: x # &comment\n",
            "note: |\n  * a bullet\n  & more\nnext: 1\n",
            "note: >-\n\n  * folded\nnext: 1\n",
            "name: 'it''s *'\n",
            "flow: [{type: ivr, choice: '*'}]\n",
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("users: {}\n", "[".repeat(100_000));
        assert_eq!(check(&deep), Err(UnsafeYaml::TooDeep { line: 1 }));
        let fine = format!(
            "a: {}{}\n",
            "[".repeat(MAX_FLOW_NESTING),
            "]".repeat(MAX_FLOW_NESTING)
        );
        assert_eq!(check(&fine), Ok(()));
    }

    #[test]
    fn numbers_yaml_would_retype_are_refused_wherever_they_are() {
        for (text, line, scalar, read_as) in [
            (
                "number: +442071234567\n",
                1,
                "+442071234567",
                "442071234567",
            ),
            ("users:\n  - id: 0x1F\n    email: a@b.c\n", 2, "0x1F", "31"),
            ("users: [{id: 0o17, email: a@b.c}]\n", 1, "0o17", "15"),
            ("id: 0b101\n", 1, "0b101", "5"),
            ("id: -0x10\n", 1, "-0x10", "-16"),
            ("id: -0\n", 1, "-0", "0"),
            (
                "user_map:\n  +421221291400: '101'\n",
                2,
                "+421221291400",
                "421221291400",
            ),
            ("tags: [vip, 1e3]\n", 1, "1e3", "1000"),
            ("duration_s: .5\n", 1, ".5", "0.5"),
            ("duration_s: 5.\n", 1, "5.", "5"),
            ("duration_s: +2.5 # a comment\n", 1, "+2.5", "2.5"),
            ("id: .inf\n", 1, ".inf", "infinity"),
            ("id: -.Inf\n", 1, "-.Inf", "-infinity"),
            ("id: .nan\n", 1, ".nan", "not-a-number"),
            ("- +44\n- x\n", 1, "+44", "44"),
            ("a:\n  +44\nb: 1\n", 2, "+44", "44"),
        ] {
            assert_eq!(
                check(text),
                Err(UnsafeYaml::RetypedNumber {
                    line,
                    text: scalar.to_string(),
                    read_as: read_as.to_string()
                }),
                "{text}"
            );
        }
        assert_eq!(
            check("number: +44\n").unwrap_err().to_string(),
            "line 1: YAML reads `+44` as the number 44, not as written; quote it (`\"+44\"`) to keep it as written, or write the number as 44"
        );
    }

    #[test]
    fn numbers_read_as_written_and_text_are_accepted() {
        for text in [
            "id: 31\nduration_s: -7\nratio: 2.5\n",
            "number: '+442071234567'\nid: \"0x1F\"\n",
            "id: !!str 0x1F\n",
            "id: 007\nzip: 0123\n",
            "number: +44 20 7946 0958\n",
            "version: 1.2.3\nwhen: 2026-11-23\nsize: 1_000\n",
            "big: 1e400\nodd: +-5\nodder: -+5\n",
            "name: x+1\nrange: 1-2\n",
            "note: |\n  +44\n  0x1F\n",
            "note: +44\n  continued on the next line\n",
            "# id: 0x1F\nid: 1 # +44\n",
            "---\nid: 1\n...\n",
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }
}
