//! Pre-scan: what is read from the text before pest sees it. Where each
//! chunk starts, how deep its parentheses go (pest recurses on the machine
//! stack), and the comments, which the grammar skips.

use crate::diagnostics::source::Span;
use crate::syntax::ast::Comment;

use super::MAX_NESTING;

/// Byte offsets where chunks start: 0, then every line whose first word is
/// a statement keyword.
pub(super) fn chunk_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let word_end = trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(trimmed.len());
        if line_start > 0
            && matches!(
                &trimmed[..word_end],
                "step" | "disable" | "move" | "fallback"
            )
        {
            starts.push(line_start + (line.len() - trimmed.len()));
        }
        line_start += line.len();
    }
    starts
}

/// Where parentheses or brackets first nest deeper than [`MAX_NESTING`],
/// ignoring strings and comments.
pub(super) fn too_deep_at(chunk: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (offset, byte) in chunk.bytes().enumerate() {
        if in_comment {
            in_comment = byte != b'\n';
            continue;
        }
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'#' => in_comment = true,
            b'"' => in_string = true,
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(offset);
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Every `#` comment outside a string.
pub(super) fn comments(text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut in_string = false;
        let mut escaped = false;
        for (offset, byte) in line.bytes().enumerate() {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if byte == b'"' {
                in_string = true;
            } else if byte == b'#' {
                let body = line[offset + 1..].trim_end_matches(['\n', '\r']);
                let start = line_start + offset;
                comments.push(Comment {
                    text: body.to_string(),
                    span: Span::new(start, start + 1 + body.len()),
                });
                break;
            }
        }
        line_start += line.len();
    }
    comments
}
