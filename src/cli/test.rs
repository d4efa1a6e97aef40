//! `callassign test`: run rule tests and report like `cargo test`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use callassign::rule_test::{self, CaseOutcome, Problem};
use callassign::runtime::evaluate::TraceEntry;
use callassign::runtime::model::Fact;
use callassign::semantics::load::Loader;

use super::{print_findings_to_stderr, CliError, CliResult, EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files, or folders of them (`.yaml` files) [default: rules/tests]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("rules/tests")]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for path in &paths {
        let found = rule_test::test_files(path).map_err(|error| CliError::io(path, &error))?;
        if found.is_empty() {
            return Err(
                CliError::new(format!("no test files (`.yaml`) in `{}`", path.display()))
                    .help("a test file lists calls with the assignee each must get; see README.md"),
            );
        }
        files.extend(found);
    }

    let mut loader = Loader::new();
    let (mut passed, mut failed, mut broken_files) = (0usize, 0usize, 0usize);
    // Name and details of each failing case, shown after all cases ran.
    let mut failures: Vec<(String, String)> = Vec::new();
    for path in &files {
        let report = rule_test::load(path).and_then(|file| {
            rule_test::run(&file, &mut loader)
                .map(|report| (file, report))
                .map_err(|unrunnable| {
                    print_findings_to_stderr(&unrunnable.findings);
                    unrunnable.problem
                })
        });
        let (file, report) = match report {
            Ok(loaded) => loaded,
            Err(problem) => {
                broken_files += 1;
                eprintln!("{}", problem_text(&problem));
                continue;
            }
        };
        print_findings_to_stderr(&report.findings);
        let noun = if report.results.len() == 1 {
            "case"
        } else {
            "cases"
        };
        outln!(
            "\nrunning {} {noun} from {} ({})",
            report.results.len(),
            file.path.display(),
            file.rules.display()
        );
        for result in &report.results {
            let title = format!("{}: {}", file.path.display(), result.name);
            match &result.outcome {
                CaseOutcome::Passed => {
                    passed += 1;
                    outln!("test {} ... ok", result.name);
                }
                CaseOutcome::Failed(mismatch) => {
                    failed += 1;
                    outln!("test {} ... FAILED", result.name);
                    let mut details = format!(
                        "expected: {}\n  actual: {} by {}\n   trace:\n",
                        mismatch.expected, mismatch.actual_assignee, mismatch.actual_step
                    );
                    trace_text(&mut details, &mismatch.facts, &mismatch.trace);
                    failures.push((title, details));
                }
                CaseOutcome::Broken(problem) => {
                    failed += 1;
                    outln!("test {} ... FAILED", result.name);
                    failures.push((title, problem_text(problem)));
                }
            }
        }
        for (step, from) in &report.undecided_steps {
            outln!("note: no case is decided by `{step}` ({from})");
        }
    }

    if !failures.is_empty() {
        outln!("\nfailures:");
        for (title, details) in &failures {
            outln!("\n---- {title} ----\n{}", details.trim_end());
        }
        outln!("\nfailures:");
        for (title, _) in &failures {
            outln!("    {title}");
        }
    }
    let mut closing = format!("\n{passed} passed, {failed} failed");
    if broken_files > 0 {
        let noun = if broken_files == 1 { "file" } else { "files" };
        let _ = write!(closing, ", {broken_files} test {noun} not run");
    }
    outln!("{closing}");
    Ok(ExitCode::from(if broken_files > 0 {
        EXIT_ERROR
    } else if failed > 0 {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

fn problem_text(problem: &Problem) -> String {
    format!("error: {problem}\n  help: {}", problem.help)
}

/// The explanation, as `eval --explain --format human` prints it.
fn trace_text(out: &mut String, facts: &[Fact], trace: &[TraceEntry]) {
    let mut lines = String::new();
    callassign::runtime::batch::human_assignment(
        &mut lines,
        "",
        &callassign::runtime::evaluate::Decision {
            assignee: None,
            step: callassign::runtime::evaluate::DecidedBy::Unassigned,
        },
        Some(callassign::runtime::batch::Explained { facts, trace }),
    );
    // Drop the assignment line; keep the trace lines.
    for line in lines.lines().skip(1) {
        let _ = writeln!(out, "  {line}");
    }
}
