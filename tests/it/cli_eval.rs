//! `callassign eval`: one call or a batch, JSON or text, with or without
//! the explanation, and what happens to input that cannot be read.

use crate::common;

use common::{callassign, callassign_in, eval_hubspot_in, folder, repo};

const HUBSPOT: [&str; 4] = [
    "--rules",
    "rules/hubspot.rules",
    "--context",
    "examples/hubspot.context.yaml",
];

fn eval_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["eval"];
    args.extend(HUBSPOT);
    args.extend(extra);
    args
}

fn eval(extra: &[&str]) -> common::Run {
    callassign(&eval_args(extra))
}

#[test]
fn a_batch_gets_one_line_per_call_in_order() {
    let run = eval(&["examples/calls.jsonl"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.stdout, @r#"
    {"call":"c-1001","assignee":{"id":"hs-4","email":"support@acme.com"},"step":"voicemail_email"}
    {"call":"c-1002","assignee":{"id":"hs-2","email":"Alice@Acme.com"},"step":"call_agent"}
    {"call":"c-1003","assignee":{"id":"hs-3","email":"bob@acme.com"},"step":"last_step_agent"}
    {"call":"c-1004","assignee":{"id":"hs-5","email":"dave@acme.com"},"step":"contact_owner"}
    {"call":"c-1005","assignee":{"id":"hs-5","email":"dave@acme.com"},"step":"favorite_agent"}
    {"call":"c-1006","assignee":{"id":"hs-1","email":"admin@acme.com"},"step":"integration_fallback"}
    "#);
    insta::assert_snapshot!(run.stderr, @r"
    6 calls decided, 0 unassigned, 0 unreadable lines
      call_agent                      1
      contact_owner                   1
      favorite_agent                  1
      integration_fallback            1
      last_step_agent                 1
      voicemail_email                 1
    ");
}

#[test]
fn explain_as_text_shows_every_step_and_why() {
    let run = eval(&[
        "--explain",
        "--format",
        "human",
        "--quiet",
        "examples/calls.jsonl",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn explain_as_json_adds_a_trace_array() {
    let run = eval(&["--explain", "--quiet", "examples/calls.jsonl"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    insta::assert_json_snapshot!(lines);
}

#[test]
fn fixed_users_and_unassigned_explained() {
    let dir = folder(&[
        ("rules/default.rules", &std::fs::read_to_string(repo().join("rules/default.rules")).unwrap()),
        ("rules/pipedrive.rules", &std::fs::read_to_string(repo().join("rules/pipedrive.rules")).unwrap()),
        ("rules/quiet.rules", "ruleset quiet extends default\nfallback unassigned\n"),
        (
            "context.yaml",
            "integration: pipedrive\ncontact_owner: true\nusers:\n  - {id: pd-1, email: sales-ops@acme.com}\n  - {id: pd-2, email: alice@acme.com}\n",
        ),
        (
            "calls.jsonl",
            "{\"id\":\"vip\",\"direction\":\"incoming\",\"status\":\"missed\",\"tags\":[\"vip\"],\"contact\":{\"owner\":\"pd-2\"}}\n{\"id\":\"plain\",\"direction\":\"incoming\",\"status\":\"missed\",\"tags\":[\"new\"]}\n",
        ),
    ]);
    let run = callassign_in(
        dir.path(),
        &[
            "eval",
            "--rules",
            "rules/pipedrive.rules",
            "--context",
            "context.yaml",
            "--explain",
            "--format",
            "human",
            "-q",
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!("pipedrive_user_step", run.stdout);
    let run = callassign_in(
        dir.path(),
        &[
            "eval",
            "--rules",
            "rules/quiet.rules",
            "--context",
            "context.yaml",
            "--explain",
            "--format",
            "human",
            "-q",
            "calls.jsonl",
        ],
        b"",
    );
    insta::assert_snapshot!("fallback_unassigned", run.stdout);
}

#[test]
fn malformed_lines_get_an_error_line_each_and_exit_1() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":\"ok-1\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"bob@acme.com\"}\n");
    input.extend_from_slice(b"{\"id\":\"cut\",\"direction\":\"inc\n"); // truncated
    input.extend_from_slice(b"hello\n"); // not JSON
    input.extend_from_slice(b"{\"id\":\"t\",\"direction\":\"incoming\",\"status\":7}\n"); // wrong type
    input.extend_from_slice(b"[\"c-1\",\"incoming\",\"missed\"]\n"); // an array
    input.extend_from_slice(
        b"{\"id\":\"u\",\"direction\":\"incoming\",\"status\":\"missed\",\"agent\":\"\xff\"}\n",
    ); // not UTF-8
    input.extend_from_slice(b"\n"); // empty
    input.extend_from_slice(b"{\"direction\":\"incoming\",\"status\":\"missed\"}\n"); // no id
    input.extend_from_slice(b"{\"id\":\"ok-2\",\"direction\":\"incoming\",\"status\":\"missed\"}"); // last line, no newline
    let mut args = vec!["eval"];
    args.extend(HUBSPOT);
    args.push("-");
    let run = callassign_in(&repo(), &args, &input);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout.lines().count(),
        9,
        "one output line per input line"
    );
    insta::assert_snapshot!(run.stdout, @r#"
    {"call":"ok-1","assignee":{"id":"hs-3","email":"bob@acme.com"},"step":"call_agent"}
    {"line":2,"error":"direction: EOF while parsing a string (column 28)"}
    {"line":3,"error":"expected value (column 1)"}
    {"line":4,"call":"t","error":"status: invalid type: integer `7`, expected `answered`, `missed` or `voicemail` (column 44)"}
    {"line":5,"error":"expected a call object `{…}`, found a list"}
    {"line":6,"call":"u","error":"line is not valid UTF-8 (byte 61)"}
    {"line":7,"error":"empty line, expected a call object"}
    {"line":8,"error":"missing field `id` (column 42)"}
    {"call":"ok-2","assignee":{"id":"hs-1","email":"admin@acme.com"},"step":"integration_fallback"}
    "#);
    assert!(
        run.stderr
            .starts_with("2 calls decided, 0 unassigned, 7 unreadable lines\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn unreadable_lines_in_text_output_name_their_line() {
    let mut args = vec!["eval"];
    args.extend(HUBSPOT);
    args.extend(["--format", "human", "-q", "-"]);
    let run = callassign_in(
        &repo(),
        &args,
        b"{\"id\":\"a\",\"direction\":\"incoming\",\"status\":\"missed\"}\n{oops\n",
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "a: hs-1 (admin@acme.com) by integration_fallback\nline 2: error: key must be a string (column 2)\n");
}

#[test]
fn a_single_call_as_json_or_yaml() {
    let run = eval(&["examples/call.json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "{\"call\":\"c-1001\",\"assignee\":{\"id\":\"hs-4\",\"email\":\"support@acme.com\"},\"step\":\"voicemail_email\"}\n"));
    assert_eq!(run.stderr, "", "no batch summary for one call");
    let run = eval(&["examples/call.yaml", "--format", "human"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "c-2001: hs-5 (dave@acme.com) by contact_owner\n")
    );
}

#[test]
fn a_single_call_that_cannot_be_read_says_where() {
    let dir = folder(&[("call.yaml", "id: c-1\ndirection: incoming\nstatus: mised\n")]);
    let context = repo().join("examples/hubspot.context.yaml");
    let run = eval_hubspot_in(dir.path(), context.to_str().unwrap(), &["call.yaml"], b"");
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "{\"line\":3,\"error\":\"status: unknown value `mised`, expected `answered`, `missed` or `voicemail` (column 9)\"}\n");
}

#[test]
fn rule_file_errors_stop_evaluation_with_exit_2() {
    let dir = folder(&[
        (
            "bad.rules",
            "ruleset bad\nstep favourite_agent\nfallback integration\n",
        ),
        ("calls.jsonl", ""),
    ]);
    let context = repo().join("examples/hubspot.context.yaml");
    let run = callassign_in(
        dir.path(),
        &[
            "eval",
            "--rules",
            "bad.rules",
            "--context",
            context.to_str().unwrap(),
            "calls.jsonl",
        ],
        b"",
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("unknown step `favourite_agent`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with("error: `bad.rules` has errors (1 error)\n  help: run `callassign check bad.rules` for the full report\n"), "{}", run.stderr);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let cases: [(&[&str], &str); 4] = [
        (&["eval", "--rules", "rules/hubspot.rules", "--context", "nope.yaml", "examples/calls.jsonl"], "error: `nope.yaml` does not exist\n"),
        (&["eval", "--rules", "rules/nope.rules", "--context", "examples/hubspot.context.yaml", "examples/calls.jsonl"], "error: `rules/nope.rules` does not exist\n"),
        (&["eval", "--rules", "rules/hubspot.rules", "--context", "examples/hubspot.context.yaml", "examples/nope.jsonl"], "error: `examples/nope.jsonl` does not exist\n"),
        (
            &["eval", "--rules", "rules/hubspot.rules", "--context", "examples/hubspot.context.yaml", "README.md"],
            "error: cannot tell what `README.md` holds from its name\n  help: name one call `.json` or `.yaml`, a batch `.jsonl`, or pass `-` to read a batch from stdin\n",
        ),
    ];
    for (args, stderr) in cases {
        let run = callassign(args);
        assert_eq!((run.code, run.stderr.as_str()), (2, stderr), "{args:?}");
    }
    assert_eq!(
        callassign(&["eval", "--context", "examples/hubspot.context.yaml"]).code,
        2,
        "--rules is required"
    );
}

/// Evaluates with the hubspot rules and the context file `context`
/// written into a fresh folder, with an empty batch on stdin.
fn eval_with_context(context: &str) -> common::Run {
    let dir = folder(&[("context.yaml", context)]);
    eval_hubspot_in(dir.path(), "context.yaml", &["-"], b"")
}

#[test]
fn a_context_that_makes_matching_ambiguous_is_refused() {
    let run = eval_with_context(
        "integration: hubspot\nusers:\n  - {id: hs-1, email: a@acme.com}\n  - {id: hs-1, email: b@acme.com}\n  - {id: hs-2, email: ' A@acme.com'}\n",
    );
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr, @r"
    error: `context.yaml`: users[1] (`hs-1`) has the id of users[0] (`hs-1`)
      also: users[2] (`hs-2`) and users[0] (`hs-1`) are both active with the e-mail `A@acme.com`
      help: every user needs its own id; remove or rename one of them
    ");
}

#[test]
fn a_context_with_a_misspelt_key_is_refused() {
    let run = eval_with_context("integration: hubspot\ncontact_owners: true\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: `context.yaml` is not a valid context: unknown field `contact_owners`, expected one of"), "{}", run.stderr);
    assert!(run.stderr.contains("at line 2 column 1"), "{}", run.stderr);
}

#[test]
fn a_reader_that_stops_early_ends_the_batch_quietly() {
    let dir = folder(&[]);
    let batch: String = (0..200_000)
        .map(|i| format!("{{\"id\":\"c{i}\",\"direction\":\"incoming\",\"status\":\"missed\"}}\n"))
        .collect();
    std::fs::write(dir.path().join("calls.jsonl"), batch).unwrap();
    for jobs in ["1", "2"] {
        let batch = dir.path().join("calls.jsonl");
        let args = [
            "eval",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "examples/hubspot.context.yaml",
            "--jobs",
            jobs,
            batch.to_str().unwrap(),
        ];
        let (first, run) = common::first_line_then_hang_up(&repo(), &args);
        assert!(first.starts_with("{\"call\":\"c0\""), "{first}");
        assert_eq!(run.code, 0, "--jobs {jobs}");
        assert_eq!(run.stderr, "", "--jobs {jobs}");
    }
}

#[test]
fn keys_callassign_does_not_read_are_named_with_counts() {
    let batch = concat!(
        r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"bob@acme.com","recording":{"url":"x"},"uuid":"u-1"}"#,
        "\n",
        r#"{"id":"c-2","direction":"outgoing","status":"answered","recording":null}"#,
        "\n",
        r#"{"id":"c-3","direction":"internal","status":"answered","agent":"bob@acme.com"}"#,
        "\n",
    );
    let run = callassign_in(&repo(), &eval_args(&["-"]), batch.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 3);
    assert!(
        run.stderr
            .ends_with("keys not read: `recording` (2 calls), `uuid` (1 call)\n"),
        "{}",
        run.stderr
    );
    assert!(run
        .stdout
        .lines()
        .nth(2)
        .unwrap()
        .contains(r#""step":"call_agent""#));
}

#[test]
fn keys_inside_flow_steps_and_contacts_are_named_by_where_they_are() {
    let batch = concat!(
        r#"{"id":"c-1","direction":"incoming","status":"missed","flow":[{"type":"ivr","choice":"1","ring_s":3},{"type":"call_to_agent","agent":"bob@acme.com","ring_s":9}],"contact":{"id":"7","name":"Ann"}}"#,
        "\n",
        r#"{"id":"c-2","direction":"incoming","status":"missed","flow":[{"type":"call_to_group","group":"Sales","ring_s":2}]}"#,
        "\n",
        r#"{"id":"c-3","direction":"incoming","status":"missed","contact":{"favourite_agent":"bob@acme.com"}}"#,
        "\n",
    );
    for jobs in ["1", "2"] {
        let mut args = eval_args(&["--jobs", jobs]);
        args.push("-");
        let run = callassign_in(&repo(), &args, batch.as_bytes());
        assert_eq!(run.code, 1, "{}", run.stderr);
        // `ring_s` in two steps of one call counts that call once; the
        // contract's own `choice` and `group` are not unknown.
        assert!(
            run.stderr
                .ends_with("keys not read: `contact.name` (1 call), `flow[].ring_s` (2 calls)\n"),
            "{}",
            run.stderr
        );
        let third = run.stdout.lines().nth(2).unwrap();
        assert!(
            third.contains(
                "contact: `favourite_agent` is not a contact key; did you mean `favorite_agent`?"
            ),
            "{third}"
        );
    }
}

#[test]
fn a_key_given_twice_in_one_call_counts_that_call_once() {
    // `x` twice in the first call, in other positions after: the summary
    // counts calls that had a key, not the times it was written.
    let batch = concat!(
        r#"{"id":"c-1","direction":"outgoing","status":"answered","x":1,"x":2}"#,
        "\n",
        r#"{"id":"c-2","direction":"outgoing","status":"answered","y":1,"x":1,"y":2,"x":3}"#,
        "\n",
        r#"{"id":"c-3","direction":"outgoing","status":"answered","\u0078":1,"x":2}"#,
        "\n",
    );
    for jobs in ["1", "3"] {
        let run = callassign_in(
            &repo(),
            &eval_args(&["--jobs", jobs, "-"]),
            batch.as_bytes(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout.lines().count(), 3);
        assert!(
            run.stderr
                .ends_with("keys not read: `x` (3 calls), `y` (1 call)\n"),
            "--jobs {jobs}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_near_miss_of_a_known_key_is_an_error_line_with_a_did_you_mean() {
    let lines = [
        (r#"{"id":"c-1","direction":"incoming","status":"missed","duration":30}"#, "`duration` is not a call key; did you mean `duration_s`?"),
        (r#"{"id":"c-2","direction":"incoming","status":"missed","flows":[]}"#, "`flows` is not a call key; did you mean `flow`?"),
        (r#"{"id":"c-3","direction":"incoming","Status":"missed","status":"missed"}"#, "`Status` is not a call key; did you mean `status`?"),
        (r#"{"id":"c-4","direction":"incoming","status":"missed","tag":["vip"]}"#, "`tag` is not a call key; did you mean `tags`?"),
        (r#"{"Cdr":{"id":"1","type":"incoming"},"Agent":null}"#, "this is a CloudTalk record (it has `Cdr`), not a call; read it with `--input cloudtalk`"),
    ];
    let batch: String = lines.iter().map(|(line, _)| format!("{line}\n")).collect();
    let run = callassign_in(&repo(), &eval_args(&["--quiet", "-"]), batch.as_bytes());
    assert_eq!(run.code, 1);
    for ((_, expected), output) in lines.iter().zip(run.stdout.lines()) {
        let output: serde_json::Value = serde_json::from_str(output).unwrap();
        let error = output["error"].as_str().unwrap();
        assert!(error.starts_with(expected), "{error}");
    }
}

#[test]
fn a_single_call_notes_the_keys_it_did_not_read() {
    let dir = folder(&[(
        "call.json",
        r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"bob@acme.com","crm_link":"x"}"#,
    )]);
    let context = repo().join("examples/hubspot.context.yaml");
    let run = eval_hubspot_in(dir.path(), context.to_str().unwrap(), &["call.json"], b"");
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "keys not read: `crm_link` (1 call)\n");
}

#[test]
fn an_installer_who_left_warns_once_and_leaves_fallback_calls_unassigned() {
    let dir = folder(&[(
        "context.yaml",
        "integration: hubspot\nfallback: installer\ninstaller: hs-9\nusers:\n  - {id: hs-1, email: a@acme.com}\n",
    )]);
    let batch = "{\"id\":\"c-1\",\"direction\":\"incoming\",\"status\":\"missed\"}\n{\"id\":\"c-2\",\"direction\":\"incoming\",\"status\":\"missed\"}\n";
    let run = eval_hubspot_in(
        dir.path(),
        "context.yaml",
        &["--quiet", "--explain", "--format", "human", "-"],
        batch.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: context.yaml: the installer `hs-9` is not among the users: calls that reach the integration fallback stay unassigned\n"
    );
    assert!(run
        .stdout
        .contains("c-2: unassigned by integration_fallback"));
    assert!(run.stdout.contains("hubspot falls back to its installer, but `hs-9` is not a user id of hubspot: unassigned"), "{}", run.stdout);
}

#[test]
fn context_problems_are_not_all_called_ambiguous() {
    let cases = [
        ("users:\n  - {id: '', email: a@acme.com}\n", "error: `context.yaml`: users[0] (``) has an empty id\n  help: every user needs its integration id\n"),
        ("users:\n  - {id: a, email: 'a.acme.com'}\n", "error: `context.yaml`: users[0] (`a`) has the e-mail `a.acme.com`, which is not an e-mail address\n  help: write the address the user signs in with (`name@example.com`), or leave `email` out\n"),
        ("users:\n  - {id: a, email: a@acme.com}\nuser_map:\n  x@acme.com: {id: a}\n", "error: `context.yaml` is not a valid context: user_map.x@acme.com: invalid type: map, expected an id: a string or a whole number at line 4 column 15\n"),
        ("users_from: {format: hubspot_owners, path: owners.json}\n", "error: `context.yaml`: `owners.json` does not exist\n  help: paths in a context are relative to the context file's folder\n"),
        // A key given twice says both lines; serde_yaml says neither.
        ("integration: hubspot\nusers:\n  - {id: a, email: a@acme.com}\nintegration: zendesk\n", "error: `context.yaml` is not a valid context: `integration` is given on line 1 and again on line 4; keep one\n"),
        ("users:\n  - id: a\n    email: a@acme.com\n    'id': b\n", "error: `context.yaml` is not a valid context: users[0]: `id` is given on line 2 and again on line 4; keep one\n"),
        // An empty list of files read nothing, silently.
        ("users:\n  - {id: a, email: a@acme.com}\nusers_from: {format: csv, path: []}\n", "error: `context.yaml` is not a valid context: users_from: `path` is an empty list, which names nothing to read; give the file, or every page of a paginated export at line 3 column 13\n"),
        ("users:\n  - {id: a, email: a@acme.com}\nusers_from: []\n", "error: `context.yaml` is not a valid context: users_from: invalid type: sequence, expected a format and its file: `{format: …, path: …}` at line 3 column 13\n"),
    ];
    for (context, expected) in cases {
        let run = eval_with_context(context);
        assert_eq!(run.code, 2, "{context}");
        let first_line_and_help: String = run
            .stderr
            .lines()
            .filter(|line| !line.starts_with("  help: a context has"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(first_line_and_help, expected, "{context}");
    }
}

#[test]
fn explain_says_when_a_user_map_link_matches_nothing() {
    let dir = folder(&[(
        "context.yaml",
        "integration: hubspot\nusers:\n  - {id: hs-1, email: a@acme.com}\n  - {id: hs-2, email: b@acme.com, active: false}\nuser_map:\n  max@acme.sk: hs-2\n  eve@acme.sk: hs-404\n",
    )]);
    let batch = "{\"id\":\"c-1\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"Max@acme.sk\"}\n{\"id\":\"c-2\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"eve@acme.sk\"}\n";
    let run = eval_hubspot_in(
        dir.path(),
        "context.yaml",
        &["--quiet", "--explain", "--format", "human", "-"],
        batch.as_bytes(),
    );
    assert!(run.stdout.contains("failed      call_agent                                   default.rules:13  `Max@acme.sk` is linked by `user_map` to hubspot user `hs-2`, who is not active"), "{}", run.stdout);
    assert!(run.stdout.contains("failed      call_agent                                   default.rules:13  `eve@acme.sk` is linked by `user_map` to `hs-404`, who is not a user of hubspot"), "{}", run.stdout);
    assert!(run.stderr.contains("`user_map` links `eve@acme.sk` to `hs-404`, who is not a user of hubspot: the link matches nothing"), "{}", run.stderr);
}

#[test]
fn every_jobs_value_writes_the_same_bytes_as_one_thread() {
    let calls = crate::support::generate(13, 3000);
    let (mut batch, _) = crate::support::history(&calls, 97);
    // A line longer than the reader's buffer, one with CRLF, one that is not
    // UTF-8, and a last line without a line break.
    batch.push_str(&format!(
        "{{\"id\":\"long\",\"direction\":\"incoming\",\"status\":\"missed\",\"note\":\"{}\"}}\r\n",
        "x".repeat(300_000)
    ));
    let mut batch = batch.into_bytes();
    batch.extend_from_slice(
        b"\xff\xfe\n{\"id\":\"end\",\"direction\":\"outgoing\",\"status\":\"answered\"}",
    );
    let dir = folder(&[]);
    let path = dir.path().join("calls.jsonl");
    std::fs::write(&path, &batch).unwrap();
    let lines = batch.split(|&byte| byte == b'\n').count();
    let run = |jobs: Option<&str>, extra: &[&str]| {
        let mut args = eval_args(extra);
        if let Some(jobs) = jobs {
            args.extend(["--jobs", jobs]);
        }
        args.push(path.to_str().unwrap());
        callassign(&args)
    };
    for extra in [
        &[][..],
        &["--explain"],
        &["--format", "human"],
        &["--format", "human", "--explain"],
    ] {
        let one = run(Some("1"), extra);
        assert_eq!(one.code, 1, "{extra:?}: {}", one.stderr);
        if extra.is_empty() {
            assert_eq!(one.stdout.lines().count(), lines);
        }
        // No `--jobs`: the default (the available cores).
        for jobs in [None, Some("2"), Some("3"), Some("4"), Some("8")] {
            let many = run(jobs, extra);
            assert!(many.stdout == one.stdout, "--jobs {jobs:?} {extra:?}");
            assert_eq!(many.stderr, one.stderr, "--jobs {jobs:?} {extra:?}");
            assert_eq!(many.code, one.code, "--jobs {jobs:?} {extra:?}");
        }
    }
}

/// Runs `eval` on a batch big enough to report progress, with stderr on a
/// terminal and stdout on the same terminal (`shared`) or on a pipe;
/// returns what the terminal showed.
#[cfg(unix)]
fn eval_on_a_terminal(shared: bool) -> String {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::{Command, Stdio};

    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given integers.
    let opened = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "a pseudo-terminal");
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (leader, follower) =
        unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    let dir = folder(&[(
        "calls.jsonl",
        &"{\"id\":\"c\",\"direction\":\"incoming\",\"status\":\"missed\"}\n".repeat(70_000),
    )]);
    let stdout = if shared {
        Stdio::from(follower.try_clone().unwrap())
    } else {
        Stdio::null()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_callassign"))
        .args([
            "eval",
            "--rules",
            repo().join("rules/hubspot.rules").to_str().unwrap(),
            "--context",
            repo()
                .join("examples/hubspot.context.yaml")
                .to_str()
                .unwrap(),
            "--jobs",
            "1",
            "--format",
            "human",
            "calls.jsonl",
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::from(follower))
        .spawn()
        .unwrap();
    let mut terminal = std::fs::File::from(leader);
    let mut shown = Vec::new();
    let mut buffer = [0u8; 65536];
    // Read until the child is gone and the terminal is drained (a read on
    // a terminal whose other side closed fails with EIO).
    loop {
        match terminal.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => shown.extend_from_slice(&buffer[..read]),
        }
    }
    child.wait().unwrap();
    String::from_utf8_lossy(&shown).into_owned()
}

#[cfg(unix)]
#[test]
fn progress_is_shown_only_on_a_terminal_that_shows_no_output() {
    let shared = eval_on_a_terminal(true);
    assert!(
        shared.contains("c: hs-1 (admin@acme.com) by integration_fallback"),
        "{}",
        &shared[..200.min(shared.len())]
    );
    assert!(
        !shared.contains("lines…"),
        "progress interleaved with the output"
    );
    let alone = eval_on_a_terminal(false);
    assert!(alone.contains("65536 lines…"), "{alone}");
    // Wiped before the summary.
    assert!(
        alone.contains(&format!("\r{}\r70000 calls decided", " ".repeat(12))),
        "{alone:?}"
    );
}
