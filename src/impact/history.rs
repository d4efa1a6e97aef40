//! History: a JSON Lines file of past calls, read once for a report over it
//! ([`crate::impact::diff`], [`crate::impact::stats`]).
//!
//! Reading reuses [`crate::runtime::batch`]: one line buffer, calls borrowed from
//! it, an over-long line skipped without being held. Reports keep counts
//! and capped samples only, so their memory does not grow with the history.
//! An unreadable line is counted and sampled with its line number; it never
//! stops the report.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, BufRead};

use serde::Serialize;

pub(crate) use crate::diagnostics::terminal::Align;
use crate::diagnostics::terminal::{printable, push_padded, thousands};
use crate::model::cloudtalk;
use crate::model::{Call, Context, User};
use crate::runtime::batch::{for_each_line, read_input, InputFormat, Line};
use crate::runtime::evaluate::{Decision, Engine, FallbackMiss, Miss, Tracer};
use crate::semantics::plan::{EntryName, Plan, PlanStep};

/// How many examples a report keeps of each kind of outcome.
pub const SAMPLE_SIZE: usize = 5;

/// The first few examples of something, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sample<T> {
    items: Vec<T>,
}

impl<T> Default for Sample<T> {
    fn default() -> Self {
        Sample { items: Vec::new() }
    }
}

impl<T> Sample<T> {
    /// Keeps `item` when fewer than [`SAMPLE_SIZE`] are kept; `make` runs
    /// only then, so a full sample costs no allocation.
    pub fn offer(&mut self, make: impl FnOnce() -> T) {
        if self.items.len() < SAMPLE_SIZE {
            self.items.push(make());
        }
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// A line of the history that is not a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableLine {
    pub line: u64,
    pub error: String,
}

/// Lines of the history that could not be read as calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub lines: u64,
    pub sample: Sample<UnreadableLine>,
}

impl Unreadable {
    /// The unreadable lines as a report section, empty when there are none.
    pub fn render_human(&self, out: &mut String) {
        if self.lines == 0 {
            return;
        }
        let _ = writeln!(out, "\nunreadable lines{}", self.how_many());
        for line in self.sample.items() {
            let _ = writeln!(out, "  line {}: {}", line.line, printable(&line.error));
        }
    }

    /// The unreadable lines as a Markdown list, empty when there are none.
    pub fn render_markdown(&self, out: &mut String) {
        if self.lines == 0 {
            return;
        }
        let shown = self.sample.items().len() as u64;
        let noun = if self.lines == 1 {
            "history line"
        } else {
            "history lines"
        };
        let _ = write!(out, "\n{} {noun} could not be read", thousands(self.lines));
        if shown < self.lines {
            let _ = write!(out, "; the first {shown}");
        }
        out.push_str(":\n\n");
        for line in self.sample.items() {
            let _ = writeln!(out, "- line {}: {}", line.line, markdown_code(&line.error));
        }
    }

    fn how_many(&self) -> String {
        let shown = self.sample.items().len() as u64;
        if shown < self.lines {
            format!(" ({} in all, first {shown} shown)", thousands(self.lines))
        } else {
            String::new()
        }
    }

    fn record(&mut self, line: u64, error: impl FnOnce() -> String) {
        self.lines += 1;
        self.sample.offer(|| UnreadableLine {
            line,
            error: error(),
        });
    }
}

