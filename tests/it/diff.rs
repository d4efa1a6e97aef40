//! `diff`: the counts of a rule change checked against an independent
//! model of the documented priority, the reports as snapshots, and the
//! command line (exit statuses, `--base` against a real git repository).

use crate::common::callassign_in;
use crate::common::git;
use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use callassign::impact::diff::{self, Names, Report};
use callassign::impact::history::SAMPLE_SIZE;
use callassign::model::Context;
use callassign::runtime::evaluate::Engine;
use serde_json::Value;

use support::*;

type Moves<K> = BTreeMap<K, (u64, Vec<String>)>;

/// What a diff should report, computed from the test's own model.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    calls: u64,
    reassigned: u64,
    became_unassigned: (u64, Vec<String>),
    no_longer_unassigned: (u64, Vec<String>),
    same_assignee_other_step: (u64, Vec<String>),
    step_moves: Moves<(String, String)>,
    assignee_moves: Moves<(Option<String>, Option<String>)>,
}

fn note(entry: &mut (u64, Vec<String>), id: &str) {
    entry.0 += 1;
    if entry.1.len() < SAMPLE_SIZE {
        entry.1.push(id.to_string());
    }
}

fn expected(calls: &[GenCall], old: &Model, new: &Model) -> Expected {
    let mut expected = Expected::default();
    for call in calls {
        let (before, before_step) = old.decide_call(call);
        let (after, after_step) = new.decide_call(call);
        expected.calls += 1;
        if before == after {
            if before_step != after_step {
                note(&mut expected.same_assignee_other_step, &call.id);
            }
            continue;
        }
        expected.reassigned += 1;
        if after.is_none() {
            note(&mut expected.became_unassigned, &call.id);
        }
        if before.is_none() {
            note(&mut expected.no_longer_unassigned, &call.id);
        }
        note(
            expected
                .step_moves
                .entry((before_step, after_step))
                .or_default(),
            &call.id,
        );
        note(
            expected
                .assignee_moves
                .entry((before.map(String::from), after.map(String::from)))
                .or_default(),
            &call.id,
        );
    }
    expected
}

/// The library's report in the shape of [`Expected`].
fn observed(report: &Report) -> Expected {
    let calls = |c: &diff::Calls| (c.calls, c.sample.items().to_vec());
    Expected {
        calls: report.calls,
        reassigned: report.reassigned,
        became_unassigned: calls(&report.became_unassigned),
        no_longer_unassigned: calls(&report.no_longer_unassigned),
        same_assignee_other_step: calls(&report.same_assignee_other_step),
        step_moves: report
            .step_moves
            .iter()
            .map(|m| {
                (
                    (m.from.label.clone(), m.to.label.clone()),
                    (m.calls, m.sample.items().to_vec()),
                )
            })
            .collect(),
        assignee_moves: report
            .assignee_moves
            .iter()
            .map(|m| {
                (
                    (
                        m.from.as_ref().map(|p| p.id.clone()),
                        m.to.as_ref().map(|p| p.id.clone()),
                    ),
                    (m.calls, m.sample.items().to_vec()),
                )
            })
            .collect(),
    }
}

fn library_diff(folder: &Path, old: &str, new: &str, history: &str) -> Report {
    let context = Context::from_yaml(CONTEXT).unwrap();
    let old_plan = callassign::compile_file(&folder.join(old))
        .unwrap()
        .plan
        .unwrap();
    let new_plan = callassign::compile_file(&folder.join(new))
        .unwrap()
        .plan
        .unwrap();
    diff::compare(
        &Engine::new(old_plan.clone(), context.clone()),
        &Engine::new(new_plan.clone(), context.clone()),
        history.as_bytes(),
        callassign::runtime::batch::InputFormat::Native,
        Names {
            old: old.into(),
            new: new.into(),
        },
    )
    .unwrap()
}

