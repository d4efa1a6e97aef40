//! The live loop's durable store: events keyed by (ruleset, call id),
//! their decisions, and the outbox of deliveries. One trait, two stores:
//! SQLite (one file, one server) and PostgreSQL (shared by replicas, each
//! event and each target claimed by one replica with a lease).
//!
//! Every method is one transaction: an event is stored before it is
//! acknowledged, and a decision is stored together with the deliveries it
//! owes, so a crash between any two steps loses nothing and repeats only
//! the step it interrupted.

use std::fmt;

use async_trait::async_trait;

mod migrations;
pub mod postgres;
pub mod sqlite;

/// Unix time in milliseconds: what the store keeps times in.
pub type Millis = i64;

/// Now, in [`Millis`].
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as Millis)
}

/// What a stored event is named by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub ruleset: String,
    pub call: String,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ruleset, self.call)
    }
}

/// Where an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    /// Waiting for CloudTalk's records (fetching, or retrying).
    Pending,
    /// Decided; its deliveries are in the outbox.
    Decided,
    /// Given up after `--give-up-after`, with the last error.
    GaveUp,
    /// CloudTalk's records could not be read as a call (the error `eval`
    /// would write); a repeated event tries again.
    Unreadable,
}

impl EventState {
    pub fn name(self) -> &'static str {
        match self {
            EventState::Pending => "pending",
            EventState::Decided => "decided",
            EventState::GaveUp => "gave_up",
            EventState::Unreadable => "unreadable",
        }
    }

    pub fn from_name(name: &str) -> EventState {
        match name {
            "decided" => EventState::Decided,
            "gave_up" => EventState::GaveUp,
            "unreadable" => EventState::Unreadable,
            _ => EventState::Pending,
        }
    }
}

/// Where a delivery to one target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> DeliveryState {
        match name {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// What storing an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// Stored now, to be worked on.
    New,
    /// Already stored and still pending.
    Pending,
    /// Already stored, given up or unreadable: pending again.
    Reopened,
    /// Already decided: nothing new happens.
    Decided(Box<View>),
}

/// An event claimed by a replica, to fetch and decide.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub key: Key,
    pub received_at: Millis,
    pub attempts: i64,
}

/// A decision, as stored and delivered.
#[derive(Debug, Clone)]
pub struct Decided {
    pub hash: String,
    /// The decision's JSON, byte for byte what every target receives.
    pub decision: String,
    /// The trace and facts, with `--explain-store`.
    pub trace: Option<String>,
    /// The combined CloudTalk record decided on.
    pub record: String,
    pub decided_at: Millis,
}

/// The delivery at the head of a target's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub key: Key,
    pub target: String,
    /// The decision's JSON.
    pub body: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub created_at: Millis,
}

/// An event and its decision as `GET /v1/decisions/{call}` and
/// `callassign decisions` show them.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub key: Key,
    pub state: EventState,
    pub received_at: Millis,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub hash: Option<String>,
    pub decision: Option<String>,
    pub trace: Option<String>,
    pub decided_at: Option<Millis>,
    pub deliveries: Vec<DeliveryView>,
}

/// One target's delivery of a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryView {
    pub target: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Which events `callassign decisions` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Not decided yet, or decided with a delivery still to make.
    Pending,
    /// Given up, unreadable, or with a delivery that failed.
    Failed,
}

/// The columns of an event that a view is read from, in this order.
const VIEW_COLUMNS: &str =
    "ruleset, call_id, state, received_at, attempts, last_error, hash, decision, trace, decided_at";

impl Listing {
    /// The query of a listing, the same on both stores: its events' view
    /// columns, oldest first, at most the count bound to `limit` (the
    /// store's placeholder: `?1` or `$1`).
    fn query(self, limit: &str) -> String {
        let filter = match self {
            Listing::Pending => {
                "e.state = 'pending' OR EXISTS (SELECT 1 FROM deliveries d
                     WHERE d.ruleset = e.ruleset AND d.call_id = e.call_id AND d.state = 'pending')"
            }
            Listing::Failed => {
                "e.state IN ('gave_up', 'unreadable') OR EXISTS (SELECT 1 FROM deliveries d
                     WHERE d.ruleset = e.ruleset AND d.call_id = e.call_id AND d.state = 'failed')"
            }
        };
        let columns = VIEW_COLUMNS
            .split(", ")
            .map(|column| format!("e.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {columns} FROM events e WHERE {filter} ORDER BY e.received_at, e.ruleset, e.call_id LIMIT {limit}"
        )
    }
}

/// How far behind the loop is, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub events_pending: i64,
    /// When the oldest pending event was received.
    pub oldest_event: Option<Millis>,
    pub deliveries_pending: i64,
    /// When the oldest pending delivery was created.
    pub oldest_delivery: Option<Millis>,
}

