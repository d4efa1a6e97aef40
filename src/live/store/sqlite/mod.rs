//! The embedded store: one SQLite file in WAL mode, one server at a time.
//!
//! One thread owns the connection and runs every statement, so the async
//! runtime never blocks on the disk. Events arriving together, and
//! decisions made together, are stored in one transaction (group commit):
//! each waits for the commit that made it durable (`synchronous=FULL`: on
//! disk, not just in the OS), so a burst costs one sync per batch instead
//! of one per event. The other writes (claims, retries, delivery marks)
//! are committed without a sync of their own (`synchronous=NORMAL`: safe
//! from a crash, and on disk with the next synced commit): losing one to a
//! power cut only repeats a fetch or a delivery, with the same decision.
//!
//! A server holds an advisory lock (`flock`) on the database file, so a
//! second server on the same file is refused while the first runs; on
//! start it frees the leases a crashed run left. SQLite's own locks are
//! POSIX record locks, which `flock` does not touch: `callassign
//! decisions` reads and replays beside a running server.
//!
//! `file` opens, locks and migrates the database, `durable` commits the
//! writes that must be on disk in groups, `views` reads a call's rows.

mod durable;
mod file;
mod views;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::*;
use durable::{durable_batch, Durable};
use file::{describe, open_connection};
use views::{view_of, views_of, with_deliveries};

/// Events stored in one transaction at most.
const BATCH: usize = 512;

/// Work queued for the store's thread, at most this many: past it, callers
/// wait (the HTTP server answers more slowly instead of growing memory).
const QUEUE: usize = 4096;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Work {
    Durable(Durable),
    Run(Job),
}

pub struct SqliteStore {
    jobs: mpsc::Sender<Work>,
    path: PathBuf,
    /// The advisory lock of a serving store, held while it lives.
    _lock: Option<std::fs::File>,
}

