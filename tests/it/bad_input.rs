//! Hardening, round two: one test per class of defect, each running the
//! real binary the way the defect was found. No panic, no damaged file,
//! no silent success; every refusal names what it refused and how to fix it.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{callassign_in, folder, Run};

const CONTEXT: &str = "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-3, email: bob@acme.com}\n";
const MISSED: &str = r#"{"id":"c-1","direction":"incoming","status":"missed"}"#;

/// Runs `bash -c SCRIPT` in `dir` with the binary as `$CALLASSIGN`: for
/// what only a shell can set up (`ulimit`, `>&-`, `2>/dev/full`).
fn shell(dir: &Path, script: &str) -> Run {
    let output = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("CALLASSIGN", env!("CARGO_BIN_EXE_callassign"))
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the binary, killing it if it has not finished within `limit`:
/// a FIFO used to block it forever.
fn within(dir: &Path, args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            child.kill().expect("kill");
            panic!("`callassign {}` still runs after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Asserts `text` holds `needle`, showing `text` when it does not.
fn assert_contains(text: &str, needle: impl AsRef<str>) {
    let needle = needle.as_ref();
    assert!(text.contains(needle), "`{needle}` not in:\n{text}");
}

/// Runs `eval` with only the context `context` mattering (it is read
/// first), killing it after `limit`.
fn context_within(dir: &Path, context: &str, limit: Duration) -> Run {
    within(
        dir,
        &["eval", "--rules", "rules.rules", "--context", context, "-"],
        limit,
    )
}

fn no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && run.code != 101,
        "panicked: {}",
        run.stderr
    );
}

/// A folder with `a.rules` (a call keeps its agent, else unassigned) and
/// `context.yaml`, and `more` files.
fn with_a_rules(more: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files = vec![
        (
            "a.rules",
            "ruleset a\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
    ];
    files.extend_from_slice(more);
    folder(&files)
}

/// Runs `eval` with `a.rules` and `context.yaml` in `dir`, then `more`
/// arguments, feeding `stdin`.
fn eval_a(dir: &Path, more: &[&str], stdin: &[u8]) -> Run {
    let mut args = vec!["eval", "--rules", "a.rules", "--context", "context.yaml"];
    args.extend(more);
    callassign_in(dir, &args, stdin)
}

/// Evaluates JSON Lines with `a.rules` and `context.yaml`, without the
/// summary.
fn eval_batch(dir: &Path, lines: &[&str]) -> Run {
    eval_a(dir, &["-q"], lines.join("\n").as_bytes())
}

// --- Panics and aborts ---

/// A fixed user whose address is longer than `format!` can pad to.
fn long_address_rules() -> String {
    format!(
        "ruleset long\nstep user \"{}@acme.com\" when agent == \"{}@acme.com\"\nfallback integration\n",
        "u".repeat(70_000),
        "a".repeat(70_000)
    )
}

#[test]
fn text_over_65535_characters_is_padded_without_panicking() {
    let rules = long_address_rules();
    let test_file = "rules: long.rules\ncontext: context.yaml\ncases:\n  - call: {direction: incoming, status: missed}\n    assignee: hs-1\n";
    let dir = folder(&[
        ("long.rules", &rules),
        ("context.yaml", CONTEXT),
        ("call.json", MISSED),
        ("tests.yaml", test_file),
    ]);
    let plan = callassign_in(dir.path(), &["plan", "long.rules"], b"");
    no_panic(&plan);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan
        .stdout
        .contains(&format!("1. user \"{}", "u".repeat(100))));

    let explain = callassign_in(
        dir.path(),
        &[
            "eval",
            "--rules",
            "long.rules",
            "--context",
            "context.yaml",
            "--format",
            "human",
            "--explain",
            "call.json",
        ],
        b"",
    );
    no_panic(&explain);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(explain
        .stdout
        .starts_with("c-1: unassigned by integration_fallback\n"));

    let test = callassign_in(dir.path(), &["test", "tests.yaml"], b"");
    no_panic(&test);
    assert_eq!(test.code, 1, "the case fails: {}", test.stdout);
    assert_contains(&test.stdout, "expected: hs-1");
}

#[test]
fn yaml_anchors_and_aliases_are_refused_in_every_yaml_read() {
    let aliased_context = "integration: hubspot\nusers:\n  - {id: hs-1, email: admin@acme.com, name: &n Ann}\n  - {id: hs-2, email: b@acme.com, name: *n}\n";
    let aliased_call = "id: c-1\ndirection: incoming\nstatus: missed\ntags: [&t vip, *t]\n";
    let aliased_case = "rules: rules.rules\ncontext: context.yaml\ncases:\n  - call: {direction: incoming, status: missed, tags: [&t vip, *t]}\n    assignee: null\n";
    let dir = folder(&[
        (
            "rules.rules",
            "ruleset rules\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        ("aliased.yaml", aliased_context),
        ("call.yaml", aliased_call),
        ("tests.yaml", aliased_case),
    ]);
    let eval = |context: &str, input: &str| {
        callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                "rules.rules",
                "--context",
                context,
                input,
            ],
            MISSED.as_bytes(),
        )
    };

    let context = eval("aliased.yaml", "-");
    assert_eq!(context.code, 2, "{}", context.stdout);
    assert!(
        context.stderr.starts_with("error: `aliased.yaml` is not a valid context: line 3: YAML anchors and aliases (`&n`) are not accepted; write the value out in full"),
        "{}",
        context.stderr
    );

    let call = eval("context.yaml", "call.yaml");
    assert_eq!(call.code, 1);
    assert_contains(
        &call.stdout,
        "line 4: YAML anchors and aliases (`&t`) are not accepted",
    );

    let test = callassign_in(dir.path(), &["test", "tests.yaml"], b"");
    assert_eq!(test.code, 2, "{}", test.stdout);
    assert_contains(
        &test.stderr,
        "line 4: YAML anchors and aliases (`&t`) are not accepted",
    );
}

