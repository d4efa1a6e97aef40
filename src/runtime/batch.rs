//! Batch: JSON Lines of calls in, one assignment line per input line out.
//!
//! Lines are read into one reused buffer and calls borrow from it, so
//! memory stays flat however long the batch. Every input line gets exactly
//! one output line, in input order: an assignment, or an error object with
//! the line number. An over-long line is skipped to its end without being
//! held in memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

use rustc_hash::FxHashMap;

use crate::diagnostics::terminal::{counted, printable, push_padded, Align};
use crate::runtime::cloudtalk::{self, CallRecord};
use crate::runtime::evaluate::{DecidedBy, Decision, Evaluator, TraceEntry};
use crate::runtime::model::assignment::ErrorLine;
use crate::runtime::model::{Call, Context, Fact};

mod parallel;
pub use parallel::run_parallel;

/// Longest batch line read, in bytes. Real call payloads are a few KiB.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// How assignment lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON object per line.
    Json,
    /// Readable text; the trace as an indented list.
    Human,
}

/// What the input lines hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Calls in callassign's own shape (DESIGN.md section 2).
    #[default]
    Native,
    /// CloudTalk API records, read by [`crate::runtime::cloudtalk`].
    CloudTalk,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: OutputFormat,
    pub explain: bool,
    pub input: InputFormat,
}

/// What a batch did, for the summary at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls read and decided.
    pub calls: u64,
    /// Decided calls per deciding step, by [`DecidedBy::index`]: an array,
    /// since a map entry per call was a visible cost of a batch.
    by_step: [u64; DecidedBy::COUNT],
    /// Of the calls a fixed user decided, how many each address decided
    /// (`user "ops@acme.com"`): a plan may hold several.
    by_user: BTreeMap<String, u64>,
    /// Decided calls left without an assignee.
    pub unassigned: u64,
    /// Lines that could not be read as a call.
    pub unreadable: u64,
    /// Keys of the calls that callassign does not read, with the number of
    /// calls that had each. A hash map: a batch looks its keys up for
    /// every call (a `BTreeMap` walk per key was a visible cost), and the
    /// summary sorts them once, when it is rendered.
    pub unknown_keys: FxHashMap<String, u64>,
}

impl Summary {
    fn record(&mut self, call: &Call<'_>, decision: &Decision<'_>) {
        self.note_unknown_keys(call);
        self.calls += 1;
        self.by_step[decision.step.index()] += 1;
        if let Some(email) = decision.step.user() {
            // Looked up before inserting: no allocation per call.
            match self.by_user.get_mut(email) {
                Some(count) => *count += 1,
                None => {
                    self.by_user.insert(email.to_string(), 1);
                }
            }
        }
        if decision.assignee.is_none() {
            self.unassigned += 1;
        }
    }

    /// Counts the keys of `call` that callassign does not read.
    pub fn note_unknown_keys(&mut self, call: &Call<'_>) {
        for key in call.unknown_keys.iter() {
            match self.unknown_keys.get_mut(key) {
                Some(count) => *count += 1,
                None => {
                    self.unknown_keys.insert(key.to_string(), 1);
                }
            }
        }
    }

    /// Adds another summary's counts (from a parallel worker).
    pub fn merge(&mut self, other: &Summary) {
        for (key, count) in &other.unknown_keys {
            *self.unknown_keys.entry(key.clone()).or_default() += count;
        }
        self.calls += other.calls;
        self.unassigned += other.unassigned;
        self.unreadable += other.unreadable;
        for (mine, theirs) in self.by_step.iter_mut().zip(&other.by_step) {
            *mine += theirs;
        }
        for (email, count) in &other.by_user {
            *self.by_user.entry(email.clone()).or_default() += count;
        }
    }