/// Reads a history line by line, handing every call to `visit`; lines that
/// are not calls go to `unreadable`. An error only when reading fails.
/// `input` says what the lines hold; `context` fills in what CloudTalk
/// records lack.
///
/// ```
/// use callassign::impact::history::{for_each_call, Unreadable};
/// use callassign::{runtime::batch::InputFormat, model::Context};
///
/// let context = Context::from_yaml("users: [{id: u-1, email: a@b.c}]").unwrap();
/// let history = "{\"id\":\"c-1\",\"direction\":\"incoming\",\"status\":\"missed\"}\nnot json\n";
/// let mut ids = Vec::new();
/// let mut unreadable = Unreadable::default();
/// for_each_call(history.as_bytes(), InputFormat::Native, &context, &mut unreadable, |call| ids.push(call.id.to_string())).unwrap();
/// assert_eq!(ids, ["c-1"]);
/// assert_eq!(unreadable.lines, 1);
/// assert_eq!(unreadable.sample.items()[0].line, 2);
/// ```
pub fn for_each_call<R: BufRead>(
    lines: R,
    input: InputFormat,
    context: &Context,
    unreadable: &mut Unreadable,
    mut visit: impl FnMut(&Call<'_>),
) -> io::Result<()> {
    for_each_line(lines, |line_number, line| {
        // Only the calls are compared: where their fields came from is
        // not shown.
        match read_input(line, input, context, cloudtalk::Provenance::Skip) {
            Line::Unreadable(error) => unreadable.record(line_number, || error),
            read => visit(read.call().expect("a readable line holds a call")),
        }
        Ok(())
    })?;
    Ok(())
}

/// Reads a CloudTalk `.json` document (a list response, a list of
/// records, or one record) as a history, handing every call to `visit`.
/// Items that cannot be read go to `unreadable` at line 1 (the items of
/// one document share its first line; their message names the item). An
/// error only for a file that holds no records at all. The items are read
/// one at a time, so memory does not grow with their number.
///
/// ```
/// use callassign::impact::history::{for_each_call_in_document, Unreadable};
/// use callassign::model::Context;
///
/// let context = Context::from_yaml("users: [{id: u-1, email: a@b.c}]").unwrap();
/// let response = r#"{"responseData":{"data":[{"Cdr":{"id":1,"type":"incoming"}},{"Cdr":{"type":"incoming"}}]}}"#;
/// let mut ids = Vec::new();
/// let mut unreadable = Unreadable::default();
/// for_each_call_in_document(response, &context, &mut unreadable, |call| ids.push(call.id.to_string())).unwrap();
/// assert_eq!(ids, ["1"]);
/// assert!(unreadable.sample.items()[0].error.starts_with("responseData.data[1]: `Cdr.id` is missing"));
/// ```
pub fn for_each_call_in_document(
    text: &str,
    context: &Context,
    unreadable: &mut Unreadable,
    mut visit: impl FnMut(&Call<'_>),
) -> Result<(), cloudtalk::DocumentError> {
    // One item at a time: memory stays that of one item, however many
    // the document holds.
    let read = cloudtalk::for_each_document_record(
        text,
        context,
        cloudtalk::Provenance::Skip,
        |record| -> Result<(), std::convert::Infallible> {
            match record {
                Ok(record) => visit(&record.call),
                Err(error) => unreadable.record(1, || error.message),
            }
            Ok(())
        },
    )?;
    match read {
        Ok(_) => Ok(()),
        Err(never) => match never {},
    }
}

/// Which entry of a plan decided a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanEntry {
    /// The step at this index of [`Plan::steps`].
    Step(usize),
    Fallback,
}

impl PlanEntry {
    /// How reports name the entry: the assignment line's `step` (and
    /// `user`), and the rule file's words; see [`EntryName`].
    pub fn name(self, plan: &Plan) -> EntryName {
        match self {
            PlanEntry::Step(index) => plan.steps[index].step.name(),
            PlanEntry::Fallback => plan.fallback.fallback.name(),
        }
    }

    /// Where the entry was written: `default.rules:17`.
    pub fn origin(self, plan: &Plan) -> String {
        match self {
            PlanEntry::Step(index) => plan.steps[index].origin.short(),
            PlanEntry::Fallback => plan.fallback.origin.short(),
        }
    }

    /// Every entry of a plan, in the order they are tried.
    pub fn all(plan: &Plan) -> impl Iterator<Item = PlanEntry> {
        (0..plan.steps.len())
            .map(PlanEntry::Step)
            .chain(std::iter::once(PlanEntry::Fallback))
    }
}

/// Decides a call and says which plan entry decided: two `user "…"`
/// steps both decide as step `user`, but they are different rules.
pub(crate) fn decide_with_entry<'e>(
    evaluator: &'e Engine,
    call: &'e Call<'_>,
) -> (Decision<'e>, PlanEntry) {
    let mut finder = EntryFinder {
        steps: &evaluator.plan().steps,
        decided: PlanEntry::Fallback,
    };
    let decision = evaluator.run(call, &mut finder);
    (decision, finder.decided)
}

