//! The project file, `callassign.toml`: commands find the rules, contexts
//! and tests it names from anywhere below it, without flags; a flag wins.

use crate::common::{callassign_in, folder};

const CALL: &str = "{\"id\":\"c-1\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"bob@acme.com\"}\n";

/// A team repository: two integrations, their contexts, tests, a history.
fn repository() -> tempfile::TempDir {
    let context = |integration: &str| {
        format!("integration: {integration}\nusers:\n  - {{id: u-1, email: admin@acme.com}}\n  - {{id: u-2, email: bob@acme.com}}\n")
    };
    let dir = folder(&[
        (
            "callassign.toml",
            "rules = \"team/rules\"\ncontexts = \"team/contexts\"\ntests = \"team/tests\"\nruleset = \"hubspot\"\n",
        ),
        ("team/rules/hubspot.rules", "ruleset hubspot extends default\n"),
        ("team/rules/zendesk.rules", "ruleset zendesk extends default\ndisable call_agent\n"),
        ("team/contexts/hubspot.yaml", &context("hubspot")),
        ("team/contexts/zendesk.yaml", &context("zendesk")),
        (
            "team/tests/hubspot.yaml",
            "rules: ../rules/hubspot.rules\ncontext: ../contexts/hubspot.yaml\ncases:\n  - call: {direction: outgoing, status: answered, agent: bob@acme.com}\n    assignee: u-2\n",
        ),
        ("history/calls.jsonl", CALL),
        ("somewhere/below/.keep", ""),
    ]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

#[test]
fn commands_find_rules_contexts_and_tests_from_the_project_file() {
    let dir = repository();
    let below = dir.path().join("somewhere/below");
    let history = "../../history/calls.jsonl";
    // eval and stats: the project's ruleset and its context.
    let eval = callassign_in(&below, &["eval", "--quiet", history], b"");
    assert_eq!(eval.code, 0, "{eval:?}");
    assert_eq!(
        eval.stdout,
        "{\"call\":\"c-1\",\"assignee\":{\"id\":\"u-2\",\"email\":\"bob@acme.com\"},\"step\":\"call_agent\"}\n"
    );
    let stats = callassign_in(&below, &["stats", "--format", "json", history], b"");
    assert_eq!(stats.code, 0, "{stats:?}");
    assert!(
        stats.stdout.contains("\"ruleset\": \"hubspot\""),
        "{}",
        stats.stdout
    );
    // Another rule file: its own context.
    let zendesk = callassign_in(
        &below,
        &[
            "eval",
            "--quiet",
            "--rules",
            "../../team/rules/zendesk.rules",
            history,
        ],
        b"",
    );
    assert_eq!(zendesk.code, 0, "{zendesk:?}");
    assert!(
        zendesk.stdout.contains("\"step\":\"integration_fallback\""),
        "{}",
        zendesk.stdout
    );
    // diff: the context of the new rules.
    let diff = callassign_in(
        &below,
        &[
            "diff",
            "--format",
            "json",
            "../../team/rules/hubspot.rules",
            "../../team/rules/zendesk.rules",
            history,
        ],
        b"",
    );
    assert_eq!(diff.code, 0, "{diff:?}");
    assert!(diff.stdout.contains("\"reassigned\": 1"), "{}", diff.stdout);
    // check, fmt and test: the project's folders; check each rule file
    // against its own context (no `integration_mismatch`).
    let check = callassign_in(&below, &["check", "--deny-warnings"], b"");
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.stderr.contains("checked 2 files"), "{}", check.stderr);
    let fmt = callassign_in(&below, &["fmt", "--check"], b"");
    assert_eq!(fmt.code, 0, "{fmt:?}");
    let test = callassign_in(&below, &["test"], b"");
    assert_eq!(test.code, 0, "{test:?}");
    assert!(
        test.stdout.contains("1 passed, 0 failed"),
        "{}",
        test.stdout
    );
    // A context that lacks a fixed user is found without `--context`.
    std::fs::write(
        dir.path().join("team/rules/zendesk.rules"),
        "ruleset zendesk extends default\nstep user \"ghost@acme.com\"\n",
    )
    .unwrap();
    let check = callassign_in(&below, &["check", "--deny-warnings"], b"");
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check.stdout.contains("callassign::user_not_in_context"),
        "{}",
        check.stdout
    );
}

