//! Diff: what a rule change does to real calls.
//!
//! Every call of a history is decided under the old and the new rules in
//! one pass. The [`Report`] counts the calls whose assignee changes, which
//! step handed them over to which (`contact_owner → favorite_agent`), who
//! loses calls to whom, the calls that become or stop being unassigned,
//! the calls that keep their assignee but are decided by another step
//! (listed by step move too), and keeps a few call ids of each kind of
//! change to look at.
//!
//! Memory holds counts keyed by plan steps and by users, and samples of
//! [`SAMPLE_SIZE`](crate::impact::history::SAMPLE_SIZE) ids: it does not grow with the history.
//!
//! ```
//! use callassign::{compile_text, impact::diff, runtime::evaluate::Engine, model::Context};
//!
//! let old = compile_text("old.rules", "ruleset old\nstep contact_owner\nstep favorite_agent\nfallback integration\n").plan.unwrap();
//! let new = compile_text("new.rules", "ruleset new\nstep favorite_agent\nstep contact_owner\nfallback integration\n").plan.unwrap();
//! let context = Context::from_yaml("integration: hubspot\ncontact_owner: true\nusers:\n  - {id: hs-1, email: ann@acme.com}\n  - {id: hs-2, email: bob@acme.com}\n").unwrap();
//! let history = r#"{"id":"c-1","direction":"incoming","status":"missed","contact":{"owner":"hs-1","favorite_agent":"bob@acme.com"}}"#;
//!
//! let report = diff::compare(
//!     &Engine::new(old.clone(), context.clone()),
//!     &Engine::new(new.clone(), context.clone()),
//!     history.as_bytes(),
//!     callassign::runtime::batch::InputFormat::Native,
//!     diff::Names { old: "old.rules".into(), new: "new.rules".into() },
//! ).unwrap();
//! assert_eq!(report.reassigned, 1);
//! assert_eq!(report.step_moves[0].from.step, "contact_owner");
//! assert_eq!(report.step_moves[0].to.step, "favorite_agent");
//! ```

mod render;

use std::collections::HashMap;
use std::io::{self, BufRead};

use serde::Serialize;

use crate::impact::history::{decide_with_entry, for_each_call, PlanEntry, Sample, Unreadable};
use crate::model::{Call, User};
use crate::runtime::batch::InputFormat;
use crate::runtime::evaluate::{Decision, Engine};
use crate::semantics::plan::{EntryName, Plan};

/// What the reports call the two rule sets.
#[derive(Debug, Clone)]
pub struct Names {
    pub old: String,
    pub new: String,
}

/// A count of calls with the first few of their ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub calls: u64,
    pub sample: Sample<String>,
}

impl Calls {
    fn add(&mut self, call: &Call<'_>) {
        self.calls += 1;
        self.sample.offer(|| call.id.to_string());
    }
}

/// Calls that the old rules gave to one step and the new rules to another.
/// Each step is named as assignment lines name it (`step`, `user`) and as
/// its rule file writes it (`label`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepMove {
    pub from: EntryName,
    pub to: EntryName,
    pub calls: u64,
    pub sample: Sample<String>,
}

/// An integration user as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Person {
    pub id: String,
    pub email: Option<String>,
}

impl Person {
    /// `hs-2 (alice@acme.com)`, or `unassigned` for no one.
    pub fn describe(person: Option<&Person>) -> String {
        match person {
            None => "unassigned".to_string(),
            Some(Person {
                id,
                email: Some(email),
            }) => format!("{id} ({email})"),
            Some(Person { id, email: None }) => id.clone(),
        }
    }
}

/// Calls that move from one assignee to another; `None` is unassigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssigneeMove {
    pub from: Option<Person>,
    pub to: Option<Person>,
    pub calls: u64,
    pub sample: Sample<String>,
}

/// Assignee moves left out of a report that shows only the largest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Omitted {
    pub moves: u64,
    pub calls: u64,
}

