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
use crate::model::cloudtalk::{self, CallRecord};
use crate::model::{Call, Context, Fact};
use crate::runtime::evaluate::{DecidedBy, Decision, Engine, TraceEntry};
use crate::vocabulary::{Direction, Status};

mod assign;
mod lines;
mod output;
mod parallel;

pub use assign::*;
pub use lines::*;
pub use output::*;
pub use parallel::run_parallel;

/// Longest batch line read, in bytes. Real call payloads are a few KiB.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// How assignment lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Readable text; the trace as an indented list.
    Human,
}

/// What the input lines hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase", expecting = "`native` or `cloudtalk`")]
pub enum InputFormat {
    /// Calls in callassign's own shape.
    // (docs/contract.md section 2)
    #[default]
    Native,
    /// CloudTalk API records: call-history items or call-detail records.
    CloudTalk,
}

impl InputFormat {
    /// What one pasted document most likely holds: a CloudTalk record when
    /// it is a JSON object with a key only CloudTalk's records have at its
    /// top level (`Cdr`, `cdr_id`, `call_steps`, `responseData`), or a list
    /// whose first item is one; a native call otherwise, whose reading then
    /// says what is wrong with it.
    ///
    /// ```
    /// use callassign::InputFormat;
    ///
    /// assert_eq!(InputFormat::detect(r#"{"id":"c-1","direction":"incoming","status":"missed"}"#), InputFormat::Native);
    /// assert_eq!(InputFormat::detect(r#"{"Cdr":{"id":"27","type":"incoming"}}"#), InputFormat::CloudTalk);
    /// assert_eq!(InputFormat::detect(r#"{"cdr_id":27,"call_steps":[]}"#), InputFormat::CloudTalk);
    /// assert_eq!(InputFormat::detect("not json"), InputFormat::Native);
    /// ```
    pub fn detect(text: &str) -> InputFormat {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let cloudtalk = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => has_cloudtalk_key(&object),
            Ok(serde_json::Value::Array(items)) => matches!(
                items.first(),
                Some(serde_json::Value::Object(object)) if has_cloudtalk_key(object)
            ),
            _ => false,
        };
        if cloudtalk {
            InputFormat::CloudTalk
        } else {
            InputFormat::Native
        }
    }
}

fn has_cloudtalk_key(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object
        .keys()
        .any(|key| crate::model::call::is_cloudtalk_key(key))
}

/// How calls are read and their lines written: JSON Lines of native calls,
/// without explanations, by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// How each line is written: JSON (the default) or readable text.
    pub format: OutputFormat,
    /// Whether each line carries the trace ([`Engine::explain`]): `eval
    /// --explain`, or serve's `?explain=true`.
    pub explain: bool,
    /// What the input holds: native calls (the default) or CloudTalk
    /// records.
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
    /// calls that had each.
    pub unknown_keys: KeyCounts,
}

/// How many calls had each key that callassign does not read.
///
/// A batch counts its calls' extra keys for every call, and exporters add
/// the same key or two to every call in the same order. So each position
/// among a call's unknown keys remembers the entry it matched last: one
/// comparison finds most keys, without hashing them (hashing was a tenth
/// of what reading a call's keys cost). The index finds the others.
///
/// Memory and the summary line are bounded whatever the batch holds: at
/// most [`KeyCounts::MAX_KEYS`] distinct keys are kept (the first seen;
/// uses of later ones are only counted together), and a key is kept and
/// printed cut to [`KeyCounts::MAX_KEY_BYTES`]. Below that many keys in a
/// parallel worker's block the counts are exact and the same at every
/// `--jobs`; past it (a batch of ever new keys is no export) a key a
/// block could not keep counts among the others.
#[derive(Debug, Clone, Default)]
pub struct KeyCounts {
    /// Each key with its count, in the order first seen.
    entries: Vec<KeyCount>,
    /// Occurrences (one per call and key) of keys not kept, past
    /// [`KeyCounts::MAX_KEYS`].
    not_kept: u64,
    /// Where each key is in `entries`, one map per place.
    index: [FxHashMap<String, usize>; KeyCounts::PLACES.len()],
    /// The entry the key at each of a call's first positions in each
    /// place matched last.
    recent: [usize; KeyCounts::RECENT],
    /// The calls noted so far: the number of the call being noted.
    calls: u64,
}

/// One key of [`KeyCounts`].
#[derive(Debug, Clone)]
struct KeyCount {
    /// Where the key is: an index of [`KeyCounts::PLACES`].
    place: usize,
    /// The key, cut to [`KeyCounts::MAX_KEY_BYTES`].
    key: String,
    /// Whether `key` was cut.
    cut: bool,
    calls: u64,
    /// The last call noted with this key (1-based; 0: none), so a key
    /// written twice in one call (`{"x":1,"x":2}`) counts that call once
    /// without comparing a call's keys with each other.
    last_call: u64,
}

