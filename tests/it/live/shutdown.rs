//! SIGTERM while a delivery or a fetch hangs: the loop does not wait for
//! the 10-second timeout of a target or of CloudTalk that never answers.
//! What was interrupted stays pending in the store and is done after a
//! restart, with the same decision and Idempotency-Key.

use std::time::{Duration, Instant};

use super::*;

/// Well within `--shutdown-grace`'s default 10 s, and below the 10 s
/// a hung request would take to time out.
const PROMPT: Duration = Duration::from_secs(4);

/// SIGTERM; the exit code and how long it took.
fn stop_timed(server: LiveServer) -> (Option<i32>, Duration) {
    let started = Instant::now();
    let code = server.stop();
    (code, started.elapsed())
}

#[test]
fn sigterm_during_a_hung_delivery_exits_promptly_and_the_decision_is_delivered_after_a_restart() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    cloudtalk.add(&call_id(1), records(1));
    let hole = BlackHole::start();
    let addr = hole.addr();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver_to(hole.url("/hooks/calls"))
        .start();
    assert_eq!(server.post_event("hubspot", &event(1)).status, 202);
    wait_until("the delivery is sent", Duration::from_secs(30), || {
        hole.accepted() >= 1
    });
    // The request is written and waits for an answer that never comes.
    std::thread::sleep(Duration::from_millis(300));
    let view = server.get(&format!("/v1/decisions/{}", call_id(1))).json();
    assert_eq!(view["deliveries"][0]["state"], "pending", "{view}");
    let (code, took) = stop_timed(server);
    assert_eq!(code, Some(0));
    assert!(took < PROMPT, "SIGTERM took {took:?}");

    // Still pending; delivered after a restart to the same address,
    // answering now.
    drop(hole);
    let listed = decisions(folder.path(), &["--store", &sqlite(folder.path())]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains(&call_id(1)), "{}", listed.stdout);
    let target = FakeTarget::start_at(addr);
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    wait_until("the decision delivered", Duration::from_secs(30), || {
        target.accepted().len() == 1
    });
    check_deliveries(folder.path(), &target, [1]);
    assert_eq!(server.stop(), Some(0));
}

#[test]
fn sigterm_during_a_hung_fetch_exits_promptly_and_the_call_is_fetched_after_a_restart() {
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    cloudtalk.add(&call_id(2), records(2));
    let target = FakeTarget::start();
    let hole = BlackHole::start();
    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .cloudtalk_api(hole.url("/api"))
        .deliver(&target)
        .start();
    assert_eq!(server.post_event("hubspot", &event(2)).status, 202);
    wait_until("the fetch is sent", Duration::from_secs(30), || {
        hole.accepted() >= 1
    });
    std::thread::sleep(Duration::from_millis(300));
    let (code, took) = stop_timed(server);
    assert_eq!(code, Some(0));
    assert!(took < PROMPT, "SIGTERM took {took:?}");

    let server = Start::new(folder.path(), sqlite(folder.path()), &cloudtalk)
        .deliver(&target)
        .start();
    wait_until("the call delivered", Duration::from_secs(30), || {
        target.accepted().len() == 1
    });
    check_deliveries(folder.path(), &target, [2]);
    assert_eq!(server.stop(), Some(0));
}
