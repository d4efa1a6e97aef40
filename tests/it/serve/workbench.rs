//! The workbench's page and routes, against the real `callassign serve`:
//! each answer is compared with what the command line prints for the same
//! rules, calls and history (`plan`, `eval --explain`, `diff`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{request, Answer, Server};
use crate::common::{callassign, repo};

/// `serve --rules ROOT/rules --contexts ROOT/contexts` and `extra`.
fn start(root: &Path, extra: &[&str]) -> Server {
    let rules = root.join("rules").display().to_string();
    let contexts = root.join("contexts").display().to_string();
    let mut args = vec!["--rules", &rules, "--contexts", &contexts];
    args.extend(extra);
    Server::start_in(root, &args)
}

/// `POST path` with a JSON value.
fn post(server: &Server, path: &str, body: &Value) -> Answer {
    server.post_json(path, body.to_string().as_bytes())
}

/// A served folder: the shipped `default`, `hubspot` and `pipedrive`
/// rules, the HubSpot example context for `hubspot` (and a Pipedrive
/// copy), and the example history.
fn served_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("rules")).unwrap();
    std::fs::create_dir_all(root.join("contexts")).unwrap();
    for name in ["default", "hubspot", "pipedrive"] {
        std::fs::copy(
            repo().join(format!("rules/{name}.rules")),
            root.join(format!("rules/{name}.rules")),
        )
        .unwrap();
    }
    let context = std::fs::read_to_string(repo().join("examples/hubspot.context.yaml")).unwrap();
    std::fs::write(root.join("contexts/hubspot.yaml"), &context).unwrap();
    std::fs::write(
        root.join("contexts/pipedrive.yaml"),
        context.replace("integration: hubspot", "integration: pipedrive"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/calls.jsonl"),
        root.join("history.jsonl"),
    )
    .unwrap();
    dir
}

fn history_arg(root: &Path) -> String {
    root.join("history.jsonl").display().to_string()
}

/// `TEXT` saved as `NAME.rules` beside a copy of the served `default.rules`,
/// for the command line to read.
fn saved(root: &Path, side: &str, name: &str, text: &str) -> PathBuf {
    let folder = root.join(side);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(
        root.join("rules/default.rules"),
        folder.join("default.rules"),
    )
    .unwrap();
    let path = folder.join(format!("{name}.rules"));
    std::fs::write(&path, text).unwrap();
    path
}

const MOVED: &str = "ruleset hubspot extends default\nmove favorite_agent first\n";

#[test]
fn the_page_and_its_files_are_served_with_a_policy_that_allows_only_this_origin() {
    let root = served_folder();
    let server = start(root.path(), &[]);
    for (path, file, kind) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        (
            "/workbench.js",
            "workbench.js",
            "text/javascript; charset=utf-8",
        ),
        ("/workbench.css", "workbench.css", "text/css; charset=utf-8"),
        ("/licenses.txt", "licenses.txt", "text/plain; charset=utf-8"),
    ] {
        let answer = server.get(path);
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-type"), Some(kind), "{path}");
        assert_eq!(
            answer.body,
            std::fs::read(repo().join("web/dist").join(file)).unwrap(),
            "{path} is the built file"
        );
        let policy = answer.header("content-security-policy").expect("a policy");
        assert!(policy.starts_with("default-src 'self';"), "{policy}");
        assert!(
            !policy.contains("script-src"),
            "scripts fall back to 'self': {policy}"
        );
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
    let page = String::from_utf8(server.get("/").body).unwrap();
    for name in [
        "Ruleset", "Call", "Decide", "Download", "Findings", "Plan", "Decision", "Impact",
    ] {
        assert!(page.contains(name), "the page names {name}");
    }
    // Nothing on the page comes from another host.
    for text in [
        page,
        String::from_utf8(server.get("/workbench.css").body).unwrap(),
    ] {
        assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"));
    }
}

