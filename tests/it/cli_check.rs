//! `callassign check`, as CI runs it.

use crate::common;

use common::{callassign, callassign_in, folder};

const TYPO: &str = "ruleset hubspot\nstep call_agent\nstep favourite_agent\nfallback integration\n";

#[test]
fn the_shipped_rules_are_clean() {
    let run = callassign(&["check", "rules"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "checked 6 files: no problems\n");
}

#[test]
fn rules_is_the_default_path() {
    let run = callassign(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "checked 6 files: no problems\n");
}

#[test]
fn a_misspelt_step_fails_and_points_at_it() {
    let dir = folder(&[("rules/hubspot.rules", TYPO)]);
    let run = callassign_in(dir.path(), &["check", "rules/hubspot.rules"], b"");
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r"
    callassign::unknown_step

      × unknown step `favourite_agent`
       ╭─[rules/hubspot.rules:3:6]
     2 │ step call_agent
     3 │ step favourite_agent
       ·      ───────┬───────
       ·             ╰── not a step kind
     4 │ fallback integration
       ╰────
      help: did you mean `favorite_agent`?
    ");
    assert_eq!(run.stderr, "checked 1 file: 1 error\n");
}

#[test]
fn json_findings_carry_code_severity_file_line_column_and_message() {
    let dir = folder(&[("rules/hubspot.rules", TYPO)]);
    let run = callassign_in(dir.path(), &["check", "--format", "json", "rules"], b"");
    assert_eq!(run.code, 1);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    insta::assert_json_snapshot!(findings, @r#"
    [
      {
        "code": "callassign::unknown_step",
        "column": 6,
        "end_column": 21,
        "end_line": 3,
        "file": "rules/hubspot.rules",
        "help": "did you mean `favorite_agent`?",
        "label": "not a step kind",
        "line": 3,
        "message": "unknown step `favourite_agent`",
        "severity": "error"
      }
    ]
    "#);
}

#[test]
fn github_format_prints_one_annotation_per_finding() {
    let dir = folder(&[
        ("rules/a.rules", "ruleset a\nstep favourite_agent\nstep contact_owner when stauts == missed\nfallback integration\n"),
        ("rules/b.rules", "ruleset b\nstep contact_owner\nfallback integration\nstep favorite_agent\n"),
    ]);
    let run = callassign_in(dir.path(), &["check", "--format", "github", "rules"], b"");
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r"
    ::error file=rules/a.rules,line=2,col=6,endLine=2,endColumn=21,title=callassign%3A%3Aunknown_step::unknown step `favourite_agent`%0Ahelp: did you mean `favorite_agent`?
    ::error file=rules/a.rules,line=3,col=25,endLine=3,endColumn=31,title=callassign%3A%3Aunknown_field::unknown field `stauts`%0Ahelp: did you mean `status`?
    ::warning file=rules/b.rules,line=4,col=6,endLine=4,endColumn=20,title=callassign%3A%3Aunreachable_step::step `favorite_agent` can never run%0Ahelp: write it above the `fallback` line, or place it with `move favorite_agent before fallback`
    ");
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = folder(&[(
        "rules/b.rules",
        "ruleset b\nstep contact_owner\nfallback integration\nstep favorite_agent\n",
    )]);
    assert_eq!(callassign_in(dir.path(), &["check", "rules"], b"").code, 0);
    assert_eq!(
        callassign_in(dir.path(), &["check", "--deny-warnings", "rules"], b"").code,
        1
    );
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let run = callassign(&["check", "rules/nope.rules"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "error: `rules/nope.rules` does not exist\n");
}

#[test]
fn a_folder_without_rule_files_is_a_usage_error() {
    let dir = folder(&[("empty/readme.txt", "")]);
    let run = callassign_in(dir.path(), &["check", "empty"], b"");
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "error: no `.rules` files in `empty`\n");
}

#[test]
fn a_wrong_format_is_a_usage_error() {
    assert_eq!(callassign(&["check", "--format", "xml"]).code, 2);
}

#[test]
fn deep_nesting_is_a_finding_not_a_crash() {
    let text = format!(
        "ruleset a\nstep favorite_agent when {}status == missed{}\nfallback integration\n",
        "(".repeat(200_000),
        ")".repeat(200_000)
    );
    let dir = folder(&[("rules/a.rules", &text)]);
    let run = callassign_in(dir.path(), &["check", "--format", "json", "rules"], b"");
    assert_eq!(run.code, 1);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(findings[0]["code"], "callassign::nesting_too_deep");
    assert_eq!(findings[0]["line"], 2);
}

#[test]
fn a_reader_that_stops_early_ends_the_report_quietly() {
    // Thousands of findings: far more output than a pipe holds.
    let text = format!(
        "ruleset a\n{}fallback integration\n",
        "step favourite_agent\n".repeat(3_000)
    );
    let dir = folder(&[("rules/a.rules", &text)]);
    let (first, run) = common::first_line_then_hang_up(dir.path(), &["check", "rules"]);
    assert_eq!(first, "callassign::unknown_step\n");
    // Quietly, but still failing: the findings are there.
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "checked 1 file: 3000 errors\n");
}

#[test]
fn a_large_folder_of_files_missing_their_extends_costs_each_file_the_same() {
    // Each finding used to list every rule file of the folder: output and
    // memory grew with the square of the folder.
    let dir = tempfile::tempdir().unwrap();
    let files = 400;
    for index in 0..files {
        std::fs::write(
            dir.path().join(format!("team{index:04}.rules")),
            format!("ruleset team{index:04} extends nowhere{index}\n"),
        )
        .unwrap();
    }
    // A typo of a file in the middle of the folder is still suggested.
    std::fs::write(
        dir.path().join("near.rules"),
        "ruleset near extends team0207x\n",
    )
    .unwrap();
    let run = callassign_in(dir.path(), &["check", "--format", "json", "."], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), files + 1);
    for finding in findings {
        assert_eq!(finding["code"], "callassign::missing_extends");
        let help = finding["help"].as_str().unwrap();
        assert!(help.len() < 400, "{help}");
    }
    let first = findings
        .iter()
        .find(|finding| finding["message"] == "no rule file `nowhere0.rules` to extend")
        .unwrap();
    assert_eq!(
        first["help"],
        "create `nowhere0.rules` beside this file, or extend one of: `near`, `team0001`, `team0002`, `team0003`, `team0004`, `team0005`, `team0006`, `team0007`, `team0008`, `team0009` and 390 more"
    );
    let near = findings
        .iter()
        .find(|finding| finding["message"] == "no rule file `team0207x.rules` to extend")
        .unwrap();
    assert_eq!(near["help"], "did you mean `extends team0207`?");
    assert!(
        run.stdout.len() < (files + 1) * 1_000,
        "{} bytes",
        run.stdout.len()
    );
}

