//! The plan: what a rule file means once `extends` and every edit are
//! resolved. A flat, ordered list of typed steps, then the fallback.
//!
//! Nothing in here refers to source text by string at evaluation time:
//! steps are enum values and conditions are [`Condition`] trees over
//! [`Field`]s. Origins (file and line) are kept only to explain and display.

use std::fmt;
use std::sync::Arc;

use crate::diagnostics::source::{Source, Span};
use crate::vocabulary::{Builtin, Field};

/// A step as rule files name it: a built-in kind or a fixed user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepId {
    Builtin(Builtin),
    /// `user "email"`, with the e-mail as written (trimmed). Two spellings
    /// that differ only in case name the same step.
    User(String),
}

impl StepId {
    /// Whether two step names mean the same step (user e-mails compare
    /// by the e-mail rule, as matching does: ASCII letters in any case).
    pub fn same_as(&self, other: &StepId) -> bool {
        match (self, other) {
            (StepId::Builtin(a), StepId::Builtin(b)) => a == b,
            (StepId::User(a), StepId::User(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}

impl StepId {
    /// A key equal for two names exactly when [`StepId::same_as`] holds,
    /// to find a step by name in a map instead of a scan.
    pub fn key(&self) -> String {
        match self {
            StepId::Builtin(builtin) => builtin.name().to_string(),
            StepId::User(email) => format!("user \"{}\"", email.to_ascii_lowercase()),
        }
    }
}

impl StepId {
    /// The step's name as assignment lines write it (`"step":…`): the
    /// built-in name, or `user` for every fixed user.
    pub fn step_name(&self) -> &'static str {
        match self {
            StepId::Builtin(builtin) => builtin.name(),
            StepId::User(_) => USER_STEP,
        }
    }

    /// The step named as everywhere else; see [`EntryName`].
    pub fn name(&self) -> EntryName {
        EntryName {
            step: self.step_name(),
            user: match self {
                StepId::User(email) => Some(email.clone()),
                StepId::Builtin(_) => None,
            },
            label: self.to_string(),
        }
    }
}

/// The `step` of a call decided by a fixed user (`user "…"`, as a step or
/// as the fallback); the address goes beside it, in `user`.
pub const USER_STEP: &str = "user";
/// The `step` of a call decided by `fallback integration`.
pub const INTEGRATION_FALLBACK_STEP: &str = "integration_fallback";
/// The `step` of a call decided by `fallback unassigned`.
pub const UNASSIGNED_STEP: &str = "unassigned";

/// The name of one entry of a plan (a step or the fallback), the same in
/// every output that shows it: an assignment line, its trace, `plan`,
/// `stats`, `diff` and rule tests. `step` and `user` are what the
/// assignment line carries (`"step":"integration_fallback"`,
/// `"step":"user","user":"ops@acme.com"`), so one output joins another
/// on them; `label` is how the rule file writes the entry.
///
/// ```
/// use callassign::semantics::plan::Fallback;
///
/// let name = Fallback::Integration.name();
/// assert_eq!((name.step, name.label.as_str()), ("integration_fallback", "fallback integration"));
/// assert_eq!(name.to_string(), "integration_fallback (fallback integration)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct EntryName {
    /// As the assignment line's `step` says.
    pub step: &'static str,
    /// The fixed user's address, beside `"step":"user"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// As the rule file writes it: `contact_owner`, `user "ops@acme.com"`,
    /// `fallback integration`.
    pub label: String,
}

/// What text output shows: the line's step (with its user, as rule files
/// write a fixed user), and the rule file's words when they differ:
/// `contact_owner`, `user "ops@acme.com"`,
/// `integration_fallback (fallback integration)`,
/// `user "ops@acme.com" (fallback)`.
impl fmt::Display for EntryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(email) => write!(f, "{USER_STEP} \"{email}\"")?,
            None => f.write_str(self.step)?,
        }
        if self.label.starts_with("fallback ") {
            match &self.user {
                Some(_) => f.write_str(" (fallback)")?,
                None => write!(f, " ({})", self.label)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepId::Builtin(builtin) => f.write_str(builtin.name()),
            StepId::User(email) => write!(f, "user \"{email}\""),
        }
    }
}

