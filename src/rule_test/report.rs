//! Rule-test results as reports: the failure details every format shows,
//! JUnit XML for CI test reporters, and JSON for programs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CaseOutcome, FileReport, Problem};
use crate::model::Fact;
use crate::runtime::batch::Explained;
use crate::runtime::evaluate::{DecidedBy, Decision, TraceEntry};
use crate::semantics::plan::EntryName;

/// One test file's run: its report, or why it could not be run.
#[derive(Debug)]
pub struct FileRun {
    pub file: PathBuf,
    /// The rule file under test, when the test file could be read.
    pub rules: Option<PathBuf>,
    pub outcome: Result<FileReport, Problem>,
}

/// Counts over all runs, for the closing line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    /// Test files that could not be run at all.
    pub files_not_run: usize,
}

impl Totals {
    pub fn of(runs: &[FileRun]) -> Totals {
        let mut totals = Totals::default();
        for run in runs {
            match &run.outcome {
                Ok(report) => {
                    let passed = report.results.iter().filter(|r| r.passed()).count();
                    totals.passed += passed;
                    totals.failed += report.results.len() - passed;
                }
                Err(_) => totals.files_not_run += 1,
            }
        }
        totals
    }
}

/// A problem as commands print it: `error: …` and a help line.
pub fn problem_text(problem: &Problem) -> String {
    format!(
        "error: {}\n  help: {}",
        problem.located(),
        problem.help_text()
    )
}

/// What went wrong with a case that did not pass: expected, actual and
/// the explanation `eval --explain` gives; `None` for a case that passed.
pub fn failure_details(outcome: &CaseOutcome) -> Option<String> {
    match outcome {
        CaseOutcome::Passed => None,
        CaseOutcome::Broken(problem) => Some(problem_text(problem)),
        CaseOutcome::Failed(mismatch) => {
            let mut details = format!(
                "expected: {}\n  actual: {} by {}\n",
                mismatch.expected, mismatch.actual_assignee, mismatch.actual_step
            );
            if let Some((message, help)) = &mismatch.note {
                let _ = writeln!(details, "    note: {message}\n    help: {help}");
            }
            details.push_str("   trace:\n");
            trace_text(&mut details, &mismatch.facts, &mismatch.trace);
            Some(details.trim_end().to_string())
        }
    }
}

/// The explanation, as `eval --explain --format human` prints it: where
/// the call's fields came from (a CloudTalk record), then the steps.
fn trace_text(out: &mut String, facts: &[Fact], trace: &[TraceEntry]) {
    let mut lines = String::new();
    crate::runtime::batch::human_assignment(
        &mut lines,
        "",
        &Decision {
            assignee: None,
            step: DecidedBy::Unassigned,
        },
        Some(Explained { facts, trace }),
    );
    // Drop the assignment line; keep the trace lines.
    for line in lines.lines().skip(1) {
        let _ = writeln!(out, "  {line}");
    }
}