#[test]
fn source_is_the_served_file_byte_for_byte() {
    let root = served_folder();
    // A file with CRLF line breaks and non-ASCII text stays as it is.
    let text = "# Équipe 😀\r\nruleset pipedrive extends default\r\ndisable favorite_agent\r\n";
    std::fs::write(root.path().join("rules/pipedrive.rules"), text).unwrap();
    let server = start(root.path(), &[]);
    let answer = server.get("/v1/rulesets/pipedrive/source");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), text);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let listed = server.get("/v1/rulesets").json();
    let hash = listed["rulesets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ruleset| ruleset["name"] == "pipedrive")
        .unwrap()["hash"]
        .clone();
    assert_eq!(answer.header("callassign-ruleset-hash"), hash.as_str());

    let unknown = server.get("/v1/rulesets/hubspt/source");
    let error = unknown.error(404, "callassign::unknown_ruleset");
    assert!(error["help"]
        .as_str()
        .unwrap()
        .contains("did you mean `hubspot`?"));
}

#[test]
fn plan_gives_findings_with_browser_offsets_and_fixes_and_the_plan_as_plan_prints_it() {
    let root = served_folder();
    let server = start(root.path(), &[]);

    // A misspelt step after text whose characters take one and two
    // UTF-16 units: `from` counts what a browser counts.
    let text =
        "# é😀\nruleset hubspot extends default\nmove contact_owner before last_step_agnet\n";
    let answer = post(
        &server,
        "/v1/plan",
        &json!({"ruleset": "hubspot", "text": text}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["plan"], Value::Null);
    let finding = &body["findings"][0];
    assert_eq!(finding["code"], "callassign::unknown_step");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(27))
    );
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let from = finding["from"].as_u64().unwrap() as usize;
    let to = finding["to"].as_u64().unwrap() as usize;
    assert_eq!(
        String::from_utf16(&utf16[from..to]).unwrap(),
        "last_step_agnet"
    );
    let fix = &finding["fixes"][0];
    assert_eq!(fix["replacement"], "last_step_agent");
    assert_eq!(fix["title"], "replace with `last_step_agent`");
    assert_eq!(
        (fix["from"].as_u64(), fix["to"].as_u64()),
        (Some(from as u64), Some(to as u64))
    );
    // The findings are `check --format json`'s, with those three added.
    let path = saved(root.path(), "check", "hubspot", text);
    let check: Value = serde_json::from_str(
        &callassign(&["check", "--format", "json", path.to_str().unwrap()]).stdout,
    )
    .unwrap();
    let mut without = finding.clone();
    for key in ["from", "to", "fixes"] {
        without.as_object_mut().unwrap().remove(key);
    }
    let mut expected = check[0].clone();
    expected["file"] = without["file"].clone();
    assert_eq!(without, expected);

    // A clean text: no findings, and the plan `plan --format json` prints.
    let answer = post(
        &server,
        "/v1/plan",
        &json!({"ruleset": "hubspot", "text": MOVED}),
    );
    let body = answer.json();
    assert_eq!(body["findings"], json!([]));
    // Against the served version, which the answer names.
    assert_eq!(
        answer.header("callassign-ruleset-hash"),
        server.hash("hubspot").as_deref()
    );
    let path = saved(root.path(), "plan", "hubspot", MOVED);
    let mut printed: Value = serde_json::from_str(
        &callassign(&["plan", "--format", "json", path.to_str().unwrap()]).stdout,
    )
    .unwrap();
    printed["chain"] = body["plan"]["chain"].clone();
    assert_eq!(body["plan"], printed);
    assert_eq!(body["plan"]["steps"][0]["step"], "favorite_agent");

    // Sent text sees the served folder: it may extend any file there.
    let answer = post(
        &server,
        "/v1/plan",
        &json!({"ruleset": "team", "text": "ruleset team extends pipedrive\ndisable voicemail_email\n"}),
    );
    let body = answer.json();
    assert_eq!(body["findings"], json!([]), "{body}");
    // `team` is not served: no version to name.
    assert_eq!(answer.header("callassign-ruleset-hash"), None);
    // Named as assignment lines name it, the address beside it.
    assert_eq!(body["plan"]["steps"][0]["step"], "user");
    assert_eq!(body["plan"]["steps"][0]["user"], "sales-ops@acme.com");
    assert_eq!(
        body["plan"]["steps"][0]["label"],
        "user \"sales-ops@acme.com\""
    );

    for (sent, code) in [
        (
            json!({"ruleset": "../etc/passwd", "text": ""}),
            "callassign::bad_request",
        ),
        (json!({"ruleset": "hubspot"}), "callassign::bad_request"),
        (
            json!({"ruleset": "hubspot", "text": "", "extra": 1}),
            "callassign::bad_request",
        ),
    ] {
        let answer = post(&server, "/v1/plan", &sent);
        answer.error(400, code);
    }
    let answer = request(
        server.addr,
        "POST",
        "/v1/plan",
        &[("Content-Type", "text/plain")],
        b"x",
    );
    answer.error(415, "callassign::unsupported_media_type");
    assert_eq!(server.get("/v1/plan").status, 405);
}

