//! Nothing lost: a kill -9 at any point of an event's way and a restart
//! on the same store; a store on a full disk; a burst of events.

use std::time::Duration;

use super::*;

/// Posts events `calls`, each of which must be accepted.
fn post_all(server: &LiveServer, calls: impl IntoIterator<Item = u64>) {
    for n in calls {
        let answer = server.post_event("hubspot", &event(n));
        assert_eq!(answer.status, 202, "{}", answer.text());
    }
}

fn state_of(server: &LiveServer, n: u64) -> Value {
    server.get(&format!("/v1/decisions/{}", call_id(n))).json()
}

#[test]
fn a_kill_before_the_fetch_loses_no_event() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..16u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    // CloudTalk is slow: every call is still being fetched at the kill.
    cloudtalk.slow(Duration::from_secs(5));
    let start = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).deliver(&target);
    let server = start.start();
    post_all(&server, calls.clone());
    server.kill();
    assert!(target.received().is_empty());
    cloudtalk.slow(Duration::ZERO);
    let _server = start.start();
    wait_until(
        "every call delivered after the restart",
        Duration::from_secs(60),
        || target.accepted().len() >= 16,
    );
    check_deliveries(folder.path(), &target, calls);
}

#[test]
fn a_kill_between_decision_and_delivery_delivers_the_stored_decision() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let mut target = FakeTarget::down();
    let calls = 0..12u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    let start = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).deliver(&target);
    let server = start.start();
    post_all(&server, calls.clone());
    wait_until("every call decided", Duration::from_secs(30), || {
        calls
            .clone()
            .all(|n| state_of(&server, n)["state"] == "decided")
    });
    let decided: Vec<Value> = calls.clone().map(|n| state_of(&server, n)).collect();
    assert!(decided
        .iter()
        .all(|view| view["deliveries"][0]["state"] == "pending"));
    server.kill();
    target.resume();
    // CloudTalk now fails: the decisions stored are delivered, not made again.
    cloudtalk.fail_next(&[500; 100], None);
    let server = start.start();
    wait_until(
        "every call delivered after the restart",
        Duration::from_secs(60),
        || target.accepted().len() >= 12,
    );
    check_deliveries(folder.path(), &target, calls.clone());
    for (n, before) in calls.zip(decided) {
        let after = state_of(&server, n);
        assert_eq!(after["decided_at"], before["decided_at"], "decided once");
    }
}

#[test]
fn a_kill_mid_delivery_sends_the_same_decision_again_and_no_other() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..6u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    // The target takes its time: the kill lands while it holds a request.
    target.slow(Duration::from_millis(1500));
    let start = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).deliver(&target);
    let server = start.start();
    post_all(&server, calls.clone());
    wait_until("a delivery under way", Duration::from_secs(30), || {
        !target.received().is_empty()
    });
    server.kill();
    target.slow(Duration::ZERO);
    let _server = start.start();
    wait_until(
        "every call delivered after the restart",
        Duration::from_secs(60),
        || {
            calls.clone().all(|n| {
                target
                    .accepted()
                    .iter()
                    .any(|r| r.key == format!("hubspot:{}", call_id(n)))
            })
        },
    );
    check_deliveries(folder.path(), &target, calls);
    let first = &target.received()[0];
    let same: Vec<_> = target
        .received()
        .into_iter()
        .filter(|r| r.key == first.key)
        .collect();
    assert!(
        same.len() >= 2,
        "the interrupted delivery is sent again: {same:?}"
    );
}