impl SqliteStore {
    /// Opens (creating) the database at `path` and migrates it. `serving`:
    /// the loop will work on it, so it takes the file's lock and frees the
    /// leases of a previous run.
    pub async fn open(path: &Path, serving: bool) -> Result<SqliteStore> {
        let path = path.to_path_buf();
        let (opened, lock) = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || open_connection(&path, serving))
                .await
                .map_err(|error| StoreError(error.to_string()))??
        };
        let mut conn = opened;
        let (jobs, mut queue) = mpsc::channel::<Work>(QUEUE);
        std::thread::Builder::new()
            .name("callassign-store".to_string())
            .spawn(move || {
                let mut synced = true;
                let mut sync = |conn: &mut Connection, full: bool| {
                    if synced != full {
                        let mode = if full { "FULL" } else { "NORMAL" };
                        if conn.pragma_update(None, "synchronous", mode).is_ok() {
                            synced = full;
                        }
                    }
                };
                while let Some(work) = queue.blocking_recv() {
                    match work {
                        Work::Run(job) => {
                            sync(&mut conn, false);
                            job(&mut conn);
                        }
                        Work::Durable(first) => {
                            let mut batch = vec![first];
                            let mut after = None;
                            while batch.len() < BATCH {
                                match queue.try_recv() {
                                    Ok(Work::Durable(next)) => batch.push(next),
                                    Ok(Work::Run(job)) => {
                                        after = Some(job);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            sync(&mut conn, true);
                            durable_batch(&mut conn, batch);
                            if let Some(job) = after {
                                sync(&mut conn, false);
                                job(&mut conn);
                            }
                        }
                    }
                }
            })
            .map_err(|error| StoreError(format!("cannot start the store's thread: {error}")))?;
        Ok(SqliteStore {
            jobs,
            path,
            _lock: lock,
        })
    }

    /// Runs `f` on the store's thread.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        self.jobs
            .send(Work::Run(job))
            .await
            .map_err(|_| self.gone())?;
        answer
            .await
            .map_err(|_| self.gone())?
            .map_err(|error| self.error(&error))
    }

    fn gone(&self) -> StoreError {
        StoreError(format!(
            "the store `{}` is closed (its thread stopped)",
            self.path.display()
        ))
    }

    fn error(&self, error: &rusqlite::Error) -> StoreError {
        describe(&self.path, error)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn accept(&self, key: &Key, body: &str, now: Millis) -> Result<Accepted> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Work::Durable(Durable::Accept {
                key: key.clone(),
                body: body.to_string(),
                now,
                reply,
            }))
            .await
            .map_err(|_| self.gone())?;
        answer.await.map_err(|_| self.gone())?
    }

    async fn claim(
        &self,
        replica: &str,
        now: Millis,
        lease: Millis,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        let replica = replica.to_string();
        self.call(move |conn| {
            let mut query = conn.prepare_cached(
                "UPDATE events SET lease_owner = ?1, lease_until = ?2
                 WHERE rowid IN (
                     SELECT rowid FROM events
                     WHERE state = 'pending' AND next_attempt_at <= ?3
                       AND (lease_until IS NULL OR lease_until < ?3)
                     ORDER BY next_attempt_at LIMIT ?4)
                 RETURNING ruleset, call_id, received_at, attempts",
            )?;
            let claimed = query
                .query_map(params![replica, now + lease, now, limit as i64], |row| {
                    Ok(Claimed {
                        key: Key {
                            ruleset: row.get(0)?,
                            call: row.get(1)?,
                        },
                        received_at: row.get(2)?,
                        attempts: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(claimed)
        })
        .await
    }

    async fn retry(&self, key: &Key, replica: &str, next_at: Millis, error: &str) -> Result<()> {
        let (key, replica, error) = (key.clone(), replica.to_string(), error.to_string());
        self.call(move |conn| {
            conn.execute(
                "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?4, last_error = ?5,
                     lease_owner = NULL, lease_until = NULL
                 WHERE ruleset = ?1 AND call_id = ?2 AND state = 'pending' AND lease_owner = ?3",
                params![key.ruleset, key.call, replica, next_at, error],
            )
            .map(drop)
        })
        .await
    }

    async fn close(&self, key: &Key, replica: &str, state: EventState, error: &str) -> Result<()> {
        let (key, replica, error) = (key.clone(), replica.to_string(), error.to_string());
        self.call(move |conn| {
            conn.execute(
                "UPDATE events SET state = ?4, attempts = attempts + 1, last_error = ?5,
                     lease_owner = NULL, lease_until = NULL
                 WHERE ruleset = ?1 AND call_id = ?2 AND state = 'pending' AND lease_owner = ?3",
                params![key.ruleset, key.call, replica, state.name(), error],
            )
            .map(drop)
        })
        .await
    }

    async fn decide(
        &self,
        key: &Key,
        replica: &str,
        decided: &Decided,
        targets: &[String],
    ) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Work::Durable(Durable::Decide {
                key: key.clone(),
                replica: replica.to_string(),
                decided: decided.clone(),
                targets: targets.to_vec(),
                reply,
            }))
            .await
            .map_err(|_| self.gone())?;
        answer.await.map_err(|_| self.gone())?
    }

    async fn hold_target(
        &self,
        target: &str,
        replica: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<bool> {
        let (target, replica) = (target.to_string(), replica.to_string());
        self.call(move |conn| {
            let held = conn
                .query_row(
                    "INSERT INTO target_leases (target, owner, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (target) DO UPDATE SET owner = excluded.owner, until = excluded.until
                     WHERE target_leases.owner = excluded.owner OR target_leases.until < ?4
                     RETURNING owner",
                    params![target, replica, now + lease, now],
                    |row| row.get::<_, String>(0),
                )
                .optional()?;
            Ok(held.is_some())
        })
        .await
    }

    async fn release_target(&self, target: &str, replica: &str) -> Result<()> {
        let (target, replica) = (target.to_string(), replica.to_string());
        self.call(move |conn| {
            conn.execute(
                "DELETE FROM target_leases WHERE target = ?1 AND owner = ?2",
                params![target, replica],
            )
            .map(drop)
        })
        .await
    }

    async fn fail_orphaned(
        &self,
        targets: &[String],
        error: &str,
        now: Millis,
    ) -> Result<Vec<(String, u64)>> {
        let (targets, error) = (targets.to_vec(), error.to_string());
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let pending: Vec<String> = tx
                .prepare(
                    "SELECT DISTINCT target FROM deliveries d WHERE state = 'pending'
                     AND NOT EXISTS (SELECT 1 FROM target_leases l
                                     WHERE l.target = d.target AND l.until >= ?1)",
                )?
                .query_map(params![now], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut failed = Vec::new();
            for target in pending
                .into_iter()
                .filter(|target| !targets.contains(target))
            {
                let count = tx.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = ?2
                     WHERE target = ?1 AND state = 'pending'",
                    params![target, error],
                )?;
                failed.push((target, count as u64));
            }
            tx.commit()?;
            Ok(failed)
        })
        .await
    }

    async fn head(&self, target: &str) -> Result<Option<Delivery>> {
        let target = target.to_string();
        self.call(move |conn| {
            conn.prepare_cached(
                "SELECT d.id, d.ruleset, d.call_id, d.target, e.decision, d.attempts, d.next_attempt_at, d.created_at
                 FROM deliveries d JOIN events e ON e.ruleset = d.ruleset AND e.call_id = d.call_id
                 WHERE d.target = ?1 AND d.state = 'pending' ORDER BY d.id LIMIT 1",
            )?
            .query_row(params![target], |row| {
                Ok(Delivery {
                    id: row.get(0)?,
                    key: Key {
                        ruleset: row.get(1)?,
                        call: row.get(2)?,
                    },
                    target: row.get(3)?,
                    body: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    attempts: row.get(5)?,
                    next_attempt_at: row.get(6)?,
                    created_at: row.get(7)?,
                })
            })
            .optional()
        })
        .await
    }

    async fn delivered(&self, id: i64, now: Millis) -> Result<()> {
        self.call(move |conn| {
            conn.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL,
                     delivered_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map(drop)
        })
        .await
    }

    async fn delivery_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()> {
        let error = error.to_string();
        self.call(move |conn| {
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE id = ?1 AND state = 'pending'",
                params![id, next_at, error],
            )
            .map(drop)
        })
        .await
    }

    async fn delivery_failed(&self, id: i64, error: &str) -> Result<()> {
        let error = error.to_string();
        self.call(move |conn| {
            conn.execute(
                "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1 AND state = 'pending'",
                params![id, error],
            )
            .map(drop)
        })
        .await
    }

    async fn views(&self, call: &str, ruleset: Option<&str>) -> Result<Vec<View>> {
        let (call, ruleset) = (call.to_string(), ruleset.map(str::to_string));
        self.call(move |conn| views_of(conn, &call, ruleset.as_deref()))
            .await
    }

    async fn list(&self, which: Listing, limit: usize) -> Result<Vec<View>> {
        self.call(move |conn| {
            let mut query = conn.prepare(&which.query("?1"))?;
            let views = query
                .query_map(params![limit as i64], view_of)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            with_deliveries(conn, views)
        })
        .await
    }

    async fn replay(&self, key: &Key, target: Option<&str>, now: Millis) -> Result<u64> {
        let (key, target) = (key.clone(), target.map(str::to_string));
        self.call(move |conn| {
            let tx = conn.transaction()?;
            // At the back of the queue: a new id.
            let mut replayed = 0u64;
            let failed: Vec<(i64, String)> = tx
                .prepare(
                    "SELECT id, target FROM deliveries WHERE ruleset = ?1 AND call_id = ?2
                     AND state = 'failed' AND (?3 IS NULL OR target = ?3)",
                )?
                .query_map(params![key.ruleset, key.call, target], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for (id, target) in failed {
                tx.execute("DELETE FROM deliveries WHERE id = ?1", params![id])?;
                tx.execute(
                    "INSERT INTO deliveries (ruleset, call_id, target, next_attempt_at, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![key.ruleset, key.call, target, now],
                )?;
                replayed += 1;
            }
            if target.is_none() {
                replayed += tx.execute(
                    "UPDATE events SET state = 'pending', received_at = ?3, attempts = 0, next_attempt_at = ?3,
                         last_error = NULL, lease_owner = NULL, lease_until = NULL
                     WHERE ruleset = ?1 AND call_id = ?2 AND state IN ('gave_up', 'unreadable')",
                    params![key.ruleset, key.call, now],
                )? as u64;
            }
            tx.commit()?;
            Ok(replayed)
        })
        .await
    }

    async fn backlog(&self) -> Result<Backlog> {
        self.call(|conn| {
            let (events_pending, oldest_event) = conn.query_row(
                "SELECT COUNT(*), MIN(received_at) FROM events WHERE state = 'pending'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let (deliveries_pending, oldest_delivery) = conn.query_row(
                "SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            Ok(Backlog {
                events_pending,
                oldest_event,
                deliveries_pending,
                oldest_delivery,
            })
        })
        .await
    }
}
