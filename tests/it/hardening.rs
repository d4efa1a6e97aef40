//! Bad input gets a clear error, never a crash, and nothing is lost.
//!
//! Property tests feed random and mutated rule text to the checker and
//! random lines to a batch; one test per limit shows the error a user gets.
//! CLI-level tests run the real binary.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use proptest::prelude::*;

use callassign::diagnostics::finding::Code;
use callassign::diagnostics::report::{self, Style};
use callassign::model::context::MAX_CONTEXT_BYTES;
use callassign::model::Context;
use callassign::runtime::batch::{self, Options, OutputFormat, MAX_LINE_BYTES};
use callassign::runtime::evaluate::Engine;
use callassign::semantics::load::{MAX_EXTENDS_DEPTH, MAX_RULE_FILE_BYTES};
use callassign::syntax::parse::MAX_NESTING;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn callassign(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callassign"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run callassign")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shipped_rules() -> Vec<String> {
    let mut texts: Vec<String> =
        callassign::semantics::load::rule_files(&Path::new(ROOT).join("rules"))
            .unwrap()
            .into_iter()
            .map(|path| fs::read_to_string(path).unwrap())
            .collect();
    texts.sort();
    texts
}

/// Rule text made of the language's own words, so that random text gets
/// past the first token often enough to reach the checker.
fn rule_words() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("ruleset "),
        Just("extends "),
        Just("step "),
        Just("fallback "),
        Just("disable "),
        Just("move "),
        Just("before "),
        Just("after "),
        Just("first"),
        Just("last"),
        Just("user "),
        Just("\"a@b.c\" "),
        Just("\"vip\" "),
        Just("when "),
        Just("unless "),
        Just("and "),
        Just("or "),
        Just("not "),
        Just("in "),
        Just("== "),
        Just("!= "),
        Just("< "),
        Just(">= "),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just(", "),
        Just("direction "),
        Just("status "),
        Just("incoming "),
        Just("missed "),
        Just("tags "),
        Just("duration "),
        Just("started_at "),
        Just("contact.owner "),
        Just("last_step "),
        Just("null "),
        Just("42 "),
        Just("\"2026-11-23T10:00:00Z\" "),
        Just("call_agent "),
        Just("last_step_agent "),
        Just("contact_owner "),
        Just("integration"),
        Just("unassigned"),
        Just("demo "),
        Just("# note"),
        Just("\n"),
        Just("\n"),
        Just("\t"),
        Just("\u{e9}"),
        Just("\""),
    ];
    prop::collection::vec(word, 0..60).prop_map(|words| words.concat())
}

/// A shipped rule file with a few characters replaced, inserted or removed.
fn mutated_rules() -> impl Strategy<Value = String> {
    let files = shipped_rules();
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..8);
    (prop::sample::select(files), edits).prop_map(|(file, edits)| {
        let mut chars: Vec<char> = file.chars().collect();
        for (at, kind, new) in edits {
            let index = at.index(chars.len() + 1);
            match kind {
                0 if index < chars.len() => chars[index] = new,
                1 if index < chars.len() => {
                    chars.remove(index);
                }
                _ => chars.insert(index, new),
            }
        }
        chars.into_iter().collect()
    })
}