    /// Decided calls per deciding step, as rule files name it (each fixed
    /// user on its own: `user "ops@acme.com"`); steps that decided nothing
    /// are left out.
    pub fn by_step(&self) -> BTreeMap<String, u64> {
        let mut steps: BTreeMap<String, u64> = DecidedBy::all()
            .filter(|step| step.user().is_none())
            .map(|step| (step.name().to_string(), self.by_step[step.index()]))
            .filter(|&(_, count)| count > 0)
            .collect();
        steps.extend(
            self.by_user
                .iter()
                .map(|(email, count)| (DecidedBy::User(email).label().into_owned(), *count)),
        );
        steps
    }

    /// The summary as printed on stderr after a batch.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} decided, {} unassigned, {}\n",
            counted(self.calls, "call", "calls"),
            self.unassigned,
            counted(self.unreadable, "unreadable line", "unreadable lines")
        );
        for (step, count) in self.by_step() {
            let mut line = String::from("  ");
            push_padded(&mut line, &printable(&step), 22, Align::Left);
            line.push(' ');
            push_padded(&mut line, &count.to_string(), 10, Align::Right);
            let _ = writeln!(out, "{line}");
        }
        out.push_str(&self.render_unknown_keys());
        out
    }

    /// `keys not read: `recording` (3 calls)`, or nothing when every key
    /// was read.
    pub fn render_unknown_keys(&self) -> String {
        if self.unknown_keys.is_empty() {
            return String::new();
        }
        let mut sorted: Vec<(&String, &u64)> = self.unknown_keys.iter().collect();
        sorted.sort_unstable();
        let keys: Vec<String> = sorted
            .into_iter()
            .map(|(key, count)| {
                format!(
                    "`{}` ({})",
                    printable(key),
                    counted(*count, "call", "calls")
                )
            })
            .collect();
        format!("keys not read: {}\n", keys.join(", "))
    }
}

/// One line of input, read.
// Not boxed: a line is matched right away, and a box would cost an
// allocation per call.
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
/// e-mails, voicemail addresses, contact owners).
// Inlined for the same reason as `read_bounded`.
#[inline(always)]
pub fn read_input<'a>(line: Option<&'a [u8]>, input: InputFormat, context: &Context) -> Line<'a> {
    match input {
        InputFormat::Native => read_bounded(line),
        InputFormat::CloudTalk => match line.map(utf8) {
            None => read_bounded(None),
            Some(Err(error)) => Line::Unreadable(error),
            Some(Ok(text)) if text.trim().is_empty() => {
                Line::Unreadable("empty line, expected a CloudTalk call record".to_string())
            }
            Some(Ok(text)) => match cloudtalk::read_line(text, context) {
                Ok(record) => Line::Record(record),
                Err(error) => Line::Unreadable(error),
            },
        },
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map_err(|error| format!("line is not valid UTF-8 (byte {})", error.valid_up_to() + 1))
}

