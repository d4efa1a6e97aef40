//! Stats: how a rule file decides a history of calls.
//!
//! For every entry of the plan (each step, fixed-user steps included, and
//! the fallback) the [`Report`] counts the calls it decided, and how many
//! calls end unassigned. An entry that decides no call of the history is a
//! *dead rule*: a condition that never holds, a step shadowed by an earlier
//! one, a user who no longer exists. Steps placed after the fallback never
//! run and are listed as dead too.
//!
//! Memory holds one count per plan entry: it does not grow with the history.
//!
//! ```
//! use callassign::{compile_text, impact::stats, runtime::evaluate::Engine, model::Context};
//!
//! let plan = compile_text("demo.rules", "ruleset demo\nstep favorite_agent\nstep contact_owner\nfallback unassigned\n").plan.unwrap();
//! let context = Context::from_yaml("integration: zendesk\ncontact_owner: false\nusers:\n  - {id: z-1, email: ann@acme.com}\n").unwrap();
//! let history = concat!(
//!     r#"{"id":"c-1","direction":"incoming","status":"missed","contact":{"favorite_agent":"ann@acme.com"}}"#, "\n",
//!     r#"{"id":"c-2","direction":"incoming","status":"missed"}"#, "\n",
//! );
//! let report = stats::tally(&Engine::new(plan.clone(), context.clone()), history.as_bytes(), callassign::runtime::batch::InputFormat::Native).unwrap();
//! assert_eq!(report.calls, 2);
//! assert_eq!(report.unassigned, 1);
//! assert_eq!(report.steps[0].decided, 1);
//! assert_eq!(report.dead[0].name.step, "contact_owner");
//! assert_eq!(report.dead[0].from, "demo.rules:3");
//! ```

use std::fmt::Write as _;
use std::io::{self, BufRead};

use serde::Serialize;

use crate::diagnostics::terminal::thousands;
use crate::impact::history::{
    decide_with_entry, for_each_call, markdown_code, percent, table, Align, PlanEntry, Sample,
    Unreadable,
};
use crate::model::Call;
use crate::runtime::batch::InputFormat;
use crate::runtime::evaluate::Engine;
use crate::semantics::plan::EntryName;

/// How often one plan entry decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepStats {
    /// The step as assignment lines name it (`step`, `user`), and as the
    /// rule file writes it (`label`).
    #[serde(flatten)]
    pub name: EntryName,
    /// Where it was written: `default.rules:17`.
    pub from: String,
    pub decided: u64,
    /// Calls it decided but left without an assignee (only a fallback does).
    pub unassigned: u64,
    pub sample: Sample<String>,
}

/// Why a rule is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadBecause {
    /// It ran but never found anyone on this history.
    NeverDecided,
    /// It comes after the fallback, so it never runs.
    AfterFallback,
}

/// A rule that decided no call of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadStep {
    #[serde(flatten)]
    pub name: EntryName,
    pub from: String,
    pub because: DeadBecause,
}

/// How a rule file decides a history of calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ruleset: String,
    /// Calls read and decided.
    pub calls: u64,
    /// Calls that end without an assignee.
    pub unassigned: u64,
    /// Every plan entry in the order tried, the fallback last.
    pub steps: Vec<StepStats>,
    /// Entries that decided nothing, then steps placed after the fallback.
    pub dead: Vec<DeadStep>,
    pub unreadable: Unreadable,
}

/// Counts, call by call, which plan entry decides.
pub struct Tally<'a> {
    evaluator: &'a Engine,
    calls: u64,
    unassigned: u64,
    /// Indexed like [`PlanEntry::all`]: the steps, then the fallback.
    decided: Vec<(u64, Sample<String>)>,
    unassigned_by_entry: Vec<u64>,
}