/// Checking, compiling and rendering findings never panic, and every
/// finding points inside the text.
fn check_survives(rules: &str) {
    let compiled = callassign::compile_text("demo.rules", rules);
    for finding in &compiled.findings {
        assert!(
            finding.span().end <= finding.source().text.len(),
            "{finding:?} points past the end of the text"
        );
        let (line, column) = finding.line_col();
        assert!(line >= 1 && column >= 1);
        let style = Style {
            color: false,
            width: 80,
        };
        assert!(report::human(finding, style).contains(finding.code().as_str()));
        report::github(finding);
    }
    report::json(&compiled.findings);
    assert_eq!(
        compiled.plan.is_some(),
        !compiled.findings.iter().any(|finding| finding.is_error()),
        "a plan exactly when there are no errors: {:?}",
        compiled.findings
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_rule_words_never_crash_the_checker(rules in rule_words()) {
        check_survives(&format!("ruleset demo\n{rules}"));
        check_survives(&rules);
    }

    #[test]
    fn mutated_rule_files_never_crash_the_checker(rules in mutated_rules()) {
        check_survives(&rules);
    }

    #[test]
    fn arbitrary_text_never_crashes_the_checker(rules in "\\PC{0,200}") {
        check_survives(&rules);
    }
}

/// One batch line: a real call, a call with fields broken, JSON that is not
/// a call, or bytes.
fn batch_line() -> impl Strategy<Value = Vec<u8>> {
    let example: Vec<String> = fs::read_to_string(Path::new(ROOT).join("examples/calls.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let json_value = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ]
    .prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("id"),
                        Just("direction"),
                        Just("status"),
                        Just("agent"),
                        Just("flow"),
                        Just("contact"),
                        Just("type"),
                        Just("owner"),
                        Just("tags"),
                        Just("x")
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    });
    let mutated_call = (
        prop::sample::select(example.clone()),
        any::<prop::sample::Index>(),
        0usize..20,
    )
        .prop_map(|(line, at, cut)| {
            let mut bytes = line.into_bytes();
            let index = at.index(bytes.len());
            bytes.drain(index..(index + cut).min(bytes.len()));
            bytes
        });
    prop_oneof![
        3 => prop::sample::select(example).prop_map(String::into_bytes),
        3 => mutated_call,
        3 => json_value.prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
    .prop_map(|mut bytes| {
        bytes.retain(|&byte| byte != b'\n');
        bytes
    })
}

fn plan_and_context() -> (callassign::semantics::plan::Plan, Context) {
    let plan = callassign::compile_file(&Path::new(ROOT).join("rules/pipedrive.rules"))
        .unwrap()
        .plan
        .unwrap();
    let context = Context::from_yaml(
        &fs::read_to_string(Path::new(ROOT).join("examples/hubspot.context.yaml")).unwrap(),
    )
    .unwrap();
    (plan, context)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_batch_line_gets_exactly_one_output_line(
        lines in prop::collection::vec(batch_line(), 1..40),
        final_newline in any::<bool>(),
        explain in any::<bool>(),
        human in any::<bool>(),
    ) {
        let (plan, context) = plan_and_context();
        let evaluator = Engine::new(plan.clone(), context.clone());
        let mut input = lines.join(&b'\n');
        if final_newline {
            input.push(b'\n');
        }
        // A last line that is empty and unterminated is no line at all.
        let expected = if !final_newline && lines.last().is_some_and(Vec::is_empty) {
            lines.len() - 1
        } else {
            lines.len()
        };
        let options = Options {
            format: if human { OutputFormat::Human } else { OutputFormat::Json },
            explain,
            input: batch::InputFormat::Native,
        };
        let mut output = Vec::new();
        let summary = batch::run(&evaluator, &input[..], &mut output, options, &mut (), |_| {}).unwrap();
        prop_assert_eq!(summary.calls + summary.unreadable, expected as u64);

        let mut parallel = Vec::new();
        let parallel_summary =
            batch::run_parallel(&evaluator, &input[..], &mut parallel, options, 3, |_| {}).unwrap();
        prop_assert_eq!(&parallel_summary, &summary);
        prop_assert_eq!(&parallel, &output);

        if !human && !explain {
            let output = String::from_utf8(output).unwrap();
            let written: Vec<&str> = output.lines().collect();
            prop_assert_eq!(written.len(), expected);
            let mut errors = 0;
            for (index, line) in written.iter().enumerate() {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                if value.get("error").is_some() {
                    errors += 1;
                    prop_assert_eq!(value["line"].as_u64(), Some(index as u64 + 1));
                    prop_assert!(!value["error"].as_str().unwrap().is_empty());
                } else {
                    prop_assert!(value.get("call").is_some() && value.get("step").is_some());
                }
            }
            prop_assert_eq!(errors, summary.unreadable);
        }
    }
}

// One test per limit: the error a user gets.

fn finding_codes(rules: &str) -> Vec<Code> {
    callassign::compile_text("demo.rules", rules)
        .findings
        .iter()
        .map(|finding| finding.code())
        .collect()
}

#[test]
fn a_rule_file_over_the_size_limit_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let mut rules = "ruleset big\nfallback integration\n".to_string();
    while rules.len() <= MAX_RULE_FILE_BYTES {
        rules.push_str("# padding padding padding padding padding padding padding\n");
    }
    fs::write(dir.path().join("big.rules"), rules).unwrap();
    let output = callassign(&["check", "--format", "json", "big.rules"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("callassign::file_too_large"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "larger than the {MAX_RULE_FILE_BYTES} bytes allowed"
        )),
        "{stdout}"
    );
}

#[test]
fn conditions_nested_too_deep_are_a_finding_not_a_stack_overflow() {
    for depth in [MAX_NESTING + 1, 10_000, 100_000] {
        let rules = format!(
            "ruleset demo\nstep call_agent when {}direction == incoming{}\nfallback integration\n",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        assert_eq!(
            finding_codes(&rules),
            [Code::NestingTooDeep],
            "depth {depth}"
        );
    }
    let just_deep_enough = format!(
        "ruleset demo\nstep call_agent when {}direction == incoming{}\nfallback integration\n",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert_eq!(finding_codes(&just_deep_enough), []);
    let nots = format!(
        "ruleset demo\nstep call_agent when {}direction == incoming\nfallback integration\n",
        "not ".repeat(100_000)
    );
    check_survives(&nots);
}

#[test]
fn an_extends_chain_over_the_depth_limit_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        Path::new(ROOT).join("rules/default.rules"),
        dir.path().join("default.rules"),
    )
    .unwrap();
    let mut parent = "default".to_string();
    for index in 0..MAX_EXTENDS_DEPTH + 2 {
        let name = format!("level{index:02}");
        fs::write(
            dir.path().join(format!("{name}.rules")),
            format!("ruleset {name} extends {parent}\n"),
        )
        .unwrap();
        parent = name;
    }
    let output = callassign(
        &["check", "--format", "json", &format!("{parent}.rules")],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("callassign::extends_too_deep"), "{stdout}");
    assert!(
        stdout.contains(&format!("longer than {MAX_EXTENDS_DEPTH} files")),
        "{stdout}"
    );
}

#[test]
fn a_batch_line_over_the_length_limit_is_an_error_line_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let call = r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"bob@acme.com"}"#;
    let long = format!(
        r#"{{"id":"c-2","direction":"outgoing","status":"answered","tags":["{}"]}}"#,
        "x".repeat(MAX_LINE_BYTES)
    );
    fs::write(
        dir.path().join("calls.jsonl"),
        format!("{call}\n{long}\n{call}\n"),
    )
    .unwrap();
    for jobs in ["1", "2"] {
        let output = callassign(
            &[
                "eval",
                "--jobs",
                jobs,
                "--rules",
                &format!("{ROOT}/rules/default.rules"),
                "--context",
                &format!("{ROOT}/examples/hubspot.context.yaml"),
                "calls.jsonl",
            ],
            dir.path(),
        );
        assert_eq!(output.status.code(), Some(1));
        let stdout = text(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        assert_eq!(
            lines[1],
            format!(r#"{{"line":2,"error":"line is longer than {MAX_LINE_BYTES} bytes"}}"#)
        );
        assert!(lines[2].contains(r#""step":"call_agent""#), "{stdout}");
        // The summary counts it.
        assert!(text(&output.stderr).contains("1 unreadable line\n"));
    }
}

fn eval_with_context(dir: &Path, context: &str) -> Output {
    callassign(
        &[
            "eval",
            "--rules",
            &format!("{ROOT}/rules/default.rules"),
            "--context",
            context,
            &format!("{ROOT}/examples/call.json"),
        ],
        dir,
    )
}

#[test]
fn a_context_over_the_size_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = fs::File::create(dir.path().join("huge.yaml")).unwrap();
    file.set_len(MAX_CONTEXT_BYTES as u64 + 1).unwrap();
    let output = eval_with_context(dir.path(), "huge.yaml");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!("error: `huge.yaml` is larger than {MAX_CONTEXT_BYTES} bytes\n  help: is this the right file?\n")
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_yaml_alias_bomb_in_a_context_is_refused_quickly() {
    // Nine levels of nine aliases: 387 million strings once expanded. No
    // YAML callassign reads may hold an anchor (`files/yaml.rs`), so the
    // bomb is refused at its first one, before serde_yaml sees the text.
    let mut bomb = "integration: x\nusers:\n  - {id: a, email: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]}\n".to_string();
    for level in 1..9 {
        let previous = format!("*l{}", level - 1);
        bomb.push_str(&format!(
            "  - {{id: u{level}, email: &l{level} [{}]}}\n",
            vec![previous; 9].join(",")
        ));
    }
    bomb.push_str("  - {id: *l8}\n");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bomb.yaml"), bomb).unwrap();
    let started = std::time::Instant::now();
    let output = eval_with_context(dir.path(), "bomb.yaml");
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: `bomb.yaml` is not a valid context: line 3: YAML anchors and aliases (`&l0`) are not accepted; write the value out in full"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_context_with_duplicate_ids_or_emails_is_refused_not_resolved() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("dup.yaml"),
        "users:\n  - {id: hs-1, email: ann@acme.com}\n  - {id: hs-1, email: bob@acme.com}\n  - {id: hs-3, email: ' ANN@acme.com'}\n",
    )
    .unwrap();
    let output = eval_with_context(dir.path(), "dup.yaml");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .starts_with("error: `dup.yaml`: users[1] (`hs-1`) has the id of users[0] (`hs-1`)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "also: users[2] (`hs-3`) and users[0] (`hs-1`) are both active with the e-mail"
        ),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_rule_file_that_is_not_utf8_is_a_finding_at_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("latin1.rules"),
        b"ruleset latin1\nstep user \"ren\xe9@acme.com\"\nfallback integration\n",
    )
    .unwrap();
    let output = callassign(&["check", "--format", "json", "latin1.rules"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(findings[0]["code"], "callassign::not_utf8");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["column"], 15);
    assert_eq!(findings[0]["help"], "save the file as UTF-8");
}

#[test]
fn parallel_output_is_byte_identical_to_sequential_with_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let calls = fs::read_to_string(Path::new(ROOT).join("examples/calls.jsonl")).unwrap();
    let mut batch = Vec::new();
    for round in 0..2000 {
        batch.extend_from_slice(calls.as_bytes());
        if round % 97 == 0 {
            batch.extend_from_slice(b"{\"id\":\"broken\"\n\n\xff\xfe\n[1,2]\r\n");
        }
    }
    fs::write(dir.path().join("calls.jsonl"), &batch).unwrap();
    let run = |jobs: &str, format: &str| {
        callassign(
            &[
                "eval",
                "--jobs",
                jobs,
                "--format",
                format,
                "--explain",
                "--rules",
                &format!("{ROOT}/rules/pipedrive.rules"),
                "--context",
                &format!("{ROOT}/examples/hubspot.context.yaml"),
                "calls.jsonl",
            ],
            dir.path(),
        )
    };
    for format in ["json", "human"] {
        let one = run("1", format);
        let four = run("4", format);
        assert_eq!(one.status.code(), Some(1));
        assert_eq!(four.status.code(), one.status.code());
        assert!(one.stdout == four.stdout, "outputs differ ({format})");
        assert_eq!(text(&four.stderr), text(&one.stderr));
        let lines = batch.split(|&b| b == b'\n').count() - 1;
        if format == "json" {
            assert_eq!(four.stdout.iter().filter(|&&b| b == b'\n').count(), lines);
        }
    }
    let rejected = callassign(
        &["eval", "--jobs", "0", "--rules", "x", "--context", "y"],
        dir.path(),
    );
    assert_eq!(rejected.status.code(), Some(2));
}

#[test]
fn extends_in_a_circle_or_out_of_the_folder_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(rules.join("a.rules"), "ruleset a extends b\n").unwrap();
    fs::write(rules.join("b.rules"), "ruleset b extends a\n").unwrap();
    fs::write(
        dir.path().join("outside.rules"),
        "ruleset outside\nfallback integration\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("outside.rules"),
        rules.join("outside.rules"),
    )
    .unwrap();
    fs::write(rules.join("c.rules"), "ruleset c extends outside\n").unwrap();
    let output = callassign(
        &[
            "check",
            "--format",
            "json",
            "rules/a.rules",
            "rules/c.rules",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("callassign::extends_cycle"), "{stdout}");
    assert!(stdout.contains("a → b → a"), "{stdout}");
    assert!(
        stdout.contains("callassign::extends_outside_folder"),
        "{stdout}"
    );
}
