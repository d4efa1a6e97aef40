//! YAML text checked before serde_yaml reads it.
//!
//! serde_yaml expands aliases: one anchored 1 MB string aliased 30,000
//! times is a 1.8 MB file that asks for tens of gigabytes. Its repetition
//! limit counts aliased nodes, not bytes, so strings slip through. And its
//! parser takes tens of seconds to refuse 100,000 nested `[`. Neither
//! anchors nor deep nesting have a use in a context, a call or a rule test,
//! so both are refused here, in one linear pass over the text, before the
//! parser sees it.

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
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
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
                    // A tag (`!!str`): the node starts after it.
                    let tag = bytes[index..]
                        .iter()
                        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                        .unwrap_or(bytes.len() - index);
                    index += tag;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
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
}