#[test]
fn yaml_numbers_written_otherwise_are_refused_in_every_yaml_read() {
    // YAML reads `0x1F` as 31 and `+442071234567` as 442071234567: an id
    // or a phone number that is no longer what was written.
    let hex_context = "integration: hubspot\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - id: 0x1F\n    email: b@acme.com\n";
    let plus_call = "id: c-1\ndirection: incoming\nstatus: missed\nnumber: +442071234567\n";
    let plus_case = "rules: rules.rules\ncontext: context.yaml\ncases:\n  - call: {direction: incoming, status: missed, number: +442071234567}\n    assignee: null\n";
    let quoted_call = "id: c-1\ndirection: incoming\nstatus: missed\nnumber: '+442071234567'\n";
    let dir = folder(&[
        (
            "rules.rules",
            "ruleset rules\nstep user \"admin@acme.com\" when number starts_with \"+44\"\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        ("hex.yaml", hex_context),
        ("call.yaml", plus_call),
        ("quoted.yaml", quoted_call),
        ("tests.yaml", plus_case),
    ]);
    let eval = |context: &str, input: &str| {
        callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                "rules.rules",
                "--context",
                context,
                input,
            ],
            MISSED.as_bytes(),
        )
    };

    let context = eval("hex.yaml", "-");
    assert_eq!(context.code, 2, "{}", context.stdout);
    assert!(
        context.stderr.starts_with("error: `hex.yaml` is not a valid context: line 4: YAML reads `0x1F` as the number 31, not as written; quote it (`\"0x1F\"`) to keep it as written, or write the number as 31"),
        "{}",
        context.stderr
    );

    let call = eval("context.yaml", "call.yaml");
    assert_eq!(call.code, 1);
    assert_contains(
        &call.stdout,
        "line 4: YAML reads `+442071234567` as the number 442071234567, not as written",
    );
    let quoted = eval("context.yaml", "quoted.yaml");
    assert_eq!(quoted.code, 0, "{}", quoted.stdout);
    assert_contains(&quoted.stdout, "\"step\":\"user\"");

    let test = callassign_in(dir.path(), &["test", "tests.yaml"], b"");
    assert_eq!(test.code, 2, "{}", test.stdout);
    assert_contains(
        &test.stderr,
        "line 4: YAML reads `+442071234567` as the number 442071234567",
    );
}

#[test]
fn an_alias_bomb_through_a_string_is_refused_before_it_expands() {
    // One 1 MB anchored string aliased 30,000 times: 30 GB once expanded.
    let mut bomb = format!(
        "integration: hubspot\nusers:\n  - {{id: a, email: a@acme.com, name: &big \"{}\"}}\n",
        "x".repeat(1 << 20)
    );
    for index in 0..30_000 {
        bomb.push_str(&format!("  - {{id: u{index}, name: *big}}\n"));
    }
    let dir = folder(&[("bomb.yaml", &bomb)]);
    let started = Instant::now();
    let run = context_within(dir.path(), "bomb.yaml", Duration::from_secs(30));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_contains(&run.stderr, "YAML anchors and aliases (`&big`)");
}

