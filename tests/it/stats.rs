//! `stats`: per-step counts checked against an independent model of the
//! documented priority, dead rules named with their origin, the reports
//! as snapshots.

use crate::common::callassign_in;
use crate::support;

use std::path::Path;

use callassign::impact::history::SAMPLE_SIZE;
use callassign::impact::stats::{self, DeadBecause, DeadStep, Report};
use callassign::model::Context;
use callassign::runtime::evaluate::Engine;
use callassign::semantics::plan::EntryName;
use serde_json::Value;

use support::*;

fn library_stats(folder: &Path, rules: &str, history: &str) -> Report {
    let context = Context::from_yaml(CONTEXT).unwrap();
    let plan = callassign::compile_file(&folder.join(rules))
        .unwrap()
        .plan
        .unwrap();
    stats::tally(
        &Engine::new(plan.clone(), context.clone()),
        history.as_bytes(),
        callassign::runtime::batch::InputFormat::Native,
    )
    .unwrap()
}

/// Per entry label: calls decided and the first ids, in the model's order.
fn expected(calls: &[GenCall], model: &Model) -> (Vec<(String, u64, Vec<String>)>, u64) {
    let mut entries: Vec<(String, u64, Vec<String>)> = model
        .steps
        .iter()
        .map(|step| (step.label(), 0, Vec::new()))
        .collect();
    entries.push((model.fallback_label(), 0, Vec::new()));
    let mut unassigned = 0;
    for call in calls {
        let (assignee, label) = model.decide_call(call);
        let entry = entries
            .iter_mut()
            .find(|entry| entry.0 == label)
            .expect("the model decides by one of its entries");
        entry.1 += 1;
        if entry.2.len() < SAMPLE_SIZE {
            entry.2.push(call.id.clone());
        }
        if assignee.is_none() {
            unassigned += 1;
        }
    }
    (entries, unassigned)
}

fn observed(report: &Report) -> Vec<(String, u64, Vec<String>)> {
    report
        .steps
        .iter()
        .map(|step| {
            (
                step.name.label.clone(),
                step.decided,
                step.sample.items().to_vec(),
            )
        })
        .collect()
}

#[test]
fn counts_match_an_independent_model_of_the_priority() {
    let calls = generate(17, 3_000);
    let (history, bad_lines) = history(&calls, 101);
    let folder = workspace(&history);
    for (rules, model) in [
        ("default.rules", Model::default_rules()),
        ("reworked.rules", Model::reworked()),
        ("stale.rules", Model::stale()),
    ] {
        let report = library_stats(folder.path(), rules, &history);
        let (want, unassigned) = expected(&calls, &model);
        assert_eq!(observed(&report), want, "{rules}");
        assert_eq!(report.calls, calls.len() as u64);
        assert_eq!(report.unassigned, unassigned, "{rules}");
        let fallback = report.steps.last().unwrap();
        assert_eq!(
            fallback.unassigned, unassigned,
            "only a fallback leaves calls unassigned"
        );
        assert_eq!(report.unreadable.lines, bad_lines.len() as u64);
    }
}

#[test]
fn dead_rules_are_named_with_their_origin() {
    let calls = generate(17, 1_000);
    let (history, _) = history(&calls, 0);
    let folder = workspace(&history);
    let report = library_stats(folder.path(), "stale.rules", &history);
    let default = default_rules();
    assert_eq!(
        report.dead,
        [
            DeadStep {
                name: EntryName {
                    step: "user",
                    user: Some("carol@acme.com".into()),
                    label: "user \"carol@acme.com\"".into(),
                },
                from: format!("stale.rules:{}", line_of(STALE, "step user \"carol")),
                because: DeadBecause::NeverDecided,
            },
            DeadStep {
                name: EntryName {
                    step: "voicemail_email",
                    user: None,
                    label: "voicemail_email".into(),
                },
                from: format!(
                    "default.rules:{}",
                    line_of(&default, "step voicemail_email")
                ),
                because: DeadBecause::AfterFallback,
            },
        ]
    );

    let live = library_stats(folder.path(), "default.rules", &history);
    assert!(live.dead.is_empty(), "{:?}", live.dead);
}

#[test]
fn an_empty_history_leaves_every_step_dead() {
    let folder = workspace("");
    let report = library_stats(folder.path(), "default.rules", "");
    assert_eq!(report.calls, 0);
    assert_eq!(report.dead.len(), 6, "five steps and the fallback");
    assert_eq!(report.dead[5].name.step, "integration_fallback");
    assert_eq!(report.dead[5].name.label, "fallback integration");
}