/// What a rule change does to a history of calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub old: String,
    pub new: String,
    /// Calls read and decided under both rule sets.
    pub calls: u64,
    /// Calls whose assignee changes (to or from unassigned included).
    pub reassigned: u64,
    pub became_unassigned: Calls,
    pub no_longer_unassigned: Calls,
    /// Calls that keep their assignee but are decided by another step.
    pub same_assignee_other_step: Calls,
    /// Reassigned calls by old and new deciding step, largest first.
    pub step_moves: Vec<StepMove>,
    /// Calls that keep their assignee, by old and new deciding step,
    /// largest first: the moves [`Report::same_assignee_other_step`] counts.
    pub same_assignee_step_moves: Vec<StepMove>,
    /// Reassigned calls by old and new assignee, largest first.
    pub assignee_moves: Vec<AssigneeMove>,
    /// What [`Report::keep_top_assignee_moves`] left out.
    pub omitted_assignee_moves: Omitted,
    pub unreadable: Unreadable,
}

/// Decides calls under two rule sets and counts the differences.
pub struct Comparison<'a> {
    old: &'a Engine,
    new: &'a Engine,
    /// What reports call each entry of the old and the new plan.
    old_labels: Labels,
    new_labels: Labels,
    calls: u64,
    reassigned: u64,
    became_unassigned: Calls,
    no_longer_unassigned: Calls,
    same_assignee_other_step: Calls,
    step_moves: HashMap<(PlanEntry, PlanEntry), Calls>,
    same_assignee_step_moves: HashMap<(PlanEntry, PlanEntry), Calls>,
    /// Users seen in a move, by id; moves refer to them by index.
    people: HashMap<String, u32>,
    people_list: Vec<Person>,
    assignee_moves: HashMap<(Option<u32>, Option<u32>), Calls>,
}

impl<'a> Comparison<'a> {
    /// Both evaluators should be bound to the same context.
    pub fn new(old: &'a Engine, new: &'a Engine) -> Comparison<'a> {
        Comparison {
            old,
            new,
            old_labels: Labels::of(old.plan()),
            new_labels: Labels::of(new.plan()),
            calls: 0,
            reassigned: 0,
            became_unassigned: Calls::default(),
            no_longer_unassigned: Calls::default(),
            same_assignee_other_step: Calls::default(),
            step_moves: HashMap::new(),
            same_assignee_step_moves: HashMap::new(),
            people: HashMap::new(),
            people_list: Vec::new(),
            assignee_moves: HashMap::new(),
        }
    }

    /// Decides one call under both rule sets and counts the difference.
    pub fn add(&mut self, call: &Call<'_>) {
        let (before, before_entry) = decide_with_entry(self.old, call);
        let (after, after_entry) = decide_with_entry(self.new, call);
        self.calls += 1;
        if same_assignee(&before, &after) {
            if self.old_labels.of_entry(before_entry) != self.new_labels.of_entry(after_entry) {
                self.same_assignee_other_step.add(call);
                self.same_assignee_step_moves
                    .entry((before_entry, after_entry))
                    .or_default()
                    .add(call);
            }
            return;
        }
        self.reassigned += 1;
        match (before.assignee, after.assignee) {
            (Some(_), None) => self.became_unassigned.add(call),
            (None, Some(_)) => self.no_longer_unassigned.add(call),
            _ => {}
        }
        self.step_moves
            .entry((before_entry, after_entry))
            .or_default()
            .add(call);
        let from = before.assignee.map(|user| self.person(user));
        let to = after.assignee.map(|user| self.person(user));
        self.assignee_moves.entry((from, to)).or_default().add(call);
    }

    fn person(&mut self, user: &User) -> u32 {
        if let Some(&index) = self.people.get(user.id.as_str()) {
            return index;
        }
        let index = self.people_list.len() as u32;
        self.people_list.push(Person {
            id: user.id.clone(),
            email: user.email.clone(),
        });
        self.people.insert(user.id.clone(), index);
        index
    }

    /// The report, moves sorted largest first.
    pub fn finish(self, names: Names, unreadable: Unreadable) -> Report {
        let step_moves = named_moves(&self.old_labels, &self.new_labels, self.step_moves);
        let same_assignee_step_moves = named_moves(
            &self.old_labels,
            &self.new_labels,
            self.same_assignee_step_moves,
        );
        let people = self.people_list;
        let lookup = |index: Option<u32>| index.map(|index| people[index as usize].clone());
        let mut assignee_moves: Vec<AssigneeMove> = self
            .assignee_moves
            .into_iter()
            .map(|((from, to), calls)| AssigneeMove {
                from: lookup(from),
                to: lookup(to),
                calls: calls.calls,
                sample: calls.sample,
            })
            .collect();
        assignee_moves.sort_by(|a, b| {
            b.calls
                .cmp(&a.calls)
                .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
        });
        Report {
            old: names.old,
            new: names.new,
            calls: self.calls,
            reassigned: self.reassigned,
            became_unassigned: self.became_unassigned,
            no_longer_unassigned: self.no_longer_unassigned,
            same_assignee_other_step: self.same_assignee_other_step,
            step_moves,
            same_assignee_step_moves,
            assignee_moves,
            omitted_assignee_moves: Omitted::default(),
            unreadable,
        }
    }
}