#[test]
fn kills_at_random_moments_lose_nothing_and_never_change_a_decision() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..40u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    cloudtalk.slow(Duration::from_millis(30));
    target.slow(Duration::from_millis(30));
    let start = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk).deliver(&target);
    let mut rng = crate::support::Rng::new(19);
    let mut next = 0u64;
    for _round in 0..5 {
        let server = start.start();
        // A few events, then a kill at a random moment of their way.
        let batch = next..(next + 8).min(40);
        next = batch.end;
        post_all(&server, batch);
        std::thread::sleep(Duration::from_millis(rng.next() % 400));
        server.kill();
    }
    let _server = start.start();
    wait_until("every call delivered", Duration::from_secs(90), || {
        calls.clone().all(|n| {
            target
                .accepted()
                .iter()
                .any(|r| r.key == format!("hubspot:{}", call_id(n)))
        })
    });
    check_deliveries(folder.path(), &target, calls);
}

#[test]
fn a_store_on_a_full_disk_answers_503_and_never_acknowledges_an_event_it_did_not_store() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let store = sqlite(folder.path());
    // A file-size limit (`ulimit -f`) is the full disk: the store's writes
    // fail past it as they do on a full file system (no root needed for a
    // small tmpfs, and no other test's disk is filled).
    let mut start = Start::new(folder.path(), store.clone(), &cloudtalk);
    start.file_size_limit = Some(512 * 1024);
    let server = start.start();
    let padding = "x".repeat(16 * 1024);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for n in 0..200u64 {
        let body = json!({"call_id": 1_000_000 + n, "padding": padding}).to_string();
        let answer = server.post_event("hubspot", body.as_bytes());
        match answer.status {
            202 => acknowledged.push(n),
            503 => {
                let error = answer.error(503, "callassign::store_unavailable");
                assert!(
                    error["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("the store `"),
                    "{error}"
                );
                refused += 1;
            }
            other => panic!("{other}: {}", answer.text()),
        }
    }
    assert!(refused > 0, "the disk never filled");
    assert!(!acknowledged.is_empty());
    // It keeps running and answering.
    assert_eq!(server.get("/healthz").status, 200);
    assert!(
        server
            .metric(
                "callassign_cloudtalk_events_total{ruleset=\"hubspot\",outcome=\"unavailable\"}"
            )
            .unwrap()
            >= 1.0
    );
    server.kill();

    // Room again: every acknowledged event is there.
    let server = Start::new(folder.path(), store, &cloudtalk).start();
    for n in acknowledged {
        let view = server.get(&format!("/v1/decisions/{}", call_id(n)));
        assert_eq!(
            view.status,
            200,
            "acknowledged event {n} was lost: {}",
            view.text()
        );
    }
}

#[test]
fn a_burst_of_10000_events_is_absorbed_in_bounded_memory_and_delivered() {
    crate::serve::raise_open_files_limit();
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    const EVENTS: u64 = 10_000;
    for n in 0..EVENTS {
        cloudtalk.add(&call_id(n), records(n));
    }
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    let before = server.rss_kib();
    let peak = std::sync::atomic::AtomicU64::new(before);
    std::thread::scope(|scope| {
        let senders: Vec<_> = (0..8u64)
            .map(|sender| {
                let server = &server;
                scope.spawn(move || {
                    for n in (sender..EVENTS).step_by(8) {
                        let answer = server.post_event("hubspot", &event(n));
                        assert_eq!(answer.status, 202, "{}", answer.text());
                    }
                })
            })
            .collect();
        while senders.iter().any(|sender| !sender.is_finished()) {
            peak.fetch_max(server.rss_kib(), std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let peak = peak.into_inner();
    // The events wait in the store, not in memory: a fixed number of calls
    // is worked on at once, whatever the backlog.
    assert!(
        peak < before + 80 * 1024,
        "memory grew from {before} KiB to {peak} KiB"
    );
    wait_until("every call delivered", Duration::from_secs(300), || {
        target.accepted().len() as u64 >= EVENTS
    });
    let after = server.rss_kib();
    assert!(
        after < before + 80 * 1024,
        "memory grew from {before} KiB to {after} KiB"
    );
    let keys: std::collections::BTreeSet<String> =
        target.accepted().into_iter().map(|r| r.key).collect();
    assert_eq!(keys.len() as u64, EVENTS);
}