impl<'a> Tally<'a> {
    pub fn new(evaluator: &'a Engine) -> Tally<'a> {
        let entries = evaluator.plan().steps.len() + 1;
        Tally {
            evaluator,
            calls: 0,
            unassigned: 0,
            decided: vec![(0, Sample::default()); entries],
            unassigned_by_entry: vec![0; entries],
        }
    }

    pub fn add(&mut self, call: &Call<'_>) {
        let (decision, entry) = decide_with_entry(self.evaluator, call);
        let index = match entry {
            PlanEntry::Step(index) => index,
            PlanEntry::Fallback => self.decided.len() - 1,
        };
        self.calls += 1;
        let (count, sample) = &mut self.decided[index];
        *count += 1;
        sample.offer(|| call.id.to_string());
        if decision.assignee.is_none() {
            self.unassigned += 1;
            self.unassigned_by_entry[index] += 1;
        }
    }

    pub fn finish(self, unreadable: Unreadable) -> Report {
        let plan = self.evaluator.plan();
        let steps: Vec<StepStats> = PlanEntry::all(plan)
            .zip(self.decided)
            .zip(self.unassigned_by_entry)
            .map(|((entry, (decided, sample)), unassigned)| StepStats {
                name: entry.name(plan),
                from: entry.origin(plan),
                decided,
                unassigned,
                sample,
            })
            .collect();
        let dead = steps
            .iter()
            .filter(|step| step.decided == 0)
            .map(|step| DeadStep {
                name: step.name.clone(),
                from: step.from.clone(),
                because: DeadBecause::NeverDecided,
            })
            .chain(plan.unreachable.iter().map(|step| DeadStep {
                name: step.step.name(),
                from: step.origin.short(),
                because: DeadBecause::AfterFallback,
            }))
            .collect();
        Report {
            ruleset: plan.name.clone(),
            calls: self.calls,
            unassigned: self.unassigned,
            steps,
            dead,
            unreadable,
        }
    }
}

/// Reads a JSON Lines history and counts which step decides each call.
/// An error only when reading fails; unreadable lines are counted.
pub fn tally<R: BufRead>(evaluator: &Engine, lines: R, input: InputFormat) -> io::Result<Report> {
    let mut tally = Tally::new(evaluator);
    let mut unreadable = Unreadable::default();
    for_each_call(lines, input, evaluator.context(), &mut unreadable, |call| {
        tally.add(call)
    })?;
    Ok(tally.finish(unreadable))
}

impl DeadBecause {
    fn describe(self) -> &'static str {
        match self {
            DeadBecause::NeverDecided => "never decides",
            DeadBecause::AfterFallback => "placed after the fallback, never runs",
        }
    }
}

impl Report {
    fn headline(&self) -> String {
        // One call is `1 call`.
        let noun = if self.calls == 1 { "call" } else { "calls" };
        format!(
            "{} {noun}, {} unassigned ({})",
            thousands(self.calls),
            thousands(self.unassigned),
            percent(self.unassigned, self.calls)
        )
    }

    /// The report as text for a terminal.
    pub fn render_human(&self) -> String {
        let mut out = format!("ruleset {}: {}\n\n", self.ruleset, self.headline());
        let mut rows = vec![vec![
            "step".to_string(),
            "from".to_string(),
            "decided".to_string(),
            "share".to_string(),
            "sample".to_string(),
        ]];
        for step in &self.steps {
            let mut name = step.name.to_string();
            if step.unassigned > 0 {
                name = format!("{name}, {} unassigned", thousands(step.unassigned));
            }
            rows.push(vec![
                name,
                step.from.clone(),
                thousands(step.decided),
                percent(step.decided, self.calls),
                step.sample.items().join(", "),
            ]);
        }
        table(
            &mut out,
            &[
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Left,
            ],
            &rows,
        );
        if self.calls == 0 {
            // No call read: every step "decides none", which says nothing.
            out.push_str("\nno call of the history could be read: no rule can be told dead\n");
        } else if self.dead.is_empty() {
            out.push_str("\nevery step decides at least one call\n");
        } else {
            out.push_str("\nsteps that decide no call of this history (dead rules)\n");
            let rows: Vec<Vec<String>> = self
                .dead
                .iter()
                .map(|dead| {
                    vec![
                        dead.name.to_string(),
                        dead.from.clone(),
                        dead.because.describe().to_string(),
                    ]
                })
                .collect();
            table(&mut out, &[Align::Left, Align::Left, Align::Left], &rows);
        }
        self.unreadable.render_human(&mut out);
        out
    }

    /// The report as Markdown.
    pub fn render_markdown(&self) -> String {
        let mut out = format!(
            "### How {} decides\n\n**{}.**\n\n| step | from | decided | share | unassigned |\n|---|---|---:|---:|---:|\n",
            markdown_code(&self.ruleset),
            self.headline()
        );
        for step in &self.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                markdown_code(&step.name.to_string()),
                markdown_code(&step.from),
                thousands(step.decided),
                percent(step.decided, self.calls),
                thousands(step.unassigned)
            );
        }
        if self.calls == 0 {
            out.push_str("\nNo call of the history could be read: no rule can be told dead.\n");
        } else if !self.dead.is_empty() {
            out.push_str("\n#### Dead rules\n\n");
            for dead in &self.dead {
                let _ = writeln!(
                    out,
                    "- {} ({}): {}",
                    markdown_code(&dead.name.to_string()),
                    markdown_code(&dead.from),
                    dead.because.describe()
                );
            }
        }
        self.unreadable.render_markdown(&mut out);
        out
    }
}