/// Step moves named and sorted, largest first.
fn named_moves(
    old: &Labels,
    new: &Labels,
    moves: HashMap<(PlanEntry, PlanEntry), Calls>,
) -> Vec<StepMove> {
    let mut step_moves: Vec<StepMove> = moves
        .into_iter()
        .map(|((from, to), calls)| StepMove {
            from: old.of_entry(from).clone(),
            to: new.of_entry(to).clone(),
            calls: calls.calls,
            sample: calls.sample,
        })
        .collect();
    step_moves.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
    });
    step_moves
}

/// The names of a plan's entries: its steps, then its fallback.
struct Labels(Vec<EntryName>);

impl Labels {
    fn of(plan: &Plan) -> Labels {
        Labels(PlanEntry::all(plan).map(|entry| entry.name(plan)).collect())
    }

    fn of_entry(&self, entry: PlanEntry) -> &EntryName {
        match entry {
            PlanEntry::Step(index) => &self.0[index],
            PlanEntry::Fallback => self.0.last().expect("a plan has a fallback"),
        }
    }
}

fn same_assignee(before: &Decision<'_>, after: &Decision<'_>) -> bool {
    match (before.assignee, after.assignee) {
        (Some(a), Some(b)) => a.id == b.id,
        (None, None) => true,
        _ => false,
    }
}

/// Reads a JSON Lines history and compares the two rule sets on every
/// call. An error only when reading fails; unreadable lines are counted.
pub fn compare<R: BufRead>(
    old: &Engine,
    new: &Engine,
    lines: R,
    input: InputFormat,
    names: Names,
) -> io::Result<Report> {
    let mut comparison = Comparison::new(old, new);
    let mut unreadable = Unreadable::default();
    // Both evaluators see one context: a history is read once.
    let context = new.context();
    for_each_call(lines, input, context, &mut unreadable, |call| {
        comparison.add(call)
    })?;
    Ok(comparison.finish(names, unreadable))
}

impl Report {
    /// Keeps the `top` largest assignee moves and sums up the others.
    pub fn keep_top_assignee_moves(&mut self, top: usize) {
        if self.assignee_moves.len() <= top {
            return;
        }
        for dropped in self.assignee_moves.drain(top..) {
            self.omitted_assignee_moves.moves += 1;
            self.omitted_assignee_moves.calls += dropped.calls;
        }
    }

    /// Whether any call goes to someone else under the new rules.
    pub fn anything_moves(&self) -> bool {
        self.reassigned > 0
    }
}