#[test]
fn a_full_or_closed_stderr_does_not_panic() {
    let dir = folder(&[
        (
            "rules/bad.rules",
            "ruleset bad\nstep nope\nfallback integration\n",
        ),
        (
            "rules/ugly.rules",
            "ruleset ugly\nstep   call_agent\nfallback integration\n",
        ),
        ("broken.rules", "ruleset broken\nstep when\n"),
        (
            "good.rules",
            "ruleset good\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        ("calls.jsonl", &format!("{MISSED}\nnot json\n")),
    ]);
    for (script, code) in [
        ("$CALLASSIGN check rules 2>/dev/full", 1),
        ("$CALLASSIGN check rules 2>&-", 1),
        (
            "$CALLASSIGN eval --rules good.rules --context context.yaml calls.jsonl 2>/dev/full",
            1,
        ),
        (
            "$CALLASSIGN eval --rules good.rules --context nope.yaml calls.jsonl 2>/dev/full",
            2,
        ),
        ("$CALLASSIGN fmt --check rules/ugly.rules 2>/dev/full", 1),
        ("$CALLASSIGN fmt broken.rules 2>/dev/full", 1),
    ] {
        let run = shell(dir.path(), script);
        no_panic(&run);
        assert_eq!(run.code, code, "{script}: {}", run.stderr);
    }
}

// --- Damaged files and unbounded reads ---

#[test]
fn fmt_refuses_a_file_it_may_not_write_and_says_so() {
    // Renaming over a file needs only its folder to be writable: a
    // read-only file, or (run as another user) a file of someone else,
    // would be replaced and the run reported a success.
    use std::os::unix::fs::PermissionsExt;
    let ugly = "ruleset a\nstep   call_agent\nfallback integration\n";
    let dir = folder(&[("rules/a.rules", ugly)]);
    let file = dir.path().join("rules/a.rules");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
    let run = shell(dir.path(), "$CALLASSIGN fmt rules/a.rules");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_contains(
        &run.stderr,
        "error: cannot write `rules/a.rules`: it is read-only (mode 444",
    );
    assert_contains(&run.stderr, "; the file is unchanged\n");
    assert_eq!(fs::read_to_string(&file).unwrap(), ugly);
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o444
    );

    // Another owner's file in a folder anyone may write: run as `nobody`
    // (possible when the tests run as root, as CI does).
    let is_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if !(is_root && setpriv) {
        eprintln!("not run as root with setpriv: the other-owner half is skipped");
        return;
    }
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    for folder in [dir.path().to_path_buf(), dir.path().join("rules")] {
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let run = shell(
        dir.path(),
        "setpriv --reuid=65534 --regid=65534 --clear-groups $CALLASSIGN fmt rules/a.rules",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_contains(
        &run.stderr,
        "error: cannot write `rules/a.rules`: this user may not write it (mode 644, owner 0)",
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), ugly);
    let names: Vec<String> = fs::read_dir(dir.path().join("rules"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.rules"]);
}

#[test]
fn fmt_over_a_file_size_limit_leaves_the_file_whole_and_formats_the_others() {
    let mut big = "ruleset a\n".to_string();
    for index in 0..400 {
        big.push_str(&format!("step   user \"u{index}@acme.com\"\n"));
    }
    big.push_str("fallback integration\n");
    let dir = folder(&[
        ("rules/a.rules", &big),
        (
            "rules/b.rules",
            "ruleset b\nstep   call_agent\nfallback integration\n",
        ),
    ]);
    // Blocks of 512 bytes: a.rules (13 KB) cannot be written, b.rules can.
    let run = shell(dir.path(), "ulimit -f 4 && $CALLASSIGN fmt rules");
    no_panic(&run);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("rules/a.rules")).unwrap(),
        big
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("rules/b.rules")).unwrap(),
        "ruleset b\nstep call_agent\nfallback integration\n"
    );
    assert_contains(&run.stderr, "error: cannot write `rules/a.rules`: ");
    assert_contains(&run.stderr, "; the file is unchanged\n");
    assert!(
        run.stderr
            .ends_with("formatted 1 file, 1 file could not be read or written (see above)\n"),
        "{}",
        run.stderr
    );
    let names: Vec<String> = fs::read_dir(dir.path().join("rules"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "a temporary file was left behind: {names:?}"
    );
}

#[test]
fn fmt_goes_on_past_a_file_it_cannot_read_and_sums_up() {
    let dir = folder(&[
        (
            "rules/a.rules",
            "ruleset a\nstep   call_agent\nfallback integration\n",
        ),
        (
            "rules/c.rules",
            "ruleset c\nstep   call_agent\nfallback integration\n",
        ),
    ]);
    std::os::unix::fs::symlink("gone.rules", dir.path().join("rules/b.rules")).unwrap();
    let run = callassign_in(dir.path(), &["fmt", "rules"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: `rules/b.rules` does not exist\nformatted 2 files, 1 file could not be read or written (see above)\n"
    );
    for name in ["a", "c"] {
        let text = fs::read_to_string(dir.path().join(format!("rules/{name}.rules"))).unwrap();
        assert!(text.contains("\nstep call_agent\n"), "{name}: {text}");
    }
}

#[test]
fn fmt_refuses_to_write_a_file_over_the_rule_file_limit() {
    use callassign::semantics::load::MAX_RULE_FILE_BYTES;
    // The canonical layout aligns trailing comments: one long step line
    // pads every short one after it, and the file grows past the limit.
    let mut rules = format!(
        "ruleset a\nstep user \"{}@acme.com\" # long\n",
        "u".repeat(5_000)
    );
    let mut index = 0;
    while rules.len() < MAX_RULE_FILE_BYTES - 100 {
        rules.push_str(&format!("step user \"u{index}@a.io\" # c\n"));
        index += 1;
    }
    rules.push_str("fallback integration\n");
    assert!(rules.len() <= MAX_RULE_FILE_BYTES);
    let dir = folder(&[("a.rules", &rules)]);
    let check = callassign_in(dir.path(), &["check", "a.rules"], b"");
    assert_eq!(check.code, 0, "the input itself is valid: {}", check.stderr);
    let run = callassign_in(dir.path(), &["fmt", "a.rules"], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: `a.rules` was not formatted: its formatted text is ")
            && run.stderr.contains(&format!(
            "bytes, over the {MAX_RULE_FILE_BYTES} bytes a rule file may have\n  help: split the file"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a.rules")).unwrap(),
        rules
    );
}

#[test]
fn what_is_not_a_regular_file_is_refused_by_name_not_read() {
    let dir = folder(&[
        ("rules.rules", "ruleset rules\nstep call_agent\nfallback unassigned\n"),
        ("context.yaml", CONTEXT),
        ("tests.yaml", "rules: rules.rules\ncontext: fifo.yaml\ncases:\n  - call: {direction: incoming, status: missed}\n    assignee: null\n"),
    ]);
    let fifo = dir.path().join("fifo.yaml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.rules")).unwrap();
    std::os::unix::fs::symlink("fifo.yaml", dir.path().join("fifo.rules")).unwrap();
    let limit = Duration::from_secs(20);
    let help =
        "  help: name a regular file; to read from a pipe, save its output to a file first\n";

    // The context, the rules, and a single call: each one a FIFO.
    for (rules, context, input, named) in [
        ("rules.rules", "fifo.yaml", "-", "fifo.yaml"),
        ("fifo.rules", "context.yaml", "-", "fifo.rules"),
        ("rules.rules", "context.yaml", "fifo.yaml", "fifo.yaml"),
    ] {
        let run = within(
            dir.path(),
            &["eval", "--rules", rules, "--context", context, input],
            limit,
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("`{named}`"))
                && run
                    .stderr
                    .contains("it is a named pipe (FIFO), not a regular file\n")
                && run.stderr.ends_with(help),
            "{}",
            run.stderr
        );
    }
    let zero = within(dir.path(), &["check", "zero.rules"], limit);
    assert_eq!(zero.code, 2);
    assert_eq!(
        zero.stderr,
        format!(
            "error: cannot read `zero.rules`: it is a character device, not a regular file\n{help}"
        )
    );
    let test = within(dir.path(), &["test", "tests.yaml"], limit);
    assert_eq!(test.code, 2);
    assert_contains(
        &test.stderr,
        "the context `fifo.yaml` cannot be read: it is a named pipe (FIFO), not a regular file",
    );
}

// --- Quadratic work ---

#[test]
fn checking_and_rendering_tens_of_thousands_of_steps_is_linear() {
    let mut users = "ruleset users\n".to_string();
    for index in 0..46_000 {
        users.push_str(&format!("step user \"{index}@a.i\"\n"));
    }
    users.push_str("fallback integration\n");
    let duplicates = format!(
        "ruleset duplicates\n{}fallback integration\n",
        "step call_agent\n".repeat(50_000)
    );
    let dir = folder(&[("users.rules", &users), ("duplicates.rules", &duplicates)]);
    // Took 88 s and 153 s; a debug build now takes a few seconds.
    let limit = Duration::from_secs(60);
    let run = within(dir.path(), &["check", "users.rules"], limit);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = within(dir.path(), &["check", "duplicates.rules"], limit);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout.matches("callassign::duplicate_step\n").count(),
        10
    );
    assert!(
        run.stdout
            .ends_with("… and 49,989 more `callassign::duplicate_step` in `duplicates.rules`\n"),
        "{}",
        &run.stdout[run.stdout.len().saturating_sub(300)..]
    );
    assert_eq!(run.stderr, "checked 1 file: 49999 errors\n");
}

#[test]
fn deep_yaml_nesting_is_refused_before_parsing() {
    let deep = format!("integration: x\nusers: {}\n", "[".repeat(100_000));
    let dir = folder(&[("deep.yaml", &deep)]);
    let run = context_within(dir.path(), "deep.yaml", Duration::from_secs(5));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(
            "error: `deep.yaml` is not a valid context: line 2: lists or maps nest deeper than 32 levels"
        ),
        "{}",
        run.stderr
    );
}

// --- Silent success and wrong exit status ---