/// A tracer that notes only the deciding step.
struct EntryFinder<'p> {
    steps: &'p [PlanStep],
    decided: PlanEntry,
}

impl<'c> Tracer<'c> for EntryFinder<'_> {
    fn skipped(&mut self, _: &PlanStep) {}
    fn failed(&mut self, _: &PlanStep, _: Miss<'c>) {}
    fn decided(&mut self, step: &PlanStep, _: &'c User, _: &'c str) {
        // The evaluator hands out its own plan's steps, so identity finds the index.
        if let Some(index) = self.steps.iter().position(|own| std::ptr::eq(own, step)) {
            self.decided = PlanEntry::Step(index);
        }
    }
    fn fallback(&mut self, _: Option<&'c User>, _: Option<FallbackMiss<'c>>) {
        self.decided = PlanEntry::Fallback;
    }
}

/// `part` of `whole` as a percentage with one decimal: `12.5%`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.0%".to_string();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// Text as inline code in a Markdown table cell, whatever it holds.
pub(crate) fn markdown_code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    // A code span's fence must be longer than any backtick run inside it.
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Writes rows as indented columns, two spaces apart, no trailing spaces.
/// Cells hold call ids and addresses from the input: each is escaped, so a
/// line break in an id cannot forge a row nor an escape sequence restyle
/// the terminal.
pub(crate) fn table(out: &mut String, aligns: &[Align], rows: &[Vec<String>]) {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| printable(cell)).collect())
        .collect();
    let widths: Vec<usize> = (0..aligns.len())
        .map(|column| {
            rows.iter()
                .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::from(" ");
        for ((cell, &align), &width) in row.iter().zip(aligns).zip(&widths) {
            line.push(' ');
            push_padded(&mut line, cell, width, align);
            line.push(' ');
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::batch::MAX_LINE_BYTES;

    #[test]
    fn percent_has_one_decimal_and_survives_zero() {
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(3, 0), "0.0%");
    }

    #[test]
    fn markdown_code_survives_pipes_and_backticks() {
        assert_eq!(markdown_code("c-1"), "`c-1`");
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
    }

    #[test]
    fn samples_keep_only_the_first_few() {
        let mut sample = Sample::default();
        let mut made = 0;
        for item in 0..SAMPLE_SIZE * 3 {
            sample.offer(|| {
                made += 1;
                item
            });
        }
        assert_eq!(sample.items(), (0..SAMPLE_SIZE).collect::<Vec<_>>());
        assert_eq!(made, SAMPLE_SIZE);
    }

    #[test]
    fn long_and_empty_lines_are_unreadable_with_their_numbers() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let history = format!(
            "{{\"id\":\"a\",\"direction\":\"outgoing\",\"status\":\"answered\"}}\n\n{long}\n{{\"id\":\"b\",\"direction\":\"outgoing\",\"status\":\"answered\"}}"
        );
        let mut ids = Vec::new();
        let mut unreadable = Unreadable::default();
        let context = Context::from_yaml("users: [{id: u-1, email: a@b.c}]").unwrap();
        for_each_call(
            history.as_bytes(),
            InputFormat::Native,
            &context,
            &mut unreadable,
            |call| ids.push(call.id.to_string()),
        )
        .unwrap();
        assert_eq!(ids, ["a", "b"]);
        let lines: Vec<u64> = unreadable.sample.items().iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 3]);
        assert!(unreadable.sample.items()[1].error.contains("longer than"));
    }
}