/// A store that could not do what was asked: the disk is full, the
/// database is gone. The loop retries; the events route answers 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The live loop's store. Replicas name themselves with `replica`; a lease
/// held past its time is anyone's to take.
#[async_trait]
pub trait Store: Send + Sync {
    /// Stores an event unless its (ruleset, call) is stored already. The
    /// answer is given only once the event is durable.
    async fn accept(&self, key: &Key, body: &str, now: Millis) -> Result<Accepted>;

    /// Claims up to `limit` pending events that are due and not leased
    /// by a live replica, leasing them until `now + lease`.
    async fn claim(
        &self,
        replica: &str,
        now: Millis,
        lease: Millis,
        limit: usize,
    ) -> Result<Vec<Claimed>>;

    /// Gives a claimed event back to try again at `next_at`.
    async fn retry(&self, key: &Key, replica: &str, next_at: Millis, error: &str) -> Result<()>;

    /// Ends a claimed event without a decision: given up or unreadable.
    async fn close(&self, key: &Key, replica: &str, state: EventState, error: &str) -> Result<()>;

    /// Stores the decision of a claimed event and one delivery per
    /// target, in one transaction. False when the replica no longer holds
    /// the event (its lease ran out and another took it): nothing stored.
    async fn decide(
        &self,
        key: &Key,
        replica: &str,
        decided: &Decided,
        targets: &[String],
    ) -> Result<bool>;

    /// Takes or keeps the lease on delivering to `target`: true while
    /// this replica holds it.
    async fn hold_target(
        &self,
        target: &str,
        replica: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<bool>;

    /// Lets another replica deliver to `target` at once (on shutdown).
    async fn release_target(&self, target: &str, replica: &str) -> Result<()>;

    /// The oldest pending delivery to `target`: the next one it gets.
    async fn head(&self, target: &str) -> Result<Option<Delivery>>;

    /// The delivery was accepted (a 2xx).
    async fn delivered(&self, id: i64, now: Millis) -> Result<()>;

    /// The delivery was refused or not answered: try again at `next_at`.
    async fn delivery_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()>;

    /// The delivery is given up: the target's next one goes ahead.
    async fn delivery_failed(&self, id: i64, error: &str) -> Result<()>;

    /// Deliveries still pending to a target that is not in `targets` (it
    /// was dropped from `--deliver`, so no worker would ever send them)
    /// are marked failed with `error`, unless a replica holds that
    /// target's lease at `now` (another replica, still configured with
    /// it, delivers them). Returns how many, by target.
    async fn fail_orphaned(
        &self,
        targets: &[String],
        error: &str,
        now: Millis,
    ) -> Result<Vec<(String, u64)>>;

    /// Every event stored for `call` (one per ruleset), or only the one
    /// of `ruleset`.
    async fn views(&self, call: &str, ruleset: Option<&str>) -> Result<Vec<View>>;

    /// Events pending or failed, oldest first, at most `limit`.
    async fn list(&self, which: Listing, limit: usize) -> Result<Vec<View>>;

    /// Makes a failed delivery pending again, at the back of its
    /// target's queue (every failed one of the call's, or only the one to
    /// `target`); an event given up or unreadable is fetched again.
    /// Returns how many were replayed.
    async fn replay(&self, key: &Key, target: Option<&str>, now: Millis) -> Result<u64>;

    /// How far behind the loop is.
    async fn backlog(&self) -> Result<Backlog>;
}

/// Opens the store `--store` names: `sqlite:PATH` or `postgres://…`
/// (`postgresql://…`), applying its migrations.
pub async fn open(url: &str, serving: bool) -> Result<Box<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(StoreError(
                "`sqlite:` names no file: write `sqlite:PATH`, e.g. `sqlite:callassign.db`"
                    .to_string(),
            ));
        }
        Ok(Box::new(
            sqlite::SqliteStore::open(path.as_ref(), serving).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(postgres::PostgresStore::connect(url).await?))
    } else {
        Err(StoreError(format!(
            "`{}` is not a store: write `sqlite:PATH` or `postgres://USER@HOST/DATABASE`",
            redact(url)
        )))
    }
}

/// A store URL as it may be shown: without its password.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn a_store_url_is_shown_without_its_password() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db:5432/calls",
                "postgres://app:***@db:5432/calls",
            ),
            ("postgres://app@db/calls", "postgres://app@db/calls"),
            (
                "postgres:///calls?host=/run/postgresql",
                "postgres:///calls?host=/run/postgresql",
            ),
            ("sqlite:calls.db", "sqlite:calls.db"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }
}
