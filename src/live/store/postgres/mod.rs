//! The shared store: PostgreSQL, so several replicas work on one set of
//! events. Each claims events with a lease (`FOR UPDATE SKIP LOCKED`, so
//! two replicas never claim the same one) and each target with a lease
//! (one replica delivers to a target at a time, in order); a replica that
//! dies stops renewing them, and another takes its work over once they
//! run out.
//!
//! A few connections are kept, each used by one statement or transaction
//! at a time, and opened again when the server dropped them. Events and
//! decisions are committed durably; claims, retries and delivery marks go
//! through connections with `synchronous_commit = off` (the server may
//! lose the last of them if it crashes, which only repeats a fetch or a
//! delivery with the same decision, and never corrupts anything).

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls};

use super::migrations;
use super::*;

mod views;
use views::{view_of, views_of, with_deliveries};

/// Connections kept open for events and decisions (concurrent commits
/// share the server's disk syncs), and for the rest.
const CONNECTIONS: usize = 12;
const RELAXED_CONNECTIONS: usize = 4;

/// The key of the advisory lock that lets one replica migrate at a time.
const MIGRATION_LOCK: i64 = 0x6361_6c6c_6173_7367; // "callassg"

pub struct PostgresStore {
    url: String,
    clients: Vec<Mutex<Option<Client>>>,
    relaxed: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
}

/// A connection taken for one statement or transaction.
struct Conn<'a>(MutexGuard<'a, Option<Client>>);

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0.as_ref().expect("a taken connection is open")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.0.as_mut().expect("a taken connection is open")
    }
}

fn error(error: tokio_postgres::Error) -> StoreError {
    let detail = match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => error.to_string(),
    };
    StoreError(format!("the PostgreSQL store failed: {detail}"))
}