#[test]
fn decide_writes_what_eval_explain_writes_with_the_sent_rules() {
    let root = served_folder();
    let server = start(root.path(), &[]);
    let call = std::fs::read_to_string(repo().join("examples/call.json")).unwrap();
    let path = saved(root.path(), "eval", "hubspot", MOVED);
    let context = root.path().join("contexts/hubspot.yaml");
    let eval = |input: &str, call_file: &Path| {
        callassign(&[
            "eval",
            "--explain",
            "--input",
            input,
            "--rules",
            path.to_str().unwrap(),
            "--context",
            context.to_str().unwrap(),
            call_file.to_str().unwrap(),
        ])
        .stdout
    };

    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "text": MOVED, "call": call}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let expected = eval("native", &repo().join("examples/call.json"));
    assert_eq!(
        answer.text(),
        format!(
            "{{\"input\":\"native\",\"assignment\":{}}}\n",
            expected.trim_end()
        )
    );
    assert_eq!(answer.json()["assignment"]["step"], "favorite_agent");

    // Without text: the served version, which decides otherwise.
    let served = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "call": call}),
    );
    assert_eq!(served.json()["assignment"]["step"], "voicemail_email");

    // A CloudTalk record needs no format choice.
    let record = std::fs::read_to_string(repo().join("examples/cloudtalk/records.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let record_file = root.path().join("record.json");
    std::fs::write(&record_file, &record).unwrap();
    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "text": MOVED, "call": record}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.text(),
        format!(
            "{{\"input\":\"cloudtalk\",\"assignment\":{}}}\n",
            eval("cloudtalk", &record_file).trim_end()
        )
    );

    // Refusals: rules with errors, a call that cannot be read (in eval's
    // words), a list of calls.
    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "text": "ruleset hubspot extends default\nstep favorite_agnet\n", "call": call}),
    );
    let error = answer.error(422, "callassign::rules_have_errors");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("unknown step `favorite_agnet`"));
    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "text": MOVED, "call": "{\"id\":\"x\"}"}),
    );
    let error = answer.error(422, "callassign::unreadable_call");
    assert_eq!(error["message"], "missing field `direction` (column 10)");
    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "hubspot", "call": format!("[{call}, {call}]")}),
    );
    answer.error(422, "callassign::not_one_call");
    let answer = post(
        &server,
        "/v1/decide",
        &json!({"ruleset": "zendesk", "call": call}),
    );
    answer.error(404, "callassign::unknown_ruleset");
}