/// Reads a batch line as [`for_each_line`] hands it over: `None` is a line
/// longer than [`MAX_LINE_BYTES`].
// Inlined, like `read_line`: a call is a few hundred bytes, and each
// function boundary it is returned across copied it once more per line.
#[inline(always)]
pub fn read_bounded(line: Option<&[u8]>) -> Line<'_> {
    match line {
        Some(bytes) => read_line(bytes),
        None => Line::Unreadable(format!("line is longer than {MAX_LINE_BYTES} bytes")),
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
fn carry(carried: &mut Vec<u8>, too_long: &mut bool, part: &[u8]) {
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
fn bounded(line: &[u8], ended_by_break: bool) -> Option<&[u8]> {
    let line = match line {
        [rest @ .., b'\r'] if ended_by_break => rest,
        _ => line,
    };
    (line.len() <= MAX_LINE_BYTES).then_some(line)
}

/// The UTF-8 byte-order mark, skipped at the start of a batch.
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// Skips a UTF-8 byte-order mark at the start of `input`: editors on
/// Windows add one, and it is not part of the first call. Every batch
/// reader (one thread or many) starts with this.
pub fn skip_byte_order_mark<R: BufRead>(input: &mut R) -> io::Result<()> {
    if input.fill_buf()?.starts_with(UTF8_BOM) {
        input.consume(UTF8_BOM.len());
    }
    Ok(())
}

/// Reads one batch line (without its line break) as a call.
#[inline(always)]
pub fn read_line(bytes: &[u8]) -> Line<'_> {
    let text = match utf8(bytes) {
        Ok(text) => text,
        Err(error) => return Line::Unreadable(error),
    };
    if text.trim().is_empty() {
        return Line::Unreadable("empty line, expected a call object".to_string());
    }
    if matches!(text.trim(), "{" | "[") {
        // The first line of pretty-printed JSON, or of a list of calls.
        return Line::Unreadable(format!(
            "a line holding only `{}`: a batch holds one whole call per line (JSON Lines); write each call on one line (`jq -c '.[]'` does it for a list)",
            text.trim()
        ));
    }
    match Call::from_json(text) {
        Ok(call) => Line::Call(call),
        Err(error) => Line::Unreadable(friendly_json_error(&error.to_string())),
    }
}

/// serde's message for a batch line, in the words of the data: its
/// position ends as a column (the line is the batch line's, reported
/// beside it, not serde's `line 1`), and Rust type names become what the
/// data should be. Only serde's own words are rewritten, never user data.
pub fn friendly_json_error(message: &str) -> String {
    let text = crate::runtime::model::call::strip_position(message);
    let column = message[text.len()..]
        .rsplit_once(" column ")
        .map(|(_, column)| column);
    let mut friendly = text
        .replace("expected struct Call", "expected a call object")
        .replace("expected struct FlowStep", "expected a flow step object")
        .replace("expected struct Contact", "expected a contact object")
        // serde_json's words for a `\ud800` without its second half.
        .replace(
            "lone leading surrogate in hex escape",
            "a `\\u` escape holds half a character (a lone surrogate), which is not text",
        )
        .replace(
            "unexpected end of hex escape",
            "a `\\u` escape is cut short or holds half a character (a lone surrogate) without its second half",
        );
    if let Some(column) = column {
        friendly.push_str(&format!(" (column {column})"));
    }
    friendly
}

/// Evaluates a JSON Lines batch, writing one line per input line.
///
/// `progress` is called now and then with the number of lines done.
pub fn run<R: BufRead, W: Write>(
    evaluator: &Evaluator<'_>,
    input: R,
    output: &mut W,
    options: Options,
    mut progress: impl FnMut(u64),
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut scratch = String::new();
    for_each_line(input, |line_number, line| {
        process_line(
            evaluator,
            line_number,
            line,
            output,
            options,
            &mut scratch,
            &mut summary,
        )?;
        if line_number % 65_536 == 0 {
            progress(line_number);
        }
        Ok(())
    })?;
    output.flush()?;
    Ok(summary)
}

/// Evaluates one batch line (`None`: it was longer than [`MAX_LINE_BYTES`])
/// and writes its output line. Shared by [`run`] and [`run_parallel`], so
/// both write the same bytes.
fn process_line<W: Write>(
    evaluator: &Evaluator<'_>,
    line_number: u64,
    line: Option<&[u8]>,
    output: &mut W,
    options: Options,
    scratch: &mut String,
    summary: &mut Summary,
) -> io::Result<()> {
    match read_input(line, options.input, evaluator.context()) {
        Line::Call(call) => {
            let decision = write_decision(evaluator, &call, output, options, scratch)?;
            summary.record(&call, &decision);
        }
        Line::Record(record) => {
            let decision = write_explained_decision(
                evaluator,
                &record.call,
                &record.facts,
                output,
                options,
                scratch,
            )?;
            summary.record(&record.call, &decision);
        }
        Line::Unreadable(error) => {
            summary.unreadable += 1;
            let call = match options.input {
                InputFormat::Native => line.and_then(call_id_of),
                _ => None,
            };
            write_error(output, line_number, call.as_deref(), &error, options.format)?;
        }
    }
    Ok(())
}

/// Reads up to and including `\n`, appending to `buffer` and keeping at
/// most `limit` bytes of the line; the line break (and a `\r` before it) is
/// dropped. Returns the bytes consumed and whether the line was cut (then
/// nothing of it is kept).
pub fn read_bounded_line<R: BufRead>(
    input: &mut R,
    buffer: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(usize, bool)> {
    let start = buffer.len();
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        if !has_more(input)? {
            break;
        }
        // Filled by `has_more`: this hands the buffer over without reading.
        let available = input.fill_buf()?;
        let (chunk, done) = match memchr(available) {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        let length = chunk.len();
        if !too_long {
            if buffer.len() - start + length > limit + 2 {
                too_long = true;
                buffer.truncate(start);
            } else {
                buffer.extend_from_slice(chunk);
            }
        }
        input.consume(length);
        consumed += length;
        if done {
            break;
        }
    }
    if buffer.len() > start && buffer.last() == Some(&b'\n') {
        buffer.pop();
        if buffer.len() > start && buffer.last() == Some(&b'\r') {
            buffer.pop();
        }
    }
    if buffer.len() - start > limit {
        too_long = true;
        buffer.truncate(start);
    }
    Ok((consumed, too_long))
}

/// Whether the reader has bytes left: fills its buffer when used up,
/// reading again when a signal interrupts the read. (It cannot hand the
/// bytes back itself: a borrow returned from a retry loop does not compile.)
fn has_more<R: BufRead>(input: &mut R) -> io::Result<bool> {
    loop {
        match input.fill_buf() {
            Ok(available) => return Ok(!available.is_empty()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    // The memchr crate scans many bytes at a time; a byte loop was a tenth
    // of the time of a whole batch.
    memchr::memchr(b'\n', bytes)
}

/// Decides one call and writes its line.
pub fn write_decision<'e, W: Write>(
    evaluator: &'e Evaluator<'_>,
    call: &'e Call<'_>,
    output: &mut W,
    options: Options,
    scratch: &mut String,
) -> io::Result<Decision<'e>> {
    write_explained_decision(evaluator, call, &[], output, options, scratch)
}

/// Like [`write_decision`], for a call read from another system's record:
/// `--explain` also shows where each of its fields came from.
pub fn write_explained_decision<'e, W: Write>(
    evaluator: &'e Evaluator<'_>,
    call: &'e Call<'_>,
    facts: &[Fact],
    output: &mut W,
    options: Options,
    scratch: &mut String,
) -> io::Result<Decision<'e>> {
    if options.explain {
        let (decision, trace) = evaluator.explain(call);
        let explained = Explained {
            facts,
            trace: &trace,
        };
        write_assignment(
            evaluator,
            output,
            call,
            &decision,
            Some(explained),
            options.format,
            scratch,
        )?;
        Ok(decision)
    } else {
        let decision = evaluator.decide(call);
        write_assignment(
            evaluator,
            output,
            call,
            &decision,
            None,
            options.format,
            scratch,
        )?;
        Ok(decision)
    }
}

/// What `--explain` adds to an assignment line.
#[derive(Debug, Clone, Copy)]
pub struct Explained<'a> {
    /// Where the call's fields came from; empty for a native call.
    pub facts: &'a [Fact],
    pub trace: &'a [TraceEntry],
}