#[test]
fn counts_match_an_independent_model_of_the_priority() {
    let calls = generate(7, 2_000);
    let (history, bad_lines) = history(&calls, 97);
    let folder = workspace(&history);
    for (old_file, old_model, new_file, new_model) in [
        (
            "default.rules",
            Model::default_rules(),
            "reworked.rules",
            Model::reworked(),
        ),
        (
            "reworked.rules",
            Model::reworked(),
            "default.rules",
            Model::default_rules(),
        ),
        (
            "default.rules",
            Model::default_rules(),
            "stale.rules",
            Model::stale(),
        ),
    ] {
        let report = library_diff(folder.path(), old_file, new_file, &history);
        let want = expected(&calls, &old_model, &new_model);
        assert_eq!(observed(&report), want, "{old_file} → {new_file}");

        assert_eq!(report.unreadable.lines, bad_lines.len() as u64);
        let sampled: Vec<u64> = report
            .unreadable
            .sample
            .items()
            .iter()
            .map(|line| line.line)
            .collect();
        assert_eq!(sampled, bad_lines[..SAMPLE_SIZE]);
        for moves in report.step_moves.windows(2) {
            assert!(moves[0].calls >= moves[1].calls, "largest first");
        }
        for moves in report.assignee_moves.windows(2) {
            assert!(moves[0].calls >= moves[1].calls, "largest first");
        }
    }
}

#[test]
fn the_generated_history_exercises_every_kind_of_change() {
    // Guards the test above against a generator that stops producing the
    // cases it is meant to check.
    let calls = generate(7, 2_000);
    let forward = expected(&calls, &Model::default_rules(), &Model::reworked());
    let backward = expected(&calls, &Model::reworked(), &Model::default_rules());
    assert!(forward.reassigned > 100);
    assert!(forward.became_unassigned.0 > 0);
    assert!(backward.no_longer_unassigned.0 > 0);
    assert!(forward.same_assignee_other_step.0 > 0);
    assert!(forward.step_moves.len() >= 5);
    assert!(forward.assignee_moves.len() >= 10);
}

#[test]
fn rules_that_mean_the_same_move_nothing() {
    let calls = generate(3, 500);
    let (history, _) = history(&calls, 0);
    let folder = workspace(&history);
    let report = library_diff(folder.path(), "default.rules", "hubspot.rules", &history);
    assert_eq!(report.calls, 500);
    assert_eq!(report.reassigned, 0);
    assert_eq!(report.same_assignee_other_step.calls, 0);
    assert!(report.step_moves.is_empty());
    assert!(!report.anything_moves());
}

#[test]
fn top_assignee_moves_keep_the_largest_and_sum_the_rest() {
    let calls = generate(7, 2_000);
    let (history, _) = history(&calls, 0);
    let folder = workspace(&history);
    let mut report = library_diff(folder.path(), "default.rules", "reworked.rules", &history);
    let all = report.assignee_moves.clone();
    report.keep_top_assignee_moves(3);
    assert_eq!(report.assignee_moves, all[..3]);
    assert_eq!(report.omitted_assignee_moves.moves, all.len() as u64 - 3);
    assert_eq!(
        report.omitted_assignee_moves.calls,
        all[3..].iter().map(|m| m.calls).sum::<u64>()
    );
}

// ---- The command line ----

const DIFF: &[&str] = &[
    "diff",
    "--context",
    "context.yaml",
    "default.rules",
    "reworked.rules",
    "calls.jsonl",
];

#[test]
fn json_output_carries_the_counts() {
    let calls = generate(5, 400);
    let (history, _) = history(&calls, 0);
    let folder = workspace(&history);
    let output = callassign_in(folder.path(), &[DIFF, &["--format", "json"]].concat(), b"");
    assert_eq!(Some(output.code), Some(0), "{}", output.stderr.clone());
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    let want = expected(&calls, &Model::default_rules(), &Model::reworked());
    assert_eq!(json["calls"], want.calls);
    assert_eq!(json["reassigned"], want.reassigned);
    assert_eq!(json["became_unassigned"]["calls"], want.became_unassigned.0);
    let first = &json["step_moves"][0];
    let key = (
        first["from"]["label"].as_str().unwrap().to_string(),
        first["to"]["label"].as_str().unwrap().to_string(),
    );
    assert_eq!(first["calls"], want.step_moves[&key].0);
    // Calls that keep their assignee are listed by step move too, and
    // add up to their count.
    let same: u64 = json["same_assignee_step_moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|moved| {
            assert_ne!(moved["from"], moved["to"]);
            moved["calls"].as_u64().unwrap()
        })
        .sum();
    assert!(same > 0);
    assert_eq!(same, want.same_assignee_other_step.0);
    assert_eq!(json["same_assignee_other_step"]["calls"], same);
    // The default `--top` is 10.
    assert_eq!(json["assignee_moves"].as_array().unwrap().len(), 10);
    assert_eq!(
        json["omitted_assignee_moves"]["moves"],
        want.assignee_moves.len() as u64 - 10
    );
}