#[test]
fn a_reader_that_stops_early_keeps_the_exit_status() {
    let failing_case = "  - call: {direction: incoming, status: missed}\n    assignee: hs-3\n";
    let dir = folder(&[
        (
            "rules/a.rules",
            &format!(
                "ruleset a\n{}fallback integration\n",
                "step nope\n".repeat(3_000)
            ),
        ),
        (
            "ok.rules",
            "ruleset ok\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        (
            "tests.yaml",
            &format!(
                "rules: ok.rules\ncontext: context.yaml\ncases:\n{}",
                failing_case.repeat(2_000)
            ),
        ),
    ]);
    let check = shell(
        dir.path(),
        "set -o pipefail; $CALLASSIGN check rules | head -1",
    );
    assert_eq!(check.stdout, "callassign::unknown_step\n");
    assert_eq!(check.code, 1, "{}", check.stderr);
    let test = shell(
        dir.path(),
        "set -o pipefail; $CALLASSIGN test tests.yaml | head -1",
    );
    assert_eq!(test.stdout, "\n");
    assert_eq!(test.code, 1, "{}", test.stderr);
}

#[test]
fn a_closed_stdout_is_an_error_not_silent_success() {
    let dir = with_a_rules(&[]);
    for script in [
        "echo '{MISSED}' | $CALLASSIGN eval --rules a.rules --context context.yaml >&-",
        "$CALLASSIGN fmt --stdout a.rules >&-",
        "$CALLASSIGN plan a.rules >&-",
    ] {
        let script = script.replace("{MISSED}", MISSED);
        let run = shell(dir.path(), &script);
        assert_eq!(run.code, 2, "{script}");
        assert_eq!(
            run.stderr,
            "error: standard output is closed (`>&-`), so the result cannot be written\n  help: redirect it to a file, or to /dev/null to keep only the exit status\n"
        );
    }
    // /dev/null is a choice, not an accident.
    let run = shell(dir.path(), "$CALLASSIGN plan a.rules >/dev/null");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_malformed_started_at_is_an_error_line_naming_the_field() {
    let dir = with_a_rules(&[]);
    let lines = [
        r#"{"id":"c-1","direction":"incoming","status":"missed","started_at":"yesterday"}"#,
        r#"{"id":"c-2","direction":"incoming","status":"missed","started_at":5}"#,
        r#"{"id":"c-3","direction":"incoming","status":"missed","started_at":"2026-02-30T00:00:00Z"}"#,
        r#"{"id":"c-4","direction":"incoming","status":"missed","started_at":"2026-02-28T00:00:00Z"}"#,
    ];
    let run = eval_batch(dir.path(), &lines);
    assert_eq!(run.code, 1);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), 4);
    for (number, (line, (value, column))) in out
        .iter()
        .zip([("yesterday", 78), ("5", 68), ("2026-02-30T00:00:00Z", 89)])
        .enumerate()
    {
        let number = number + 1;
        assert_eq!(
            *line,
            format!(
                r#"{{"line":{number},"call":"c-{number}","error":"started_at: `{value}` is not an RFC 3339 timestamp; write it as `2026-11-23T10:00:00Z` (or with an offset, `+01:00`) (column {column})"}}"#
            )
        );
    }
    assert!(out[3].starts_with(r#"{"call":"c-4""#), "{}", out[3]);
}

#[test]
fn batch_errors_name_the_field_and_the_call_and_never_rewrite_user_data() {
    let dir = with_a_rules(&[]);
    let lines = [
        r#"{"id":"c-1","direction":"variant","status":"missed"}"#,
        r#"{"id":"c-2","direction":"incoming","status":"missed","duration_s":1e23}"#,
        r#"{"id":"c-3","direction":"incoming","status":"missed","contact":{"owner":[1]}}"#,
    ];
    let run = eval_batch(dir.path(), &lines);
    assert_eq!(
        run.stdout,
        concat!(
            r#"{"line":1,"call":"c-1","error":"direction: unknown value `variant`, expected `incoming`, `outgoing` or `internal` (column 33)"}"#,
            "\n",
            r#"{"line":2,"call":"c-2","error":"duration_s: `1e23` seconds is out of range (column 71)"}"#,
            "\n",
            r#"{"line":3,"call":"c-3","error":"contact.owner: invalid type: sequence, expected a string or a number (column 73)"}"#,
            "\n",
        )
    );
}

#[test]
fn numbers_that_are_whole_are_read_as_whole_and_others_say_what_is_wrong_with_them() {
    let dir = with_a_rules(&[]);
    let call = |rest: &str| format!(r#"{{"direction":"incoming","status":"missed",{rest}}}"#);
    let lines = [
        // Whole seconds however a JSON writer spells them (Python writes `184.0`).
        call(r#""id":"c-1","duration_s":184.0"#),
        call(r#""id":"c-2","duration_s":-0"#),
        call(r#""id":"c-3","duration_s":1e3"#),
        call(r#""id":"c-4","duration_s":184.5"#),
        call(r#""id":"c-5","duration_s":-9223372036854775809"#),
        // An id read as a float is no longer the id that was sent: refused,
        // and not repeated rounded beside the error.
        call(r#""id":123456789012345678901234567890"#),
        call(r#""id":27.0"#),
        call(r#""id":"c-8","tags":[2.5]"#),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = eval_batch(dir.path(), &lines);
    let out: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(out.len(), lines.len(), "{}", run.stdout);
    for (line, call) in out[..3].iter().zip(["c-1", "c-2", "c-3"]) {
        assert!(
            line.starts_with(&format!(r#"{{"call":"{call}","assignee""#)),
            "{line}"
        );
    }
    let inexact = "cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number";
    assert_eq!(
        out[3..],
        [
            r#"{"line":4,"call":"c-4","error":"duration_s: `184.5` is not a whole number of seconds (column 72)"}"#.to_string(),
            r#"{"line":5,"call":"c-5","error":"duration_s: `-9.223372036854776e18` seconds is out of range (column 87)"}"#.to_string(),
            format!(r#"{{"line":6,"error":"id: `1.2345678901234568e29` {inexact} (column 78)"}}"#),
            format!(r#"{{"line":7,"error":"id: `27.0` {inexact} (column 52)"}}"#),
            format!(r#"{{"line":8,"call":"c-8","error":"tags: `2.5` {inexact} (column 66)"}}"#),
        ]
    );
}

// --- Validation and terminal safety ---

#[test]
fn hidden_characters_in_a_user_address_are_refused() {
    for (address, shown, kind, code) in [
        (
            "ops\u{0}@acme.com",
            "ops\\u{0}@acme.com",
            "control",
            "U+0000",
        ),
        (
            "ops\u{1b}[2J@acme.com",
            "ops\\u{1b}[2J@acme.com",
            "control",
            "U+001B",
        ),
        (
            "ops\u{200b}@acme.com",
            "ops\u{200b}@acme.com",
            "invisible",
            "U+200B",
        ),
        (
            "ops@acme.com\u{202e}",
            "ops@acme.com\u{202e}",
            "invisible",
            "U+202E",
        ),
    ] {
        let rules = format!("ruleset a\nstep user \"{address}\"\nfallback integration\n");
        let dir = folder(&[("a.rules", &rules)]);
        let run = callassign_in(dir.path(), &["check", "--format", "json", "a.rules"], b"");
        assert_eq!(run.code, 1, "{address:?}");
        let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(findings[0]["code"], "callassign::invalid_value");
        assert_eq!(
            findings[0]["message"],
            format!("`{shown}` holds the {kind} character {code}")
        );
    }
}

#[test]
fn human_reports_escape_ids_and_addresses_from_the_input() {
    // (A context id with an escape is refused when the context is read:
    // `model::context` tests it; the ids here come from the calls.)
    let context =
        "integration: hubspot\nfallback: unassigned\nusers:\n  - {id: hs-1, email: admin@acme.com}\n";
    let history = concat!(
        r#"{"id":"c-1\n  forged row   99","direction":"outgoing","status":"answered","agent":"admin@acme.com"}"#,
        "\n",
        r#"{"id":"c-2\u001b[2J","direction":"incoming","status":"missed"}"#,
        "\n",
    );
    let dir = folder(&[
        ("old.rules", "ruleset old\nfallback unassigned\n"),
        (
            "new.rules",
            "ruleset new\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", context),
        ("calls.jsonl", history),
    ]);
    let diff = callassign_in(
        dir.path(),
        &[
            "diff",
            "--context",
            "context.yaml",
            "old.rules",
            "new.rules",
            "calls.jsonl",
        ],
        b"",
    );
    let stats = callassign_in(
        dir.path(),
        &[
            "stats",
            "--rules",
            "new.rules",
            "--context",
            "context.yaml",
            "calls.jsonl",
        ],
        b"",
    );
    for run in [&diff, &stats] {
        no_panic(run);
        assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
        assert!(!run.stdout.contains("\n  forged row"), "{}", run.stdout);
        assert_contains(&run.stdout, "c-1\\n  forged row   99");
    }
    assert_contains(&diff.stdout, "hs-1 (admin@acme.com)");

    let plan_rules =
        "ruleset plan\nstep favorite_agent when number == \"+1\u{1b}[2J\"\nfallback unassigned\n";
    let dir = folder(&[("plan.rules", plan_rules)]);
    let plan = callassign_in(dir.path(), &["plan", "plan.rules"], b"");
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(!plan.stdout.contains('\u{1b}'), "{}", plan.stdout);
    assert_contains(&plan.stdout, r#"when number == \"+1\u{1b}[2J\""#);
}

// --- Messages ---

#[test]
fn a_byte_order_mark_is_skipped_in_contexts_and_calls() {
    let dir = folder(&[
        (
            "a.rules",
            "ruleset a\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", &format!("\u{feff}{CONTEXT}")),
        ("call.json", &format!("\u{feff}{MISSED}")),
        (
            "call.yaml",
            "\u{feff}id: c-1\ndirection: incoming\nstatus: missed\n",
        ),
    ]);
    for input in ["call.json", "call.yaml"] {
        let run = eval_a(dir.path(), &[input], b"");
        assert_eq!(run.code, 0, "{input}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stdout,
            "{\"call\":\"c-1\",\"assignee\":null,\"step\":\"unassigned\"}\n"
        );
    }
}

/// A rule file saved with a byte-order mark reads as without one, from
/// disk as from stdin: checked clean, formatted, evaluated.
#[test]
fn a_byte_order_mark_is_skipped_in_rule_files() {
    let dir = folder(&[
        (
            "a.rules",
            "\u{feff}ruleset a\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        ("call.json", MISSED),
    ]);
    let check = callassign_in(dir.path(), &["check", "a.rules"], b"");
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (0, ""),
        "{}",
        check.stderr
    );
    let fmt = callassign_in(dir.path(), &["fmt", "--check", "a.rules"], b"");
    assert_eq!(fmt.code, 0, "{}{}", fmt.stdout, fmt.stderr);
    let run = eval_a(dir.path(), &["call.json"], b"");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_json_file_of_many_calls_says_what_it_holds_and_what_to_do() {
    let dir = with_a_rules(&[
        ("list.json", &format!("[{MISSED}, {MISSED}]")),
        ("lines.json", &format!("{MISSED}\n{MISSED}\n")),
    ]);
    let eval = |input: &str| eval_a(dir.path(), &[input], b"");
    let list = eval("list.json");
    assert_eq!(list.code, 2);
    assert_eq!(
        list.stderr,
        "error: `list.json` holds a list, not one call\n  help: a `.json` file holds one call; for many, write one call per line in a `.jsonl` file: `jq -c '.[]' list.json > calls.jsonl`\n"
    );
    let lines = eval("lines.json");
    assert_eq!(lines.code, 2);
    assert_eq!(
        lines.stderr,
        "error: `lines.json` holds more than one JSON value, not one call\n  help: a `.json` file holds one call; one call per line is JSON Lines: name the file `.jsonl`\n"
    );
    // Pretty JSON on stdin: the first line says what is going on.
    let pretty = eval_batch(dir.path(), &["{", "  \"id\": \"c-1\"", "}"]);
    assert!(
        pretty.stdout.starts_with(r#"{"line":1,"error":"a line holding only `{`: a batch holds one whole call per line (JSON Lines); write each call on one line (`jq -c '.[]'` does it for a list)"}"#),
        "{}",
        pretty.stdout
    );
}

#[test]
fn a_byte_order_mark_is_skipped_at_the_start_of_a_batch() {
    let dir = with_a_rules(&[]);
    let run = eval_a(dir.path(), &[], format!("\u{feff}{MISSED}\n").as_bytes());
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        "{\"call\":\"c-1\",\"assignee\":null,\"step\":\"unassigned\"}\n"
    );
    // One of each: no `1 calls`.
    assert_eq!(
        run.stderr,
        "1 call decided, 1 unassigned, 0 unreadable lines\n  unassigned                      1\n"
    );
}

#[test]
fn check_and_fmt_given_a_yaml_file_say_they_read_rule_files() {
    let dir = folder(&[("tests.yaml", "rules: a.rules\n")]);
    for command in ["check", "fmt"] {
        let run = callassign_in(dir.path(), &[command, "tests.yaml"], b"");
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr,
            "error: `tests.yaml` is not a rule file: this command reads `.rules` files\n  help: to run rule tests, `callassign test tests.yaml`; for calls and contexts, `callassign eval`\n"
        );
    }
}

#[test]
fn a_fixed_user_step_is_identified_by_its_address() {
    let rules = "ruleset a\nstep user \"bob@acme.com\" when \"vip\" in tags\nstep user \"admin@acme.com\" when \"new\" in tags\nfallback unassigned\n";
    // As the assignment line writes it: `step: user`, the address in `user`.
    let tests = "rules: a.rules\ncontext: context.yaml\ncases:\n  - call: {direction: incoming, status: missed, tags: [vip]}\n    assignee: hs-3\n    step: user\n    user: Bob@acme.com\n  - call: {direction: incoming, status: missed, tags: [new]}\n    assignee: hs-1\n    step: user\n  - name: the wrong fixed user\n    call: {direction: incoming, status: missed, tags: [new]}\n    assignee: hs-1\n    step: user\n    user: bob@acme.com\n  - name: the rule file's spelling\n    call: {direction: incoming, status: missed, tags: [new]}\n    assignee: hs-1\n    step: user \"admin@acme.com\"\n";
    let dir = folder(&[
        ("a.rules", rules),
        ("context.yaml", CONTEXT),
        ("tests.yaml", tests),
    ]);
    let vip = r#"{"id":"c-1","direction":"incoming","status":"missed","tags":["vip"]}"#;
    let new = r#"{"id":"c-2","direction":"incoming","status":"missed","tags":["new"]}"#;
    let run = eval_a(dir.path(), &[], format!("{vip}\n{new}\n").as_bytes());
    assert_eq!(
        run.stdout,
        concat!(
            r#"{"call":"c-1","assignee":{"id":"hs-3","email":"bob@acme.com"},"step":"user","user":"bob@acme.com"}"#,
            "\n",
            r#"{"call":"c-2","assignee":{"id":"hs-1","email":"admin@acme.com"},"step":"user","user":"admin@acme.com"}"#,
            "\n",
        )
    );
    assert_contains(&run.stderr, "  user \"admin@acme.com\"           1\n");
    assert_contains(&run.stderr, "  user \"bob@acme.com\"             1\n");

    let text = eval_a(dir.path(), &["--format", "human"], vip.as_bytes());
    assert_eq!(
        text.stdout,
        "c-1: hs-3 (bob@acme.com) by user \"bob@acme.com\"\n"
    );

    let test = callassign_in(dir.path(), &["test", "tests.yaml"], b"");
    assert_eq!(test.code, 1, "{}", test.stdout);
    assert_contains(
        &test.stdout,
        "test case 1 ... ok\ntest case 2 ... ok\ntest the wrong fixed user ... FAILED\n",
    );
    assert_contains(
        &test.stdout,
        "expected: hs-1 by user \"bob@acme.com\"\n  actual: hs-1 (admin@acme.com) by user \"admin@acme.com\"",
    );
    // `step` takes exactly the names assignment lines carry.
    assert_contains(
        &test.stdout,
        "case 4 (`the rule file's spelling`): `step: user \"admin@acme.com\"` is not a step name\n  help: a fixed user is `step: user`, its address in `user`, as assignment lines write it: `step: user` and `user: admin@acme.com`",
    );
}

#[test]
fn a_rule_test_that_can_never_pass_is_a_problem_of_the_test_file() {
    let tests = "rules: a.rules\ncontext: context.yaml\ncases:\n  - name: no such user\n    call: {direction: incoming, status: missed}\n    assignee: hs-33\n  - name: an e-mail for an id\n    call: {direction: incoming, status: missed}\n    assignee: Bob@acme.com\n  - name: a step the plan lacks\n    call: {direction: incoming, status: missed}\n    assignee: null\n    step: contact_owner\n  - name: fine\n    call: {direction: incoming, status: missed}\n    assignee: null\n    step: unassigned\n";
    let dir = with_a_rules(&[("tests.yaml", tests)]);
    let run = callassign_in(dir.path(), &["test", "tests.yaml"], b"");
    assert_eq!(run.code, 1, "{}", run.stdout);
    for problem in [
        "error: `tests.yaml`, case 1 (`no such user`): `assignee: hs-33` is no user of the context\n  help: did you mean `hs-3`?",
        "error: `tests.yaml`, case 2 (`an e-mail for an id`): `assignee: Bob@acme.com` is an e-mail; `assignee` takes the integration user's id\n  help: write `assignee: hs-3`",
    ] {
        assert_contains(&run.stdout, problem);
    }
    assert_contains(&run.stdout, "test fine ... ok\n");
    // A step the plan lacks fails as any case does: expected, actual and
    // the trace, with why it can never pass.
    assert_contains(
        &run.stdout,
        "---- tests.yaml: a step the plan lacks ----\nexpected: unassigned by contact_owner\n  actual: unassigned by unassigned\n    note: `step: contact_owner` is not a step of the plan `a`, so this case can never pass\n    help: the plan's steps are `call_agent`, `unassigned (fallback unassigned)`; `callassign plan a.rules` shows them\n   trace:\n",
    );
    // Every case was decided, and counts for the coverage note.
    assert_contains(
        &run.stdout,
        "note: no case is decided by `call_agent` (a.rules:2)\n",
    );
    assert!(
        !run.stdout.contains("no case is decided by `unassigned"),
        "{}",
        run.stdout
    );
}

#[test]
fn slips_get_their_own_words() {
    let dir = folder(&[
        (
            ".rules",
            "ruleset rules\nstep call_agent\nfallback unassigned\n",
        ),
        ("a.rules", "ruleset a extends a.b\n"),
        (
            "b.rules",
            "ruleset b\nstep call_agent\nfallback integraton x\n",
        ),
    ]);
    let messages = |file: &str| -> Vec<(String, String)> {
        let run = callassign_in(dir.path(), &["check", "--format", "json", file], b"");
        let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        messages(".rules"),
        [(
            "callassign::ruleset_name_mismatch".to_string(),
            "the rule file `.rules` has no name before its extension".to_string()
        )]
    );
    assert_eq!(
        messages("a.rules"),
        [(
            "callassign::invalid_value".to_string(),
            "`extends a.b` is not a ruleset name".to_string()
        )]
    );
    // The syntax error, and no "has no fallback" for a line that is there.
    let b = messages("b.rules");
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].0, "callassign::syntax");

    let dir = with_a_rules(&[]);
    let run = eval_batch(
        dir.path(),
        &[r#"{"id":"c\udc00","direction":"incoming","status":"missed"}"#],
    );
    assert_eq!(
        run.stdout,
        "{\"line\":1,\"error\":\"id: a `\\\\u` escape holds half a character (a lone surrogate), which is not text (column 14)\"}\n"
    );
}

#[test]
fn plan_help_says_what_format_does() {
    let run = crate::common::callassign(&["plan", "--help"]);
    assert_contains(
        &run.stdout,
        "--format <FORMAT>  Output: numbered steps with their conditions and where each is written, or JSON for tools",
    );
}

#[test]
fn a_report_draws_control_characters_of_the_rule_file_as_question_marks() {
    let dir = folder(&[(
        "a.rules",
        "ruleset a\nstep user \"ops\u{1b}[2J@acme.com\"\nfallback integration\n",
    )]);
    let run = callassign_in(dir.path(), &["check", "a.rules"], b"");
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert_contains(&run.stdout, " 2 │ step user \"ops?[2J@acme.com\"\n");
    assert_contains(
        &run.stdout,
        "`ops\\u{1b}[2J@acme.com` holds the control character U+001B",
    );
}

#[test]
fn a_history_that_is_one_json_document_or_holds_no_readable_call_is_an_error_not_an_empty_report() {
    // A native `.json` holds one call (a CloudTalk `.json` response is
    // read whole with `--input cloudtalk`: tests/it/cloudtalk.rs).
    let context = "examples/hubspot.context.yaml";
    let calls = "examples/call.json";
    for args in [
        vec![
            "stats",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            context,
            calls,
        ],
        vec![
            "diff",
            "--fail-on-change",
            "--context",
            context,
            "rules/hubspot.rules",
            "rules/zendesk.rules",
            calls,
        ],
    ] {
        let run = crate::common::callassign(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("a history of calls is JSON Lines"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("jq -c"), "{}", run.stderr);
    }
    let dir = crate::common::folder(&[("calls.jsonl", "not a call\n{\"also\": \"not\"\n")]);
    let history = dir.path().join("calls.jsonl");
    let run = crate::common::callassign(&[
        "stats",
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
        history.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("could be read (2 unreadable lines)"),
        "{}",
        run.stderr
    );
    // stats lists no dead rules for a history it could not read (every
    // step "deciding no call" says nothing).
    for format in ["human", "markdown"] {
        let run = crate::common::callassign(&[
            "stats",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "examples/hubspot.context.yaml",
            "--format",
            format,
            history.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            !run.stdout.to_lowercase().contains("dead rules"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .to_lowercase()
                .contains("no rule can be told dead"),
            "{}",
            run.stdout
        );
    }
    // diff's report says nothing was compared, not "no call changes"
    // (a PR comment of that stdout would read as a pass).
    for format in ["human", "markdown"] {
        let run = crate::common::callassign(&[
            "diff",
            "--context",
            "examples/hubspot.context.yaml",
            "--format",
            format,
            "rules/hubspot.rules",
            "rules/hubspot.rules",
            history.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            !run.stdout.to_lowercase().contains("no call changes"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .to_lowercase()
                .contains("no call could be compared"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn directory_entries_that_contradict_each_other_are_refused_naming_both() {
    let base = "integration: hubspot\ncontact_owner: true\nfallback: unassigned\nusers:\n  - {id: '1', email: a@acme.com}\n  - {id: '2', email: b@acme.com}\n";
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "telephony_users_from: {format: cloudtalk_agents, path: agents.json}\n",
            "agents.json",
            r#"{"responseData":{"data":[{"Agent":{"id":"7","email":"a@acme.com"}},{"Agent":{"id":7,"email":"b@acme.com"}}]}}"#,
            "gives agent `7` the e-mail `b@acme.com`, but",
        ),
        (
            "contact_owners_from: {format: csv, path: owners.csv}\n",
            "owners.csv",
            "contact,owner\n9,1\n9,2\n",
            "line 3 gives contact `9` the owner `2`, but `owners.csv` line 2 gave it `1`",
        ),
        (
            "contact_owners_from: {format: csv, path: owners.csv}\n",
            "owners.csv",
            "number,owner\n+abc,1\n",
            "the number `+abc` has no digits",
        ),
        (
            "voicemail_email: {'+4212': a@acme.com, '42 12': b@acme.com}\n",
            "unused.txt",
            "",
            "has the keys `+4212` and `42 12`, which are one number",
        ),
        (
            "voicemail_email:\n  default: a@acme.com\n  default: b@acme.com\n",
            "unused.txt",
            "",
            "`voicemail_email` gives `default` twice (`a@acme.com`, then `b@acme.com`)",
        ),
        (
            "voicemail_email: {default: a@acme.com, ' default': b@acme.com}\n",
            "unused.txt",
            "",
            "`voicemail_email` gives `default` twice (`a@acme.com`, then `b@acme.com`)",
        ),
    ];
    for (key, file, text, expected) in cases {
        let context = format!("{base}{key}");
        let dir = crate::common::folder(&[("context.yaml", &context), (file, text)]);
        let run = crate::common::callassign_in(
            dir.path(),
            &[
                "eval",
                "--rules",
                crate::common::repo()
                    .join("rules/hubspot.rules")
                    .to_str()
                    .unwrap(),
                "--context",
                "context.yaml",
                "-",
            ],
            br#"{"id":"c-1","direction":"incoming","status":"missed"}"#,
        );
        assert_eq!(run.code, 2, "{key}: {run:?}");
        assert!(run.stderr.contains(expected), "{key}: {}", run.stderr);
    }
}

#[test]
fn help_or_version_that_cannot_be_written_is_not_a_success() {
    let dir = folder(&[]);
    for (script, code) in [
        ("$CALLASSIGN --help >/dev/full", 2),
        ("$CALLASSIGN --version >/dev/full", 2),
        ("$CALLASSIGN eval --help >/dev/full", 2),
        (
            "$CALLASSIGN --help | head -1 >/dev/null; exit ${PIPESTATUS[0]}",
            0,
        ),
        ("$CALLASSIGN --version >/dev/null", 0),
    ] {
        let run = shell(dir.path(), script);
        no_panic(&run);
        assert_eq!(run.code, code, "{script}: {}", run.stderr);
    }
}

#[test]
fn a_batch_that_fails_says_whether_its_input_or_its_output_failed() {
    let dir = folder(&[
        (
            "good.rules",
            "ruleset good\nstep call_agent\nfallback unassigned\n",
        ),
        ("context.yaml", CONTEXT),
        ("calls.jsonl", &format!("{MISSED}\n").repeat(2000)),
    ]);
    std::fs::create_dir(dir.path().join("folder.jsonl")).unwrap();
    for (script, says) in [
        (
            "$CALLASSIGN eval -q --rules good.rules --context context.yaml calls.jsonl >/dev/full",
            "error: cannot write output: No space left on device",
        ),
        (
            "$CALLASSIGN eval -q --rules good.rules --context context.yaml folder.jsonl",
            "error: cannot read `folder.jsonl`: Is a directory",
        ),
    ] {
        let run = shell(dir.path(), script);
        no_panic(&run);
        assert_eq!(run.code, 2, "{script}: {}", run.stderr);
        assert!(run.stderr.starts_with(says), "{script}: {}", run.stderr);
    }
}

/// Messages speak the user's words: no Rust type names, no parser jargon,
/// no suggestion the grammar would refuse, the operators a field takes
/// (`not in` too), and characters that do not show are named.
#[test]
fn messages_say_what_users_wrote_in_their_words() {
    let rules = "ruleset a\nstep call_agent\nfallback unassigned\n";
    let dir = folder(&[
        ("a.rules", rules),
        ("context.yaml", CONTEXT),
        ("list.yaml", "[]\n"),
        ("users.yaml", "integration: hubspot\nusers: [5]\n"),
        ("test.yaml", "5\n"),
        (
            "case.yaml",
            "rules: a.rules\ncontext: context.yaml\ncases: [5]\n",
        ),
        ("v/hubspot.v2.rules", "ruleset hubspot extends default\n"),
        ("v/b.rules", "ruleset b extends hubspot\n"),
    ]);
    let eval = |context: &str, stdin: &str| {
        callassign_in(
            dir.path(),
            &["eval", "--rules", "a.rules", "--context", context, "-"],
            stdin.as_bytes(),
        )
    };
    let call = "{\"id\":\"c-1\",\"direction\":\"incoming\",\"status\":\"missed\"}\n";
    let check = |text: &str| callassign_in(dir.path(), &["check", "-"], text.as_bytes());
    let test = |file: &str| callassign_in(dir.path(), &["test", file], b"");
    let rows: Vec<(Run, &str)> = vec![
        (eval("list.yaml", call), "expected a context: a mapping with `integration` and `users`"),
        (eval("users.yaml", call), "users[0]: invalid type: integer `5`, expected a user: `{id: …, email: …}`"),
        (test("test.yaml"), "expected a test file: a mapping with `rules`, `context` and `cases`"),
        (test("case.yaml"), "cases[0]: invalid type: integer `5`, expected a case: a mapping with `call` and `assignee`"),
        (eval("context.yaml", "not json\n"), "not JSON: a bare word where a value goes (only `true`, `false` and `null` are written without quotes) (column 2)"),
        (callassign_in(dir.path(), &["check", "v"], b""), "help: rename the file to `hubspot.rules`: `hubspot.v2` cannot name a ruleset"),
        (check("ruleset x extends default\nstep user \"a@b.c\" when duration_s > 3\n"), "rules test the talking time as `duration` (whole seconds); `duration_s` is the key calls carry it in"),
        (eval("context.yaml", "{\"id\":\"c-1\",\"direction\":\"incoming\",\"status\":\"missed\",\"duration\":5}\n"), "a call carries the talking time in seconds as `duration_s`; rules test it as `duration`"),
        (check("ruleset x extends default\nstep user \"a@b.c\" when status < missed\n"), "`status` takes `==`, `!=`, `in` and `not in`"),
        (check("ruleset x extends default\nstep user \"a@b.c\" when duration starts_with \"1\"\n"), "`duration` takes `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` and `not in`"),
        (check("ruleset x extends default\nstep\u{a0}call_agent\n"), "found a no-break space (U+00A0), which looks like a space"),
        (check("ruleset x extends default\nstep call_agent\u{200b}\n"), "found the invisible character U+200B (zero-width space)"),
        (check("ruleset x extends default\nstep call\u{1}agent\n"), "found the control character U+0001"),
        (check("ruleset x extends default\nstep call_agent when \u{201c}vip\u{201d} in tags\n"), "strings are written in straight double quotes"),
        (eval("context.yaml", "{\"id\":\" \",\"direction\":\"incoming\",\"status\":\"missed\"}\n"), "{\"line\":1,\"error\":\"id: the call id is empty; every call needs the id it has in the exporting system (column 9)\"}"),
    ];
    for (run, expected) in rows {
        let shown = format!("{}{}", run.stdout, run.stderr);
        // Long lines are wrapped by the report renderer.
        let flat = shown
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let want = expected.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&want), "{expected}\n---\n{shown}");
        for jargon in [
            "expected struct",
            "expected enum",
            "expected ident",
            "RawFile",
            "RawCase",
        ] {
            assert!(!shown.contains(jargon), "{jargon}: {shown}");
        }
    }
    // `b.rules` extends `hubspot`, and `hubspot.v2.rules` is never offered
    // as a name to extend.
    let run = callassign_in(dir.path(), &["check", "v/b.rules"], b"");
    assert!(!run.stdout.contains("hubspot.v2`"), "{}", run.stdout);
}

#[test]
fn rule_files_skipped_for_the_case_of_their_extension_are_named() {
    let dir = folder(&[
        ("rules/a.rules", "ruleset a extends default\n"),
        ("rules/B.RULES", "ruleset B extends default\n"),
        ("rules/c.Rules", "ruleset c extends default\n"),
    ]);
    for args in [&["check", "rules"][..], &["fmt", "--check", "rules"]] {
        let run = callassign_in(dir.path(), args, b"");
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        for name in ["rules/B.RULES", "rules/c.Rules"] {
            assert_contains(
                &run.stderr,
                format!("note: `{name}` is skipped: rule files end in `.rules`, in lower case"),
            );
        }
    }
}
