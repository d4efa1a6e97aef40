//! Every route, every status, and the headers clients rely on.

use std::time::Duration;

use super::{request, served_folder, Server};

const CALL: &str =
    r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"alice@acme.com"}"#;

#[test]
fn startup_reports_in_checks_words_and_names_what_is_served() {
    let dir = served_folder();
    std::fs::write(
        dir.path().join("rules/broken.rules"),
        "ruleset broken extends default\nstep last_step_agnet\n",
    )
    .unwrap();
    std::fs::copy(
        dir.path().join("contexts/hubspot.yaml"),
        dir.path().join("contexts/broken.yaml"),
    )
    .unwrap();
    let server = Server::start_in(dir.path(), &["--rules", "rules", "--contexts", "contexts"]);
    let stderr = server.stderr();
    // The finding as `check` renders it, with its code and help.
    assert!(stderr.contains("callassign::unknown_step"), "{stderr}");
    assert!(
        stderr.contains("did you mean `last_step_agent`?"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not serving broken: `rules/broken.rules` has errors (1 error)"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("serving hubspot from rules/hubspot.rules and contexts/hubspot.yaml (hash "),
        "{stderr}"
    );
    assert!(
        stderr.contains("not serving zendesk: no context: `contexts/zendesk.yaml` is not there"),
        "{stderr}"
    );

    let status = server.status();
    let served: Vec<&str> = status["rulesets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    assert_eq!(served, ["hubspot"]);
    let hubspot = &status["rulesets"][0];
    for key in ["name", "hash", "loaded_at", "files", "last_reload"] {
        assert!(!hubspot[key].is_null(), "{key} in {hubspot}");
    }
    assert_eq!(hubspot["last_reload"]["result"], "applied");
    assert!(hubspot["last_reload"]["findings"].is_array());
    let files: Vec<&str> = hubspot["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "rules/default.rules",
            "rules/hubspot.rules",
            "contexts/hubspot.yaml"
        ]
    );
    let not_served = status["not_served"].as_array().unwrap();
    let broken = not_served
        .iter()
        .find(|entry| entry["name"] == "broken")
        .unwrap();
    assert_eq!(broken["findings"][0]["code"], "callassign::unknown_step");
    assert_eq!(broken["findings"][0]["line"], 2);
    for name in ["default", "freshdesk", "pipedrive", "salesforce", "zendesk"] {
        assert!(
            not_served.iter().any(|entry| entry["name"] == name),
            "{name}"
        );
    }
}

#[test]
fn nothing_to_serve_exits_2() {
    let dir = served_folder();
    std::fs::remove_file(dir.path().join("contexts/hubspot.yaml")).unwrap();
    let (code, stderr) =
        Server::try_start_in(dir.path(), &["--rules", "rules", "--contexts", "contexts"])
            .err()
            .expect("refused");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("error: no ruleset can be served"),
        "{stderr}"
    );

    let (code, stderr) = Server::try_start_in(dir.path(), &["--rules", "rules"])
        .err()
        .expect("refused");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--contexts"), "{stderr}");
}

/// `--listen` takes an address written with digits; a host name gets the
/// addresses to write instead, with its port.
#[test]
fn a_host_name_to_listen_on_gets_the_address_to_write() {
    let dir = served_folder();
    let (code, stderr) = Server::try_start_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--listen",
            "localhost:9",
        ],
    )
    .err()
    .expect("refused");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("`127.0.0.1:9` (this machine only)"),
        "{stderr}"
    );
    assert!(stderr.contains("`0.0.0.0:9` (every interface)"), "{stderr}");
}

#[test]
fn one_call_gets_the_line_eval_writes_with_the_hash() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let answer = server.post_json("/v1/rulesets/hubspot/assign", CALL.as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.text(),
        "{\"call\":\"c-1\",\"assignee\":{\"id\":\"hs-2\",\"email\":\"Alice@Acme.com\"},\"step\":\"call_agent\"}\n"
    );
    let hash = answer.header("callassign-ruleset-hash").unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(Some(hash.to_string()), server.hash("hubspot"));
    assert_eq!(answer.header("callassign-unknown-keys"), None);

    // No content type is one call too; any charset.
    let plain = request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[],
        CALL.as_bytes(),
    );
    assert_eq!(plain.body, answer.body);
    let charset = request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[("Content-Type", "application/json; charset=UTF-8")],
        CALL.as_bytes(),
    );
    assert_eq!(charset.body, answer.body);
}