pub fn write_assignment<W: Write>(
    evaluator: &Evaluator<'_>,
    output: &mut W,
    call: &Call<'_>,
    decision: &Decision<'_>,
    explained: Option<Explained<'_>>,
    format: OutputFormat,
    scratch: &mut String,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            // The bytes serde writes for an `Assignment`, written piece by
            // piece so the assignee comes pre-rendered from the evaluator.
            output.write_all(b"{\"call\":")?;
            write_json_string(output, &call.id)?;
            output.write_all(b",\"assignee\":")?;
            match decision.assignee {
                Some(user) => output.write_all(&evaluator.assignee_json(user))?,
                None => output.write_all(b"null")?,
            }
            output.write_all(b",\"step\":\"")?;
            output.write_all(decision.step.name().as_bytes())?;
            output.write_all(b"\"")?;
            if let Some(email) = decision.step.user() {
                // Beside `"step":"user"`: which fixed user decided.
                output.write_all(b",\"user\":")?;
                write_json_string(output, email)?;
            }
            if let Some(explained) = explained {
                if !explained.facts.is_empty() {
                    output.write_all(b",\"facts\":")?;
                    serde_json::to_writer(&mut *output, explained.facts)
                        .map_err(io::Error::from)?;
                }
                output.write_all(b",\"trace\":")?;
                write_trace_json(output, explained.trace)?;
            }
            output.write_all(b"}\n")
        }
        OutputFormat::Human => {
            scratch.clear();
            human_assignment(scratch, &call.id, decision, explained);
            output.write_all(scratch.as_bytes())
        }
    }
}