#[test]
fn human_report() {
    let (history, _) = history(&generate(11, 300), 50);
    let folder = workspace(&history);
    let output = callassign_in(folder.path(), &[DIFF, &["--top", "5"]].concat(), b"");
    assert_eq!(
        Some(output.code),
        Some(0),
        "unreadable lines are listed, not failed"
    );
    assert_eq!(
        output.stderr.clone(),
        "note: 6 history lines could not be read; the report lists the first ones\n"
    );
    insta::assert_snapshot!(output.stdout.clone());
}

#[test]
fn markdown_report() {
    let (history, _) = history(&generate(11, 300), 50);
    let folder = workspace(&history);
    let output = callassign_in(
        folder.path(),
        &[DIFF, &["--top", "5", "--format", "markdown"]].concat(),
        b"",
    );
    insta::assert_snapshot!(output.stdout.clone());
}

#[test]
fn reports_without_changes() {
    let (history, _) = history(&generate(11, 20), 0);
    let folder = workspace(&history);
    let args = [
        "diff",
        "--context",
        "context.yaml",
        "default.rules",
        "hubspot.rules",
        "calls.jsonl",
    ];
    let human = callassign_in(folder.path(), &args, b"");
    let markdown = callassign_in(
        folder.path(),
        &[&args[..], &["--format", "markdown"]].concat(),
        b"",
    );
    insta::assert_snapshot!(format!(
        "{}\n---\n\n{}",
        human.stdout.clone(),
        markdown.stdout.clone()
    ));
}

#[test]
fn fail_on_change_exits_1_only_when_a_call_moves() {
    let (history, _) = history(&generate(11, 200), 0);
    let folder = workspace(&history);
    let moved = callassign_in(folder.path(), &[DIFF, &["--fail-on-change"]].concat(), b"");
    assert_eq!(Some(moved.code), Some(1));
    assert!(
        moved.stderr.clone().contains("calls change assignee"),
        "{}",
        moved.stderr.clone()
    );
    let without_flag = callassign_in(folder.path(), DIFF, b"");
    assert_eq!(Some(without_flag.code), Some(0));
    let unchanged = callassign_in(
        folder.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--fail-on-change",
            "default.rules",
            "hubspot.rules",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(
        Some(unchanged.code),
        Some(0),
        "{}",
        unchanged.stderr.clone()
    );

    // Unreadable history lines do not trip the gate: only a moved call does.
    let (with_bad_lines, _) = support::history(&generate(11, 200), 20);
    let folder = workspace(&with_bad_lines);
    let unchanged = callassign_in(
        folder.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--fail-on-change",
            "default.rules",
            "hubspot.rules",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(
        Some(unchanged.code),
        Some(0),
        "{}",
        unchanged.stderr.clone()
    );
    assert!(
        unchanged
            .stderr
            .clone()
            .starts_with("note: 10 history lines could not be read"),
        "{}",
        unchanged.stderr.clone()
    );
}

#[test]
fn history_from_stdin() {
    let (history, _) = history(&generate(2, 50), 0);
    let folder = workspace("");
    let output = callassign_in(
        folder.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "default.rules",
            "reworked.rules",
        ],
        history.as_bytes(),
    );
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["calls"], 50);
}