impl PostgresStore {
    /// Connects, and brings the schema to the newest version.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        url.parse::<tokio_postgres::Config>().map_err(|problem| {
            StoreError(format!(
                "`{}` is not a PostgreSQL URL: {problem}",
                redact(url)
            ))
        })?;
        let store = PostgresStore {
            url: url.to_string(),
            clients: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            relaxed: (0..RELAXED_CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open(&self, relaxed: bool) -> Result<Client> {
        let (client, connection) =
            tokio_postgres::connect(&self.url, NoTls)
                .await
                .map_err(|problem| {
                    StoreError(format!(
                        "cannot connect to the store `{}`: {}",
                        redact(&self.url),
                        problem
                    ))
                })?;
        tokio::spawn(async move {
            if let Err(problem) = connection.await {
                tracing::warn!("the store's connection ended: {problem}");
            }
        });
        if relaxed {
            client
                .batch_execute("SET synchronous_commit = off")
                .await
                .map_err(error)?;
        }
        Ok(client)
    }

    /// A connection: the next in turn, opened again if it was dropped.
    async fn conn(&self) -> Result<Conn<'_>> {
        self.take(&self.clients, false).await
    }

    /// A connection whose commits are not waited for on disk.
    async fn relaxed(&self) -> Result<Conn<'_>> {
        self.take(&self.relaxed, true).await
    }

    async fn take<'a>(
        &'a self,
        pool: &'a [Mutex<Option<Client>>],
        relaxed: bool,
    ) -> Result<Conn<'a>> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
        let mut slot = pool[index].lock().await;
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = Some(self.open(relaxed).await?);
        }
        Ok(Conn(slot))
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(error)?;
        tx.batch_execute(migrations::TABLE).await.map_err(error)?;
        let applied: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await
            .map_err(error)?
            .get(0);
        migrations::check_known(applied, migrations::POSTGRES)
            .map_err(|message| StoreError(format!("`{}`: {message}", redact(&self.url))))?;
        for migration in migrations::POSTGRES {
            if migration.version <= applied {
                continue;
            }
            tx.batch_execute(migration.sql).await.map_err(error)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&migration.version, &migration.name, &now()],
            )
            .await
            .map_err(error)?;
        }
        tx.commit().await.map_err(error)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn accept(&self, key: &Key, body: &str, now: Millis) -> Result<Accepted> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(error)?;
        let inserted = tx
            .execute(
                "INSERT INTO events (ruleset, call_id, body, received_at, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (ruleset, call_id) DO NOTHING",
                &[&key.ruleset, &key.call, &body, &now],
            )
            .await
            .map_err(error)?;
        let accepted = if inserted == 1 {
            Accepted::New
        } else {
            let state: String = tx
                .query_one(
                    "SELECT state FROM events WHERE ruleset = $1 AND call_id = $2 FOR UPDATE",
                    &[&key.ruleset, &key.call],
                )
                .await
                .map_err(error)?
                .get(0);
            match EventState::from_name(&state) {
                EventState::Pending => Accepted::Pending,
                EventState::Decided => {
                    match views_of(&tx, &key.call, Some(&key.ruleset)).await?.pop() {
                        Some(view) => Accepted::Decided(Box::new(view)),
                        None => Accepted::Pending,
                    }
                }
                EventState::GaveUp | EventState::Unreadable => {
                    tx.execute(
                        "UPDATE events SET state = 'pending', body = $3, received_at = $4, attempts = 0,
                             next_attempt_at = $4, last_error = NULL, lease_owner = NULL, lease_until = NULL
                         WHERE ruleset = $1 AND call_id = $2",
                        &[&key.ruleset, &key.call, &body, &now],
                    )
                    .await
                    .map_err(error)?;
                    Accepted::Reopened
                }
            }
        };
        tx.commit().await.map_err(error)?;
        Ok(accepted)
    }

    async fn claim(
        &self,
        replica: &str,
        now: Millis,
        lease: Millis,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        let conn = self.relaxed().await?;
        let rows = conn
            .query(
                "UPDATE events SET lease_owner = $1, lease_until = $2
                 WHERE (ruleset, call_id) IN (
                     SELECT ruleset, call_id FROM events
                     WHERE state = 'pending' AND next_attempt_at <= $3
                       AND (lease_until IS NULL OR lease_until < $3)
                     ORDER BY next_attempt_at LIMIT $4
                     FOR UPDATE SKIP LOCKED)
                 RETURNING ruleset, call_id, received_at, attempts",
                &[&replica, &(now + lease), &now, &(limit as i64)],
            )
            .await
            .map_err(error)?;
        Ok(rows
            .iter()
            .map(|row| Claimed {
                key: Key {
                    ruleset: row.get(0),
                    call: row.get(1),
                },
                received_at: row.get(2),
                attempts: row.get(3),
            })
            .collect())
    }

    async fn retry(&self, key: &Key, replica: &str, next_at: Millis, message: &str) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = $4, last_error = $5,
                 lease_owner = NULL, lease_until = NULL
             WHERE ruleset = $1 AND call_id = $2 AND state = 'pending' AND lease_owner = $3",
            &[&key.ruleset, &key.call, &replica, &next_at, &message],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn close(
        &self,
        key: &Key,
        replica: &str,
        state: EventState,
        message: &str,
    ) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "UPDATE events SET state = $4, attempts = attempts + 1, last_error = $5,
                 lease_owner = NULL, lease_until = NULL
             WHERE ruleset = $1 AND call_id = $2 AND state = 'pending' AND lease_owner = $3",
            &[&key.ruleset, &key.call, &replica, &state.name(), &message],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn decide(
        &self,
        key: &Key,
        replica: &str,
        decided: &Decided,
        targets: &[String],
    ) -> Result<bool> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(error)?;
        let updated = tx
            .execute(
                "UPDATE events SET state = 'decided', attempts = attempts + 1, last_error = NULL,
                     record = $4, hash = $5, decision = $6, trace = $7, decided_at = $8,
                     lease_owner = NULL, lease_until = NULL
                 WHERE ruleset = $1 AND call_id = $2 AND state = 'pending' AND lease_owner = $3",
                &[
                    &key.ruleset,
                    &key.call,
                    &replica,
                    &decided.record,
                    &decided.hash,
                    &decided.decision,
                    &decided.trace,
                    &decided.decided_at,
                ],
            )
            .await
            .map_err(error)?;
        if updated == 0 {
            return Ok(false);
        }
        for target in targets {
            tx.execute(
                "INSERT INTO deliveries (ruleset, call_id, target, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
                &[&key.ruleset, &key.call, target, &decided.decided_at],
            )
            .await
            .map_err(error)?;
        }
        tx.commit().await.map_err(error)?;
        Ok(true)
    }

    async fn hold_target(
        &self,
        target: &str,
        replica: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<bool> {
        let conn = self.relaxed().await?;
        let held = conn
            .query_opt(
                "INSERT INTO target_leases (target, owner, until) VALUES ($1, $2, $3)
                 ON CONFLICT (target) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
                 WHERE target_leases.owner = EXCLUDED.owner OR target_leases.until < $4
                 RETURNING owner",
                &[&target, &replica, &(now + lease), &now],
            )
            .await
            .map_err(error)?;
        Ok(held.is_some())
    }

    async fn release_target(&self, target: &str, replica: &str) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "DELETE FROM target_leases WHERE target = $1 AND owner = $2",
            &[&target, &replica],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn fail_orphaned(
        &self,
        targets: &[String],
        message: &str,
        now: Millis,
    ) -> Result<Vec<(String, u64)>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                "UPDATE deliveries d SET state = 'failed', last_error = $2
                 WHERE state = 'pending' AND NOT (target = ANY($1))
                 AND NOT EXISTS (SELECT 1 FROM target_leases l
                                 WHERE l.target = d.target AND l.until >= $3)
                 RETURNING target",
                &[&targets, &message, &now],
            )
            .await
            .map_err(error)?;
        let mut failed: Vec<(String, u64)> = Vec::new();
        for row in rows {
            let target: String = row.get(0);
            match failed.iter_mut().find(|(seen, _)| *seen == target) {
                Some((_, count)) => *count += 1,
                None => failed.push((target, 1)),
            }
        }
        Ok(failed)
    }

    async fn head(&self, target: &str) -> Result<Option<Delivery>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                "SELECT d.id, d.ruleset, d.call_id, d.target, e.decision, d.attempts, d.next_attempt_at, d.created_at
                 FROM deliveries d JOIN events e ON e.ruleset = d.ruleset AND e.call_id = d.call_id
                 WHERE d.target = $1 AND d.state = 'pending' ORDER BY d.id LIMIT 1",
                &[&target],
            )
            .await
            .map_err(error)?;
        Ok(row.map(|row| Delivery {
            id: row.get(0),
            key: Key {
                ruleset: row.get(1),
                call: row.get(2),
            },
            target: row.get(3),
            body: row.get::<_, Option<String>>(4).unwrap_or_default(),
            attempts: row.get(5),
            next_attempt_at: row.get(6),
            created_at: row.get(7),
        }))
    }

    async fn delivered(&self, id: i64, now: Millis) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL,
                 delivered_at = $2 WHERE id = $1",
            &[&id, &now],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn delivery_retry(&self, id: i64, next_at: Millis, message: &str) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
             WHERE id = $1 AND state = 'pending'",
            &[&id, &next_at, &message],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn delivery_failed(&self, id: i64, message: &str) -> Result<()> {
        let conn = self.relaxed().await?;
        conn.execute(
            "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1 AND state = 'pending'",
            &[&id, &message],
        )
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn views(&self, call: &str, ruleset: Option<&str>) -> Result<Vec<View>> {
        let conn = self.conn().await?;
        views_of(&*conn, call, ruleset).await
    }

    async fn list(&self, which: Listing, limit: usize) -> Result<Vec<View>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(&which.query("$1"), &[&(limit as i64)])
            .await
            .map_err(error)?;
        with_deliveries(&*conn, rows.iter().map(view_of).collect()).await
    }

    async fn replay(&self, key: &Key, target: Option<&str>, now: Millis) -> Result<u64> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(error)?;
        let failed = tx
            .query(
                "DELETE FROM deliveries WHERE ruleset = $1 AND call_id = $2 AND state = 'failed'
                 AND ($3::TEXT IS NULL OR target = $3) RETURNING target",
                &[&key.ruleset, &key.call, &target],
            )
            .await
            .map_err(error)?;
        let mut replayed = 0u64;
        for row in &failed {
            let target: String = row.get(0);
            tx.execute(
                "INSERT INTO deliveries (ruleset, call_id, target, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $4)",
                &[&key.ruleset, &key.call, &target, &now],
            )
            .await
            .map_err(error)?;
            replayed += 1;
        }
        if target.is_none() {
            replayed += tx
                .execute(
                    "UPDATE events SET state = 'pending', received_at = $3, attempts = 0, next_attempt_at = $3,
                         last_error = NULL, lease_owner = NULL, lease_until = NULL
                     WHERE ruleset = $1 AND call_id = $2 AND state IN ('gave_up', 'unreadable')",
                    &[&key.ruleset, &key.call, &now],
                )
                .await
                .map_err(error)?;
        }
        tx.commit().await.map_err(error)?;
        Ok(replayed)
    }

    async fn backlog(&self) -> Result<Backlog> {
        let conn = self.conn().await?;
        let events = conn
            .query_one(
                "SELECT COUNT(*)::BIGINT, MIN(received_at) FROM events WHERE state = 'pending'",
                &[],
            )
            .await
            .map_err(error)?;
        let deliveries = conn
            .query_one(
                "SELECT COUNT(*)::BIGINT, MIN(created_at) FROM deliveries WHERE state = 'pending'",
                &[],
            )
            .await
            .map_err(error)?;
        Ok(Backlog {
            events_pending: events.get(0),
            oldest_event: events.get(1),
            deliveries_pending: deliveries.get(0),
            oldest_delivery: deliveries.get(1),
        })
    }
}
