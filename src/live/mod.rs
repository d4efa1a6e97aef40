//! The live loop from CloudTalk: `POST /v1/cloudtalk/{ruleset}/events`
//! takes the body CloudTalk's *Call ended* workflow sends, stores it, and
//! then, durably: fetches the call's two records from CloudTalk, decides
//! with the ruleset served now (as `eval --input cloudtalk` would), stores
//! the decision, and delivers it to every `--deliver` target.
//!
//! One concept per file:
//!
//! - [`store`]: events, decisions and the outbox (SQLite or PostgreSQL,
//!   migrations in `migrations/`);
//! - [`event`]: reading the call id from what CloudTalk sends;
//! - [`cloudtalk`]: CloudTalk's two APIs; [`backoff`]: when to retry;
//! - [`fetch`]: the events' worker; [`decide`]: the library's decision
//!   as stored and delivered; [`deliver`]: the outbox's worker;
//! - [`view`]: decisions as `GET /v1/decisions/{call}` and `callassign
//!   decisions` show them; [`token`]: the delivery token, re-read when
//!   its file changes; [`metrics`]; [`clock`].

pub mod backoff;
pub mod clock;
pub mod cloudtalk;
pub mod decide;
pub mod deliver;
pub mod event;
pub mod fetch;
pub mod metrics;
pub mod routes;
pub mod store;
pub mod token;
pub mod view;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use callassign::Engine;

use self::cloudtalk::CloudTalk;
use self::metrics::LiveMetrics;
use self::store::Store;

/// The live loop's options of `callassign serve`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Live from CloudTalk")]
#[group(id = "live_loop")]
pub struct Args {
    /// Keep CloudTalk events, decisions and deliveries here, and serve
    /// POST /v1/cloudtalk/{ruleset}/events: `sqlite:PATH` (one file, one
    /// server) or `postgres://USER@HOST/DB` (shared by replicas)
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// CloudTalk's API, with its `/api` (the key is read from
    /// CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET)
    #[arg(long, value_name = "URL", default_value = cloudtalk::DEFAULT_API, requires = "store")]
    pub cloudtalk_api: String,
    /// CloudTalk's analytics API, with its `/api`
    #[arg(long, value_name = "URL", default_value = cloudtalk::DEFAULT_ANALYTICS, requires = "store")]
    pub cloudtalk_analytics: String,
    /// The key of the event body that holds the call id
    #[arg(
        long,
        value_name = "KEY",
        default_value = "call_id",
        requires = "store"
    )]
    pub event_call_id: String,
    /// POST each decision to this URL (repeatable), with
    /// `Idempotency-Key: RULESET:CALL`, until it answers 2xx
    #[arg(long = "deliver", value_name = "URL", requires = "store")]
    pub deliver: Vec<String>,
    /// Send `Authorization: Bearer TOKEN` with deliveries, TOKEN being
    /// this file's content
    #[arg(long, value_name = "FILE", requires = "deliver")]
    pub deliver_token_file: Option<PathBuf>,
    /// Give up on a call (not found, not fetched) or a delivery (not
    /// accepted) after this long: `30s`, `15m`, `24h`, `7d`
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration, requires = "store")]
    pub give_up_after: Duration,
    /// Store each decision's facts and trace (`eval --explain`) with it
    #[arg(long, requires = "store")]
    pub explain_store: bool,
}

/// What the loop runs with, checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub call_id_key: String,
    pub targets: Vec<String>,
    pub deliver_token: Option<Arc<token::DeliverToken>>,
    pub give_up_after: Duration,
    pub explain_store: bool,
}

/// The rulesets served now, as the loop asks for them: each call is
/// decided with the version current when its records arrive.
pub trait Rulesets: Send + Sync {
    /// The engine and hash of ruleset `name`, if it is served.
    fn current(&self, name: &str) -> Option<(Engine, String)>;
}

/// The loop: its store, its client, and what wakes its workers.
pub struct Live {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub cloudtalk: CloudTalk,
    pub rulesets: Arc<dyn Rulesets>,
    pub metrics: LiveMetrics,
    /// Names this process among replicas sharing a store.
    pub replica: String,
    pub wake_events: Notify,
    pub wake_deliveries: Notify,
    pub stop: watch::Sender<bool>,
}

