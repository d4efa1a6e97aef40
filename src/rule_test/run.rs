//! Running a rule-test file: compile its rules, decide every case with an
//! explanation, and compare with what the case expects.

use super::*;

/// Why a case's expectation can never be met, whatever the rules do: an
/// `assignee` that is no user of the context (or an e-mail where an id is
/// expected), or a `step` the plan does not contain. `(message, help)`.
pub(super) fn expectation_problem(
    expected: &Expected,
    context: &Context,
    plan: &Plan,
) -> Option<(String, String)> {
    if let Some(assignee) = &expected.assignee {
        let ids = || context.users.iter().map(|user| user.id.as_str());
        if !ids().any(|id| id.trim() == assignee.trim()) {
            let by_email = context.users.iter().find(|user| {
                user.email.as_deref().is_some_and(|email| {
                    crate::runtime::model::context::normalize_email(email)
                        == crate::runtime::model::context::normalize_email(assignee)
                })
            });
            return Some(match by_email {
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
            });
        }
    }
    let step = expected.step.as_deref()?;
    let user_steps = || {
        plan.steps
            .iter()
            .filter_map(|step| match &step.step {
                StepId::User(email) => Some(email.as_str()),
                StepId::Builtin(_) => None,
            })
            .chain(match &plan.fallback.fallback {
                Fallback::User(email) => Some(email.as_str()),
                _ => None,
            })
    };
    let in_plan = match fixed_user(step) {
        Some(address) => user_steps().any(|email| {
            crate::runtime::model::context::normalize_email(email)
                == crate::runtime::model::context::normalize_email(address)
        }),
        None => match step {
            "user" => user_steps().next().is_some(),
            "integration_fallback" => plan.fallback.fallback == Fallback::Integration,
            "unassigned" => plan.fallback.fallback == Fallback::Unassigned,
            builtin => plan
                .steps
                .iter()
                .any(|planned| planned.step.to_string() == builtin),
        },
    };
    (!in_plan).then(|| {
        (
            format!("`step: {step}` is not a step of the plan `{}`", plan.name),
            "run `callassign plan` on the rules to see its steps".to_string(),
        )
    })
}

/// The address of an expected `step: user "ops@acme.com"`.
pub(super) fn fixed_user(step: &str) -> Option<&str> {
    step.strip_prefix(crate::runtime::evaluate::USER_STEP)?
        .trim_start()
        .strip_prefix('"')?
        .strip_suffix('"')
}

/// Whether the step a case expects is the one that decided: a bare `user`
/// is any fixed user; `user "…"` that one (addresses compare as matching
/// does, trimmed, ASCII letters in any case).
pub(super) fn step_matches(expected: &str, actual: DecidedBy<'_>) -> bool {
    match (fixed_user(expected), actual.user()) {
        (Some(expected), Some(actual)) => {
            crate::runtime::model::context::normalize_email(expected)
                == crate::runtime::model::context::normalize_email(actual)
        }
        (Some(_), None) => false,
        (None, _) => expected == actual.name(),
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
    let compiled = crate::compile_with(loader, &file.rules).map_err(|error| {
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
            problem: Problem::new(
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
        let problem = Problem::new(
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
    let mut decided: Vec<(String, String)> = Vec::new();
    let results = file
        .cases
        .iter()
        .map(|case| {
            let context = case.context.as_ref().unwrap_or(&file.context);
            let expectation =
                expectation_problem(&case.expected, context, &plan).map(|(message, help)| {
                    Problem::new(&file.path, message, help).in_case(case.number, &case.name)
                });
            let outcome = match (&case.call, expectation) {
                (Err(problem), _) => CaseOutcome::Broken(problem.clone()),
                // A case that can never pass is a problem of the test file,
                // not a failure of the rules.
                (Ok(_), Some(problem)) => CaseOutcome::Broken(problem),
                (Ok(call), None) => {
                    let own_evaluator;
                    let evaluator = match &case.context {
                        Some(context) => {
                            own_evaluator = Engine::new(plan.clone(), context.clone());
                            &own_evaluator
                        }
                        None => &evaluator,
                    };
                    let (decision, trace) = evaluator.explain(call);
                    if let Some(entry) = trace.iter().find(|entry| entry.result == Outcome::Decided)
                    {
                        decided.push((entry.step.to_string(), entry.from.to_string()));
                    }
                    let assignee = decision.assignee.map(|user| user.id.as_str());
                    let matches = assignee == case.expected.assignee.as_deref()
                        && case
                            .expected
                            .step
                            .as_deref()
                            .is_none_or(|expected| step_matches(expected, decision.step));
                    if matches {
                        CaseOutcome::Passed
                    } else {
                        CaseOutcome::Failed(Box::new(Mismatch {
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
                            facts: case.facts.clone(),
                            trace,
                        }))
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
pub(super) fn undecided_steps(plan: &Plan, decided: &[(String, String)]) -> Vec<(String, String)> {
    plan.steps
        .iter()
        .map(|step| (step.step.to_string(), step.origin.short()))
        .chain(std::iter::once((
            format!("fallback {}", plan.fallback.fallback),
            plan.fallback.origin.short(),
        )))
        .filter(|step| !decided.contains(step))
        .collect()
}
