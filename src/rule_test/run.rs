//! Running a rule-test file: compile its rules, decide every case with an
//! explanation, and compare with what the case expects.

use super::*;

/// Why a case's expected `assignee` can never be met, whatever the rules
/// do: no user of the context has that id (or it is an e-mail where an id
/// is expected). `(message, help)`.
pub(super) fn assignee_problem(expected: &Expected, context: &Context) -> Option<(String, String)> {
    let assignee = expected.assignee.as_ref()?;
    let ids = || context.users.iter().map(|user| user.id.as_str());
    if ids().any(|id| id.trim() == assignee.trim()) {
        return None;
    }
    let by_email = context.users.iter().find(|user| {
        user.email.as_deref().is_some_and(|email| {
            crate::vocabulary::email::normalize_email(email)
                == crate::vocabulary::email::normalize_email(assignee)
        })
    });
    Some(match by_email {
        Some(user) => (
            format!("`assignee: {assignee}` is an e-mail; `assignee` takes the integration user's id"),
            format!("write `assignee: {}`", user.id),
        ),
        None => (
            format!("`assignee: {assignee}` is no user of the context"),
            match did_you_mean(assignee, ids()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => "`assignee` is the id of one of the context's `users`, or `null` for a call that stays unassigned".to_string(),
            },
        ),
    })
}

/// Why a case's expected `step` (and `user`) can never decide: the plan
/// has no such entry. `(message, help)`.
pub(super) fn step_not_in_plan(
    expected: &Expected,
    plan: &Plan,
    rules: &Path,
) -> Option<(String, String)> {
    let step = expected.step.as_deref()?;
    let names = || {
        plan.steps
            .iter()
            .map(|planned| planned.step.name())
            .chain(std::iter::once(plan.fallback.fallback.name()))
    };
    let in_plan = names().any(|name| {
        name.step == step
            && match (&expected.user, &name.user) {
                (Some(expected), Some(planned)) => same_address(expected, planned),
                (Some(_), None) => false,
                (None, _) => true,
            }
    });
    (!in_plan).then(|| {
        let shown = match &expected.user {
            Some(user) => format!("`step: {step}` with `user: {user}`"),
            None => format!("`step: {step}`"),
        };
        let steps: Vec<String> = names().map(|name| format!("`{name}`")).collect();
        (
            format!(
                "{shown} is not a step of the plan `{}`, so this case can never pass",
                plan.name
            ),
            format!(
                "the plan's steps are {}; `callassign plan {}` shows them",
                steps.join(", "),
                rules.display()
            ),
        )
    })
}

fn same_address(a: &str, b: &str) -> bool {
    crate::vocabulary::email::normalize_email(a) == crate::vocabulary::email::normalize_email(b)
}

/// The address of a `user "ops@acme.com"`, the way rule files name a
/// fixed user (and text output shows it).
pub(super) fn fixed_user(step: &str) -> Option<&str> {
    step.strip_prefix(crate::runtime::evaluate::USER_STEP)?
        .trim_start()
        .strip_prefix('"')?
        .strip_suffix('"')
}

/// Whether the step a case expects is the one that decided: `step` as
/// the assignment line names it; `user`, when given, the fixed user
/// (addresses compare as matching does: trimmed, ASCII letters in any
/// case).
pub(super) fn step_matches(expected: &Expected, actual: DecidedBy<'_>) -> bool {
    let Some(step) = expected.step.as_deref() else {
        return true;
    };
    step == actual.name()
        && match (&expected.user, actual.user()) {
            (Some(expected), Some(actual)) => same_address(expected, actual),
            (Some(_), None) => false,
            (None, _) => true,
        }
}

impl TestFile {
    /// Keeps only the cases whose name contains `text` (`test --filter`);
    /// returns how many were left out.
    pub fn retain_cases(&mut self, text: &str) -> usize {
        let before = self.cases.len();
        self.cases.retain(|case| case.name.contains(text));
        before - self.cases.len()
    }
}

/// Why a test file could not be run: its rule file cannot be read or has
/// errors.
#[derive(Debug)]
pub struct Unrunnable {
    pub problem: Problem,
    /// The rule file's findings, to show as `check` shows them.
    pub findings: Vec<Finding>,
}