#[test]
fn check_dash_reads_one_rule_file_from_stdin() {
    let dir = folder(&[(
        "rules/base.rules",
        "ruleset base\nstep call_agent\nfallback integration\n",
    )]);
    // On its own: named `<stdin>`, reaching only the built-in default.
    let typo = callassign_in(
        dir.path(),
        &["check", "-"],
        b"ruleset x extends default\nstep favourite_agent\n",
    );
    assert_eq!(typo.code, 1, "{typo:?}");
    assert!(typo.stdout.contains("[<stdin>:2:6]"), "{}", typo.stdout);
    assert!(typo.stdout.contains("did you mean `favorite_agent`?"));
    let alone = callassign_in(dir.path(), &["check", "-"], b"ruleset x extends base\n");
    assert_eq!(alone.code, 1, "{alone:?}");
    assert!(
        alone.stderr.contains("--stdin-filename"),
        "{}",
        alone.stderr
    );
    // As a file of the folder: `extends` beside it, the name checked.
    let beside = ["check", "--stdin-filename", "rules/x.rules", "-"];
    let ok = callassign_in(dir.path(), &beside, b"ruleset x extends base\n");
    assert_eq!(ok.code, 0, "{ok:?}");
    let named = callassign_in(dir.path(), &beside, b"ruleset y extends base\n");
    assert_eq!(named.code, 1, "{named:?}");
    assert!(
        named.stdout.contains("callassign::ruleset_name_mismatch")
            && named.stdout.contains("[rules/x.rules:1:9]"),
        "{}",
        named.stdout
    );
    // Bounded as a file is, and alone.
    let huge = vec![b'#'; 1024 * 1024 + 1];
    let run = callassign_in(dir.path(), &["check", "-"], &huge);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("standard input is larger than 1048576 bytes"));
    let run = callassign_in(dir.path(), &["check", "-"], b"\xff\n");
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("standard input is not valid UTF-8 (byte 1)"));
    let run = callassign_in(dir.path(), &["check", "-", "rules"], b"");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("give it alone"), "{}", run.stderr);
}
