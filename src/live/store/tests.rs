//! One contract, both stores: every test runs on SQLite, and on
//! PostgreSQL when `CALLASSIGN_TEST_POSTGRES` names a database (in CI it
//! must: see `.ci/postgres`).

use super::*;

/// A fresh SQLite store in a folder of its own.
async fn sqlite() -> (Box<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        &format!("sqlite:{}", dir.path().join("live.db").display()),
        true,
    )
    .await
    .unwrap();
    (store, dir)
}

/// A PostgreSQL store on an empty schema of its own, or `None` (with a
/// loud message) outside CI when no server is given.
pub async fn postgres() -> Option<Box<dyn Store>> {
    let url = postgres_url()?;
    // A schema per test, so tests run side by side on one database.
    let schema = format!("t{}", fastrand::u64(..));
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-csearch_path%3D{schema}");
    Some(open(&url, true).await.unwrap())
}

/// The test server's URL. In CI (`CI` set) its absence fails the test:
/// a PostgreSQL test that silently passes proves nothing.
pub fn postgres_url() -> Option<String> {
    match std::env::var("CALLASSIGN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CALLASSIGN_TEST_POSTGRES is not set in CI: .ci/postgres starts a server and sets it")
        }
        _ => {
            eprintln!("SKIPPED: PostgreSQL tests need CALLASSIGN_TEST_POSTGRES=postgres://… (see .ci/postgres)");
            None
        }
    }
}

fn key(call: &str) -> Key {
    Key {
        ruleset: "hubspot".to_string(),
        call: call.to_string(),
    }
}

fn decided(at: Millis) -> Decided {
    Decided {
        hash: "h1".to_string(),
        decision: format!(r#"{{"call":"x","decided_at":{at}}}"#),
        trace: None,
        record: "{}".to_string(),
        decided_at: at,
    }
}

/// Runs `test` on every store there is.
macro_rules! both {
    ($name:ident, $test:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = super::sqlite().await;
                $test(&*store).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(store) = super::postgres().await {
                    $test(&*store).await;
                }
            }
        }
    };
}