#[test]
fn diff_reports_what_callassign_diff_reports_and_history_lists_calls() {
    let root = served_folder();
    let history = history_arg(root.path());
    let server = start(root.path(), &["--history", &history]);

    let answer = post(
        &server,
        "/v1/diff",
        &json!({"ruleset": "hubspot", "text": MOVED}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let mut report = answer.json();
    let old = saved(
        root.path(),
        "old",
        "hubspot",
        &std::fs::read_to_string(root.path().join("rules/hubspot.rules")).unwrap(),
    );
    let new = saved(root.path(), "new", "hubspot", MOVED);
    let context = root.path().join("contexts/hubspot.yaml");
    let mut printed: Value = serde_json::from_str(
        &callassign(&[
            "diff",
            "--format",
            "json",
            "--context",
            context.to_str().unwrap(),
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            &history,
        ])
        .stdout,
    )
    .unwrap();
    assert!(report["reassigned"].as_u64().unwrap() > 0);
    for side in ["old", "new"] {
        printed[side] = Value::Null;
        report[side] = Value::Null;
    }
    assert_eq!(report, printed);

    let listed = server.get("/v1/history?ruleset=hubspot&limit=2").json();
    assert_eq!(listed["input"], "native");
    assert_eq!(listed["lines"], 6);
    let calls = listed["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let first_line = std::fs::read_to_string(&history)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(calls[0]["text"], first_line.as_str());
    assert_eq!(
        (calls[0]["id"].as_str(), calls[0]["line"].as_u64()),
        (Some("c-1001"), Some(1))
    );
    let found = server.get("/v1/history?ruleset=hubspot&id=c-1004").json();
    assert_eq!(found["calls"][0]["line"], 4);
    assert_eq!(
        server.get("/v1/history?ruleset=hubspot&id=nope").status,
        404
    );
    assert_eq!(
        server.get("/v1/history?ruleset=hubspot&limit=0").status,
        400
    );
    assert_eq!(server.get("/v1/history").status, 400);

    // Without --history, Impact has nothing to measure on.
    let bare = start(root.path(), &[]);
    let answer = post(
        &bare,
        "/v1/diff",
        &json!({"ruleset": "hubspot", "text": MOVED}),
    );
    answer.error(404, "callassign::no_history");
}

#[test]
fn a_changed_history_is_read_again_and_cloudtalk_histories_use_the_context() {
    let root = served_folder();
    let history = history_arg(root.path());
    let server = start(root.path(), &["--history", &history]);
    let calls = |server: &Server| {
        post(
            server,
            "/v1/diff",
            &json!({"ruleset": "hubspot", "text": MOVED}),
        )
        .json()["calls"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(calls(&server), 6);
    let mut text = std::fs::read_to_string(&history).unwrap();
    text.push_str(&text.clone());
    let temporary = root.path().join("history.tmp");
    std::fs::write(&temporary, &text).unwrap();
    std::fs::rename(&temporary, &history).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while calls(&server) != 12 {
        assert!(
            Instant::now() < deadline,
            "the new history is read within 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let records = repo().join("examples/cloudtalk/records.jsonl");
    std::fs::copy(
        repo().join("examples/cloudtalk/hubspot.context.yaml"),
        root.path().join("contexts/hubspot.yaml"),
    )
    .unwrap();
    // The files the CloudTalk example context reads, beside it.
    for file in [
        "cloudtalk-agents.json",
        "contact-owners.csv",
        "hubspot-owners-1.json",
        "hubspot-owners-2.json",
    ] {
        std::fs::copy(
            repo().join("examples/cloudtalk").join(file),
            root.path().join("contexts").join(file),
        )
        .unwrap();
    }
    let cloudtalk = start(
        root.path(),
        &[
            "--history",
            records.to_str().unwrap(),
            "--history-input",
            "cloudtalk",
        ],
    );
    let listed = cloudtalk.get("/v1/history?ruleset=hubspot&limit=1").json();
    assert_eq!(listed["input"], "cloudtalk", "{listed}");
    assert_eq!(listed["calls"][0]["id"], "27");
    let report = post(
        &cloudtalk,
        "/v1/diff",
        &json!({"ruleset": "hubspot", "text": MOVED}),
    )
    .json();
    assert_eq!(report["unreadable"]["lines"], 0, "{report}");
}

#[test]
fn with_a_token_the_routes_need_it_and_the_page_does_not() {
    let root = served_folder();
    std::fs::write(root.path().join("token"), "s3cret\n").unwrap();
    let token = root.path().join("token").display().to_string();
    let server = start(root.path(), &["--token-file", &token]);
    assert_eq!(server.get("/").status, 200);
    assert_eq!(server.get("/workbench.js").status, 200);
    let sent = json!({"ruleset": "hubspot", "text": MOVED}).to_string();
    for (path, method) in [
        ("/v1/plan", "POST"),
        ("/v1/diff", "POST"),
        ("/v1/decide", "POST"),
        ("/v1/rulesets/hubspot/source", "GET"),
        ("/v1/history?ruleset=hubspot", "GET"),
    ] {
        let answer = request(
            server.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            sent.as_bytes(),
        );
        assert_eq!(answer.status, 401, "{path}");
    }
    let answer = request(
        server.addr,
        "POST",
        "/v1/plan",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer s3cret"),
        ],
        sent.as_bytes(),
    );
    assert_eq!(answer.status, 200);
}

#[test]
fn nothing_the_page_sends_writes_into_the_rules_folder() {
    let root = served_folder();
    let history = history_arg(root.path());
    let listing = |folder: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                (path.display().to_string(), std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let before = listing(&root.path().join("rules"));
    let server = start(root.path(), &["--history", &history]);
    let text = "ruleset hubspot extends default\ndisable contact_owner\n";
    for path in ["/v1/plan", "/v1/diff"] {
        assert_eq!(
            post(&server, path, &json!({"ruleset": "hubspot", "text": text})).status,
            200
        );
    }
    let call = std::fs::read_to_string(repo().join("examples/call.json")).unwrap();
    assert_eq!(
        post(
            &server,
            "/v1/decide",
            &json!({"ruleset": "hubspot", "text": text, "call": call})
        )
        .status,
        200
    );
    assert_eq!(listing(&root.path().join("rules")), before);
    // And the served version is still the file's.
    assert_eq!(
        server.get("/v1/rulesets/hubspot/source").body,
        std::fs::read(root.path().join("rules/hubspot.rules")).unwrap()
    );
}

/// The findings of edited text are `check --context`'s for the served
/// ruleset: a fixed user who is not in its context would never decide,
/// and is said so (the page showed such a file as clean).
#[test]
fn findings_of_edited_text_include_the_served_context_as_check_context_gives_them() {
    let root = served_folder();
    let server = start(root.path(), &[]);
    let text = "ruleset hubspot extends default\nstep user \"nobody@acme.com\"\n";
    let answer = post(
        &server,
        "/v1/plan",
        &json!({"ruleset": "hubspot", "text": text}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let findings = answer.json()["findings"].clone();
    let path = saved(root.path(), "ctx", "hubspot", text);
    let context = root.path().join("contexts/hubspot.yaml");
    let check = callassign(&[
        "check",
        "--format",
        "json",
        "--context",
        context.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let expected: Value = serde_json::from_str(&check.stdout).unwrap();
    let codes = |findings: &Value| -> Vec<String> {
        findings
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&findings), codes(&expected), "{findings}");
    assert!(
        codes(&findings).contains(&"callassign::user_not_in_context".to_string()),
        "{findings}"
    );

    // Text over the 1 MiB a rule file may have is that finding, as for a
    // file on disk, not a 413 about bodies.
    let big = format!(
        "ruleset hubspot extends default\n{}",
        "# padding\n".repeat(110_000)
    );
    let answer = post(
        &server,
        "/v1/plan",
        &json!({"ruleset": "hubspot", "text": big}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["findings"][0]["code"],
        "callassign::file_too_large",
        "{}",
        answer.text()
    );
}
