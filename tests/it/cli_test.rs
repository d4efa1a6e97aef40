//! `callassign test`: rule tests, run through the real binary.

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

/// A folder with the shipped default and HubSpot rules, the example
/// context and one test file.
fn project(test_file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("rules/default.rules", "default.rules"),
        ("rules/hubspot.rules", "hubspot.rules"),
        ("examples/hubspot.context.yaml", "hubspot.context.yaml"),
    ] {
        std::fs::copy(repo().join(from), dir.path().join(to)).unwrap();
    }
    std::fs::write(dir.path().join("hubspot.yaml"), test_file).unwrap();
    dir
}

#[test]
fn shipped_rule_tests_pass_and_decide_by_every_step() {
    let run = callassign(&repo(), &["test", "rules/tests"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let closing = run.stdout.lines().last().unwrap();
    assert!(closing.ends_with(" passed, 0 failed"), "{closing}");
    // Every step of every shipped plan decides at least one case.
    assert!(
        !run.stdout.contains("note: no case is decided by"),
        "{}",
        run.stdout
    );
    // One test file per shipped rule file.
    for name in [
        "default",
        "hubspot",
        "salesforce",
        "pipedrive",
        "zendesk",
        "freshdesk",
    ] {
        assert!(
            run.stdout.contains(&format!("(rules/{name}.rules)")),
            "no test file for rules/{name}.rules"
        );
    }
}

#[test]
fn a_failing_case_shows_expected_actual_and_the_trace() {
    let dir = project(
        "rules: hubspot.rules\ncontext: hubspot.context.yaml\ncases:\n\
         - name: an answered call stays with its agent\n  call: {direction: outgoing, status: answered, agent: Alice@acme.com}\n  assignee: hs-2\n  step: call_agent\n\
         - name: a missed call goes to the contact owner\n  call: {direction: incoming, status: missed, flow: [{type: call_to_agent, agent: bob@acme.com}], contact: {owner: hs-5}}\n  assignee: hs-5\n  step: contact_owner\n\
         - name: a typo in the call\n  call: {direction: incoming, status: mised}\n  assignee: null\n",
    );
    let run = callassign(dir.path(), &["test", "hubspot.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!("test_failing_stdout", run.stdout);
    assert_eq!(run.stdout.lines().last(), Some("1 passed, 2 failed"));
}

#[test]
fn a_passing_file_exits_0() {
    let dir = project(
        "rules: hubspot.rules\ncontext: hubspot.context.yaml\ncases:\n\
         - call: {direction: incoming, status: voicemail, flow: [{type: voicemail, email: nobody@acme.com}]}\n  assignee: hs-1\n  step: integration_fallback\n",
    );
    let run = callassign(dir.path(), &["test", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn a_broken_test_file_says_where_and_how_to_fix_it() {
    let dir = project(
        "rules: hubspott.rules\ncontext: hubspot.context.yaml\ncases:\n- {call: {direction: incoming, status: missed}, assignee: null}\n",
    );
    let run = callassign(dir.path(), &["test", "hubspot.yaml"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout.trim(), "0 passed, 0 failed, 1 test file not run");
    insta::assert_snapshot!("test_missing_rules_stderr", run.stderr);

    std::fs::write(
        dir.path().join("bad.yaml"),
        "rules: hubspot.rules\ncases:\n  - call: {}\n    assignee: [\n",
    )
    .unwrap();
    let run = callassign(dir.path(), &["test", "bad.yaml"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("test_bad_yaml_stderr", run.stderr);
}

#[test]
fn findings_in_the_rule_file_are_reported_as_check_reports_them() {
    let dir = project(
        "rules: hubspot.rules\ncontext: hubspot.context.yaml\ncases:\n- {call: {direction: incoming, status: missed}, assignee: hs-1}\n",
    );
    std::fs::write(
        dir.path().join("hubspot.rules"),
        "ruleset hubspot extends default\nmove contact_ownr first\n",
    )
    .unwrap();
    let run = callassign(dir.path(), &["test", "hubspot.yaml"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("test_rules_in_error_stderr", run.stderr);
}

#[test]
fn a_case_whose_call_has_keys_callassign_does_not_read_fails() {
    // `caller` is not `number`: ignored, the case would pass having tested
    // a call without a number. `eval` names such keys; `test` refuses them.
    let dir = project(
        "rules: hubspot.rules\ncontext: hubspot.context.yaml\ncases:\n\
         - name: a caller the rules never see\n  call: {direction: incoming, status: missed, caller: '+442071234567', flow: [{type: ivr, ring_s: 3}], contact: {id: c1, name: Ann}}\n  assignee: hs-1\n\
         - name: from a file\n  call: call.json\n  assignee: hs-1\n",
    );
    std::fs::write(
        dir.path().join("call.json"),
        r#"{"id": "c-9", "direction": "incoming", "status": "missed", "recording": "r.mp3"}"#,
    )
    .unwrap();
    let run = callassign(dir.path(), &["test", "hubspot.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains(
        "error: `hubspot.yaml`, case 1 (`a caller the rules never see`): `call` has keys callassign does not read: `caller`, `flow[].ring_s`, `contact.name`\n  help: the case would test the call without them: remove them, or write the field callassign reads"
    ), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "case 2 (`from a file`): `call` has a key callassign does not read: `recording`"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().last(), Some("0 passed, 2 failed"));
}