/// A JUnit XML report: one `<testsuite>` per test file and one
/// `<testcase>` per case, a `<failure>` for a wrong assignee and an
/// `<error>` for a case that could not run. A test file that could not be
/// run is a suite with one erroring test case named after the file.
pub fn junit(runs: &[FileRun]) -> String {
    let totals = Totals::of(runs);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut failures, mut errors) = (0, totals.files_not_run);
    for report in runs.iter().filter_map(|run| run.outcome.as_ref().ok()) {
        let (file_failures, file_errors) = failures_and_errors(report);
        failures += file_failures;
        errors += file_errors;
    }
    let _ = writeln!(
        xml,
        "<testsuites name=\"callassign\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        totals.passed + totals.failed + totals.files_not_run,
    );
    for run in runs {
        let suite = xml_text(&display(&run.file));
        match &run.outcome {
            Err(problem) => {
                let _ = writeln!(
                    xml,
                    "  <testsuite name=\"{suite}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"{suite}\" classname=\"{suite}\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n  </testsuite>",
                    xml_text(&problem.message),
                    xml_text(&problem_text(problem)),
                );
            }
            Ok(report) => {
                let (failures, errors) = failures_and_errors(report);
                let _ = writeln!(
                    xml,
                    "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
                    report.results.len(),
                );
                for result in &report.results {
                    let name = xml_text(&result.name);
                    let details = failure_details(&result.outcome);
                    let element = match (&result.outcome, details) {
                        (CaseOutcome::Failed(mismatch), Some(details)) => Some((
                            "failure",
                            format!(
                                "expected {}, got {} by {}",
                                mismatch.expected, mismatch.actual_assignee, mismatch.actual_step
                            ),
                            details,
                        )),
                        (CaseOutcome::Broken(problem), Some(details)) => {
                            Some(("error", problem.message.clone(), details))
                        }
                        _ => None,
                    };
                    match element {
                        None => {
                            let _ = writeln!(
                                xml,
                                "    <testcase name=\"{name}\" classname=\"{suite}\"/>"
                            );
                        }
                        Some((tag, message, details)) => {
                            let _ = writeln!(
                                xml,
                                "    <testcase name=\"{name}\" classname=\"{suite}\">\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>",
                                xml_text(&message),
                                xml_text(&details)
                            );
                        }
                    }
                }
                xml.push_str("  </testsuite>\n");
            }
        }
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Cases with another outcome than expected, and cases that could not run.
fn failures_and_errors(report: &FileReport) -> (usize, usize) {
    let (mut failures, mut errors) = (0, 0);
    for result in &report.results {
        match result.outcome {
            CaseOutcome::Passed => {}
            CaseOutcome::Failed(_) => failures += 1,
            CaseOutcome::Broken(_) => errors += 1,
        }
    }
    (failures, errors)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Text safe in XML content and attribute values. Control characters XML
/// 1.0 cannot hold at all (a case name may contain anything) become U+FFFD.
fn xml_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\n' => escaped.push_str("&#10;"),
            '\t' | '\r' => {
                let _ = write!(escaped, "&#{};", u32::from(c));
            }
            c if c.is_control() && c < ' ' => escaped.push('\u{FFFD}'),
            '\u{FFFE}' | '\u{FFFF}' => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    #[serde(flatten)]
    totals: Totals,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    file: String,
    rules: Option<String>,
    /// Why the file could not be run; its cases are then empty.
    error: Option<JsonProblem<'a>>,
    cases: Vec<JsonCase<'a>>,
    undecided_steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    message: String,
    help: &'a str,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    number: usize,
    name: &'a str,
    /// `passed`, `failed` (another assignee) or `broken` (could not run).
    outcome: &'static str,
    expected: Option<JsonAssignment<'a>>,
    actual: Option<JsonAssignment<'a>>,
    details: Option<String>,
}

/// An assignee and the step that decides, as assignment lines name them.
#[derive(Serialize)]
struct JsonAssignment<'a> {
    assignee: Option<&'a str>,
    step: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    #[serde(flatten)]
    name: &'a EntryName,
    from: &'a str,
}

/// All runs as one JSON document: per file its cases with their outcome,
/// then the totals.
pub fn json(runs: &[FileRun]) -> String {
    let files = runs
        .iter()
        .map(|run| {
            let (error, cases, undecided_steps) = match &run.outcome {
                Err(problem) => (
                    Some(JsonProblem {
                        message: problem.located(),
                        help: problem.help_text(),
                    }),
                    Vec::new(),
                    Vec::new(),
                ),
                Ok(report) => (
                    None,
                    report
                        .results
                        .iter()
                        .map(|result| {
                            let (outcome, expected, actual) = match &result.outcome {
                                CaseOutcome::Passed => ("passed", None, None),
                                CaseOutcome::Broken(_) => ("broken", None, None),
                                CaseOutcome::Failed(mismatch) => (
                                    "failed",
                                    Some(JsonAssignment {
                                        assignee: mismatch.expected.assignee.as_deref(),
                                        step: mismatch.expected.step.as_deref(),
                                        user: mismatch.expected.user.as_deref(),
                                    }),
                                    Some(JsonAssignment {
                                        assignee: mismatch.actual_id.as_deref(),
                                        step: Some(mismatch.actual_step_name),
                                        user: mismatch.actual_user.as_deref(),
                                    }),
                                ),
                            };
                            JsonCase {
                                number: result.number,
                                name: &result.name,
                                outcome,
                                expected,
                                actual,
                                details: failure_details(&result.outcome),
                            }
                        })
                        .collect(),
                    report
                        .undecided_steps
                        .iter()
                        .map(|(name, from)| JsonStep { name, from })
                        .collect(),
                ),
            };
            JsonFile {
                file: display(&run.file),
                rules: run.rules.as_deref().map(display),
                error,
                cases,
                undecided_steps,
            }
        })
        .collect();
    serde_json::to_string_pretty(&JsonReport {
        files,
        totals: Totals::of(runs),
    })
    .expect("a test report serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            xml_text("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}&#10;"
        );
    }
}
