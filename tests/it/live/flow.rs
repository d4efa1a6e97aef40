//! The loop end to end on one SQLite store: events in, decisions out,
//! through CloudTalk's faults and a target's.

use std::time::Duration;

use super::*;

#[test]
fn every_accepted_event_ends_delivered_with_the_owner_eval_gives() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..24u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    // CloudTalk fails a few requests first, a target refuses a few.
    cloudtalk.fail_next(&[500, 503, 429, 500], Some("1"));
    target.fail_next(&[503, 500]);
    std::fs::write(folder.path().join("token"), "s3cret-token\n").unwrap();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .arg("--deliver-token-file")
        .arg("token")
        .start();
    // The series alerts watch are there from the start, at 0: an
    // `increase(…) > 0` alert sees the first failure too.
    for series in [
        format!(
            "callassign_deliveries_total{{target=\"{}\",outcome=\"failed\"}}",
            target.url()
        ),
        "callassign_cloudtalk_events_total{ruleset=\"hubspot\",outcome=\"unavailable\"}"
            .to_string(),
        "callassign_live_decisions_total{ruleset=\"hubspot\",step=\"gave_up\"}".to_string(),
        "callassign_live_retries_total{reason=\"rate_limited\"}".to_string(),
        "callassign_cloudtalk_fetches_total{api=\"history\",outcome=\"refused\"}".to_string(),
    ] {
        assert_eq!(server.metric(&series), Some(0.0), "{series}");
    }
    for n in calls.clone() {
        let answer = server.post_event("hubspot", &event(n));
        assert_eq!(answer.status, 202, "{}", answer.text());
        assert_eq!(
            answer.json(),
            json!({"call": call_id(n), "ruleset": "hubspot", "state": "pending"})
        );
    }
    wait_until("every call delivered", Duration::from_secs(60), || {
        target.accepted().len() >= 24
    });
    check_deliveries(folder.path(), &target, calls.clone());
    let received = target.received();
    assert!(received
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer s3cret-token")));
    assert!(cloudtalk.log().iter().any(|(_, status)| *status == 429));

    // What the service and the command line say of a call.
    let view = server.get(&format!("/v1/decisions/{}", call_id(1))).json();
    assert_eq!(view["state"], "decided");
    assert_eq!(
        view["assignee"],
        json!({"id": "103", "email": "support@acme.com"})
    );
    assert_eq!(view["deliveries"][0]["state"], "delivered");
    assert_eq!(view["deliveries"][0]["target"], target.url());
    let keys: Vec<&String> = view.as_object().unwrap().keys().collect();
    for key in [
        "ruleset",
        "call",
        "hash",
        "assignee",
        "step",
        "decided_at",
        "deliveries",
    ] {
        assert!(view.get(key).is_some(), "{key} in {keys:?}");
    }
    assert_eq!(
        server
            .metric("callassign_cloudtalk_events_total{ruleset=\"hubspot\",outcome=\"accepted\"}"),
        Some(24.0)
    );
    let delivered = format!(
        "callassign_deliveries_total{{target=\"{}\",outcome=\"delivered\"}}",
        target.url()
    );
    // The gauges are set every two seconds.
    wait_until("the metrics caught up", Duration::from_secs(10), || {
        server.metric(&delivered) == Some(24.0)
            && server.metric("callassign_live_oldest_pending_seconds{kind=\"event\"}") == Some(0.0)
            && server.metric("callassign_live_pending{kind=\"delivery\"}") == Some(0.0)
    });
    let listed = decisions(folder.path(), &["--store", &sqlite(folder.path())]);
    assert_eq!(
        (listed.code, listed.stdout.as_str()),
        (0, ""),
        "{}",
        listed.stderr
    );
    assert_eq!(listed.stderr, "nothing pending or failed\n");
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn a_repeated_event_answers_the_stored_decision_and_delivers_nothing_new() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    cloudtalk.add(&call_id(2), records(2));
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    let first = server.post_event("hubspot", &event(2));
    assert_eq!(first.status, 202);
    // Like every answer to a request naming a served ruleset, the events
    // route's name the version served.
    let served = first.header("callassign-ruleset-hash").map(str::to_string);
    assert_eq!(
        served.as_ref().map(String::len),
        Some(64),
        "{:?}",
        first.headers
    );
    wait_until("delivered", Duration::from_secs(30), || {
        target.accepted().len() == 1
    });
    wait_until("marked delivered", Duration::from_secs(10), || {
        server.get(&format!("/v1/decisions/{}", call_id(2))).json()["deliveries"][0]["state"]
            == "delivered"
    });
    let again = server.post_event("hubspot", &event(2));
    assert_eq!(again.status, 200, "{}", again.text());
    let view = again.json();
    assert_eq!(view["state"], "decided");
    assert_eq!(view["step"], "call_agent");
    assert_eq!(view["deliveries"][0]["state"], "delivered");
    assert_eq!(
        view["hash"].as_str().unwrap(),
        target.accepted()[0].body["hash"].as_str().unwrap()
    );
    assert_eq!(again.header("callassign-ruleset-hash"), served.as_deref());
    assert_eq!(view["hash"].as_str(), served.as_deref());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(target.received().len(), 1, "nothing new is delivered");
    // CloudTalk was asked once per record.
    assert_eq!(cloudtalk.log().len(), 2, "{:?}", cloudtalk.log());
}