/// Compiles the rules of a test file and runs its cases.
pub fn run(file: &TestFile, loader: &mut Loader) -> Result<FileReport, Box<Unrunnable>> {
    let compiled = loader
        .load_chain(&file.rules)
        .map(|chain| crate::semantics::compile::compile(&chain))
        .map_err(|error| {
            let message = match error.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("the rule file `{}` does not exist", file.rules.display())
                }
                _ => format!(
                    "cannot read the rule file `{}`: {error}",
                    file.rules.display()
                ),
            };
            Box::new(Unrunnable {
                problem: problem(
                    &file.path,
                    message,
                    "`rules` is relative to the test file's folder",
                ),
                findings: Vec::new(),
            })
        })?;
    let mut findings = compiled.findings;
    sort_and_dedup(&mut findings);
    let Some(plan) = compiled.plan else {
        let problem = problem(
            &file.path,
            format!(
                "the rule file `{}` has errors ({})",
                file.rules.display(),
                crate::diagnostics::report::summary(&findings)
            ),
            format!(
                "run `callassign check {}` for the full report",
                file.rules.display()
            ),
        );
        return Err(Box::new(Unrunnable { problem, findings }));
    };
    let plan = std::sync::Arc::new(plan);
    let evaluator = Engine::new(plan.clone(), file.context.clone());
    // Which plan entries decided a case: by what the rule file writes
    // and where.
    let mut decided: Vec<(String, String)> = Vec::new();
    let results = file
        .cases
        .iter()
        .map(|case| {
            let context = case.context.as_ref().unwrap_or(&file.context);
            let outcome = match &case.call {
                Err(problem) => CaseOutcome::Broken(problem.clone()),
                Ok(call) => {
                    let own_evaluator;
                    let evaluator = match &case.context {
                        Some(context) => {
                            own_evaluator = Engine::new(plan.clone(), context.clone());
                            &own_evaluator
                        }
                        None => &evaluator,
                    };
                    let (decision, trace) = evaluator.explain(call);
                    // Every case decided counts for coverage, whatever it
                    // expected.
                    if let Some(entry) = trace.iter().find(|entry| entry.result == Outcome::Decided)
                    {
                        decided.push((entry.label.to_string(), entry.from.to_string()));
                    }
                    let assignee = decision.assignee.map(|user| user.id.as_str());
                    let note = step_not_in_plan(&case.expected, &plan, &file.rules);
                    let matches = assignee == case.expected.assignee.as_deref()
                        && note.is_none()
                        && step_matches(&case.expected, decision.step);
                    match assignee_problem(&case.expected, context) {
                        // A case that can never pass because of whom it
                        // expects is a problem of the test file, not a
                        // failure of the rules.
                        Some((message, help)) => CaseOutcome::Broken(
                            problem(&file.path, message, help).in_case(case.number, &case.name),
                        ),
                        None if matches => CaseOutcome::Passed,
                        None => CaseOutcome::Failed(Box::new(Mismatch {
                            expected: case.expected.clone(),
                            actual_assignee: decision.assignee.map_or_else(
                                || "unassigned".to_string(),
                                |user| match &user.email {
                                    Some(email) => format!("{} ({email})", user.id),
                                    None => user.id.clone(),
                                },
                            ),
                            actual_id: assignee.map(str::to_string),
                            actual_step: decision.step.label().into_owned(),
                            actual_step_name: decision.step.name(),
                            actual_user: decision.step.user().map(str::to_string),
                            note,
                            facts: case.facts.clone(),
                            trace,
                        })),
                    }
                }
            };
            CaseResult {
                number: case.number,
                name: case.name.clone(),
                outcome,
            }
        })
        .collect();
    Ok(FileReport {
        findings,
        results,
        undecided_steps: undecided_steps(&plan, &decided),
    })
}

/// The plan's steps and fallback that decided none of the cases.
/// `decided` holds `(label, from)` of the entries that decided a case.
pub(super) fn undecided_steps(
    plan: &Plan,
    decided: &[(String, String)],
) -> Vec<(EntryName, String)> {
    plan.steps
        .iter()
        .map(|step| (step.step.name(), step.origin.short()))
        .chain(std::iter::once((
            plan.fallback.fallback.name(),
            plan.fallback.origin.short(),
        )))
        .filter(|(name, from)| {
            !decided
                .iter()
                .any(|(label, origin)| *label == name.label && origin == from)
        })
        .collect()
}
