//! `callassign plan`: the resolved steps of a rule file, run through the real binary.

use std::path::Path;

use crate::common;

use common::Run;

/// Runs the binary in `dir` with colour off and nothing on stdin.
fn callassign(dir: &Path, args: &[&str]) -> Run {
    common::callassign_in(dir, args, b"")
}

fn repo() -> std::path::PathBuf {
    common::repo()
}

#[test]
fn pipedrive_shows_inherited_steps_with_their_lines() {
    let run = callassign(&repo(), &["plan", "rules/pipedrive.rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!("plan_pipedrive_human", run.stdout);
}

#[test]
fn pipedrive_as_json() {
    let run = callassign(
        &repo(),
        &["plan", "--format", "json", "rules/pipedrive.rules"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("plan_pipedrive_json", run.stdout);
}

#[test]
fn every_step_points_at_the_line_that_wrote_it() {
    for name in [
        "default",
        "hubspot",
        "salesforce",
        "pipedrive",
        "zendesk",
        "freshdesk",
    ] {
        let file = format!("rules/{name}.rules");
        let run = callassign(&repo(), &["plan", "--format", "json", &file]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let steps = plan["steps"].as_array().unwrap().iter();
        for step in steps.chain([&plan["fallback"]]) {
            let name = step["label"].as_str().unwrap();
            let (written_in, line) = step["from"].as_str().unwrap().split_once(':').unwrap();
            let text = std::fs::read_to_string(repo().join("rules").join(written_in)).unwrap();
            let line = text
                .lines()
                .nth(line.parse::<usize>().unwrap() - 1)
                .unwrap();
            let statement = if name.starts_with("fallback") {
                name.to_string()
            } else {
                format!("step {name}")
            };
            assert!(
                line.starts_with(&statement),
                "{file}: `{name}` is said to be at `{line}`"
            );
        }
    }
}

#[test]
fn steps_after_the_fallback_are_listed_as_never_reached() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("late.rules"),
        "ruleset late\nstep call_agent when agent != null\nfallback unassigned\nstep favorite_agent\n",
    )
    .unwrap();
    let run = callassign(dir.path(), &["plan", "late.rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("plan_unreachable_human", run.stdout);
    // The warning comes out as `check` shows it.
    assert!(
        run.stderr.contains("callassign::unreachable_step"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_rule_file_with_errors_has_no_plan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.rules"),
        "ruleset bad\nstep call_agnet\n",
    )
    .unwrap();
    let run = callassign(dir.path(), &["plan", "bad.rules"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("plan_errors_stderr", run.stderr);
}
