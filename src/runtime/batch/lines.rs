//! Reading a batch: lines in large blocks from one reused buffer, each
//! bounded, borrowed in place, and read as a native call or a CloudTalk
//! record, or as the error line that takes its place.

use super::*;
use crate::model::call::friendly_json_error;

#[allow(clippy::large_enum_variant)]
pub enum Line<'a> {
    Call(Call<'a>),
    /// A CloudTalk record, with where each field came from.
    Record(CallRecord<'a>),
    Unreadable(String),
}

impl<'a> Line<'a> {
    /// The call the line holds, if it holds one.
    pub fn call(&self) -> Option<&Call<'a>> {
        match self {
            Line::Call(call) => Some(call),
            Line::Record(record) => Some(&record.call),
            Line::Unreadable(_) => None,
        }
    }
}

/// Reads a batch line in the given input format, as [`for_each_line`]
/// hands it over; `context` supplies what CloudTalk records lack (agent
/// e-mails, voicemail addresses, contact owners), and `facts` says whether
/// a record's call comes with where each field came from.
pub fn read_input<'a>(
    line: Option<&'a [u8]>,
    input: InputFormat,
    context: &Context,
    facts: cloudtalk::Provenance,
) -> Line<'a> {
    match input {
        InputFormat::Native => read_bounded(line),
        InputFormat::CloudTalk => match read_record(line, context, facts) {
            Ok(record) => Line::Record(record),
            Err(error) => Line::Unreadable(error),
        },
    }
}

/// Reads a batch line as a CloudTalk record (`None`: the line was longer
/// than [`MAX_LINE_BYTES`]); `facts` says whether to collect where the
/// call's fields came from (only `--explain` shows them).
pub(super) fn read_record<'a>(
    line: Option<&'a [u8]>,
    context: &Context,
    facts: cloudtalk::Provenance,
) -> Result<CallRecord<'a>, String> {
    let text = without_byte_order_mark(utf8(line.ok_or_else(too_long)?)?);
    if text.trim().is_empty() {
        return Err("empty line, expected a CloudTalk call record".to_string());
    }
    cloudtalk::read_line_with(text, context, facts)
}

pub(super) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map_err(|error| format!("line is not valid UTF-8 (byte {})", error.valid_up_to() + 1))
}

/// A line without the byte-order mark it starts with, if any. A batch
/// skips one at its start; `cat` of two files saved on Windows puts the
/// second file's mark at the start of a line in the middle.
fn without_byte_order_mark(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The error of a line longer than [`MAX_LINE_BYTES`].
pub(super) fn too_long() -> String {
    format!("line is longer than {MAX_LINE_BYTES} bytes")
}

/// Reads a batch line as [`for_each_line`] hands it over: `None` is a line
/// longer than [`MAX_LINE_BYTES`].
pub fn read_bounded(line: Option<&[u8]>) -> Line<'_> {
    match line {
        Some(bytes) => read_line(bytes),
        None => Line::Unreadable(too_long()),
    }
}

/// Reads JSON Lines, handing `visit` each line's 1-based number and its
/// bytes without the line break (`None` for a line longer than
/// [`MAX_LINE_BYTES`], skipped without being held). Returns the number of
/// lines.
///
/// A line that lies whole in the reader's buffer is handed over in place;
/// only a line cut by the buffer's end is copied, into one reused buffer
/// (copying every line was a twentieth of a batch).
pub fn for_each_line<R: BufRead>(
    mut input: R,
    mut visit: impl FnMut(u64, Option<&[u8]>) -> io::Result<()>,
) -> io::Result<u64> {
    skip_byte_order_mark(&mut input)?;
    let mut carried = Vec::new();
    // The start of the carried line, when it is already too long to keep.
    let mut carried_too_long = false;
    let mut line_number = 0u64;
    loop {
        if !has_more(&mut input)? {
            break;
        }
        // Filled by `has_more`: this hands the buffer over without reading.
        let available = input.fill_buf()?;
        let length = available.len();
        let mut start = 0;
        while let Some(at) = memchr(&available[start..]) {
            let end = start + at;
            line_number += 1;
            if carried.is_empty() && !carried_too_long {
                visit(line_number, bounded(&available[start..end], true))?;
            } else {
                carry(&mut carried, &mut carried_too_long, &available[start..end]);
                let line = if carried_too_long {
                    None
                } else {
                    bounded(&carried, true)
                };
                visit(line_number, line)?;
                carried.clear();
                carried_too_long = false;
            }
            start = end + 1;
        }
        carry(&mut carried, &mut carried_too_long, &available[start..]);
        input.consume(length);
    }
    if !carried.is_empty() || carried_too_long {
        line_number += 1;
        let line = if carried_too_long {
            None
        } else {
            bounded(&carried, false)
        };
        visit(line_number, line)?;
    }
    Ok(line_number)
}