/// A trace as serde writes `[TraceEntry]`, by hand: with serde, escaping
/// its strings one byte at a time was a third of `--explain`.
fn write_trace_json<W: Write>(output: &mut W, trace: &[TraceEntry]) -> io::Result<()> {
    output.write_all(b"[")?;
    for (index, entry) in trace.iter().enumerate() {
        output.write_all(if index == 0 {
            b"{\"step\":"
        } else {
            b",{\"step\":"
        })?;
        write_json_string(output, &entry.step)?;
        output.write_all(b",\"from\":")?;
        write_json_string(output, &entry.from)?;
        output.write_all(b",\"result\":\"")?;
        output.write_all(entry.result.json_name().as_bytes())?;
        output.write_all(b"\"")?;
        if let Some(reason) = &entry.reason {
            output.write_all(b",\"reason\":")?;
            write_json_string(output, reason)?;
        }
        if let Some(assignee) = &entry.assignee {
            output.write_all(b",\"assignee\":")?;
            // `{"id":…,"email":…}`, as serde writes the assignment's own.
            output.write_all(b"{\"id\":")?;
            write_json_string(output, &assignee.id)?;
            output.write_all(b",\"email\":")?;
            match &assignee.email {
                Some(email) => write_json_string(output, email)?,
                None => output.write_all(b"null")?,
            }
            output.write_all(b"}")?;
        }
        output.write_all(b"}")?;
    }
    output.write_all(b"]")
}

/// `text` as a JSON string, the bytes serde_json writes. Most strings need
/// no escape: one scan without early exit (so the compiler can vectorise
/// it) tells, and then they are copied whole.
fn write_json_string<W: Write>(output: &mut W, text: &str) -> io::Result<()> {
    let plain = text.bytes().fold(true, |plain, byte| {
        plain & (byte >= 0x20) & (byte != b'"') & (byte != b'\\')
    });
    if plain {
        output.write_all(b"\"")?;
        output.write_all(text.as_bytes())?;
        output.write_all(b"\"")
    } else {
        serde_json::to_writer(output, text).map_err(io::Error::from)
    }
}

