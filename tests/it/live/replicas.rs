//! Two replicas on one PostgreSQL store: each event handled once, and a
//! replica's work taken over by the other within 30 seconds of its death.
//!
//! These need a PostgreSQL server: `CALLASSIGN_TEST_POSTGRES` (which
//! `.ci/postgres` sets). In CI (`CI` set) its absence fails them; a
//! developer without one sees them skipped, loudly.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

/// A store of its own: a fresh schema on the test server.
fn postgres_store() -> Option<String> {
    let url = match std::env::var("CALLASSIGN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CALLASSIGN_TEST_POSTGRES is not set in CI: .ci/postgres starts a server and sets it")
        }
        _ => {
            eprintln!("SKIPPED: the replica tests need CALLASSIGN_TEST_POSTGRES=postgres://… (see .ci/postgres)");
            return None;
        }
    };
    let schema = format!(
        "replicas_{}_{}",
        std::process::id(),
        crate::support::Rng::new(now_nanos()).next()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
    });
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}options=-csearch_path%3D{schema}"))
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// How many times CloudTalk's call history was asked about each call.
fn fetches(cloudtalk: &FakeCloudTalk) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (path, _) in cloudtalk.log() {
        if let Some(call) = path.strip_prefix("/analytics/api/calls/") {
            *counts.entry(call.to_string()).or_default() += 1;
        }
    }
    counts
}

#[test]
fn two_replicas_share_one_store_and_handle_each_event_once() {
    let Some(store) = postgres_store() else {
        return;
    };
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..40u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    let start = Start::new(folder.path(), store.clone(), &cloudtalk).deliver(&target);
    let (first, second) = (start.start(), start.start());
    for n in calls.clone() {
        let replica = if n % 2 == 0 { &first } else { &second };
        assert_eq!(replica.post_event("hubspot", &event(n)).status, 202);
    }
    // A repeat through the other replica is the same event.
    let repeat = second.post_event("hubspot", &event(0));
    assert!(matches!(repeat.status, 200 | 202), "{}", repeat.text());
    wait_until("every call delivered", Duration::from_secs(60), || {
        target.accepted().len() >= 40
    });
    check_deliveries(folder.path(), &target, calls.clone());
    assert_eq!(target.received().len(), 40, "each decision delivered once");
    let fetched = fetches(&cloudtalk);
    assert!(
        fetched.values().all(|count| *count == 1),
        "each call fetched by one replica: {fetched:?}"
    );
    // Either replica shows any decision.
    let view = second.get(&format!("/v1/decisions/{}", call_id(0))).json();
    assert_eq!(view["deliveries"][0]["state"], "delivered");
    let listed = decisions(folder.path(), &["--store", &store]);
    assert_eq!(
        (listed.code, listed.stdout.as_str()),
        (0, ""),
        "{}",
        listed.stderr
    );
}

#[test]
fn a_dead_replicas_work_is_taken_over_within_30_seconds() {
    let Some(store) = postgres_store() else {
        return;
    };
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..12u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    let start = Start::new(folder.path(), store, &cloudtalk).deliver(&target);
    let doomed = start.start();
    // Everything goes to the first replica, whose fetches hang.
    cloudtalk.slow(Duration::from_secs(4));
    for n in calls.clone() {
        assert_eq!(doomed.post_event("hubspot", &event(n)).status, 202);
    }
    // Let it claim them all before a second replica exists.
    std::thread::sleep(Duration::from_millis(1000));
    let survivor = start.start();
    doomed.kill();
    let killed = Instant::now();
    cloudtalk.slow(Duration::ZERO);
    wait_until(
        "every call delivered by the survivor",
        Duration::from_secs(60),
        || target.accepted().len() >= 12,
    );
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(30), "taken over after {took:?}");
    check_deliveries(folder.path(), &target, calls);
    drop(survivor);
}

#[test]
fn replicas_killed_at_random_moments_lose_nothing_and_never_change_a_decision() {
    let Some(store) = postgres_store() else {
        return;
    };
    let folder = served_folder();
    let cloudtalk = FakeCloudTalk::start();
    let target = FakeTarget::start();
    let calls = 0..32u64;
    for n in calls.clone() {
        cloudtalk.add(&call_id(n), records(n));
    }
    cloudtalk.slow(Duration::from_millis(30));
    target.slow(Duration::from_millis(30));
    let start = Start::new(folder.path(), store, &cloudtalk).deliver(&target);
    let mut rng = crate::support::Rng::new(1919);
    let mut replicas = vec![start.start(), start.start()];
    for round in 0..4u64 {
        for n in round * 8..round * 8 + 8 {
            let replica = &replicas[(n % 2) as usize];
            assert_eq!(replica.post_event("hubspot", &event(n)).status, 202);
        }
        std::thread::sleep(Duration::from_millis(rng.next() % 400));
        // One replica dies mid-work; a new one joins.
        let victim = replicas.remove((rng.next() % 2) as usize);
        victim.kill();
        replicas.push(start.start());
    }
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