/// What ends the plan when no step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// The integration's own fallback: its installer, or unassigned.
    Integration,
    /// Leave the call unassigned.
    Unassigned,
    /// A fixed user; unassigned (step `user`) when that user does not match.
    User(String),
}

impl Fallback {
    /// The fallback's name as assignment lines write it (`"step":…`).
    pub fn step_name(&self) -> &'static str {
        match self {
            Fallback::Integration => INTEGRATION_FALLBACK_STEP,
            Fallback::Unassigned => UNASSIGNED_STEP,
            Fallback::User(_) => USER_STEP,
        }
    }

    /// The fallback named as everywhere else: the line's `step`, the fixed
    /// user beside it, and `fallback …` as the rule file writes it.
    pub fn name(&self) -> EntryName {
        EntryName {
            step: self.step_name(),
            user: match self {
                Fallback::User(email) => Some(email.clone()),
                _ => None,
            },
            label: format!("fallback {self}"),
        }
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Integration => f.write_str("integration"),
            Fallback::Unassigned => f.write_str("unassigned"),
            Fallback::User(email) => write!(f, "user \"{email}\""),
        }
    }
}

/// Fields holding text, tested by [`Condition::TextIn`] and [`Condition::TextStartsWith`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Agent,
    Number,
    ContactId,
    ContactOwner,
    ContactFavoriteAgent,
    LastStep,
}

/// `<`, `<=`, `>`, `>=`, `==` on numbers and timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Ordering {
    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Ordering::Lt => left < right,
            Ordering::Le => left <= right,
            Ordering::Gt => left > right,
            Ordering::Ge => left >= right,
            Ordering::Eq => left == right,
        }
    }
}

/// A compiled condition. A field that a call lacks makes every test on it
/// false except `== null` (so `agent != "x"` holds for a call without agent,
/// being `not (agent == "x")`).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Box<[Condition]>),
    Any(Box<[Condition]>),
    Not(Box<Condition>),
    /// Bit set of [`crate::vocabulary::Direction`] values.
    Direction(u8),
    /// Bit set of [`crate::vocabulary::Status`] values.
    Status(u8),
    /// The field equals one of the values. E-mail values are stored
    /// lowercased and trimmed, and compared that way.
    TextIn {
        field: TextField,
        values: Box<[Box<str>]>,
        fold_case: bool,
    },
    TextStartsWith {
        field: TextField,
        prefix: Box<str>,
        fold_case: bool,
    },
    IsNull(Field),
    HasTag(Box<str>),
    Duration {
        op: Ordering,
        value: i64,
    },
    DurationIn(Box<[i64]>),
    /// Milliseconds since the Unix epoch.
    StartedAt {
        op: Ordering,
        millis: i64,
    },
}

/// Where a plan entry was written.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: Arc<Source>,
    pub span: Span,
}

