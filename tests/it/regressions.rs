//! Inputs the fuzzers (`fuzz/`) or hand testing found interesting, kept so
//! they stay handled: every `tests/regressions/rules/*.rules` goes through
//! parse, check, compile and every report; every
//! `tests/regressions/batch/*.jsonl` through a batch, sequential and
//! parallel, which must account for every line; every
//! `tests/regressions/contexts/*.yaml` and `rule_tests/*.yaml` is read or
//! refused (files named `refused_*` must be).

use std::fs;
use std::path::{Path, PathBuf};

use callassign::diagnostics::report::{self, Style};
use callassign::model::Context;
use callassign::runtime::batch::{self, Options, OutputFormat};
use callassign::runtime::evaluate::Engine;

fn files(kind: &str, extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs in {kind}");
    files
}

#[test]
fn rule_regressions_are_checked_without_panicking() {
    for path in files("rules", "rules") {
        // Through the loader, as `check` reads files: bytes, not text.
        let compiled = callassign::compile_file(&path).unwrap();
        assert!(
            compiled.plan.is_some() || compiled.findings.iter().any(|f| f.is_error()),
            "{}: no plan and no error",
            path.display()
        );
        for finding in &compiled.findings {
            let style = Style {
                color: false,
                width: 80,
            };
            assert!(report::human(finding, style).contains(finding.code().as_str()));
            report::github(finding);
        }
        report::json(&compiled.findings);
        if let Some(plan) = &compiled.plan {
            callassign::semantics::plan::render_human(plan);
            // The explanation pads step names into a column, as `plan` does.
            let context = Context::from_yaml("users:\n  - {id: a, email: a@x.com}\n").unwrap();
            let evaluator = Engine::new(plan.clone(), context.clone());
            let call = callassign::model::Call::bare(
                callassign::vocabulary::Direction::Incoming,
                callassign::vocabulary::Status::Missed,
            );
            let (decision, trace) = evaluator.explain(&call);
            let mut text = String::new();
            let explained = batch::Explained {
                facts: &[],
                trace: &trace,
            };
            batch::human_assignment(&mut text, "c", &decision, Some(explained));
            assert_eq!(text.lines().count(), trace.len() + 1);
        }
    }
}

#[test]
fn batch_regressions_account_for_every_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = callassign::compile_file(&root.join("rules/pipedrive.rules"))
        .unwrap()
        .plan
        .unwrap();
    let context = Context::from_yaml(
        &fs::read_to_string(root.join("examples/hubspot.context.yaml")).unwrap(),
    )
    .unwrap();
    let evaluator = Engine::new(plan.clone(), context.clone());
    for path in files("batch", "jsonl") {
        let data = fs::read(&path).unwrap();
        let lines = data.split(|&byte| byte == b'\n').count()
            - usize::from(data.is_empty() || data.ends_with(b"\n"));
        for explain in [false, true] {
            let options = Options {
                format: OutputFormat::Json,
                explain,
                input: batch::InputFormat::Native,
            };
            let mut output = Vec::new();
            let summary =
                batch::run(&evaluator, &data[..], &mut output, options, &mut (), |_| {}).unwrap();
            assert_eq!(
                summary.calls + summary.unreadable,
                lines as u64,
                "{}",
                path.display()
            );
            assert_eq!(output.iter().filter(|&&b| b == b'\n').count(), lines);
            let mut parallel = Vec::new();
            batch::run_parallel(&evaluator, &data[..], &mut parallel, options, 3, |_| {}).unwrap();
            assert!(
                parallel == output,
                "{}: parallel output differs",
                path.display()
            );
        }
    }
}

/// Whether a regression input must be refused (its name says so).
fn must_be_refused(path: &Path) -> bool {
    path.file_stem()
        .is_some_and(|stem| stem.to_string_lossy().starts_with("refused_"))
}

#[test]
fn context_regressions_are_read_or_refused_quickly() {
    for path in files("contexts", "yaml") {
        let text = callassign::files::read_text(&path, 1 << 20).unwrap();
        let started = std::time::Instant::now();
        let read = Context::from_yaml(&text);
        assert!(started.elapsed().as_secs() < 2, "{}", path.display());
        match read {
            Ok(context) => {
                assert!(!must_be_refused(&path), "{} was read", path.display());
                context.problems();
            }
            Err(error) => assert!(must_be_refused(&path), "{}: {error}", path.display()),
        }
    }
}

#[test]
fn rule_test_regressions_load_or_say_what_is_wrong() {
    for path in files("rule_tests", "yaml") {
        match callassign::rule_test::load(&path) {
            Ok(file) => {
                assert!(!must_be_refused(&path), "{} was loaded", path.display());
                let _ = callassign::rule_test::run(
                    &file,
                    &mut callassign::semantics::load::Loader::new(),
                );
            }
            Err(problem) => {
                assert!(must_be_refused(&path), "{}: {problem}", path.display());
                assert!(!problem.message.is_empty() && problem.help.is_some());
            }
        }
    }
}