impl KeyCounts {
    /// Where a key can be, as the summary names it: in the call itself,
    /// in its flow steps (`flow[].ring_s`) or in its contact
    /// (`contact.name`).
    const PLACES: [&'static str; 3] = ["", "flow[].", "contact."];
    /// Hinted positions per place.
    const HINTED: usize = 4;
    const RECENT: usize = KeyCounts::PLACES.len() * KeyCounts::HINTED;
    /// The most distinct keys kept.
    pub const MAX_KEYS: usize = 1_000;
    /// The most bytes of a key kept and printed.
    pub const MAX_KEY_BYTES: usize = 64;

    /// Counts one call's unknown keys (keys of the call itself).
    pub fn note(&mut self, keys: impl Iterator<Item = impl AsRef<str>>) {
        self.calls += 1;
        self.add_all(0, keys);
    }

    /// Counts one call's unknown keys: its own, then those inside its flow
    /// steps and inside its contact.
    pub(crate) fn note_call(&mut self, call: &Call<'_>) {
        self.calls += 1;
        // Most calls have keys at one place at most.
        if !call.unknown_keys.is_empty() {
            self.add_all(0, call.unknown_keys.iter());
        }
        if !call.unknown_flow_keys.is_empty() {
            self.add_all(1, call.unknown_flow_keys.iter());
        }
        if !call.unknown_contact_keys.is_empty() {
            self.add_all(2, call.unknown_contact_keys.iter());
        }
    }

    fn add_all(&mut self, place: usize, keys: impl Iterator<Item = impl AsRef<str>>) {
        for (position, key) in keys.enumerate() {
            let slot = (position < Self::HINTED).then_some(place * Self::HINTED + position);
            self.add(slot, place, key.as_ref(), 1, true);
        }
    }

    /// Adds `count` calls with `key` at `place`, whose hint is at `slot` of
    /// `recent`; `per_call` counts the call being noted once however often
    /// it has the key (counts merged from elsewhere are per call already).
    fn add(&mut self, slot: Option<usize>, place: usize, key: &str, count: u64, per_call: bool) {
        let (key, cut) = match key.len() > Self::MAX_KEY_BYTES {
            false => (key, false),
            true => {
                let mut end = Self::MAX_KEY_BYTES;
                while !key.is_char_boundary(end) {
                    end -= 1;
                }
                (&key[..end], true)
            }
        };
        let hint = slot.and_then(|slot| self.recent.get(slot).copied());
        let found = match hint {
            Some(at)
                if self
                    .entries
                    .get(at)
                    .is_some_and(|entry| entry.place == place && entry.key == key) =>
            {
                at
            }
            _ => match self.index[place].get(key) {
                Some(&at) => at,
                None if self.entries.len() >= Self::MAX_KEYS => {
                    // Counted per occurrence: a key given twice in one
                    // call is not told from two keys here.
                    self.not_kept += count;
                    return;
                }
                None => {
                    self.index[place].insert(key.to_string(), self.entries.len());
                    self.entries.push(KeyCount {
                        place,
                        key: key.to_string(),
                        cut,
                        calls: 0,
                        last_call: 0,
                    });
                    self.entries.len() - 1
                }
            },
        };
        if let Some(recent) = slot.and_then(|slot| self.recent.get_mut(slot)) {
            *recent = found;
        }
        let entry = &mut self.entries[found];
        if per_call {
            if entry.last_call == self.calls {
                return;
            }
            entry.last_call = self.calls;
        }
        entry.calls += count;
    }

    /// The calls that had `key`, named as the summary names it
    /// (`recording`, `flow[].ring_s`, `contact.name`).
    pub fn get(&self, key: &str) -> Option<u64> {
        let (place, key) = Self::PLACES
            .iter()
            .enumerate()
            .rev()
            .find_map(|(place, prefix)| Some((place, key.strip_prefix(prefix)?)))?;
        self.index[place].get(key).map(|&at| self.entries[at].calls)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Each key, named as the summary names it (a cut key ends in `…`),
    /// with its count, sorted.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut sorted: Vec<(String, u64)> = self
            .entries
            .iter()
            .map(|entry| {
                let cut = if entry.cut { "…" } else { "" };
                (
                    format!("{}{}{cut}", Self::PLACES[entry.place], entry.key),
                    entry.calls,
                )
            })
            .collect();
        sorted.sort_unstable();
        sorted
    }

    /// How many occurrences of keys past [`KeyCounts::MAX_KEYS`] were
    /// counted without being kept.
    pub fn not_kept(&self) -> u64 {
        self.not_kept
    }

    /// Adds another count's keys (from a parallel worker).
    fn merge(&mut self, other: &KeyCounts) {
        for entry in &other.entries {
            self.add(None, entry.place, &entry.key, entry.calls, false);
        }
        self.not_kept += other.not_kept;
    }
}

impl PartialEq for KeyCounts {
    fn eq(&self, other: &KeyCounts) -> bool {
        self.sorted() == other.sorted()
    }
}

impl Eq for KeyCounts {}

impl Summary {
    /// The most keys [`Summary::render_unknown_keys`] names.
    pub const KEYS_SHOWN: usize = 20;