impl Live {
    /// Checks the options and opens the store: everything that can stop
    /// the server from starting. `Ok(None)` without `--store`.
    pub async fn open(
        args: &Args,
        rulesets: Arc<dyn Rulesets>,
        metrics: LiveMetrics,
    ) -> Result<Option<Arc<Live>>, String> {
        let Some(url) = &args.store else {
            return Ok(None);
        };
        let cloudtalk = CloudTalk::from_env(&args.cloudtalk_api, &args.cloudtalk_analytics)?;
        let mut targets = Vec::new();
        for target in &args.deliver {
            let parsed = reqwest::Url::parse(target)
                .map_err(|error| format!("`--deliver {target}`: {error}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("`--deliver {target}` should be an http(s) address"));
            }
            if targets.contains(target) {
                continue;
            }
            // Views, metrics and logs show a target without its
            // credentials and query: two that differ only there would be
            // one name for two queues.
            if let Some(same) = targets
                .iter()
                .find(|known| shown_target(known) == shown_target(target))
            {
                return Err(format!(
                    "`--deliver {}` and `--deliver {}` would both show as `{}` (credentials and query are hidden): give each target its own path",
                    shown_target(same),
                    shown_target(target),
                    shown_target(target)
                ));
            }
            targets.push(target.clone());
        }
        let deliver_token = args
            .deliver_token_file
            .as_deref()
            .map(|path| token::DeliverToken::read(path).map(Arc::new))
            .transpose()?;
        if args.event_call_id.trim().is_empty() {
            return Err("`--event-call-id` names no key".to_string());
        }
        let store = store::open(url, true).await.map_err(|error| error.0)?;
        Ok(Some(Arc::new(Live {
            store: Arc::from(store),
            config: Config {
                call_id_key: args.event_call_id.clone(),
                targets,
                deliver_token,
                give_up_after: args.give_up_after,
                explain_store: args.explain_store,
            },
            cloudtalk,
            rulesets,
            metrics,
            replica: replica_name(),
            wake_events: Notify::new(),
            wake_deliveries: Notify::new(),
            stop: watch::channel(false).0,
        })))
    }

    /// Starts the workers: the events' worker, one deliverer per target,
    /// and the backlog's gauges. They stop when [`Live::stop`] is set.
    pub fn spawn(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(fetch::run(Arc::clone(self)))];
        for target in &self.config.targets {
            tasks.push(tokio::spawn(deliver::run(Arc::clone(self), target.clone())));
        }
        let live = Arc::clone(self);
        tasks.push(tokio::spawn(async move {
            let mut stop = live.stop.subscribe();
            while !*stop.borrow() {
                match live.store.backlog().await {
                    Ok(backlog) => live.metrics.backlog(&backlog),
                    Err(error) => {
                        live.metrics.store_error();
                        tracing::error!("{error}");
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = stop.changed() => {}
                }
            }
        }));
        tasks
    }

    /// Stops the workers and waits for them: a fetch or a delivery in
    /// flight is abandoned (it stays pending in the store and is done
    /// again after a restart); the rest finishes.
    pub async fn shutdown(&self, tasks: Vec<tokio::task::JoinHandle<()>>) {
        let _ = self.stop.send(true);
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// Resolves once `stop` is set (at once if it is already): what a
/// request to CloudTalk or to a target waits on beside its answer, so
/// that shutdown does not wait for a peer that never answers.
pub async fn stopped(stop: &watch::Sender<bool>) {
    let mut stop = stop.subscribe();
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Starts the loop beside `serve` when `--store` is given: opens the
/// store, makes the routes answer, and starts the workers.
pub async fn start(
    args: &Args,
    state: &Arc<crate::serve::app::State>,
    metrics: LiveMetrics,
) -> Result<Option<(Arc<Live>, Vec<tokio::task::JoinHandle<()>>)>, crate::cli::CliError> {
    let rulesets = Arc::new(Served(Arc::downgrade(state)));
    let live = Live::open(args, rulesets, metrics)
        .await
        .map_err(crate::cli::CliError::new)?;
    let Some(live) = live else {
        return Ok(None);
    };
    let _ = state.live.set(Arc::clone(&live));
    let served: Vec<String> = state
        .store
        .entries()
        .iter()
        .map(|entry| entry.name.clone())
        .collect();
    live.metrics.start_at_zero(&served, &live.config.targets);
    tracing::info!(
        "live from CloudTalk: store `{}`, {} delivery {}",
        store::redact(args.store.as_deref().unwrap_or_default()),
        live.config.targets.len(),
        if live.config.targets.len() == 1 {
            "target"
        } else {
            "targets"
        }
    );
    // Decisions still owed to a target dropped from `--deliver` would wait
    // for ever (no worker sends them) and hold the oldest-pending alert:
    // they are failed now, and said, so they can be replayed once the
    // target is given again.
    let orphaned = live
        .store
        .fail_orphaned(
            &live.config.targets,
            "its target is no longer given with `--deliver`: give it again, then replay",
            store::now(),
        )
        .await
        .map_err(|error| crate::cli::CliError::new(error.0))?;
    for (target, count) in orphaned {
        tracing::warn!(
            "{count} pending {} to `{}`, which `--deliver` no longer names, marked failed (`callassign decisions --store … --state failed` lists them)",
            if count == 1 { "delivery" } else { "deliveries" },
            shown_target(&target)
        );
    }
    let tasks = live.spawn();
    Ok(Some((live, tasks)))
}

/// The rulesets `serve` serves now.
struct Served(std::sync::Weak<crate::serve::app::State>);

impl Rulesets for Served {
    fn current(&self, name: &str) -> Option<(Engine, String)> {
        let state = self.0.upgrade()?;
        let entry = state.store.get(name).ok()?;
        Some((entry.engine.clone(), entry.hash.clone()))
    }
}

/// A name for this process among replicas: host, process id and a random
/// part (a restarted process with the same id is a new replica).
fn replica_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_string());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// A delivery target as logs, metrics and views show it: without a
/// password or a query, which may hold secrets.
pub fn shown_target(target: &str) -> String {
    match reqwest::Url::parse(target) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => target.to_string(),
    }
}

/// `500ms`, `30s`, `15m`, `24h`, `7d`, or a number of seconds; above zero,
/// at most a year.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = [
        ("ms", 0.001),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("d", 86_400.0),
    ]
    .into_iter()
    .find_map(|(unit, scale)| text.strip_suffix(unit).map(|number| (number, scale)))
    .unwrap_or((text, 1.0));
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write `30s`, `15m`, `24h` or `7d`"))?;
    let seconds = value * scale;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 366.0 * 86_400.0 {
        return Err(format!(
            "`{text}` is out of range: a duration is above zero and at most a year"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration as `--give-up-after` would be written.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if duration.subsec_millis() != 0 || seconds == 0 {
        format!("{}ms", duration.as_millis())
    } else if seconds % 86_400 == 0 {
        format!("{}d", seconds / 86_400)
    } else if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write_alike() {
        for (text, seconds, written) in [
            ("24h", 86_400.0, "1d"),
            ("30s", 30.0, "30s"),
            ("15m", 900.0, "15m"),
            ("7d", 604_800.0, "7d"),
            ("2", 2.0, "2s"),
            ("1.5h", 5400.0, "90m"),
            ("250ms", 0.25, "250ms"),
        ] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(duration.as_secs_f64(), seconds, "{text}");
            assert_eq!(duration_text(duration), written, "{text}");
        }
        for wrong in ["", "0s", "-1h", "soon", "400d", "NaNs"] {
            assert!(parse_duration(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn targets_are_shown_without_secrets() {
        assert_eq!(
            shown_target("https://user:pw@hooks.example.com/x/y?token=abc#f"),
            "https://hooks.example.com/x/y"
        );
        assert_eq!(
            shown_target("http://127.0.0.1:9/in"),
            "http://127.0.0.1:9/in"
        );
    }
}
