//! What a context's YAML reader says, in the words of the file: which key
//! is given twice and on which lines, which safety limit was met.

/// serde_yaml's wording for its safety limits does not say what in the file
/// tripped them, and for a key given twice it says neither line: it points
/// at the start of the mapping, and not at all for the top level.
/// `text` is the YAML the error came from.
pub(crate) fn describe_yaml_error(error: &serde_yaml::Error, text: &str) -> String {
    let message = error.to_string();
    if message.starts_with("repetition limit exceeded") {
        "its aliases (`*name`) expand to too much data (repetition limit exceeded)".to_string()
    } else if message.starts_with("recursion limit exceeded") {
        "it nests lists or maps too deep (recursion limit exceeded)".to_string()
    } else {
        describe_duplicate_key(error, &message, text).unwrap_or(message)
    }
}

/// ``users[0]: `id` is given on line 3 and again on line 5``, for
/// serde's ``users[0]: duplicate field `id` at line 3 column 5``; `None`
/// for another error. A key not found where it should be (in a flow
/// mapping `{…}`) keeps the position serde_yaml gives, if any (none for a
/// flow mapping at the top).
fn describe_duplicate_key(error: &serde_yaml::Error, message: &str, text: &str) -> Option<String> {
    let (path, rest) = message.split_once("duplicate field `")?;
    let (key, position) = rest.split_once('`')?;
    let lines = error
        .location()
        .map(|location| block_key_lines(text, location.line(), location.column(), key))
        .unwrap_or_default();
    Some(match lines[..] {
        [first, again, ..] => {
            format!("{path}`{key}` is given on line {first} and again on line {again}; keep one")
        }
        _ => format!("{path}`{key}` is given twice{position}; keep one"),
    })
}

/// The (1-based) lines on which the block mapping that starts at
/// `line`:`column` gives `key` (plain or quoted): its keys start at that
/// column, on its first line and on each line after it until one is
/// indented less.
fn block_key_lines(text: &str, line: usize, column: usize, key: &str) -> Vec<usize> {
    let indent = column.saturating_sub(1);
    let quoted = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    let mut found = Vec::new();
    for (index, content) in text.lines().enumerate().skip(line.saturating_sub(1)) {
        let entry = if index + 1 == line {
            // The column counts characters; a list item's `- ` may precede.
            content
                .char_indices()
                .nth(indent)
                .map(|(at, _)| &content[at..])
        } else {
            let unindented = content.trim_start_matches(' ');
            let depth = content.len() - unindented.len();
            if unindented.is_empty() || unindented.starts_with('#') || depth > indent {
                continue;
            }
            if depth < indent {
                break;
            }
            Some(unindented)
        };
        let names_key = entry.is_some_and(|entry| {
            quoted.iter().any(|written| {
                entry
                    .strip_prefix(written.as_str())
                    .is_some_and(|after| after.trim_start().starts_with(':'))
            })
        });
        if names_key {
            found.push(index + 1);
        }
    }
    found
}