async fn an_event_is_stored_once_and_a_repeat_says_where_it_is(store: &dyn Store) {
    assert_eq!(
        store.accept(&key("1"), r#"{"call_id":1}"#, 1000).await,
        Ok(Accepted::New)
    );
    assert_eq!(
        store
            .accept(&key("1"), r#"{"call_id":1,"again":true}"#, 1001)
            .await,
        Ok(Accepted::Pending)
    );
    // Another ruleset's event of the same call is another event.
    let other = Key {
        ruleset: "zendesk".to_string(),
        call: "1".to_string(),
    };
    assert_eq!(store.accept(&other, "{}", 1002).await, Ok(Accepted::New));
    let views = store.views("1", None).await.unwrap();
    assert_eq!(views.len(), 2);
    assert_eq!(views[0].key, key("1"));
    assert_eq!(
        (views[0].state, views[0].received_at),
        (EventState::Pending, 1000)
    );

    let claimed = store.claim("r1", 2000, 100, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let targets = ["http://a/".to_string(), "http://b/".to_string()];
    assert_eq!(
        store
            .decide(&key("1"), "r1", &decided(2050), &targets)
            .await,
        Ok(true)
    );
    match store.accept(&key("1"), "{}", 3000).await.unwrap() {
        Accepted::Decided(view) => {
            assert_eq!(view.state, EventState::Decided);
            assert_eq!(
                view.decision.as_deref(),
                Some(r#"{"call":"x","decided_at":2050}"#)
            );
            assert_eq!(view.hash.as_deref(), Some("h1"));
            assert_eq!(view.deliveries.len(), 2);
            assert!(view
                .deliveries
                .iter()
                .all(|d| d.state == DeliveryState::Pending));
        }
        other => panic!("{other:?}"),
    }
}
both!(
    accept,
    an_event_is_stored_once_and_a_repeat_says_where_it_is
);

async fn an_event_is_claimed_by_one_replica_until_its_lease_runs_out(store: &dyn Store) {
    store.accept(&key("1"), "{}", 1000).await.unwrap();
    store.accept(&key("2"), "{}", 1000).await.unwrap();
    let first = store.claim("r1", 1000, 100, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let second = store.claim("r2", 1000, 100, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].key, second[0].key);
    assert!(store.claim("r3", 1050, 100, 10).await.unwrap().is_empty());
    // r1 died: after its lease r3 takes the call over, and r1's late
    // decision is not stored.
    let taken = store.claim("r3", 1101, 100, 10).await.unwrap();
    assert_eq!(taken.len(), 2);
    assert_eq!(
        store.decide(&first[0].key, "r1", &decided(1102), &[]).await,
        Ok(false)
    );
    assert_eq!(
        store.decide(&first[0].key, "r3", &decided(1103), &[]).await,
        Ok(true)
    );
    let view = store
        .views(&first[0].key.call, None)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(view.decided_at, Some(1103));
}
both!(
    claim,
    an_event_is_claimed_by_one_replica_until_its_lease_runs_out
);

async fn a_retried_event_waits_until_due_and_counts_its_attempts(store: &dyn Store) {
    store.accept(&key("1"), "{}", 1000).await.unwrap();
    store.claim("r1", 1000, 100, 10).await.unwrap();
    store
        .retry(&key("1"), "r1", 5000, "not in the call history yet")
        .await
        .unwrap();
    assert!(store.claim("r1", 4999, 100, 10).await.unwrap().is_empty());
    let claimed = store.claim("r1", 5000, 100, 10).await.unwrap();
    assert_eq!(claimed[0].attempts, 1);
    let seen = store.views("1", None).await.unwrap();
    assert_eq!(
        seen[0].last_error.as_deref(),
        Some("not in the call history yet")
    );
    store
        .close(&key("1"), "r1", EventState::GaveUp, "gave up after 1d")
        .await
        .unwrap();
    let failed = store.list(Listing::Failed, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].state, failed[0].attempts),
        (EventState::GaveUp, 2)
    );
    assert!(store.list(Listing::Pending, 10).await.unwrap().is_empty());
    // A repeated event (or a replay) opens it again.
    assert_eq!(
        store.accept(&key("1"), "{}", 9000).await,
        Ok(Accepted::Reopened)
    );
    assert_eq!(
        store.claim("r1", 9000, 100, 10).await.unwrap()[0].attempts,
        0
    );
}
both!(
    retry,
    a_retried_event_waits_until_due_and_counts_its_attempts
);

async fn deliveries_go_out_in_order_per_target_with_one_replica_at_a_time(store: &dyn Store) {
    let targets = ["http://a/".to_string()];
    for call in ["1", "2"] {
        store.accept(&key(call), "{}", 1000).await.unwrap();
    }
    store.claim("r1", 1000, 100, 10).await.unwrap();
    store
        .decide(&key("2"), "r1", &decided(1001), &targets)
        .await
        .unwrap();
    store
        .decide(&key("1"), "r1", &decided(1002), &targets)
        .await
        .unwrap();

    assert_eq!(
        store.hold_target("http://a/", "r1", 1000, 100).await,
        Ok(true)
    );
    assert_eq!(
        store.hold_target("http://a/", "r2", 1050, 100).await,
        Ok(false)
    );
    assert_eq!(
        store.hold_target("http://a/", "r1", 1090, 100).await,
        Ok(true)
    );
    let head = store.head("http://a/").await.unwrap().unwrap();
    assert_eq!(head.key, key("2"), "decided first, delivered first");
    assert_eq!(head.body, r#"{"call":"x","decided_at":1001}"#);
    store
        .delivery_retry(head.id, 4000, "answered 503")
        .await
        .unwrap();
    // Still the head while it waits: the next waits behind it.
    let head = store.head("http://a/").await.unwrap().unwrap();
    assert_eq!(
        (head.key.call.as_str(), head.attempts, head.next_attempt_at),
        ("2", 1, 4000)
    );
    store.delivered(head.id, 4001).await.unwrap();
    let head = store.head("http://a/").await.unwrap().unwrap();
    assert_eq!(head.key, key("1"));
    store
        .delivery_failed(head.id, "gave up after 1d: answered 500")
        .await
        .unwrap();
    assert_eq!(store.head("http://a/").await, Ok(None));

    // r1 died: r2 takes the target after the lease.
    assert_eq!(
        store.hold_target("http://a/", "r2", 1191, 100).await,
        Ok(true)
    );
    store.release_target("http://a/", "r2").await.unwrap();
    assert_eq!(
        store.hold_target("http://a/", "r3", 1192, 100).await,
        Ok(true)
    );

    let failed = store.list(Listing::Failed, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].deliveries[0].state, DeliveryState::Failed);
    assert_eq!(
        failed[0].deliveries[0].last_error.as_deref(),
        Some("gave up after 1d: answered 500")
    );
    // The attempt that was given up on counts too.
    assert_eq!(failed[0].deliveries[0].attempts, 1);
    assert_eq!(
        store.replay(&key("1"), Some("http://other/"), 5000).await,
        Ok(0)
    );
    assert_eq!(store.replay(&key("1"), None, 5000).await, Ok(1));
    let head = store.head("http://a/").await.unwrap().unwrap();
    assert_eq!(
        (head.key.call.as_str(), head.attempts, head.next_attempt_at),
        ("1", 0, 5000)
    );
    assert_eq!(store.replay(&key("1"), None, 5000).await, Ok(0));
    let backlog = store.backlog().await.unwrap();
    assert_eq!(
        backlog,
        Backlog {
            events_pending: 0,
            oldest_event: None,
            deliveries_pending: 1,
            oldest_delivery: Some(5000)
        }
    );
}
both!(
    deliver,
    deliveries_go_out_in_order_per_target_with_one_replica_at_a_time
);

async fn deliveries_to_a_target_dropped_from_deliver_are_failed(store: &dyn Store) {
    let targets = ["http://kept/".to_string(), "http://dropped/".to_string()];
    store.accept(&key("1"), "{}", 1000).await.unwrap();
    store.claim("r1", 1000, 100, 10).await.unwrap();
    store
        .decide(&key("1"), "r1", &decided(1001), &targets)
        .await
        .unwrap();
    // While another replica (still given that target) holds its lease,
    // they are its to deliver: nothing is failed.
    assert_eq!(
        store.hold_target("http://dropped/", "r2", 2000, 100).await,
        Ok(true)
    );
    assert_eq!(
        store
            .fail_orphaned(&targets[..1], "no longer given", 2050)
            .await,
        Ok(vec![])
    );
    // Its lease ran out: no replica delivers them any more.
    let failed = store
        .fail_orphaned(&targets[..1], "no longer given", 2200)
        .await
        .unwrap();
    assert_eq!(failed, vec![("http://dropped/".to_string(), 1)]);
    assert_eq!(store.head("http://dropped/").await, Ok(None));
    assert!(store.head("http://kept/").await.unwrap().is_some());
    let view = &store.views("1", None).await.unwrap()[0];
    let dropped = view
        .deliveries
        .iter()
        .find(|delivery| delivery.target == "http://dropped/")
        .unwrap();
    assert_eq!(dropped.state, DeliveryState::Failed);
    assert_eq!(dropped.last_error.as_deref(), Some("no longer given"));
    // Nothing else to fail the next time.
    assert_eq!(
        store.fail_orphaned(&targets[..1], "x", 2200).await,
        Ok(vec![])
    );
}
both!(
    orphaned,
    deliveries_to_a_target_dropped_from_deliver_are_failed
);

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_is_refused_and_a_restart_frees_the_leases() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let first = open(&url, true).await.unwrap();
    first.accept(&key("1"), "{}", 1000).await.unwrap();
    assert_eq!(
        first.claim("r1", 1000, 1_000_000, 10).await.unwrap().len(),
        1
    );
    match open(&url, true).await {
        Err(error) => assert!(
            error.0.ends_with("is in use by another `callassign serve`"),
            "{error}"
        ),
        Ok(_) => panic!("two servers on one file"),
    }
    // `callassign decisions` reads beside it.
    let reader = open(&url, false).await.unwrap();
    assert_eq!(reader.views("1", None).await.unwrap().len(), 1);
    drop(first);
    // The thread lets go of the file once its queue closes.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let second = open(&url, true).await.unwrap();
    assert_eq!(
        second.claim("r2", 1001, 100, 10).await.unwrap().len(),
        1,
        "the dead run's lease is void"
    );
    match open(
        &format!("sqlite:{}", dir.path().join("none.db").display()),
        false,
    )
    .await
    {
        Err(error) => assert!(error.0.ends_with("does not exist"), "{error}"),
        Ok(_) => panic!("a reader created a store"),
    }
}

#[tokio::test]
async fn a_burst_of_events_is_stored_in_few_transactions_each_acknowledged() {
    let (store, _dir) = sqlite().await;
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::from(store);
    let tasks: Vec<_> = (0..2000)
        .map(|n| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.accept(&key(&n.to_string()), "{}", 1000).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(Accepted::New));
    }
    assert_eq!(store.backlog().await.unwrap().events_pending, 2000);
}