/// A redirect is not a delivery: followed, a 301, 302 or 303 turns the
/// POST into a GET without the decision (and a 307 sends it to an address
/// nobody configured), and the 200 at the end marked the decision
/// delivered. A 3xx is retried like any answer that is not a 2xx, and the
/// error names where the target points.
#[test]
fn a_target_that_redirects_has_not_taken_the_decision() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    cloudtalk.add(&call_id(2), records(2));
    target.fail_next(&[302, 307]);
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    assert_eq!(server.post_event("hubspot", &event(2)).status, 202);
    wait_until("delivered", Duration::from_secs(30), || {
        !target.accepted().is_empty() || !target.moved().is_empty()
    });
    assert_eq!(target.moved(), vec![], "a redirect was followed");
    let statuses: Vec<u16> = target.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [302, 307, 200]);
    wait_until("marked delivered", Duration::from_secs(10), || {
        server.get(&format!("/v1/decisions/{}", call_id(2))).json()["deliveries"][0]["state"]
            == "delivered"
    });
    let view = server.get(&format!("/v1/decisions/{}", call_id(2))).json();
    assert_eq!(view["deliveries"][0]["attempts"], 3, "{view}");
    let stderr = server.stderr();
    assert!(
        stderr.contains("answered 302, a redirect to `/hooks/moved`"),
        "{stderr}"
    );
}