#[test]
fn unknown_keys_are_named_in_a_capped_header() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let call = r#"{"id":"c-2","direction":"outgoing","status":"answered","recording":"x","flow":[{"type":"ivr","ring_s":3}],"contact":{"id":"1","name":"Ann"}}"#;
    let answer = server.post_json("/v1/rulesets/hubspot/assign", call.as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("callassign-unknown-keys"),
        Some("contact.name, flow[].ring_s, recording")
    );
    assert!(
        !answer.text().contains("recording"),
        "the body stays eval's"
    );

    // A stream cannot know them before its head: a trailer names them,
    // for a client that takes trailers.
    let lines = format!("{call}\n{CALL}\n");
    let streamed = request(
        server.addr,
        "POST",
        "/v1/rulesets/hubspot/assign",
        &[("Content-Type", "application/x-ndjson"), ("TE", "trailers")],
        lines.as_bytes(),
    );
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.header("trailer"), Some("callassign-unknown-keys"));
    assert_eq!(
        streamed.trailers,
        [(
            "callassign-unknown-keys".to_string(),
            "contact.name, flow[].ring_s, recording".to_string()
        )]
    );

    let many: String = (0..40).map(|n| format!(",\"k{n}\":1")).collect();
    let call = format!(r#"{{"id":"c-3","direction":"outgoing","status":"answered"{many}}}"#);
    let answer = server.post_json("/v1/rulesets/hubspot/assign", call.as_bytes());
    let keys = answer.header("callassign-unknown-keys").unwrap();
    // Sorted as text: k0, k1, k10, k11, …
    assert!(keys.starts_with("k0, k1, k10, k11, "), "{keys}");
    assert!(keys.ends_with(", +24 more"), "{keys}");
    assert_eq!(keys.split(", ").count(), 17, "{keys}");
}

#[test]
fn requests_that_cannot_be_answered_get_json_errors() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let hash = server.hash("hubspot").unwrap();
    let assign = "/v1/rulesets/hubspot/assign";

    // 404 names the served rulesets, and carries no hash.
    let answer = server.post_json("/v1/rulesets/hubspt/assign", CALL.as_bytes());
    let error = answer.error(404, "callassign::unknown_ruleset");
    assert_eq!(error["message"], "no ruleset `hubspt` is served");
    assert_eq!(error["help"], "did you mean `hubspot`? served: `hubspot`");
    assert_eq!(answer.header("callassign-ruleset-hash"), None);

    // 422 in the words of eval's error line, with the hash.
    let answer = server.post_json(
        assign,
        br#"{"id":"c-1","direction":"incoming","status":"answered","duration":3}"#,
    );
    let error = answer.error(422, "callassign::unreadable_call");
    assert_eq!(
        error["message"],
        "`duration` is not a call key; did you mean `duration_s`? (a call carries the talking time in seconds as `duration_s`; rules test it as `duration`) (column 68)"
    );
    assert_eq!(
        answer.header("callassign-ruleset-hash"),
        Some(hash.as_str())
    );
    server
        .post_json(assign, b"not json")
        .error(422, "callassign::unreadable_call");
    server
        .post_json(assign, b"")
        .error(422, "callassign::unreadable_call");
    server
        .post_json(assign, b"\xff\xfe")
        .error(422, "callassign::unreadable_call");
    let error = server
        .post_json(assign, format!("[{CALL},{CALL}]").as_bytes())
        .error(422, "callassign::not_one_call");
    assert!(
        error["help"]
            .as_str()
            .unwrap()
            .contains("application/x-ndjson"),
        "{error}"
    );
    server
        .post_json(assign, format!("{CALL}\n{CALL}\n").as_bytes())
        .error(422, "callassign::not_one_call");

    // 413 above 1 MiB, whether announced or not.
    let big = format!(
        r#"{{"id":"{}","direction":"incoming","status":"answered"}}"#,
        "x".repeat(1 << 20)
    );
    let answer = server.post_json(assign, big.as_bytes());
    answer.error(413, "callassign::body_too_large");
    assert_eq!(
        answer.header("callassign-ruleset-hash"),
        Some(hash.as_str())
    );
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(big.as_bytes());
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    request(
        server.addr,
        "POST",
        assign,
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        &chunked,
    )
    .error(413, "callassign::body_too_large");
    // Exactly 1 MiB is still one call.
    let padding = (1 << 20) - CALL.len();
    let at_limit = format!("{}{}", CALL, " ".repeat(padding));
    assert_eq!(server.post_json(assign, at_limit.as_bytes()).status, 200);

    // 415 for another content type; curl's default gets a hint.
    let answer = request(
        server.addr,
        "POST",
        assign,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        CALL.as_bytes(),
    );
    let error = answer.error(415, "callassign::unsupported_media_type");
    assert!(
        error["help"]
            .as_str()
            .unwrap()
            .contains("-H 'Content-Type: application/json'"),
        "{error}"
    );
    request(
        server.addr,
        "POST",
        assign,
        &[("Content-Type", "text/csv")],
        b"a,b",
    )
    .error(415, "callassign::unsupported_media_type");

    // 400 for a query it does not read.
    let error = server
        .post_json("/v1/rulesets/hubspot/assign?explian=true", CALL.as_bytes())
        .error(400, "callassign::bad_query");
    assert_eq!(error["help"], "did you mean `explain`?");
    server
        .post_json("/v1/rulesets/hubspot/assign?input=csv", CALL.as_bytes())
        .error(400, "callassign::bad_query");

    // 404 and 405 for routes.
    server
        .get("/v2/nothing")
        .error(404, "callassign::not_found");
    let answer = server.get(assign);
    answer.error(405, "callassign::method_not_allowed");
    assert_eq!(answer.header("allow"), Some("POST"));
    // It named a served ruleset: its version is said, as on every answer.
    assert_eq!(
        answer.header("callassign-ruleset-hash"),
        server.hash("hubspot").as_deref()
    );
    request(server.addr, "DELETE", "/v1/status", &[], b"")
        .error(405, "callassign::method_not_allowed");
}

