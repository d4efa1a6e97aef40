//! One vocabulary for steps: the `step` (and `user`) an assignment line
//! carries is the name its trace, `plan`, `stats`, `diff` and rule tests
//! use, so each output joins the others on it.

use crate::common::*;
use serde_json::Value;

const CONTEXT: &str = "integration: hubspot\ncontact_owner: true\nfallback: installer\ninstaller: hs-1\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-2, email: ops@acme.com}\n  - {id: hs-3, email: bob@acme.com}\n";

/// Built-in steps, a fixed user and the integration fallback.
const TEAM: &str = "ruleset team extends default\nstep user \"ops@acme.com\" when \"vip\" in tags\nmove user \"ops@acme.com\" first\n";
/// A fixed-user fallback.
const NIGHT: &str = "ruleset night\nstep call_agent\nfallback user \"ops@acme.com\"\n";
/// `fallback unassigned`.
const QUIET: &str = "ruleset quiet\nstep call_agent\nfallback unassigned\n";

const HISTORY: &str = concat!(
    r#"{"id":"c-1","direction":"incoming","status":"missed","tags":["vip"]}"#,
    "\n",
    r#"{"id":"c-2","direction":"outgoing","status":"answered","agent":"bob@acme.com"}"#,
    "\n",
    r#"{"id":"c-3","direction":"incoming","status":"missed"}"#,
    "\n",
);

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// `(step, user)`: how a line, a trace entry or a report names an entry.
type Name = (String, Option<String>);

fn name(value: &Value) -> Name {
    (
        value["step"].as_str().expect("a `step`").to_string(),
        value["user"].as_str().map(str::to_string),
    )
}

#[test]
fn a_line_joins_its_trace_plan_stats_diff_and_rule_tests_on_its_step() {
    let dir = folder(&[
        ("rules/team.rules", TEAM),
        ("rules/night.rules", NIGHT),
        ("rules/quiet.rules", QUIET),
        ("context.yaml", CONTEXT),
        ("calls.jsonl", HISTORY),
    ]);
    let mut seen = std::collections::BTreeSet::new();
    for rules in ["rules/team.rules", "rules/night.rules", "rules/quiet.rules"] {
        let eval = callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                rules,
                "--context",
                "context.yaml",
                "--explain",
                "--quiet",
                "calls.jsonl",
            ],
            b"",
        );
        assert_eq!(eval.code, 0, "{}", eval.stderr);
        let plan =
            json(&callassign_in(dir.path(), &["plan", "--format", "json", rules], b"").stdout);
        let planned: Vec<&Value> = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .chain([&plan["fallback"]])
            .collect();
        let stats = json(
            &callassign_in(
                dir.path(),
                &[
                    "stats",
                    "--rules",
                    rules,
                    "--context",
                    "context.yaml",
                    "--format",
                    "json",
                    "calls.jsonl",
                ],
                b"",
            )
            .stdout,
        );
        let mut cases = String::new();
        for line in eval.stdout.lines() {
            let line = json(line);
            let step = name(&line);
            seen.insert(step.0.clone());
            // The trace's deciding entry carries the line's own name.
            let decided = line["trace"]
                .as_array()
                .unwrap()
                .iter()
                .find(|entry| entry["result"] == "decided")
                .expect("a deciding entry");
            assert_eq!(name(decided), step, "{rules}: {line}");
            // `plan` lists it under the same name, at the same place.
            assert!(
                planned
                    .iter()
                    .any(|entry| name(entry) == step && entry["from"] == decided["from"]),
                "{rules}: {step:?} from {} is not in the plan {plan}",
                decided["from"]
            );
            // `stats` counts it under the same name.
            assert!(
                stats["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|entry| name(entry) == step
                        && entry["from"] == decided["from"]
                        && entry["decided"].as_u64() > Some(0)),
                "{rules}: {step:?} not counted in {stats}"
            );
            // A rule test names it as the line does.
            let assignee = match &line["assignee"] {
                Value::Null => "null".to_string(),
                assignee => assignee["id"].as_str().unwrap().to_string(),
            };
            let user = step
                .1
                .as_ref()
                .map(|user| format!("\n    user: {user}"))
                .unwrap_or_default();
            cases.push_str(&format!(
                "  - call: ../calls/{}.json\n    assignee: {assignee}\n    step: {}{user}\n",
                line["call"].as_str().unwrap(),
                step.0
            ));
        }
        for (index, call) in HISTORY.lines().enumerate() {
            let path = dir.path().join(format!("calls/c-{}.json", index + 1));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, call).unwrap();
        }
        let test_file = dir.path().join("tests/cases.yaml");
        std::fs::create_dir_all(test_file.parent().unwrap()).unwrap();
        std::fs::write(
            &test_file,
            format!("rules: ../{rules}\ncontext: ../context.yaml\ncases:\n{cases}"),
        )
        .unwrap();
        let test = callassign_in(dir.path(), &["test", "tests/cases.yaml"], b"");
        assert_eq!(test.code, 0, "{rules}:\n{cases}\n{}", test.stdout);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["call_agent", "integration_fallback", "unassigned", "user"],
        "every kind of name was tried"
    );

    // `diff` names both sides of a move as lines do.
    let diff = callassign_in(
        dir.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "rules/team.rules",
            "rules/quiet.rules",
            "calls.jsonl",
        ],
        b"",
    );
    let report = json(&diff.stdout);
    let moves: Vec<(Name, Name)> = report["step_moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|moved| (name(&moved["from"]), name(&moved["to"])))
        .collect();
    assert_eq!(
        moves,
        [
            (
                ("integration_fallback".into(), None),
                ("unassigned".into(), None)
            ),
            (
                ("user".into(), Some("ops@acme.com".into())),
                ("unassigned".into(), None)
            ),
        ],
        "{report}"
    );
}

#[test]
fn rule_tests_take_exactly_the_names_lines_carry() {
    let dir = folder(&[("rules/quiet.rules", QUIET), ("context.yaml", CONTEXT)]);
    for (step, help) in [
        (
            "fallback integration",
            "the rule file's `fallback integration` decides calls as `step: integration_fallback`",
        ),
        (
            "fallback unassigned",
            "the rule file's `fallback unassigned` decides calls as `step: unassigned`",
        ),
        (
            "'user \"ops@acme.com\"'",
            "a fixed user is `step: user`, its address in `user`",
        ),
        (
            "integration fallback",
            "did you mean `integration_fallback`?",
        ),
    ] {
        std::fs::write(
            dir.path().join("cases.yaml"),
            format!("rules: rules/quiet.rules\ncontext: context.yaml\ncases:\n  - call: {{direction: incoming, status: missed}}\n    assignee: null\n    step: {step}\n"),
        )
        .unwrap();
        let run = callassign_in(dir.path(), &["test", "cases.yaml"], b"");
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(
            run.stdout.contains("is not a step name") && run.stdout.contains(help),
            "{step}: {}",
            run.stdout
        );
    }
    // `user` beside a step that is not `user`.
    std::fs::write(
        dir.path().join("cases.yaml"),
        "rules: rules/quiet.rules\ncontext: context.yaml\ncases:\n  - call: {direction: incoming, status: missed}\n    assignee: null\n    step: unassigned\n    user: ops@acme.com\n",
    )
    .unwrap();
    let run = callassign_in(dir.path(), &["test", "cases.yaml"], b"");
    assert!(
        run.stdout
            .contains("`user: ops@acme.com` goes with `step: user`, not `step: unassigned`"),
        "{}",
        run.stdout
    );
}