#[test]
fn flags_win_over_the_project_file() {
    let dir = repository();
    let other = folder(&[(
        "other.yaml",
        "integration: hubspot\nusers:\n  - {id: x-9, email: bob@acme.com}\n",
    )]);
    let context = other.path().join("other.yaml");
    let eval = callassign_in(
        dir.path(),
        &[
            "eval",
            "--quiet",
            "--context",
            context.to_str().unwrap(),
            "history/calls.jsonl",
        ],
        b"",
    );
    assert_eq!(eval.code, 0, "{eval:?}");
    assert!(eval.stdout.contains("\"id\":\"x-9\""), "{}", eval.stdout);
}

#[test]
fn without_a_project_or_a_ruleset_the_missing_flag_is_named() {
    let dir = folder(&[("calls.jsonl", CALL)]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let run = callassign_in(dir.path(), &["eval", "calls.jsonl"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("no `--rules`, and no project file (`callassign.toml`)"),
        "{}",
        run.stderr
    );
    std::fs::write(dir.path().join("callassign.toml"), "rules = \"r\"\n").unwrap();
    let run = callassign_in(dir.path(), &["eval", "calls.jsonl"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("`callassign.toml` names no `ruleset`"),
        "{}",
        run.stderr
    );
    let run = callassign_in(
        dir.path(),
        &["eval", "--rules", "r/x.rules", "calls.jsonl"],
        b"",
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("no `--context`, and no `contexts/x.yaml` for `r/x.rules`"),
        "{}",
        run.stderr
    );
    // A broken project file stops every command that reads it, by name.
    std::fs::write(dir.path().join("callassign.toml"), "rule = \"r\"\n").unwrap();
    let run = callassign_in(dir.path(), &["check"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("error: `callassign.toml` is not a valid project file: unknown field `rule`"),
        "{}",
        run.stderr
    );
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let outer = folder(&[("callassign.toml", "ruleset = \"outer\"\n")]);
    let inner = outer.path().join("repo");
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    std::fs::write(inner.join("calls.jsonl"), CALL).unwrap();
    let run = callassign_in(&inner, &["eval", "calls.jsonl"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no project file"), "{}", run.stderr);
}

#[test]
fn serve_finds_its_rules_and_contexts_from_the_project_file() {
    let dir = repository();
    let below = dir.path().join("somewhere/below");
    let server = crate::serve::Server::start_in(&below, &[]);
    let stderr = server.stderr();
    assert!(
        stderr.contains("serving hubspot from ../../team/rules/hubspot.rules and ../../team/contexts/hubspot.yaml"),
        "{stderr}"
    );
    assert!(stderr.contains("serving zendesk from"), "{stderr}");
    drop(server);
    // Without a project, the flags are needed, and said so.
    let alone = folder(&[]);
    std::fs::create_dir(alone.path().join(".git")).unwrap();
    let failed = crate::serve::Server::try_start_in(alone.path(), &[])
        .err()
        .expect("it does not start");
    assert_eq!(failed.0, Some(2));
    assert!(
        failed
            .1
            .contains("no project file (`callassign.toml`) says where rules are"),
        "{}",
        failed.1
    );
}

/// A folder the project file names that is not there is said as such,
/// with the key to correct; not as a missing `--contexts`.
#[test]
fn serve_names_a_project_folder_that_is_not_there() {
    let dir = repository();
    for (key, moved) in [("rules", "team/rules"), ("contexts", "team/contexts")] {
        std::fs::rename(dir.path().join(moved), dir.path().join("elsewhere")).unwrap();
        let failed = crate::serve::Server::try_start_in(dir.path(), &[])
            .err()
            .expect("it does not start");
        assert_eq!(failed.0, Some(2), "{}", failed.1);
        assert!(
            failed.1.contains(&format!("`{moved}` does not exist")),
            "{}",
            failed.1
        );
        assert!(
            failed
                .1
                .contains(&format!("`{key}` in `callassign.toml` names it")),
            "{}",
            failed.1
        );
        std::fs::rename(dir.path().join("elsewhere"), dir.path().join(moved)).unwrap();
    }
    // `--rules` naming a folder that is not there, contexts from the file.
    let failed = crate::serve::Server::try_start_in(dir.path(), &["--rules", "nowhere"])
        .err()
        .expect("it does not start");
    assert!(
        failed.1.contains("`nowhere` does not exist"),
        "{}",
        failed.1
    );
}