#[test]
fn a_body_without_a_usable_call_id_is_refused_naming_the_key_and_the_keys_found() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).start();
    // A compressed body is refused as such, not read as broken JSON.
    let compressed = request(
        server.addr,
        "POST",
        "/v1/cloudtalk/hubspot/events",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        b"\x1f\x8b\x08\x00",
    );
    assert!(compressed.header("callassign-ruleset-hash").is_some());
    compressed.error(415, "callassign::unsupported_media_type");
    let answer = server.post_event("hubspot", br#"{"call_uuid":"44fe","callid":7}"#);
    assert!(
        answer.header("callassign-ruleset-hash").is_some(),
        "{:?}",
        answer.headers
    );
    let error = answer.error(422, "callassign::no_call_id");
    assert_eq!(
        error["message"],
        "the body has no `call_id` (the call id): it has `call_uuid`, `callid`"
    );
    assert!(
        error["help"]
            .as_str()
            .unwrap()
            .starts_with("did you mean `callid`?"),
        "{error}"
    );
    server
        .post_event("hubspot", b"[]")
        .error(422, "callassign::no_call_id");
    server
        .post_event("hubspot", br#"{"call_id":1.5}"#)
        .error(422, "callassign::no_call_id");
    // Numbers CloudTalk never gives as a call id.
    for (body, found) in [
        (
            &br#"{"call_id":1e300}"#[..],
            "a number in exponent form, `1e300`",
        ),
        (br#"{"call_id":-3}"#, "a negative number, `-3`"),
        (br#"{"call_id":0}"#, "`0`"),
    ] {
        let error = server
            .post_event("hubspot", body)
            .error(422, "callassign::no_call_id");
        assert_eq!(
            error["message"].as_str().unwrap(),
            format!(
                "`call_id` should be the call id, a positive whole number or a string, found {found}"
            ),
        );
    }
    server
        .post_event("nowhere", &event(1))
        .error(404, "callassign::unknown_ruleset");
    server
        .get("/v1/decisions/42")
        .error(404, "callassign::unknown_call");
    assert!(cloudtalk.log().is_empty());

    // Another key, and other keys kept in the stored event.
    let server = Start::new(
        folder.path(),
        format!("sqlite:{}", folder.path().join("other.db").display()),
        &cloudtalk,
    )
    .arg("--event-call-id")
    .arg("cdr")
    .start();
    let answer = server.post_event("hubspot", br#"{"cdr":"1000007","extra":{"kept":[1]}}"#);
    assert_eq!(answer.status, 202, "{}", answer.text());
    assert_eq!(answer.json()["call"], "1000007");
    let error = server
        .post_event("hubspot", &event(1))
        .error(422, "callassign::no_call_id");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("the body has no `cdr`"),
        "{error}"
    );
}

#[test]
fn error_messages_quote_at_most_64_characters_of_what_the_client_sent() {
    use crate::serve::assert_echo_capped;
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).start();
    let long = "x".repeat(60_000);
    let digits = "7".repeat(5_000);
    let refused = [
        (
            server.post_event(&long, &event(1)),
            404,
            "callassign::unknown_ruleset",
        ),
        (
            server.post_event("hubspot", format!(r#"{{"call_id":"{long}"}}"#).as_bytes()),
            422,
            "callassign::no_call_id",
        ),
        (
            server.post_event(
                "hubspot",
                format!(r#"{{"{long}":1,"c{long}":2}}"#).as_bytes(),
            ),
            422,
            "callassign::no_call_id",
        ),
        (
            server.get(&format!("/v1/decisions/{long}")),
            404,
            "callassign::unknown_call",
        ),
        (
            server.get(&format!("/v1/decisions/42?ruleset={long}")),
            404,
            "callassign::unknown_call",
        ),
        (
            server.get(&format!("/v1/decisions/42?{long}=1")),
            400,
            "callassign::bad_query",
        ),
    ];
    for (index, (answer, status, code)) in refused.iter().enumerate() {
        let error = answer.error(*status, code);
        assert_echo_capped(error["message"].as_str().unwrap(), &format!("case {index}"));
    }
    // A parameter given twice is refused, not the last one taken.
    server
        .get("/v1/decisions/42?ruleset=hubspot&ruleset=zendesk")
        .error(400, "callassign::bad_query");
    // The did-you-mean of a long key too.
    let answer = server.post_event("hubspot", format!(r#"{{"call_i{long}":1}}"#).as_bytes());
    let error = answer.error(422, "callassign::no_call_id");
    assert!(error["help"].as_str().unwrap().len() < 400, "{error}");
    // A 5,000-digit call id, as a string and in the path.
    let answer = server.post_event("hubspot", format!(r#"{{"call_id":"{digits}"}}"#).as_bytes());
    let message = answer.error(422, "callassign::no_call_id")["message"].to_string();
    assert!(
        message.contains(&format!("{}…", "7".repeat(64))),
        "{message}"
    );
    assert!(!message.contains(&"7".repeat(65)), "{message}");
    let answer = server.get(&format!("/v1/decisions/{digits}"));
    let message = answer.error(404, "callassign::unknown_call")["message"].to_string();
    assert!(!message.contains(&"7".repeat(65)), "{message}");
}

#[test]
fn a_call_not_yet_in_cloudtalk_is_retried_within_30_seconds_and_never_decided_on_half_of_it() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    cloudtalk.add(&call_id(0), records(0));
    cloudtalk.missing_for(&call_id(0), Duration::from_secs(2));
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    let started = Instant::now();
    assert_eq!(server.post_event("hubspot", &event(0)).status, 202);
    wait_until("a first attempt", Duration::from_secs(10), || {
        server.get(&format!("/v1/decisions/{}", call_id(0))).json()["attempts"] == 1
    });
    let view = server.get(&format!("/v1/decisions/{}", call_id(0))).json();
    assert_eq!(view["state"], "pending");
    assert_eq!(view["assignee"], Value::Null);
    assert_eq!(
        view["last_error"],
        format!(
            "call `{}` is not in CloudTalk's call history yet",
            call_id(0)
        )
    );
    wait_until("delivered", Duration::from_secs(40), || {
        target.accepted().len() == 1
    });
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(32),
        "{waited:?}"
    );
    check_deliveries(folder.path(), &target, [0]);
}

#[test]
fn a_delivery_refused_past_the_give_up_time_fails_and_is_replayed_from_the_command_line() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    cloudtalk.add(&call_id(3), records(3));
    target.fail_next(&[500; 4]);
    let store = sqlite(folder.path());
    let server = Start::new(folder.path(), store.clone(), &cloudtalk)
        .deliver(&target)
        .arg("--give-up-after")
        .arg("2s")
        .start();
    assert_eq!(server.post_event("hubspot", &event(3)).status, 202);
    let path = format!("/v1/decisions/{}", call_id(3));
    wait_until("failed", Duration::from_secs(30), || {
        server.get(&path).json()["deliveries"][0]["state"] == "failed"
    });
    let view = server.get(&path).json();
    assert!(
        view["deliveries"][0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("gave up after 2s: answered 500"),
        "{view}"
    );
    let listed = decisions(
        folder.path(),
        &["--store", &store, "--state", "failed", "--format", "json"],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed: Value = serde_json::from_str(listed.stdout.trim()).unwrap();
    assert_eq!(
        (
            listed["call"].as_str(),
            listed["deliveries"][0]["state"].as_str()
        ),
        (Some(call_id(3).as_str()), Some("failed"))
    );

    let human = decisions(folder.path(), &["--store", &store, "--call", &call_id(3)]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!("hubspot:{}  decided  received 20", call_id(3))),
        "{}",
        human.stdout
    );
    assert!(
        lines[1].starts_with("  decided   102 (Eva.Green@acme.com) by contact_owner at 20"),
        "{}",
        human.stdout
    );
    assert!(
        lines[2].starts_with(&format!("  deliver   {}  failed  ", target.url())),
        "{}",
        human.stdout
    );
    assert!(
        lines[2].ends_with("(gave up after 2s: answered 500)"),
        "{}",
        human.stdout
    );
    let unknown = decisions(folder.path(), &["--store", &store, "--call", "999"]);
    assert_eq!(
        (unknown.code, unknown.stderr.as_str()),
        (2, "error: the store holds no call `999`\n")
    );
    let replayed = decisions(folder.path(), &["--store", &store, "--replay", &call_id(3)]);
    assert_eq!(
        (replayed.code, replayed.stdout.trim()),
        (0, format!("hubspot:{}: 1 replayed", call_id(3)).as_str()),
        "{}",
        replayed.stderr
    );
    wait_until(
        "delivered after the replay",
        Duration::from_secs(30),
        || target.accepted().len() == 1,
    );
    check_deliveries(folder.path(), &target, [3]);
    let again = decisions(folder.path(), &["--store", &store, "--replay", &call_id(3)]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("has nothing to replay"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_call_held_by_two_rulesets_is_named_with_its_ruleset() {
    let folder = served_folder();
    std::fs::copy(
        folder.path().join("contexts/hubspot.yaml"),
        folder.path().join("contexts/zendesk.yaml"),
    )
    .unwrap();
    let cloudtalk = FakeCloudTalk::start();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).start();
    assert_eq!(server.post_event("hubspot", &event(5)).status, 202);
    assert_eq!(server.post_event("zendesk", &event(5)).status, 202);
    let error = server
        .get(&format!("/v1/decisions/{}", call_id(5)))
        .error(409, "callassign::ambiguous_call");
    assert_eq!(
        error["message"],
        format!(
            "call `{}` was received for several rulesets: `hubspot`, `zendesk`",
            call_id(5)
        )
    );
    let view = server
        .get(&format!("/v1/decisions/{}?ruleset=zendesk", call_id(5)))
        .json();
    assert_eq!(
        (view["ruleset"].as_str(), view["state"].as_str()),
        (Some("zendesk"), Some("pending"))
    );
}

#[test]
fn serve_refuses_to_start_a_loop_it_cannot_run() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let start = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk);
    let mut command = start.command();
    command.env_remove("CLOUDTALK_API_KEY_SECRET");
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`CLOUDTALK_API_KEY_ID` and `CLOUDTALK_API_KEY_SECRET` must be set"),
        "{stderr}"
    );

    let error = Start::new(folder.path(), "mysql://x".to_string(), &cloudtalk)
        .try_start()
        .err()
        .unwrap();
    assert!(error.contains("`mysql://x` is not a store"), "{error}");
    let first = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).start();
    let error = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .try_start()
        .err()
        .unwrap();
    assert!(
        error.contains("is in use by another `callassign serve`"),
        "{error}"
    );
    drop(first);
    // A store that is not a file: said before SQLite writes beside it.
    for (store, what) in [
        (format!("sqlite:{}", folder.path().display()), "is a folder"),
        ("sqlite:/dev/null".to_string(), "is a device"),
    ] {
        let error = Start::new(folder.path(), store, &cloudtalk)
            .try_start()
            .err()
            .unwrap();
        assert!(error.contains(what), "{error}");
        assert!(error.contains("names a database file"), "{error}");
    }
    assert!(!std::path::Path::new("/dev/null-journal").exists());
    // Two targets that would show as one (their query hidden): refused.
    let error = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver_to("http://127.0.0.1:9/hook?k=1".to_string())
        .deliver_to("http://127.0.0.1:9/hook?k=2".to_string())
        .try_start()
        .err()
        .unwrap();
    assert!(
        error.contains("would both show as `http://127.0.0.1:9/hook`"),
        "{error}"
    );
    // Without --store, the routes say how to turn the loop on.
    let plain = crate::serve::Server::start_in(
        folder.path(),
        &["--rules", "rules", "--contexts", "contexts"],
    );
    plain
        .post_json("/v1/cloudtalk/hubspot/events", &event(1))
        .error(404, "callassign::live_off");
}

/// The schema of the delivered decision refuses what is not one (so a
/// delivery that passes it says something).
#[test]
fn the_decision_schema_refuses_what_is_not_a_decision() {
    let schema = std::fs::read_to_string(repo().join("schema/decision.schema.json")).unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&schema).unwrap()).unwrap();
    let good = json!({"call": "1", "ruleset": "hubspot", "hash": "a".repeat(64), "assignee": null,
        "step": "unassigned", "decided_at": "2026-12-02T03:15:36.123Z"});
    assert!(schema.is_valid(&good));
    let mut user = good.clone();
    user["step"] = json!("user");
    user["user"] = json!("ops@acme.com");
    user["assignee"] = json!({"id": "7", "email": "ops@acme.com"});
    assert!(schema.is_valid(&user));
    for (key, value) in [
        ("hash", json!("abc")),
        ("decided_at", json!("2026-12-02 03:15:36")),
        ("assignee", json!({"id": "7"})),
        ("call", json!(1)),
        ("trace", json!([])),
    ] {
        let mut bad = good.clone();
        bad[key] = value;
        assert!(!schema.is_valid(&bad), "{bad}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("ruleset");
    assert!(!schema.is_valid(&missing));
}

/// The delivery token file is read as `--token-file` is: a named pipe is
/// refused at start (a read would wait for a writer for ever), and so are
/// an empty file and a token a header cannot carry.
#[test]
fn a_delivery_token_file_that_is_a_pipe_empty_or_not_a_header_is_refused_at_start() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let pipe = folder.path().join("pipe-token");
    assert!(std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap()
        .success());
    std::fs::write(folder.path().join("empty-token"), "\n").unwrap();
    std::fs::write(folder.path().join("spaced-token"), "two words\n").unwrap();
    for (file, said) in [
        ("pipe-token", "named pipe"),
        ("empty-token", "is empty"),
        ("spaced-token", "characters a header cannot carry"),
    ] {
        let refused = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
            .deliver(&target)
            .arg("--deliver-token-file")
            .arg(file)
            .try_start()
            .err()
            .unwrap_or_else(|| panic!("serve started with `--deliver-token-file {file}`"));
        assert!(
            refused.contains("--deliver-token-file") && refused.contains(said),
            "{file}: {refused}"
        );
    }
}

/// A rotated delivery token (a Secret swaps its file) is sent from the
/// next delivery on, without a restart; a rotation to an empty file keeps
/// the token in force.
#[test]
fn a_rotated_delivery_token_is_sent_from_the_next_delivery_on() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    for n in 0..3u64 {
        cloudtalk.add(&call_id(n), records(n));
    }
    let token = folder.path().join("token");
    std::fs::write(&token, "first-token\n").unwrap();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .arg("--deliver-token-file")
        .arg("token")
        .start();
    let swap = |text: &str| {
        let next = folder.path().join("token.next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, &token).unwrap();
    };
    let deliver = |n: u64| {
        assert_eq!(server.post_event("hubspot", &event(n)).status, 202);
        wait_until("the call delivered", Duration::from_secs(30), || {
            target.accepted().len() > n as usize
        });
        target.received().last().unwrap().authorization.clone()
    };
    assert_eq!(deliver(0).as_deref(), Some("Bearer first-token"));
    swap("second-token\n");
    assert_eq!(deliver(1).as_deref(), Some("Bearer second-token"));
    swap("\n");
    assert_eq!(deliver(2).as_deref(), Some("Bearer second-token"));
    assert!(
        server
            .stderr()
            .contains("the previous delivery token stays in force"),
        "{}",
        server.stderr()
    );
}

/// A `Retry-After` of a day is held to five minutes, and no wait outlasts
/// `--give-up-after`: the call is given up then, not a day (or an hour)
/// later, and says why.
#[test]
fn a_long_retry_after_does_not_outlast_the_give_up_time() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    cloudtalk.add(&call_id(4), records(4));
    cloudtalk.fail_next(&[429; 20], Some("86400"));
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .arg("--give-up-after")
        .arg("3s")
        .start();
    assert_eq!(server.post_event("hubspot", &event(4)).status, 202);
    let path = format!("/v1/decisions/{}", call_id(4));
    wait_until("given up", Duration::from_secs(20), || {
        server.get(&path).json()["state"] == "gave_up"
    });
    let view = server.get(&path).json();
    let error = view["last_error"].as_str().unwrap();
    assert!(error.starts_with("gave up after 3s"), "{view}");
    assert!(error.contains("rate"), "{view}");
    assert!(
        server.stderr().contains("retrying in 3s") || server.stderr().contains("retrying in 2s"),
        "the retry waits for the give-up time, not the day asked:\n{}",
        server.stderr()
    );
}

/// A decision owed to a target that a restart no longer names with
/// `--deliver` would wait for ever: it is failed at start, and said.
#[test]
fn a_delivery_owed_to_a_target_dropped_from_deliver_is_failed_at_start() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    cloudtalk.add(&call_id(5), records(5));
    let dropped = FakeTarget::down();
    let kept = FakeTarget::start();
    let store = sqlite(folder.path());
    let server = Start::new(folder.path(), store.clone(), &cloudtalk)
        .deliver(&dropped)
        .deliver(&kept)
        .start();
    assert_eq!(server.post_event("hubspot", &event(5)).status, 202);
    let path = format!("/v1/decisions/{}", call_id(5));
    wait_until("delivered to the kept one", Duration::from_secs(30), || {
        kept.accepted().len() == 1
    });
    assert_eq!(server.stop(), Some(0));

    let server = Start::new(folder.path(), store, &cloudtalk)
        .deliver(&kept)
        .start();
    let view = server.get(&path).json();
    let deliveries = view["deliveries"].as_array().unwrap();
    let to_dropped = deliveries
        .iter()
        .find(|delivery| delivery["target"] == dropped.url())
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(to_dropped["state"], "failed", "{view}");
    assert!(
        to_dropped["last_error"]
            .as_str()
            .unwrap()
            .contains("no longer given with `--deliver`"),
        "{view}"
    );
    assert!(
        server.stderr().contains("1 pending delivery to `"),
        "{}",
        server.stderr()
    );
    wait_until("nothing pending", Duration::from_secs(10), || {
        server.metric("callassign_live_pending{kind=\"delivery\"}") == Some(0.0)
    });
}

/// `decisions` shows a target without its query or credentials; that
/// shown form is what `--replay --target` takes. `--limit` is a limit on
/// calls listed, and says when there are more.
#[test]
fn a_failed_delivery_is_replayed_to_its_target_as_listings_show_it() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    for n in [6, 7] {
        cloudtalk.add(&call_id(n), records(n));
    }
    target.fail_next(&[500; 6]);
    let store = sqlite(folder.path());
    let server = Start::new(folder.path(), store.clone(), &cloudtalk)
        .deliver_to(format!("{}?secret=abc", target.url()))
        .arg("--give-up-after")
        .arg("2s")
        .start();
    for n in [6, 7] {
        assert_eq!(server.post_event("hubspot", &event(n)).status, 202);
    }
    wait_until("both failed", Duration::from_secs(30), || {
        [6, 7].iter().all(|n| {
            server.get(&format!("/v1/decisions/{}", call_id(*n))).json()["deliveries"][0]["state"]
                == "failed"
        })
    });
    let listed = decisions(folder.path(), &["--store", &store, "--state", "failed"]);
    assert!(listed.stdout.contains(&target.url()), "{}", listed.stdout);
    assert!(!listed.stdout.contains("secret"), "{}", listed.stdout);

    let one = decisions(
        folder.path(),
        &[
            "--store", &store, "--state", "all", "--limit", "1", "--format", "json",
        ],
    );
    assert_eq!(one.stdout.lines().count(), 1, "{}", one.stdout);
    assert!(
        one.stderr
            .contains("more calls than these 1: raise `--limit`"),
        "{}",
        one.stderr
    );
    let zero = decisions(folder.path(), &["--store", &store, "--limit", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.stderr);

    let replayed = decisions(
        folder.path(),
        &[
            "--store",
            &store,
            "--replay",
            &call_id(6),
            "--target",
            &target.url(),
        ],
    );
    assert_eq!(
        (replayed.code, replayed.stdout.trim()),
        (0, format!("hubspot:{}: 1 replayed", call_id(6)).as_str()),
        "{}",
        replayed.stderr
    );
    wait_until(
        "delivered after the replay",
        Duration::from_secs(30),
        || target.accepted().len() == 1,
    );
}