    /// Counts one decided call: its step, whether it stays unassigned,
    /// and the keys it has that callassign does not read.
    pub fn record(&mut self, call: &Call<'_>, decision: &Decision<'_>) {
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
        self.unknown_keys.note_call(call);
    }

    /// Adds another summary's counts (from a parallel worker).
    pub(crate) fn merge(&mut self, other: &Summary) {
        self.unknown_keys.merge(&other.unknown_keys);
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
    /// was read. Past [`Summary::KEYS_SHOWN`] keys, the most frequent are
    /// named and the rest counted: a batch of ever new keys must not
    /// print a line of megabytes.
    pub fn render_unknown_keys(&self) -> String {
        if self.unknown_keys.is_empty() {
            return String::new();
        }
        let mut keys = self.unknown_keys.sorted();
        let hidden = keys.len().saturating_sub(Self::KEYS_SHOWN);
        if hidden > 0 {
            keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            keys.truncate(Self::KEYS_SHOWN);
            keys.sort_unstable();
        }
        let mut shown: Vec<String> = keys
            .into_iter()
            .map(|(key, count)| {
                format!(
                    "`{}` ({})",
                    printable(&key),
                    counted(count, "call", "calls")
                )
            })
            .collect();
        if hidden > 0 {
            let keys = if hidden == 1 { "key" } else { "keys" };
            shown.push(format!("and {hidden} more {keys}"));
        }
        let not_kept = self.unknown_keys.not_kept();
        if not_kept > 0 {
            shown.push(format!(
                "and {} more uses of keys past the first {} (not counted one by one)",
                not_kept,
                KeyCounts::MAX_KEYS
            ));
        }
        format!("keys not read: {}\n", shown.join(", "))
    }
}

/// Evaluates a JSON Lines batch, writing one line per input line;
/// `observer` hears what became of each line ([`Engine::assign_batch`]
/// passes the embedder's, `eval` none).
///
/// `progress` is called now and then with the number of lines done.
pub fn run<R: BufRead, W: Write>(
    evaluator: &Engine,
    input: R,
    output: &mut W,
    options: Options,
    observer: &mut impl Observer,
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
            observer,
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
/// and writes its output line. Shared by [`run`], [`run_parallel`] and
/// [`Engine::assign_line`], so all write the same bytes; `observer` hears
/// what became of the line.
#[allow(clippy::too_many_arguments)]
fn process_line<W: Write>(
    evaluator: &Engine,
    line_number: u64,
    line: Option<&[u8]>,
    output: &mut W,
    options: Options,
    scratch: &mut String,
    summary: &mut Summary,
    observer: &mut impl Observer,
) -> io::Result<()> {
    let unreadable = match options.input {
        InputFormat::Native => {
            // Read into a call of this frame, not returned through a
            // `Line`: see `Call::read_json_into`.
            let mut call = Call::bare(Direction::Incoming, Status::Answered);
            match line
                .ok_or_else(too_long)
                .and_then(|bytes| read_call_into(bytes, &mut call))
            {
                Ok(()) => {
                    let decision = write_explained_decision(
                        evaluator,
                        &call,
                        &[],
                        output,
                        options,
                        scratch,
                        observer,
                    )?;
                    summary.record(&call, &decision);
                    return Ok(());
                }
                Err(error) => (error, line.and_then(call_id_of)),
            }
        }
        InputFormat::CloudTalk => {
            let facts = cloudtalk::Provenance::when(options.explain);
            match read_record(line, evaluator.context(), facts) {
                Ok(record) => {
                    let decision = write_explained_decision(
                        evaluator,
                        &record.call,
                        &record.facts,
                        output,
                        options,
                        scratch,
                        observer,
                    )?;
                    summary.record(&record.call, &decision);
                    return Ok(());
                }
                Err(error) => (
                    error,
                    line.and_then(|bytes| std::str::from_utf8(bytes).ok())
                        .map(|text| text.trim_start_matches('\u{feff}'))
                        .and_then(cloudtalk::call_id_of),
                ),
            }
        }
    };
    let (error, call) = unreadable;
    summary.unreadable += 1;
    observer.unreadable(line_number, call.as_deref(), &error);
    write_error(output, line_number, call.as_deref(), &error, options.format)
}

#[cfg(test)]
mod tests;
