//! The outbox's worker: one task per `--deliver` target POSTs each
//! decision, oldest first, with `Idempotency-Key: <ruleset>:<call id>`.
//! A 2xx delivers it; anything else (or no answer) is retried with
//! backoff, and the target's later decisions wait behind it, so a target
//! gets decisions in the order they were made. A delivery still refused
//! after `--give-up-after` is marked failed (and can be replayed), and
//! the next one goes ahead.
//!
//! With several replicas, one holds each target's lease and delivers; a
//! delivery interrupted by a crash is sent again, with the same body and
//! key, which is what the key is for.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::backoff;
use super::cloudtalk::{read_body, retry_after, transport};
use super::store::{now, Delivery};
use super::Live;

/// How long a target is this replica's to deliver to without renewing.
pub const LEASE: Duration = Duration::from_secs(20);

/// How long a target may take to answer one delivery.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How often an idle target's queue is looked at, and how often a replica
/// that does not hold a target's lease asks for it again.
const POLL: Duration = Duration::from_millis(500);

/// A target's answer, kept in the delivery's last error, at most this long.
const MAX_ERROR_BODY: usize = 200;

pub async fn run(live: Arc<Live>, target: String) {
    let http = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(TIMEOUT)
        // A redirect is an answer, not a delivery: followed, a 301, 302 or
        // 303 would turn the POST into a GET without the decision, and its
        // 2xx would mark the decision delivered.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("callassign/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            tracing::error!("cannot set up the HTTP client for deliveries: {error}");
            return;
        }
    };
    let shown = super::shown_target(&target);
    let mut stop = live.stop.subscribe();
    let lease = LEASE.as_millis() as i64;
    // Until when this replica holds the target, as far as it knows: the
    // lease is renewed once a quarter of it has passed, not per delivery.
    let mut held_until = 0;
    loop {
        if *stop.borrow() {
            break;
        }
        let held = if held_until - now() > lease * 3 / 4 {
            Ok(true)
        } else {
            let asked = now();
            let held = live
                .store
                .hold_target(&target, &live.replica, asked, lease)
                .await;
            held_until = if matches!(held, Ok(true)) {
                asked + lease
            } else {
                0
            };
            held
        };
        let wait = match held {
            Ok(false) => POLL * 4,
            Ok(true) => match live.store.head(&target).await {
                Ok(None) => POLL,
                Ok(Some(delivery)) => {
                    let due = delivery.next_attempt_at - now();
                    if due > 0 {
                        Duration::from_millis(due as u64).min(POLL * 10)
                    } else {
                        deliver(&live, &http, &shown, delivery).await;
                        Duration::ZERO
                    }
                }
                Err(error) => store_failed(&live, &error),
            },
            Err(error) => store_failed(&live, &error),
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = live.wake_deliveries.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    let _ = live.store.release_target(&target, &live.replica).await;
}

fn store_failed(live: &Live, error: &super::store::StoreError) -> Duration {
    live.metrics.store_error();
    tracing::error!("{error}");
    Duration::from_secs(1)
}

/// `text`, cut to at most `limit` bytes (at a character boundary, with
/// `…`).
fn shorten(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// One attempt at the delivery at the head of the target's queue.
async fn deliver(live: &Live, http: &reqwest::Client, shown: &str, delivery: Delivery) {
    let key = format!("{}:{}", delivery.key.ruleset, delivery.key.call);
    let age = Duration::from_millis((now() - delivery.created_at).max(0) as u64);
    let mut request = http
        .post(&delivery.target)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("Idempotency-Key", &key)
        .body(delivery.body.clone());
    if let Some(token) = &live.config.deliver_token {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.current()))
            .expect("the token was checked when read");
        bearer.set_sensitive(true);
        request = request.header(AUTHORIZATION, bearer);
    }
    // At shutdown an answer is not waited for: the delivery stays
    // pending and is sent again after a restart, with the same key.
    let answered = tokio::select! {
        answered = exchange(request) => answered,
        () = super::stopped(&live.stop) => {
            tracing::info!(call = %delivery.key.call, ruleset = %delivery.key.ruleset, target = %shown, "shutting down: the delivery in flight is left pending; it is sent again after a restart, with the same Idempotency-Key");
            return;
        }
    };
    let (error, wait) = match answered {
        Ok(answer) if answer.status.is_success() => {
            live.metrics.delivery(shown, "delivered");
            tracing::debug!(call = %delivery.key.call, ruleset = %delivery.key.ruleset, target = %shown, "delivered");
            if let Err(error) = live.store.delivered(delivery.id, now()).await {
                // Sent again after the lease: the key makes it harmless.
                store_failed(live, &error);
            }
            return;
        }
        Ok(Answer {
            status,
            wait,
            location,
            body,
        }) => {
            let said = shorten(String::from_utf8_lossy(&body).trim(), MAX_ERROR_BODY);
            let error = if let Some(location) = location {
                let location = shorten(&location, MAX_ERROR_BODY);
                format!(
                    "answered {}, a redirect to `{location}`: deliveries do not follow redirects, give `--deliver` the address it points to",
                    status.as_u16()
                )
            } else if said.is_empty() {
                format!("answered {}", status.as_u16())
            } else {
                format!("answered {}: {said}", status.as_u16())
            };
            (error, wait)
        }
        Err(error) => (transport(&error), None),
    };
    if age > live.config.give_up_after {
        let message = format!(
            "gave up after {}: {error}",
            super::duration_text(live.config.give_up_after)
        );
        live.metrics.delivery(shown, "failed");
        tracing::error!(call = %delivery.key.call, ruleset = %delivery.key.ruleset, target = %shown, "{message}");
        if let Err(error) = live.store.delivery_failed(delivery.id, &message).await {
            store_failed(live, &error);
        }
        return;
    }
    let wait = wait.unwrap_or_else(|| backoff::DELIVERY.delay(delivery.attempts));
    live.metrics.delivery(shown, "retry");
    live.metrics.retry("delivery");
    // Not put off beyond `--give-up-after`: the last try comes then, and
    // the target's queue moves on after it.
    let at = now();
    let deadline = delivery
        .created_at
        .saturating_add(live.config.give_up_after.as_millis() as i64)
        .max(at);
    let next = (at + wait.as_millis() as i64).min(deadline);
    tracing::warn!(call = %delivery.key.call, ruleset = %delivery.key.ruleset, target = %shown, "delivery {error}; retrying in {}s", (next - at + 999) / 1000);
    if let Err(error) = live.store.delivery_retry(delivery.id, next, &error).await {
        store_failed(live, &error);
    }
}

/// What a target answered to a delivery.
struct Answer {
    status: reqwest::StatusCode,
    /// A 429's or a 503's `Retry-After`.
    wait: Option<Duration>,
    /// A redirect's `Location`.
    location: Option<String>,
    /// The body of an answer that is not a 2xx.
    body: Vec<u8>,
}

/// Sends a delivery and reads the answer.
async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(Answer {
            status,
            wait: None,
            location: None,
            body: Vec::new(),
        });
    }
    let wait = (status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::SERVICE_UNAVAILABLE)
        .then(|| {
            response
                .headers()
                .contains_key(reqwest::header::RETRY_AFTER)
        })
        .filter(|has| *has)
        .map(|_| retry_after(response.headers(), std::time::SystemTime::now()));
    let location = status
        .is_redirection()
        .then(|| response.headers().get(reqwest::header::LOCATION))
        .flatten()
        .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
    let body = read_body(response).await.unwrap_or_default();
    Ok(Answer {
        status,
        wait,
        location,
        body,
    })
}