/// `c-1001: hs-2 (Alice@Acme.com) by voicemail_email`, then the trace.
pub fn human_assignment(
    out: &mut String,
    call_id: &str,
    decision: &Decision<'_>,
    explained: Option<Explained<'_>>,
) {
    let who = match decision.assignee {
        Some(user) => match &user.email {
            Some(email) => format!("{} ({})", printable(&user.id), printable(email)),
            None => printable(&user.id).into_owned(),
        },
        None => "unassigned".to_string(),
    };
    let _ = writeln!(
        out,
        "{}: {who} by {}",
        printable(call_id),
        printable(&decision.step.label())
    );
    if let Some(explained) = explained {
        human_facts(out, explained.facts);
        let trace = explained.trace;
        let width = trace
            .iter()
            .map(|entry| printable(&entry.step).chars().count())
            .max()
            .unwrap_or(0);
        let from_width = trace
            .iter()
            .map(|entry| entry.from.chars().count())
            .max()
            .unwrap_or(0);
        let mut line = String::new();
        for entry in trace {
            line.clear();
            line.push_str("  ");
            push_padded(&mut line, entry.result.as_str(), 11, Align::Left);
            line.push(' ');
            push_padded(&mut line, &printable(&entry.step), width, Align::Left);
            line.push_str("  ");
            push_padded(&mut line, &entry.from, from_width, Align::Left);
            line.push_str("  ");
            line.push_str(&printable(entry.reason.as_deref().unwrap_or("")));
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// `  fact        status = voicemail  from `Cdr.is_voicemail``, one line
/// per field read from another system's record.
fn human_facts(out: &mut String, facts: &[Fact]) {
    let shown: Vec<String> = facts
        .iter()
        .map(|fact| match &fact.value {
            Some(value) => format!("{} = {}", fact.field, printable(value)),
            None => format!("{} = null", fact.field),
        })
        .collect();
    let width = shown
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0);
    for (fact, text) in facts.iter().zip(&shown) {
        // A fact's value comes from the call: no `format!` width for it.
        let mut line = String::from("  fact        ");
        push_padded(&mut line, text, width, Align::Left);
        let _ = writeln!(out, "{line}  from {}", printable(&fact.from));
    }
}

/// The `id` of a call line that could not be read, when the JSON is
/// whole enough to hold one: an error line names the call to fix.
pub fn call_id_of(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<IdOnly>(line).ok()?.id? {
        serde_json::Value::String(id) => Some(id),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// Writes the error line of an input line that could not be read, with
/// the call's id when it is known.
pub fn write_error<W: Write>(
    output: &mut W,
    line: u64,
    call: Option<&str>,
    error: &str,
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *output, &ErrorLine { line, call, error })
                .map_err(io::Error::from)?;
            output.write_all(b"\n")
        }
        OutputFormat::Human => match call {
            Some(call) => writeln!(
                output,
                "line {line} ({}): error: {}",
                printable(call),
                printable(error)
            ),
            None => writeln!(output, "line {line}: error: {}", printable(error)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines_drop_line_breaks_and_cut_long_lines() {
        let mut input = io::Cursor::new(b"ab\r\ncdefgh\nij".to_vec());
        let mut buffer = Vec::new();
        assert_eq!(
            read_bounded_line(&mut input, &mut buffer, 4).unwrap(),
            (4, false)
        );
        assert_eq!(buffer, b"ab");
        buffer.clear();
        assert_eq!(
            read_bounded_line(&mut input, &mut buffer, 4).unwrap(),
            (7, true)
        );
        buffer.clear();
        assert_eq!(
            read_bounded_line(&mut input, &mut buffer, 4).unwrap(),
            (2, false)
        );
        assert_eq!(buffer, b"ij");
        buffer.clear();
        assert_eq!(
            read_bounded_line(&mut input, &mut buffer, 4).unwrap(),
            (0, false)
        );
    }

    /// What `for_each_line` must hand over, written the obvious way.
    fn split_lines(input: &[u8]) -> Vec<Option<Vec<u8>>> {
        let mut parts: Vec<&[u8]> = input.split(|&byte| byte == b'\n').collect();
        let last = parts.pop().unwrap_or_default();
        let mut lines: Vec<&[u8]> = parts
            .into_iter()
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .collect();
        if !last.is_empty() {
            lines.push(last);
        }
        lines
            .into_iter()
            .map(|line| (line.len() <= MAX_LINE_BYTES).then(|| line.to_vec()))
            .collect()
    }

    #[test]
    fn lines_are_the_same_wherever_the_reader_buffer_cuts_them() {
        let mut input = b"{\"a\":1}\r\n\n\r\nplain\nx\r\r\n".to_vec();
        input.extend(vec![b'y'; MAX_LINE_BYTES + 1]);
        input.extend(b"\r\n");
        input.extend(vec![b'z'; MAX_LINE_BYTES]);
        input.extend(b"\r\n");
        input.extend(vec![b'w'; MAX_LINE_BYTES + 1]);
        input.extend(b"\nlast line\r");
        let expected = split_lines(&input);
        assert_eq!(expected.iter().filter(|line| line.is_none()).count(), 2);
        for capacity in [1, 2, 3, 5, 8, 13, 4096, 256 * 1024, 4 * MAX_LINE_BYTES] {
            let reader = io::BufReader::with_capacity(capacity, &input[..]);
            let mut seen = Vec::new();
            let count = for_each_line(reader, |number, line| {
                assert_eq!(number, seen.len() as u64 + 1);
                seen.push(line.map(<[u8]>::to_vec));
                Ok(())
            })
            .unwrap();
            assert_eq!(count, expected.len() as u64, "capacity {capacity}");
            assert!(seen == expected, "capacity {capacity}");
        }
    }

    #[test]
    fn json_lines_are_the_bytes_serde_writes() {
        let context = crate::runtime::model::Context::from_yaml(
            "integration: hubspot\nusers:\n  - {id: hs-1, email: a@x.com}\n  - {id: \"q\\\"1\"}\n",
        )
        .unwrap();
        let plan = crate::compile_text(
            "t.rules",
            "ruleset t\nstep call_agent unless direction == incoming\nstep favorite_agent\nfallback integration\n",
        )
        .plan
        .unwrap();
        let evaluator = Evaluator::new(&plan, &context);
        let lines = [
            r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"A@x.com"}"#,
            r#"{"id":"c\"2\\\u0001é","direction":"incoming","status":"missed","contact":{"favorite_agent":"nobody\t@x.com"}}"#,
            r#"{"id":17,"direction":"incoming","status":"voicemail"}"#,
        ];
        for line in lines {
            let Line::Call(call) = read_line(line.as_bytes()) else {
                panic!("{line}")
            };
            let facts = [Fact {
                field: "status",
                value: Some("voicemail \"x\"".to_string()),
                from: "`Cdr.is_voicemail`".to_string(),
            }];
            for (explain, facts) in [(false, &[][..]), (true, &[][..]), (true, &facts[..])] {
                let (decision, trace) = evaluator.explain(&call);
                let explained = explain.then_some(Explained {
                    facts,
                    trace: &trace,
                });
                let mut ours = Vec::new();
                let mut scratch = String::new();
                write_assignment(
                    &evaluator,
                    &mut ours,
                    &call,
                    &decision,
                    explained,
                    OutputFormat::Json,
                    &mut scratch,
                )
                .unwrap();
                let mut serde = serde_json::to_vec(&crate::runtime::model::Assignment {
                    call: &call.id,
                    assignee: decision
                        .assignee
                        .map(crate::runtime::model::assignment::Assignee::from),
                    step: decision.step.name(),
                    user: decision.step.user(),
                    facts: explained
                        .map(|explained| explained.facts)
                        .filter(|facts| !facts.is_empty()),
                    trace: explained.map(|explained| explained.trace),
                })
                .unwrap();
                serde.push(b'\n');
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    String::from_utf8(serde).unwrap()
                );
            }
        }
    }

    #[test]
    fn json_errors_name_data_not_rust_types() {
        let Line::Unreadable(error) = read_line(b"[1,2]") else {
            panic!()
        };
        assert_eq!(error, "expected a call object `{…}`, found a list");
        let Line::Unreadable(error) =
            read_line(br#"{"id":"x","direction":"in","status":"missed"}"#)
        else {
            panic!()
        };
        assert!(
            error == "direction: unknown value `in`, expected `incoming`, `outgoing` or `internal` (column 26)",
            "{error}"
        );
    }
}