#[test]
fn explain_and_cloudtalk_are_query_parameters() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
    ]);
    let root = crate::common::repo();
    let record = std::fs::read(root.join("examples/cloudtalk/detail-queue.json")).unwrap();
    let answer = server.post_json(
        "/v1/rulesets/hubspot/assign?input=cloudtalk&explain=true",
        &record,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let expected = super::eval(
        &root,
        "rules/hubspot.rules",
        "examples/cloudtalk/hubspot.context.yaml",
        "examples/cloudtalk/detail-queue.json",
        &["--input", "cloudtalk", "--explain"],
    );
    assert_eq!(answer.text(), expected);
    assert!(answer.text().contains("\"trace\":["));

    // A CloudTalk list response is one line per record, as eval writes them.
    let list = std::fs::read(root.join("examples/cloudtalk/calls.json")).unwrap();
    let answer = server.post_json("/v1/rulesets/hubspot/assign?input=cloudtalk", &list);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
    let expected = super::eval(
        &root,
        "rules/hubspot.rules",
        "examples/cloudtalk/hubspot.context.yaml",
        "examples/cloudtalk/calls.json",
        &["--input", "cloudtalk"],
    );
    assert_eq!(answer.text(), expected);
}

#[test]
fn listing_plan_check_and_probes() {
    let dir = served_folder();
    let server = Server::start_in(dir.path(), &["--rules", "rules", "--contexts", "contexts"]);

    let listed = server.get("/v1/rulesets");
    // The keys in the order the docs and `/v1/status` give them.
    let text = listed.text();
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
    let order: Vec<usize> = ["rulesets", "name", "hash", "loaded_at", "rules", "context"]
        .iter()
        .map(|key| at(key))
        .collect();
    assert!(order.is_sorted(), "{text}");
    let listed = listed.json();
    assert_eq!(listed["rulesets"][0]["name"], "hubspot");
    assert_eq!(listed["rulesets"][0]["hash"].as_str().unwrap().len(), 64);
    assert!(listed["rulesets"][0]["loaded_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let plan = server.get("/v1/rulesets/hubspot/plan");
    assert_eq!(plan.status, 200);
    assert_eq!(
        plan.header("callassign-ruleset-hash"),
        server.hash("hubspot").as_deref()
    );
    let expected = crate::common::callassign_in(
        dir.path(),
        &["plan", "--format", "json", "rules/hubspot.rules"],
        b"",
    );
    assert_eq!(plan.text(), expected.stdout);
    server
        .get("/v1/rulesets/nope/plan")
        .error(404, "callassign::unknown_ruleset");

    // Rule text sent may extend the served files; findings as `check --format json`.
    let sent = serde_json::json!({"files": {"team.rules": "ruleset team extends hubspot\ndisable favorite_agnet\n"}});
    let answer = server.post_json("/v1/check", sent.to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let findings = answer.json();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{findings}");
    assert_eq!(findings[0]["code"], "callassign::unknown_step");
    assert_eq!(findings[0]["file"], "rules/team.rules");
    assert_eq!(findings[0]["help"], "did you mean `favorite_agent`?");
    std::fs::write(
        dir.path().join("team.rules"),
        "ruleset team extends hubspot\ndisable favorite_agnet\n",
    )
    .unwrap();
    std::fs::rename(
        dir.path().join("team.rules"),
        dir.path().join("rules/team.rules"),
    )
    .unwrap();
    let check = crate::common::callassign_in(
        dir.path(),
        &["check", "--format", "json", "rules/team.rules"],
        b"",
    );
    assert_eq!(answer.text(), check.stdout);
    std::fs::remove_file(dir.path().join("rules/team.rules")).unwrap();

    let clean = request(
        server.addr,
        "POST",
        "/v1/check",
        &[("Content-Type", "text/plain")],
        b"ruleset team extends default\ndisable favorite_agent\n",
    );
    assert_eq!(clean.status, 200);
    assert_eq!(clean.json(), serde_json::json!([]));
    let error = server
        .post_json(
            "/v1/check",
            br#"{"files":{"../escape.rules":"ruleset escape\n"}}"#,
        )
        .error(400, "callassign::bad_check_request");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("not a rule file name"));
    server
        .post_json("/v1/check", b"{}")
        .error(400, "callassign::bad_check_request");
    // A query parameter the route does not read is refused, never ignored:
    // a misspelt `?nmae=` would otherwise check the text under another name.
    let misspelt = request(
        server.addr,
        "POST",
        "/v1/check?nmae=x.rules",
        &[("Content-Type", "text/plain")],
        b"ruleset x extends hubspot\n",
    )
    .error(400, "callassign::bad_query");
    assert_eq!(misspelt["help"], "did you mean `name`?");
    let named_json = server
        .post_json(
            "/v1/check?name=y.rules",
            br#"{"files":{"team.rules":"ruleset team extends hubspot\n"}}"#,
        )
        .error(400, "callassign::bad_query");
    assert!(
        named_json["message"]
            .as_str()
            .unwrap()
            .contains("text/plain"),
        "{named_json}"
    );

    let health = server.get("/healthz");
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = server.get("/readyz");
    assert_eq!(
        (ready.status, ready.json()["status"].as_str()),
        (200, Some("ready"))
    );
}

#[test]
fn metrics_have_the_documented_names() {
    let server = Server::start(&[
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
    ]);
    let assign = "/v1/rulesets/hubspot/assign";
    assert_eq!(server.post_json(assign, CALL.as_bytes()).status, 200);
    assert_eq!(server.post_json(assign, b"{").status, 422);
    let lines = format!("{CALL}\n{{\n{CALL}\n");
    assert_eq!(server.post_ndjson(assign, lines.as_bytes()).status, 200);
    let hash = server.hash("hubspot").unwrap();
    let answer = server.get("/metrics");
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = answer.text();
    for line in [
        "callassign_decisions_total{ruleset=\"hubspot\",step=\"call_agent\"} 3".to_string(),
        "callassign_refused_calls_total{ruleset=\"hubspot\"} 2".to_string(),
        format!("callassign_ruleset_info{{ruleset=\"hubspot\",hash=\"{hash}\"}} 1"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(text.contains("callassign_http_request_duration_seconds_bucket{route=\"/v1/rulesets/{name}/assign\",le="), "{text}");
    assert!(
        text.contains("# TYPE callassign_reloads_total counter"),
        "{text}"
    );
    let openmetrics = request(
        server.addr,
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text")],
        b"",
    );
    assert!(openmetrics.text().ends_with("# EOF\n"));
}

#[test]
fn a_token_guards_v1_and_metrics_but_not_the_probes() {
    let dir = served_folder();
    std::fs::write(dir.path().join("token"), "s3cret-token\n").unwrap();
    let server = Server::start_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--token-file",
            "token",
        ],
    );
    let assign = "/v1/rulesets/hubspot/assign";
    for path in [
        "/v1/rulesets",
        "/v1/status",
        "/metrics",
        "/v1/rulesets/hubspot/plan",
    ] {
        let answer = server.get(path);
        answer.error(401, "callassign::unauthorized");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{path}");
    }
    server
        .post_json(assign, CALL.as_bytes())
        .error(401, "callassign::unauthorized");
    let wrong = request(
        server.addr,
        "POST",
        assign,
        &[
            ("Authorization", "Bearer s3cret-tokem"),
            ("Content-Type", "application/json"),
        ],
        CALL.as_bytes(),
    );
    assert_eq!(
        wrong.error(401, "callassign::unauthorized")["message"],
        "the token is not the service's token"
    );
    let right = request(
        server.addr,
        "POST",
        assign,
        &[
            ("Authorization", "Bearer s3cret-token"),
            ("Content-Type", "application/json"),
        ],
        CALL.as_bytes(),
    );
    assert_eq!(right.status, 200, "{}", right.text());
    for probe in ["/healthz", "/readyz"] {
        assert_eq!(server.get(probe).status, 200);
    }

    // The file is re-read when it changes; an empty one is refused.
    std::fs::write(dir.path().join("token"), "\n").unwrap();
    server.wait_for_stderr(
        "is empty; the previous token stays in force",
        Duration::from_secs(5),
    );
    let with = |token: &str| {
        let header = format!("Bearer {token}");
        request(
            server.addr,
            "GET",
            "/v1/rulesets",
            &[("Authorization", header.as_str())],
            b"",
        )
        .status
    };
    assert_eq!(with("s3cret-token"), 200);
    std::fs::write(dir.path().join("token"), "n3w-token").unwrap();
    server.wait_for_stderr("re-read", Duration::from_secs(5));
    assert_eq!(with("n3w-token"), 200);
    assert_eq!(with("s3cret-token"), 401);
}

#[test]
fn status_and_probes_keep_the_documented_key_order_and_findings_are_written_as_check_writes_them() {
    use super::object_keys;
    let dir = served_folder();
    std::fs::write(
        dir.path().join("rules/broken.rules"),
        "ruleset broken extends default\nstep last_step_agnet\n",
    )
    .unwrap();
    std::fs::copy(
        dir.path().join("contexts/hubspot.yaml"),
        dir.path().join("contexts/broken.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("token"), "t0k\n").unwrap();
    let server = Server::start_in(
        dir.path(),
        &[
            "--rules",
            "rules",
            "--contexts",
            "contexts",
            "--decision-log",
            "decisions.jsonl",
            "--token-file",
            "token",
        ],
    );
    // A refused context and a refused token file.
    std::fs::write(
        dir.path().join("contexts/hubspot.yaml"),
        "integration: hubspot\nusers: 7\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("token"), "").unwrap();
    server.wait_for_stderr("not reloading hubspot", Duration::from_secs(5));
    server.wait_for_stderr("previous token stays in force", Duration::from_secs(5));

    let check = crate::common::callassign_in(
        dir.path(),
        &["check", "--format", "json", "rules/broken.rules"],
        b"",
    );
    let check_keys = object_keys(&check.stdout);
    assert_eq!(check_keys.len(), 1, "{}", check.stdout);
    let status = request(
        server.addr,
        "GET",
        "/v1/status",
        &[("Authorization", "Bearer t0k")],
        b"",
    )
    .text();
    let keys = object_keys(&status);
    let has = |first: &[&str]| {
        let first: Vec<String> = first.iter().map(|k| k.to_string()).collect();
        keys.iter().filter(move |k| k.starts_with(&first))
    };
    let written = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    // Findings: a rule file's as `check --format json` writes them, and a
    // refused context's or token file's in the same order.
    let findings: Vec<&Vec<String>> = has(&["code"]).collect();
    assert_eq!(findings.len(), 3, "{status}");
    let other = written(&["code", "severity", "file", "message", "help"]);
    for finding in findings {
        assert!(
            *finding == check_keys[0] || *finding == other,
            "{finding:?} in {status}"
        );
    }
    assert_eq!(
        has(&["code", "severity", "file", "line"]).next(),
        Some(&check_keys[0]),
        "{status}"
    );
    for documented in [
        &["path", "written", "lost", "error"][..],
        &["path", "last_refused"],
        &["at", "result", "findings"],
        &["rulesets", "not_served"],
    ] {
        assert!(
            has(documented).any(|keys| keys[..documented.len()] == written(documented)),
            "{documented:?} in {status}"
        );
    }
    let ready = server.get("/readyz").text();
    assert_eq!(object_keys(&ready), vec![written(&["status", "rulesets"])]);
}