#[test]
fn usage_and_input_errors_exit_2() {
    let folder = workspace("");
    std::fs::write(
        folder.path().join("broken.rules"),
        "ruleset broken\nstep nobody\n",
    )
    .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["diff", "--context", "context.yaml", "default.rules"],
            "give the old and the new rule file",
        ),
        (
            &[
                "diff",
                "--context",
                "context.yaml",
                "default.rules",
                "reworked.rules",
                "stale.rules",
            ],
            "`stale.rules` is a rule file",
        ),
        (
            &[
                "diff",
                "--context",
                "context.yaml",
                "default.rules",
                "reworked.rules",
                "missing.jsonl",
            ],
            "`missing.jsonl` does not exist",
        ),
        (
            &[
                "diff",
                "--context",
                "nowhere.yaml",
                "default.rules",
                "reworked.rules",
                "calls.jsonl",
            ],
            "`nowhere.yaml` does not exist",
        ),
        (
            &[
                "diff",
                "--context",
                "context.yaml",
                "broken.rules",
                "reworked.rules",
                "calls.jsonl",
            ],
            "`broken.rules` has errors",
        ),
        (
            &[
                "diff",
                "--context",
                "context.yaml",
                "--base",
                "HEAD",
                "default.rules",
                "reworked.rules",
                "calls.jsonl",
            ],
            "with `--base HEAD` give only the new rule file",
        ),
    ];
    for (args, message) in cases {
        let output = callassign_in(folder.path(), args, b"");
        assert_eq!(Some(output.code), Some(2), "{args:?}");
        assert!(
            output.stderr.clone().contains(message),
            "{args:?}: {}",
            output.stderr.clone()
        );
    }
}

// ---- `--base`: the old rules from git ----

/// A repository whose committed `rules/team.rules` extends the committed
/// `rules/default.rules`; both are changed afterwards in the work tree.
fn repository(history: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let rules = repo.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("default.rules"), default_rules()).unwrap();
    std::fs::write(rules.join("team.rules"), "ruleset team extends default\n").unwrap();
    std::fs::write(repo.path().join("context.yaml"), CONTEXT).unwrap();
    std::fs::write(repo.path().join("calls.jsonl"), history).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["config", "user.name", "Test"]);
    git(repo.path(), &["config", "user.email", "test@example.com"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "rules"]);

    // The change under review: team.rules is reworked, and the base file
    // changes too, so that reading it from disk instead of from the
    // revision would give other counts.
    std::fs::write(
        rules.join("team.rules"),
        REWORKED.replace("ruleset reworked", "ruleset team"),
    )
    .unwrap();
    std::fs::write(
        rules.join("default.rules"),
        default_rules().replace("fallback integration", "fallback unassigned"),
    )
    .unwrap();
    repo
}

fn counts(json: &Value) -> Value {
    let mut json = json.clone();
    json.as_object_mut().unwrap().remove("old");
    json
}

#[test]
fn base_reads_the_old_rules_and_their_base_from_git() {
    let (history, _) = history(&generate(13, 600), 0);
    let repo = repository(&history);

    let output = callassign_in(
        repo.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "--base",
            "HEAD",
            "rules/team.rules",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(Some(output.code), Some(0), "{}", output.stderr.clone());
    let from_git: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(from_git["old"], "HEAD:rules/team.rules");
    assert_eq!(from_git["new"], "rules/team.rules");

    // The same comparison with the committed files given as paths.
    let old = repo.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join("default.rules"), default_rules()).unwrap();
    std::fs::write(old.join("team.rules"), "ruleset team extends default\n").unwrap();
    let output = callassign_in(
        repo.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "old/team.rules",
            "rules/team.rules",
            "calls.jsonl",
        ],
        b"",
    );
    let from_paths: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(counts(&from_git), counts(&from_paths));

    // Had the base file been read from the work tree, the counts would differ.
    let output = callassign_in(
        repo.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "rules/default.rules",
            "rules/team.rules",
            "calls.jsonl",
        ],
        b"",
    );
    let from_work_tree: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_ne!(counts(&from_git), counts(&from_work_tree));
}