impl Origin {
    /// `default.rules:7`: the file name without its folder, and the line.
    pub fn short(&self) -> String {
        let name = std::path::Path::new(&self.source.name)
            .file_name()
            .map_or_else(
                || self.source.name.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
        format!("{}:{}", name, self.source.line(self.span.start))
    }
}

/// A step guard: the step runs only when `condition` holds (`when`) or
/// does not hold (`unless`).
#[derive(Debug, Clone)]
pub struct Guard {
    pub unless: bool,
    pub condition: Condition,
    /// The condition in canonical form, for traces and `plan`.
    pub text: String,
}

impl Guard {
    pub fn keyword(&self) -> &'static str {
        if self.unless {
            "unless"
        } else {
            "when"
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanStep {
    pub step: StepId,
    pub guard: Option<Guard>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct PlanFallback {
    pub fallback: Fallback,
    pub origin: Origin,
}

/// The resolved rules of one ruleset.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The ruleset's name.
    pub name: String,
    /// The names of the files it was resolved from, base first.
    pub chain: Vec<String>,
    /// The steps, in the order they are tried.
    pub steps: Vec<PlanStep>,
    pub fallback: PlanFallback,
    /// Steps placed after the fallback: listed by `plan`, never run.
    pub unreachable: Vec<PlanStep>,
}

/// A plan step as `plan --format json` shows it.
#[derive(Debug, serde::Serialize)]
pub struct JsonStep {
    /// `step` (as assignment lines write it), `user` and `label`.
    #[serde(flatten)]
    pub name: EntryName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    pub from: String,
}

#[derive(Debug, serde::Serialize)]
pub struct JsonPlan {
    pub ruleset: String,
    pub chain: Vec<String>,
    pub steps: Vec<JsonStep>,
    pub fallback: JsonStep,
    pub unreachable: Vec<JsonStep>,
}

fn json_step(step: &PlanStep) -> JsonStep {
    let (when, unless) = match &step.guard {
        Some(guard) if guard.unless => (None, Some(guard.text.clone())),
        Some(guard) => (Some(guard.text.clone()), None),
        None => (None, None),
    };
    JsonStep {
        name: step.step.name(),
        when,
        unless,
        from: step.origin.short(),
    }
}

/// The plan as data: what `plan --format json` prints.
pub fn render_json(plan: &Plan) -> JsonPlan {
    JsonPlan {
        ruleset: plan.name.clone(),
        chain: plan.chain.clone(),
        steps: plan.steps.iter().map(json_step).collect(),
        fallback: JsonStep {
            name: plan.fallback.fallback.name(),
            when: None,
            unless: None,
            from: plan.fallback.origin.short(),
        },
        unreachable: plan.unreachable.iter().map(json_step).collect(),
    }
}

/// The plan as `plan` prints it: numbered steps with their conditions and
/// the file and line each comes from.
pub fn render_human(plan: &Plan) -> String {
    use crate::diagnostics::terminal::{printable, push_padded, Align};
    use std::fmt::Write as _;
    let chain: Vec<String> = plan
        .chain
        .iter()
        .map(|name| {
            std::path::Path::new(name)
                .file_name()
                .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let mut out = format!(
        "ruleset {} ({})\n\n",
        plan.name,
        printable(&chain.join(" → "))
    );
    let row = |number: String, step: &PlanStep| {
        let name = printable(&step.step.name().to_string()).into_owned();
        let guard = step
            .guard
            .as_ref()
            .map(|guard| printable(&format!("{} {}", guard.keyword(), guard.text)).into_owned())
            .unwrap_or_default();
        (number, name, guard, step.origin.short())
    };
    let mut rows: Vec<(String, String, String, String)> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| row(format!("{}.", index + 1), step))
        .collect();
    rows.push((
        String::new(),
        printable(&plan.fallback.fallback.name().to_string()).into_owned(),
        String::new(),
        plan.fallback.origin.short(),
    ));
    let unreachable: Vec<_> = plan
        .unreachable
        .iter()
        .map(|step| row("-".to_string(), step))
        .collect();
    let all = rows.iter().chain(&unreachable);
    let number_width = all.clone().map(|r| r.0.len()).max().unwrap_or(0);
    let name_width = all.clone().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let guard_width = all.map(|r| r.2.chars().count()).max().unwrap_or(0);
    let print = |out: &mut String,
                 (number, name, guard, from): &(String, String, String, String)| {
        let mut line = String::from("  ");
        push_padded(&mut line, number, number_width, Align::Right);
        line.push(' ');
        push_padded(&mut line, name, name_width, Align::Left);
        line.push_str("  ");
        push_padded(&mut line, guard, guard_width, Align::Left);
        line.push_str("  ");
        line.push_str(from);
        let _ = writeln!(out, "{}", line.trim_end());
    };
    for row in &rows {
        print(&mut out, row);
    }
    if !unreachable.is_empty() {
        let _ = writeln!(out, "\nnever reached (placed after the fallback):");
        for row in &unreachable {
            print(&mut out, row);
        }
    }
    out
}
