//! `check --context FILE`: rules checked against the integration they
//! will run with.

use crate::common::{callassign_in, folder, repo};

const CONTEXT: &str = "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-7, email: carol@acme.com, active: false}\n";

/// `check --format json --context hubspot.context.yaml TARGET` in `dir`:
/// the run, and its findings.
fn check_json(dir: &std::path::Path, target: &str) -> (crate::common::Run, serde_json::Value) {
    let run = callassign_in(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--context",
            "hubspot.context.yaml",
            target,
        ],
        b"",
    );
    let findings = serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null);
    (run, findings)
}

fn default_rules() -> String {
    std::fs::read_to_string(repo().join("rules/default.rules")).unwrap()
}

#[test]
fn fixed_users_missing_or_inactive_in_the_context_are_warned_about() {
    let rules = "ruleset hubspot extends default\nstep user \"Admin@Acme.com\" when \"vip\" in tags\nstep user \"carol@acme.com\"\nfallback user \"ghost@acme.com\"\n";
    let dir = folder(&[
        ("rules/default.rules", &default_rules()),
        ("rules/hubspot.rules", rules),
        ("hubspot.context.yaml", CONTEXT),
    ]);
    let run = callassign_in(
        dir.path(),
        &[
            "check",
            "--context",
            "hubspot.context.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "warnings only: {}", run.stderr);
    assert_eq!(run.stderr, "checked 1 file: 2 warnings\n");
    insta::assert_snapshot!(run.stdout);

    let denied = callassign_in(
        dir.path(),
        &[
            "check",
            "--deny-warnings",
            "--context",
            "hubspot.context.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(denied.code, 1);
}

#[test]
fn rules_for_another_integration_are_warned_about_but_not_the_shared_default() {
    let dir = folder(&[
        ("rules/default.rules", &default_rules()),
        (
            "rules/zendesk.rules",
            "ruleset zendesk extends default\ndisable contact_owner\n",
        ),
        ("hubspot.context.yaml", CONTEXT),
    ]);
    let (run, findings) = check_json(dir.path(), "rules");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "callassign::integration_mismatch");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["file"], "rules/zendesk.rules");
    assert_eq!(
        findings[0]["message"],
        "the rules are for `zendesk` but `hubspot.context.yaml` is for `hubspot`"
    );
    assert_eq!(
        (findings[0]["line"].as_u64(), findings[0]["column"].as_u64()),
        (Some(1), Some(9))
    );
}

#[test]
fn the_shipped_hubspot_rules_fit_the_example_context() {
    let run = callassign_in(
        &repo(),
        &[
            "check",
            "--deny-warnings",
            "--context",
            "examples/hubspot.context.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn an_unreadable_context_is_a_usage_error() {
    let dir = folder(&[("rules/default.rules", &default_rules())]);
    let missing = callassign_in(
        dir.path(),
        &["check", "--context", "nope.yaml", "rules"],
        b"",
    );
    assert_eq!(missing.code, 2);
    assert_eq!(missing.stderr, "error: `nope.yaml` does not exist\n");
    let dir = folder(&[
        ("rules/default.rules", &default_rules()),
        ("bad.yaml", "users: 3\n"),
    ]);
    let invalid = callassign_in(
        dir.path(),
        &["check", "--context", "bad.yaml", "rules"],
        b"",
    );
    assert_eq!(invalid.code, 2);
    assert!(
        invalid
            .stderr
            .starts_with("error: `bad.yaml` is not a valid context"),
        "{}",
        invalid.stderr
    );
}

#[test]
fn user_map_links_that_match_nothing_are_findings_at_their_line_in_the_context() {
    let context = "integration: hubspot\nfallback: installer\ninstaller: ghost\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-7, email: carol@acme.com, active: false}\nuser_map:\n  max@acme.sk: hs-1\n  \"1234\": hs-7\n  eva@acme.sk: hs-9   # left last year\n";
    let dir = folder(&[
        ("rules/hubspot.rules", "ruleset hubspot extends default\n"),
        ("hubspot.context.yaml", context),
    ]);
    let (run, findings) = check_json(dir.path(), "rules/hubspot.rules");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The installer warning is said as `eval` says it, once.
    assert_eq!(
        run.stderr,
        "warning: hubspot.context.yaml: the installer `ghost` is not among the users: calls that reach the integration fallback stay unassigned\n"
    );
    let found: Vec<(String, u64, u64, u64, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["file"].as_str().unwrap().to_string(),
                finding["line"].as_u64().unwrap(),
                finding["column"].as_u64().unwrap(),
                finding["end_column"].as_u64().unwrap(),
                finding["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "hubspot.context.yaml".to_string(),
                9,
                4,
                15,
                "`user_map` links `1234` to `hs-7`, who is not active in hubspot".to_string()
            ),
            (
                "hubspot.context.yaml".to_string(),
                10,
                3,
                20,
                "`user_map` links `eva@acme.sk` to `hs-9`, who is not a user of hubspot"
                    .to_string()
            ),
        ]
    );
    assert!(findings[0]["code"] == "callassign::user_not_in_context");
    assert!(findings[1]["help"]
        .as_str()
        .unwrap()
        .contains("link an active user's id, or remove the line"));

    let github = callassign_in(
        dir.path(),
        &[
            "check",
            "--format",
            "github",
            "--deny-warnings",
            "--context",
            "hubspot.context.yaml",
            "rules",
        ],
        b"",
    );
    assert_eq!(github.code, 1);
    assert!(
        github
            .stdout
            .starts_with("::warning file=hubspot.context.yaml,line=9,"),
        "{}",
        github.stdout
    );
}

#[test]
fn a_user_map_that_links_one_agent_to_two_users_is_refused_naming_both_entries() {
    // Agent 1234 is max@acme.sk in the agents list: linking the id to one
    // user and the e-mail to another leaves the owner to how the record
    // names the agent. `eval` and `check --context` both refuse it.
    let agents = r#"{"responseData": {"data": [{"Agent": {"id": "1234", "email": "max@acme.sk"}}, {"Agent": {"id": "1235", "email": "Max@acme.sk"}}, {"Agent": {"id": "99", "email": "eva@acme.sk"}}]}}"#;
    let context = |links: &str| {
        format!(
            "integration: hubspot\nusers:\n  - {{id: hs-1, email: admin@acme.com}}\n  - {{id: hs-2, email: bob@acme.com}}\ntelephony_users_from: {{format: cloudtalk_agents, path: agents.json}}\nuser_map:\n{links}"
        )
    };
    for (links, message) in [
        (
            "  \"1234\": hs-1\n  MAX@acme.sk: hs-2\n",
            "error: `hubspot.context.yaml`: `user_map` links one telephony user to two users: `MAX@acme.sk: hs-2` and `1234: hs-1` (agent `1234` has the e-mail `max@acme.sk` in the agents list)\n  help: keep one link per telephony user: remove one of the two entries, or link both to the same user\n",
        ),
        (
            "  \"1234\": hs-1\n  \"1235\": hs-2\n",
            "error: `hubspot.context.yaml`: `user_map` links one telephony user to two users: `1234: hs-1` and `1235: hs-2` (agents `1234` and `1235` both have the e-mail `Max@acme.sk` in the agents list)\n  help: keep one link per telephony user: remove one of the two entries, or link both to the same user\n",
        ),
    ] {
        let dir = folder(&[
            ("rules/hubspot.rules", "ruleset hubspot extends default\n"),
            ("hubspot.context.yaml", &context(links)),
            ("agents.json", agents),
        ]);
        let check = callassign_in(
            dir.path(),
            &["check", "--context", "hubspot.context.yaml", "rules/hubspot.rules"],
            b"",
        );
        assert_eq!(check.code, 2, "{links}: {}", check.stderr);
        assert_eq!(check.stderr, message, "{links}");
        let eval = callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                "rules/hubspot.rules",
                "--context",
                "hubspot.context.yaml",
                "-",
            ],
            b"",
        );
        assert_eq!(eval.code, 2, "{links}");
        assert_eq!(eval.stderr, message, "{links}");
    }
    // The same user twice is no contradiction, and neither are links of
    // other agents.
    let dir = folder(&[
        ("rules/hubspot.rules", "ruleset hubspot extends default\n"),
        (
            "hubspot.context.yaml",
            &context("  \"1234\": hs-1\n  max@acme.sk: hs-1\n  \"99\": hs-2\n"),
        ),
        ("agents.json", agents),
    ]);
    let check = callassign_in(
        dir.path(),
        &[
            "check",
            "--context",
            "hubspot.context.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
}

#[test]
fn addresses_the_e_mail_rule_cannot_match_reliably_are_warned_about() {
    let context = "integration: hubspot\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-2, email: strauß@acme.de}\n";
    let dir = folder(&[
        ("rules/hubspot.rules", "ruleset hubspot extends default\n"),
        ("hubspot.context.yaml", context),
    ]);
    let check = callassign_in(
        dir.path(),
        &[
            "check",
            "--context",
            "hubspot.context.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stderr.starts_with(
        "warning: hubspot.context.yaml: 1 address has characters outside ASCII, which match only an e-mail written the same way in the other system (same case, same accents, same composition; `ß` is not `SS`): `strauß@acme.de` (users[1] (`hs-2`))"
    ), "{}", check.stderr);
    // `eval` says it too, and matches only what is written alike.
    let eval = callassign_in(
        dir.path(),
        &["eval", "--rules", "rules/hubspot.rules", "--context", "hubspot.context.yaml", "-q", "-"],
        "{\"id\":\"c-1\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"STRAUSS@acme.de\"}\n{\"id\":\"c-2\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"Strauß@ACME.de\"}\n".as_bytes(),
    );
    assert!(
        eval.stderr
            .contains("1 address has characters outside ASCII"),
        "{}",
        eval.stderr
    );
    let steps: Vec<&str> = eval
        .stdout
        .lines()
        .map(|line| {
            if line.contains("\"hs-2\"") {
                "hs-2"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(steps, ["other", "hs-2"], "{}", eval.stdout);
}