#[test]
fn base_works_from_another_folder_and_with_a_branch_name() {
    let (history, _) = history(&generate(13, 100), 0);
    let repo = repository(&history);
    git(repo.path(), &["branch", "-q", "main-copy"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let team = repo.path().join("rules/team.rules");
    let output = callassign_in(
        elsewhere.path(),
        &[
            "diff",
            "--context",
            repo.path().join("context.yaml").to_str().unwrap(),
            "--format",
            "json",
            "--base",
            "main-copy",
            team.to_str().unwrap(),
            repo.path().join("calls.jsonl").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(Some(output.code), Some(0), "{}", output.stderr.clone());
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["old"], "main-copy:rules/team.rules");
    assert!(json["reassigned"].as_u64().unwrap() > 0);
}

#[test]
fn base_compares_the_path_named_even_when_it_is_a_link() {
    // The change under review turns rules/team.rules into a link to a
    // shared file, committed unchanged: the gate must compare the old
    // rules/team.rules with it, not the shared file with itself.
    let (history, _) = history(&generate(13, 300), 0);
    let repo = repository(&history);
    git(repo.path(), &["checkout", "-q", "--", "."]);
    let shared = repo.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(
        shared.join("team.rules"),
        "ruleset team extends default\nfallback unassigned\n",
    )
    .unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "shared"]);
    let team = repo.path().join("rules/team.rules");
    std::fs::remove_file(&team).unwrap();
    std::os::unix::fs::symlink("../shared/team.rules", &team).unwrap();

    let output = callassign_in(
        repo.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--format",
            "json",
            "--base",
            "HEAD",
            "rules/team.rules",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(Some(output.code), Some(0), "{}", output.stderr.clone());
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["old"], "HEAD:rules/team.rules");
    assert!(json["reassigned"].as_u64().unwrap() > 0, "{json}");
}

#[test]
fn base_errors_say_what_is_missing() {
    let repo = repository("");
    std::fs::write(
        repo.path().join("rules/brand-new.rules"),
        "ruleset brand-new extends default\n",
    )
    .unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("loose.rules"), "ruleset loose\n").unwrap();
    let loose = outside.path().join("loose.rules");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--base", "HEAD", "rules/brand-new.rules"],
            "`rules/brand-new.rules` did not exist at `HEAD`",
        ),
        (
            &["--base", "no-such-branch", "rules/team.rules"],
            "no git revision `no-such-branch`",
        ),
        (
            &["--base", "HEAD", loose.to_str().unwrap()],
            // With git's own reason.
            "is not inside a git repository git can use: git says `fatal: not a git repository",
        ),
    ];
    for (args, message) in cases {
        let output = callassign_in(
            repo.path(),
            &[
                &["diff", "--context", "context.yaml"],
                *args,
                &["calls.jsonl"],
            ]
            .concat(),
            b"",
        );
        assert_eq!(Some(output.code), Some(2), "{args:?}");
        assert!(
            output.stderr.clone().contains(message),
            "{args:?}: {}",
            output.stderr.clone()
        );
    }
}

#[test]
fn base_rules_with_errors_are_reported_as_rev_colon_path() {
    let repo = repository("");
    // Commit a broken team.rules, then restore a good one in the work tree.
    std::fs::write(
        repo.path().join("rules/team.rules"),
        "ruleset team extends default\nstep favourite_agent\n",
    )
    .unwrap();
    git(repo.path(), &["commit", "-q", "-am", "broken"]);
    std::fs::write(
        repo.path().join("rules/team.rules"),
        "ruleset team extends default\n",
    )
    .unwrap();
    let output = callassign_in(
        repo.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "--base",
            "HEAD",
            "rules/team.rules",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(Some(output.code), Some(2));
    let stderr = output.stderr.clone();
    assert!(stderr.contains("╭─[HEAD:rules/team.rules:2:6]"), "{stderr}");
    assert!(!stderr.contains("callassign-base-"), "{stderr}");
    assert!(stderr.ends_with("error: `rules/team.rules` has errors at `HEAD`\n  help: the old rules must compile to be compared; give an older `--base`, or the old rule file as a path\n"), "{stderr}");
}
