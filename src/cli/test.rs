//! `callassign test`: run rule tests and report like `cargo test`, or as
//! JUnit XML or JSON for CI.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use callassign::rule_test;
use callassign::rule_test::report::{self, FileRun, Totals};
use callassign::semantics::load::Loader;

use super::{print_findings_to_stderr, CliError, CliResult, EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Test files, or folders of them (`.yaml` files) [default: the project's `tests`, else rules/tests]
    paths: Vec<PathBuf>,
    /// How to report: `cargo test`-like text, JUnit XML or JSON
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Run only the cases whose name contains TEXT
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    Human,
    /// JUnit XML, for CI test reporters
    Junit,
    Json,
}

pub fn run(args: Args) -> CliResult {
    let paths = if args.paths.is_empty() {
        vec![super::project()?.map_or_else(
            || PathBuf::from("rules/tests"),
            |project| project.tests.clone(),
        )]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for path in &paths {
        let found = rule_test::test_files(path).map_err(|error| CliError::io(path, &error))?;
        if found.is_empty() {
            return Err(
                CliError::new(format!("no test files (`.yaml`) in `{}`", path.display()))
                    .help("a test file lists calls with the assignee each must get; `callassign schema test` describes it"),
            );
        }
        files.extend(found);
    }

    let mut loader = Loader::new();
    let mut runs = Vec::new();
    let mut filtered_out = 0;
    for path in files {
        let mut test_file = match rule_test::load(&path) {
            Ok(test_file) => test_file,
            Err(problem) => {
                runs.push(FileRun {
                    file: path,
                    rules: None,
                    outcome: Err(problem),
                });
                continue;
            }
        };
        if let Some(filter) = &args.filter {
            filtered_out += test_file.retain_cases(filter);
            if test_file.cases.is_empty() {
                continue;
            }
        }
        let outcome = rule_test::run(&test_file, &mut loader)
            .map(|mut report| {
                print_findings_to_stderr(&report.findings);
                // Which steps a subset of the cases leaves undecided says
                // nothing about the test file.
                if args.filter.is_some() {
                    report.undecided_steps.clear();
                }
                report
            })
            .map_err(|unrunnable| {
                print_findings_to_stderr(&unrunnable.findings);
                unrunnable.problem
            });
        runs.push(FileRun {
            file: path,
            rules: Some(test_file.rules),
            outcome,
        });
    }

    let totals = Totals::of(&runs);
    if let Some(filter) = &args.filter {
        if totals.passed + totals.failed == 0 && totals.files_not_run == 0 {
            return Err(
                CliError::new(format!("no case name contains `{filter}`")).help(
                    "`--filter` keeps the cases whose `name` contains the text, case-sensitively",
                ),
            );
        }
    }
    match args.format {
        TestFormat::Human => human(&runs, totals, filtered_out),
        TestFormat::Junit => out!("{}", report::junit(&runs)),
        TestFormat::Json => outln!("{}", report::json(&runs)),
    }
    Ok(ExitCode::from(if totals.files_not_run > 0 {
        EXIT_ERROR
    } else if totals.failed > 0 {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

/// The `cargo test`-like report: a line per case, then the failures with
/// their details, then a closing line.
fn human(runs: &[FileRun], totals: Totals, filtered_out: usize) {
    // Name and details of each failing case, shown after all cases ran.
    let mut failures: Vec<(String, String)> = Vec::new();
    for run in runs {
        let (report, rules) = match (&run.outcome, &run.rules) {
            (Ok(report), Some(rules)) => (report, rules),
            (Err(problem), _) => {
                noteln!("{}", report::problem_text(problem));
                continue;
            }
            (Ok(_), None) => continue,
        };
        let noun = if report.results.len() == 1 {
            "case"
        } else {
            "cases"
        };
        outln!(
            "\nrunning {} {noun} from {} ({})",
            report.results.len(),
            run.file.display(),
            rules.display()
        );
        for result in &report.results {
            let verdict = if result.passed() { "ok" } else { "FAILED" };
            outln!("test {} ... {verdict}", result.name);
            if let Some(details) = report::failure_details(&result.outcome) {
                failures.push((format!("{}: {}", run.file.display(), result.name), details));
            }
        }
        for (step, from) in &report.undecided_steps {
            outln!("note: no case is decided by `{step}` ({from})");
        }
    }

    if !failures.is_empty() {
        outln!("\nfailures:");
        for (title, details) in &failures {
            outln!("\n---- {title} ----\n{details}");
        }
        outln!("\nfailures:");
        for (title, _) in &failures {
            outln!("    {title}");
        }
    }
    let mut closing = format!("\n{} passed, {} failed", totals.passed, totals.failed);
    if filtered_out > 0 {
        let _ = write!(closing, ", {filtered_out} filtered out");
    }
    if totals.files_not_run > 0 {
        let noun = if totals.files_not_run == 1 {
            "file"
        } else {
            "files"
        };
        let _ = write!(closing, ", {} test {noun} not run", totals.files_not_run);
    }
    outln!("{closing}");
}
