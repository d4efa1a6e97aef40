//! Positions as the protocol counts them, and document addresses.
//!
//! The protocol counts columns in UTF-16 code units, the rest of callassign
//! in bytes: an `é` before an error is one column to an editor and two bytes
//! to a [`Span`]. Every conversion goes through [`LineIndex`] so that no
//! handler does its own arithmetic. Positions from a client are not trusted:
//! a line or column past the end clamps to the end, never panics.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::{Position, Range, Uri};

use callassign::diagnostics::source::Span;

/// Line starts of a text, to convert between byte offsets and positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { line_starts }
    }

    /// The protocol position of a byte offset (clamped to the text).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range::new(
            self.position(text, span.start),
            self.position(text, span.end),
        )
    }

    /// The byte offset of a protocol position. A line past the end is the
    /// end of the text; a column past the end of its line (or inside a
    /// character's UTF-16 pair) is the end of that line (or that character).
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return text.len();
        };
        let line_end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |next| next - 1);
        let mut units = 0usize;
        for (index, c) in text[start..line_end].char_indices() {
            if units >= position.character as usize {
                return start + index;
            }
            units += c.len_utf16();
        }
        line_end
    }

    pub fn span(&self, text: &str, range: Range) -> Span {
        let start = self.offset(text, range.start);
        let end = self.offset(text, range.end).max(start);
        Span::new(start, end)
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether an address is of `scheme` (schemes ignore case).
pub fn has_scheme(uri: &Uri, scheme: &str) -> bool {
    uri.as_str()
        .split_once(':')
        .is_some_and(|(own, _)| own.eq_ignore_ascii_case(scheme))
}

/// The file a `file:` address names; `None` for other schemes, which this
/// server does not serve, and for a file on another host. Every spelling
/// RFC 8089 allows is read: `file:///x`, `file://localhost/x`, `file:/x`,
/// escapes in either case, escaped characters that need none.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if !has_scheme(uri, "file") {
        return None;
    }
    let (_, rest) = uri.as_str().split_once(':')?;
    let path = match rest.strip_prefix("//") {
        Some(authority_and_path) => {
            let slash = authority_and_path.find('/')?;
            let host = &authority_and_path[..slash];
            // `file://host/x` names a share this machine cannot read as `/x`.
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return None;
            }
            &authority_and_path[slash..]
        }
        None => rest,
    };
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let bytes = percent_decode(path)?;
    // No file's name holds a NUL byte.
    if bytes.contains(&0) {
        return None;
    }
    let decoded = String::from_utf8(bytes).ok()?;
    let decoded = match decoded.as_bytes() {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() && cfg!(windows) => {
            decoded[1..].to_string()
        }
        _ => decoded,
    };
    Some(PathBuf::from(decoded))
}

/// The `file:` address of a path, with every byte outside the unreserved
/// set and `/` percent-encoded.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_str()?.replace('\\', "/");
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&uri).ok()
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is 2 bytes and 1 unit; `𝄞` is 4 bytes and 2 units.
        let text = "ab\né𝄞x\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(text, x), Position::new(1, 3));
        assert_eq!(index.offset(text, Position::new(1, 3)), x);
        assert_eq!(index.offset(text, Position::new(0, 0)), 0);
    }

    #[test]
    fn positions_out_of_range_clamp_instead_of_failing() {
        let text = "ab\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 99)), 2);
        assert_eq!(index.offset(text, Position::new(99, 0)), text.len());
        assert_eq!(index.position(text, 999), Position::new(1, 2));
        // The middle of a surrogate pair is the start of the next character.
        let pair = "𝄞z";
        let index = LineIndex::new(pair);
        assert_eq!(index.offset(pair, Position::new(0, 1)), 4);
    }

    #[test]
    fn file_addresses_round_trip_with_escapes() {
        let path = Path::new("/tmp/rules dir/zendesk é.rules");
        let uri = path_to_uri(path).unwrap();
        assert_eq!(
            uri.as_str(),
            "file:///tmp/rules%20dir/zendesk%20%C3%A9.rules"
        );
        assert_eq!(uri_to_path(&uri).unwrap(), path);
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&untitled), None);
    }

    #[test]
    fn every_spelling_of_a_local_file_address_is_read() {
        let path = |text: &str| uri_to_path(&Uri::from_str(text).unwrap());
        let expected = Some(PathBuf::from("/tmp/a b+é/team.rules"));
        for spelling in [
            "file:///tmp/a%20b+%C3%A9/team.rules",
            "file:///tmp/a%20b%2b%c3%a9/te%61m.rules",
            "FILE:///tmp/a%20b+%C3%A9/team.rules",
            "file://localhost/tmp/a%20b+%C3%A9/team.rules",
            "file://LOCALHOST/tmp/a%20b+%C3%A9/team.rules",
            "file:/tmp/a%20b+%C3%A9/team.rules",
            "file:///tmp/a%20b+%C3%A9/team.rules#L3",
        ] {
            assert_eq!(path(spelling), expected, "{spelling}");
        }
        for refused in [
            "file://server/share/team.rules",
            "file:///tmp/%00.rules",
            "file:///tmp/%ff.rules",
            "file:team.rules",
            "https://acme.com/team.rules",
        ] {
            assert_eq!(path(refused), None, "{refused}");
        }
    }
}
