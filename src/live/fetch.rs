//! The events' worker: claims stored events that are due, fetches each
//! call's two records from CloudTalk, decides, and stores the decision
//! with the deliveries it owes, in one transaction.
//!
//! A bounded number of calls is worked on at once; everything else waits
//! in the store, so a burst of events costs disk, not memory. A failure
//! at any point leaves the event pending: its lease runs out and it is
//! claimed again (at once after a restart on SQLite).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::backoff::{self, Backoff};
use super::cloudtalk::{FetchError, Fetched};
use super::store::{now, Claimed, EventState};
use super::Live;

/// Calls fetched and decided at once.
pub const CONCURRENCY: usize = 32;

/// Events are claimed this many at a time when the backlog allows.
const CLAIM_AT_ONCE: usize = 8;

/// How long a claimed event is this replica's: longer than the two
/// requests of a fetch can take, short enough that another replica takes
/// over a dead one's events within 30 seconds.
pub const LEASE: Duration = Duration::from_secs(20);

/// How often the store is asked for due events when nothing woke the
/// worker (retries coming due, events accepted by another replica).
pub const POLL: Duration = Duration::from_millis(500);

/// A ruleset not served now (removed, or its files refused) is looked
/// for again this often.
const NOT_SERVED: Backoff = Backoff {
    first: Duration::from_secs(30),
    factor: 1.0,
    max: Duration::from_secs(30),
};

pub async fn run(live: Arc<Live>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut stop = live.stop.subscribe();
    loop {
        if *stop.borrow() {
            break;
        }
        let free = slots.available_permits();
        if free < CLAIM_AT_ONCE {
            // Claim in batches, not one call at a time as each finishes.
            tokio::select! {
                permit = slots.acquire_many(CLAIM_AT_ONCE as u32) => drop(permit),
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
            if slots.available_permits() == 0 {
                continue;
            }
        }
        let free = slots.available_permits();
        let claimed = match live
            .store
            .claim(&live.replica, now(), LEASE.as_millis() as i64, free)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                live.metrics.store_error();
                tracing::error!("cannot claim events: {error}");
                Vec::new()
            }
        };
        let full = claimed.len() == free;
        for event in claimed {
            let permit = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let live = Arc::clone(&live);
            tokio::spawn(async move {
                work(&live, event).await;
                drop(permit);
            });
        }
        if full {
            continue;
        }
        tokio::select! {
            _ = live.wake_events.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
    // Let the calls in flight finish (their leases would delay a restart):
    // deciding and storing, since their fetches stop with the loop.
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        slots.acquire_many(CONCURRENCY as u32),
    )
    .await;
}

/// One claimed event: fetch, decide, store; or schedule its retry. A
/// call is given up only after an attempt that failed past
/// `--give-up-after` (so a call claimed late, after a long outage, is still
/// asked for once), and no retry is put off beyond that time (a
/// `Retry-After` of an hour does not outlast `--give-up-after 20s`).
async fn work(live: &Live, event: Claimed) {
    let key = &event.key;
    let deadline = event
        .received_at
        .saturating_add(live.config.give_up_after.as_millis() as i64);
    let retry = |reason: &'static str, wait: Duration, message: String| async move {
        let at = now();
        if at >= deadline {
            let message = format!(
                "gave up after {} without a decision; last error: {message}",
                super::duration_text(live.config.give_up_after),
            );
            tracing::warn!(call = %key.call, ruleset = %key.ruleset, "{message}");
            live.metrics.decided(&key.ruleset, "gave_up");
            store(
                live,
                live.store
                    .close(key, &live.replica, EventState::GaveUp, &message)
                    .await,
            );
            return;
        }
        live.metrics.retry(reason);
        let next = (at + wait.as_millis() as i64).min(deadline);
        tracing::info!(call = %key.call, ruleset = %key.ruleset, "retrying in {}s: {message}", (next - at + 999) / 1000);
        store(
            live,
            live.store.retry(key, &live.replica, next, &message).await,
        );
    };
    let Some((engine, hash)) = live.rulesets.current(&key.ruleset) else {
        let message = format!("ruleset `{}` is not served now", key.ruleset);
        return retry("not_served", NOT_SERVED.delay(event.attempts), message).await;
    };
    // At shutdown CloudTalk's answer is not waited for: the event is
    // given back, to be fetched again by the next replica to run.
    let fetched = tokio::select! {
        fetched = live.cloudtalk.records(&key.call, &live.metrics) => fetched,
        () = super::stopped(&live.stop) => {
            tracing::info!(call = %key.call, ruleset = %key.ruleset, "shutting down: the fetch in flight is left pending; the call is fetched again after a restart");
            let message = "a fetch was interrupted by a shutdown";
            store(live, live.store.retry(key, &live.replica, now(), message).await);
            return;
        }
    };
    let record = match fetched {
        Ok(Fetched::Found(record)) => record,
        Ok(Fetched::NotYet(message)) => {
            return retry("not_yet", backoff::NOT_YET.delay(event.attempts), message).await;
        }
        Err(error) => {
            let wait = match &error {
                FetchError::RateLimited { wait, .. } => *wait + jitter(),
                FetchError::Refused(_) => backoff::REFUSED.delay(event.attempts),
                FetchError::Transient(_) => backoff::TRANSIENT.delay(event.attempts),
            };
            if let FetchError::Refused(message) = &error {
                tracing::error!("{message}");
            }
            return retry(error.outcome(), wait, error.message().to_string()).await;
        }
    };
    let record = record.to_string();
    let decided_at = now();
    match super::decide::decide(
        &engine,
        key,
        &hash,
        &record,
        live.config.explain_store,
        decided_at,
    ) {
        Ok(decided) => {
            let step = serde_json::from_str::<serde_json::Value>(&decided.decision)
                .ok()
                .and_then(|decision| decision["step"].as_str().map(str::to_string))
                .unwrap_or_default();
            match live
                .store
                .decide(key, &live.replica, &decided, &live.config.targets)
                .await
            {
                Ok(true) => {
                    live.metrics.decided(&key.ruleset, &step);
                    tracing::debug!(call = %key.call, ruleset = %key.ruleset, step = %step, "decided");
                    live.wake_deliveries.notify_waiters();
                }
                Ok(false) => {
                    tracing::warn!(call = %key.call, ruleset = %key.ruleset, "decided, but another replica took the call over meanwhile; its decision stands");
                }
                Err(error) => store::<()>(live, Err(error)),
            }
        }
        Err(message) => {
            live.metrics.decided(&key.ruleset, "unreadable");
            tracing::warn!(call = %key.call, ruleset = %key.ruleset, "CloudTalk's records cannot be read as a call: {message}");
            store(
                live,
                live.store
                    .close(key, &live.replica, EventState::Unreadable, &message)
                    .await,
            );
        }
    }
}

/// Up to a second at random, so calls paused together do not all retry at
/// the same instant.
fn jitter() -> Duration {
    Duration::from_millis(fastrand::u64(0..1000))
}

/// Logs a store error: the event stays claimed until its lease runs out,
/// then it is worked on again.
fn store<T>(live: &Live, outcome: super::store::Result<T>) {
    if let Err(error) = outcome {
        live.metrics.store_error();
        tracing::error!("{error}");
    }
}