/// Appends part of a line cut by the end of the reader's buffer, dropping
/// it once it is longer than any line kept (one more byte than
/// [`MAX_LINE_BYTES`], for a `\r` before the line break).
pub(super) fn carry(carried: &mut Vec<u8>, too_long: &mut bool, part: &[u8]) {
    if *too_long || part.is_empty() {
        return;
    }
    if carried.len() + part.len() > MAX_LINE_BYTES + 1 {
        *too_long = true;
        carried.clear();
    } else {
        carried.extend_from_slice(part);
    }
}

/// A line without its `\n` (and the `\r` before it, when it ended with a
/// line break); `None` when it is longer than [`MAX_LINE_BYTES`].
pub(super) fn bounded(line: &[u8], ended_by_break: bool) -> Option<&[u8]> {
    let line = match line {
        [rest @ .., b'\r'] if ended_by_break => rest,
        _ => line,
    };
    (line.len() <= MAX_LINE_BYTES).then_some(line)
}

/// The UTF-8 byte-order mark, skipped at the start of a batch.
pub(super) const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// Skips a UTF-8 byte-order mark at the start of `input`: editors on
/// Windows add one, and it is not part of the first call. Every batch
/// reader (one thread or many) starts with this.
pub(crate) fn skip_byte_order_mark<R: BufRead>(input: &mut R) -> io::Result<()> {
    if input.fill_buf()?.starts_with(UTF8_BOM) {
        input.consume(UTF8_BOM.len());
    }
    Ok(())
}

/// Reads one batch line (without its line break) as a call.
pub fn read_line(bytes: &[u8]) -> Line<'_> {
    let mut call = Call::bare(Direction::Incoming, Status::Answered);
    match read_call_into(bytes, &mut call) {
        Ok(()) => Line::Call(call),
        Err(error) => Line::Unreadable(error),
    }
}

/// Reads one batch line (without its line break) into `call`, fresh from
/// [`Call::bare`]; the error is the line's message.
// Inlined: it is the start of every line of a batch.
#[inline(always)]
pub(super) fn read_call_into<'a>(bytes: &'a [u8], call: &mut Call<'a>) -> Result<(), String> {
    let mut text = utf8(bytes)?;
    // Most lines start with the call's brace: only the others can be blank
    // or a list's first line, and only they are trimmed to tell.
    if !text.starts_with('{') {
        text = without_byte_order_mark(text);
        match text.trim() {
            "" => return Err("empty line, expected a call object".to_string()),
            "[" => return Err(one_call_per_line("[")),
            _ => {}
        }
    }
    Call::read_json_into(text, call).map_err(|error| match text.trim() {
        "{" => one_call_per_line("{"),
        _ => friendly_json_error(&error.to_string()),
    })
}

/// The error of a line holding only the first line of pretty-printed JSON,
/// or of a list of calls.
fn one_call_per_line(opening: &str) -> String {
    format!(
        "a line holding only `{opening}`: a batch holds one whole call per line (JSON Lines); write each call on one line (`jq -c '.[]'` does it for a list)"
    )
}

/// Whether the reader has bytes left: fills its buffer when used up,
/// reading again when a signal interrupts the read. (It cannot hand the
/// bytes back itself: a borrow returned from a retry loop does not compile.)
pub(super) fn has_more<R: BufRead>(input: &mut R) -> io::Result<bool> {
    loop {
        match input.fill_buf() {
            Ok(available) => return Ok(!available.is_empty()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

pub(super) fn memchr(bytes: &[u8]) -> Option<usize> {
    // The memchr crate scans many bytes at a time; a byte loop was a tenth
    // of the time of a whole batch.
    memchr::memchr(b'\n', bytes)
}
