//! Reports for CI: `check --format sarif`, `test --format junit|json`,
//! `test --filter`, and `--color` on every command.

use crate::common::{callassign, callassign_in, folder, repo};

/// One error (`favourite_agent`) and one warning (`voicemial`).
const FLAWED: &str = "ruleset demo\nstep call_agent\nstep favourite_agent\nstep last_step_agent when last_step == voicemial\nfallback integration\n";

#[test]
fn sarif_is_a_2_1_0_log_with_a_result_per_finding_and_its_level() {
    let dir = folder(&[("demo.rules", FLAWED)]);
    let run = callassign_in(
        dir.path(),
        &["check", "--format", "sarif", "demo.rules"],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "callassign");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    let found: Vec<(&str, &str)> = results
        .iter()
        .map(|result| {
            (
                result["ruleId"].as_str().unwrap(),
                result["level"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("callassign::unknown_step", "error"),
            ("callassign::unknown_flow_step_type", "warning")
        ]
    );
    for result in results {
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "demo.rules");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 3);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    for rule in rules {
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(level == "error" || level == "warning", "{rule}");
    }
}

#[test]
fn sarif_of_clean_rules_has_no_results_and_exits_0() {
    let run = callassign(&["check", "--format", "sarif", "rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

/// A test folder with one passing case, one failing case and one broken
/// case, beside the shipped rules.
fn mixed_tests() -> tempfile::TempDir {
    let default_rules = std::fs::read_to_string(repo().join("rules/default.rules")).unwrap();
    let context = std::fs::read_to_string(repo().join("examples/hubspot.context.yaml")).unwrap();
    folder(&[
        ("default.rules", &default_rules),
        ("hubspot.context.yaml", &context),
        (
            "tests/demo.yaml",
            "rules: ../default.rules\ncontext: ../hubspot.context.yaml\ncases:\n  - name: answered <stays> with its agent\n    call: {direction: incoming, status: answered, agent: bob@acme.com}\n    assignee: hs-3\n  - name: a wrong expectation & a failure\n    call: {direction: incoming, status: answered, agent: bob@acme.com}\n    assignee: hs-1\n  - name: a broken call\n    call: {direction: sideways, status: answered}\n    assignee: hs-1\n",
        ),
    ])
}

#[test]
fn junit_has_one_testcase_per_case_with_failures_and_errors() {
    let dir = mixed_tests();
    let run = callassign_in(dir.path(), &["test", "--format", "junit", "tests"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let xml = roxmltree::Document::parse(&run.stdout).expect("JUnit is XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("3"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("1"));
    let cases: Vec<_> = root
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases
        .iter()
        .map(|case| case.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "answered <stays> with its agent",
            "a wrong expectation & a failure",
            "a broken call"
        ]
    );
    let child = |index: usize| {
        cases[index]
            .children()
            .find(|node| node.is_element())
            .map(|node| node.tag_name().name().to_string())
    };
    assert_eq!(child(0), None);
    assert_eq!(child(1).as_deref(), Some("failure"));
    assert_eq!(child(2).as_deref(), Some("error"));
    let failure = cases[1].children().find(|node| node.is_element()).unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("expected hs-1, got hs-3 (bob@acme.com) by call_agent")
    );
    assert!(failure.text().unwrap().contains("trace:"));
}

#[test]
fn junit_names_a_test_file_that_could_not_run() {
    let dir = folder(&[("tests/broken.yaml", "rules: [not, a, path]\n")]);
    let run = callassign_in(dir.path(), &["test", "--format", "junit", "tests"], b"");
    assert_eq!(run.code, 2);
    let xml = roxmltree::Document::parse(&run.stdout).unwrap();
    let error = xml
        .descendants()
        .find(|node| node.has_tag_name("error"))
        .expect("an error element");
    assert!(error
        .attribute("message")
        .unwrap()
        .starts_with("not a valid test file"));
}

#[test]
fn json_reports_each_case_with_expected_and_actual() {
    let dir = mixed_tests();
    let run = callassign_in(dir.path(), &["test", "--format", "json", "tests"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["passed"], 1);
    assert_eq!(report["failed"], 2);
    assert_eq!(report["files_not_run"], 0);
    let cases = report["files"][0]["cases"].as_array().unwrap();
    let outcomes: Vec<&str> = cases
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["passed", "failed", "broken"]);
    assert_eq!(cases[1]["expected"]["assignee"], "hs-1");
    assert_eq!(cases[1]["actual"]["assignee"], "hs-3");
    assert_eq!(cases[1]["actual"]["step"], "call_agent");
    assert!(cases[2]["details"].as_str().unwrap().contains("sideways"));
}

#[test]
fn filter_runs_only_the_matching_cases() {
    let dir = mixed_tests();
    let run = callassign_in(dir.path(), &["test", "--filter", "stays", "tests"], b"");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run
        .stdout
        .contains("test answered <stays> with its agent ... ok"));
    assert!(!run.stdout.contains("a broken call"));
    assert!(
        !run.stdout.contains("note: no case is decided"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.lines().last(),
        Some("1 passed, 0 failed, 2 filtered out")
    );

    let none = callassign_in(
        dir.path(),
        &["test", "--filter", "nothing like it", "tests"],
        b"",
    );
    assert_eq!(none.code, 2);
    assert!(
        none.stderr
            .starts_with("error: no case name contains `nothing like it`"),
        "{}",
        none.stderr
    );
}

#[test]
fn color_always_colours_even_with_no_color_set_and_never_does_not() {
    let dir = folder(&[("demo.rules", FLAWED)]);
    // The test harness sets NO_COLOR; `auto` then stays plain.
    let auto = callassign_in(dir.path(), &["check", "demo.rules"], b"");
    assert!(!auto.stdout.contains('\u{1b}'), "{}", auto.stdout);
    let always = callassign_in(
        dir.path(),
        &["--color", "always", "check", "demo.rules"],
        b"",
    );
    assert!(always.stdout.contains("\u{1b}["), "{}", always.stdout);
    let never = callassign_in(dir.path(), &["check", "demo.rules", "--color=never"], b"");
    assert!(!never.stdout.contains('\u{1b}'));
    assert_eq!(never.stdout, auto.stdout);
    // Every command takes it.
    for command in ["eval", "fmt", "plan", "diff", "stats", "test"] {
        let help = callassign(&[command, "--color", "never", "--help"]);
        assert_eq!(help.code, 0, "{command}: {}", help.stderr);
    }
}