// ---- The command line ----

const STATS: &[&str] = &[
    "stats",
    "--rules",
    "stale.rules",
    "--context",
    "context.yaml",
    "calls.jsonl",
];

#[test]
fn human_report() {
    let (history, _) = history(&generate(19, 400), 90);
    let folder = workspace(&history);
    let stale = callassign_in(folder.path(), STATS, b"");
    assert_eq!(
        Some(stale.code),
        Some(0),
        "unreadable lines are listed, not failed"
    );
    let reworked = callassign_in(
        folder.path(),
        &[
            "stats",
            "--rules",
            "reworked.rules",
            "--context",
            "context.yaml",
            "calls.jsonl",
        ],
        b"",
    );
    insta::assert_snapshot!(format!(
        "{}\n---\n\n{}",
        stale.stdout.clone(),
        reworked.stdout.clone()
    ));
}

#[test]
fn markdown_report() {
    let (history, _) = history(&generate(19, 400), 0);
    let folder = workspace(&history);
    let output = callassign_in(
        folder.path(),
        &[STATS, &["--format", "markdown"]].concat(),
        b"",
    );
    assert_eq!(Some(output.code), Some(0));
    insta::assert_snapshot!(output.stdout.clone());
}

#[test]
fn json_report_lists_dead_rules() {
    let calls = generate(19, 400);
    let (history, _) = history(&calls, 0);
    let folder = workspace(&history);
    let output = callassign_in(folder.path(), &[STATS, &["--format", "json"]].concat(), b"");
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(json["calls"], 400);
    assert_eq!(json["dead"][0]["step"], "user");
    assert_eq!(json["dead"][0]["user"], "carol@acme.com");
    assert_eq!(json["dead"][0]["label"], "user \"carol@acme.com\"");
    assert_eq!(json["dead"][1]["because"], "after_fallback");
    let (want, unassigned) = expected(&calls, &Model::stale());
    assert_eq!(json["unassigned"], unassigned);
    for (step, want) in json["steps"].as_array().unwrap().iter().zip(&want) {
        assert_eq!(step["label"], want.0);
        assert_eq!(step["decided"], want.1);
    }
}

#[test]
fn errors_exit_2() {
    let folder = workspace("");
    for (args, message) in [
        (
            &[
                "stats",
                "--rules",
                "nope.rules",
                "--context",
                "context.yaml",
                "calls.jsonl",
            ][..],
            "`nope.rules` does not exist",
        ),
        (
            &[
                "stats",
                "--rules",
                "default.rules",
                "--context",
                "context.yaml",
                "gone.jsonl",
            ][..],
            "`gone.jsonl` does not exist",
        ),
    ] {
        let output = callassign_in(folder.path(), args, b"");
        assert_eq!(Some(output.code), Some(2), "{args:?}");
        let stderr = output.stderr;
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn a_gate_that_saw_no_call_fails() {
    // An empty file, a closed stdin and no history argument at all (which
    // reads stdin) are all a report on nothing: exit 2, saying so, and no
    // report on stdout.
    let folder = workspace("");
    let stats = [
        "stats",
        "--rules",
        "default.rules",
        "--context",
        "context.yaml",
    ];
    let diff = [
        "diff",
        "--context",
        "context.yaml",
        "--fail-on-change",
        "default.rules",
        "stale.rules",
    ];
    for (args, stdin, seen) in [
        (
            &[&stats[..], &["calls.jsonl"]].concat(),
            false,
            "`calls.jsonl`",
        ),
        (&[&stats[..], &["-"]].concat(), true, "stdin"),
        (&stats.to_vec(), false, "stdin"),
        (
            &[&diff[..], &["calls.jsonl"]].concat(),
            false,
            "`calls.jsonl`",
        ),
        (&[&diff[..], &["-"]].concat(), true, "stdin"),
        (&diff.to_vec(), false, "stdin"),
    ] {
        let mut command = std::process::Command::new(crate::common::bin());
        command
            .current_dir(folder.path())
            .args(args)
            .env("NO_COLOR", "1");
        // Closed: /dev/null reads as empty; an empty pipe closed at once.
        command.stdin(if stdin {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        });
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr);
        assert!(
            stderr.contains(&format!("error: no call was seen in {seen}")),
            "{args:?}: {}",
            stderr
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
