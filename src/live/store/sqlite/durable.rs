//! The writes that must be on disk before they are answered (an event
//! before its 202, a decision before it is delivered), stored in groups:
//! one transaction and one sync per batch, each write told once the
//! commit made it durable, or that nothing of the batch was stored.

use rusqlite::Transaction;

use super::*;

/// A write that must be on disk before it is answered: an event before
/// its 202, a decision before it is delivered.
pub(super) enum Durable {
    Accept {
        key: Key,
        body: String,
        now: Millis,
        reply: oneshot::Sender<Result<Accepted>>,
    },
    Decide {
        key: Key,
        replica: String,
        decided: Decided,
        targets: Vec<String>,
        reply: oneshot::Sender<Result<bool>>,
    },
}

/// What a durable write answers.
pub(super) enum Answer {
    Accepted(Accepted),
    Decided(bool),
}

/// Stores a batch of events and decisions in one transaction; each hears
/// once the commit made it durable, or that it was not stored.
pub(super) fn durable_batch(conn: &mut Connection, batch: Vec<Durable>) {
    let mut answers = Vec::with_capacity(batch.len());
    let outcome = (|| -> rusqlite::Result<()> {
        let tx = conn.transaction()?;
        for work in &batch {
            answers.push(match work {
                Durable::Accept { key, body, now, .. } => {
                    Answer::Accepted(accept_one(&tx, key, body, *now)?)
                }
                Durable::Decide {
                    key,
                    replica,
                    decided,
                    targets,
                    ..
                } => Answer::Decided(decide_one(&tx, key, replica, decided, targets)?),
            });
        }
        tx.commit()
    })();
    match outcome {
        Ok(()) => {
            for (work, answer) in batch.into_iter().zip(answers) {
                match (work, answer) {
                    (Durable::Accept { reply, .. }, Answer::Accepted(accepted)) => {
                        let _ = reply.send(Ok(accepted));
                    }
                    (Durable::Decide { reply, .. }, Answer::Decided(stored)) => {
                        let _ = reply.send(Ok(stored));
                    }
                    _ => unreachable!("answers are in the order of the batch"),
                }
            }
        }
        Err(error) => {
            // Nothing of the batch was stored: each hears so.
            let path = conn.path().map(PathBuf::from).unwrap_or_default();
            let error = describe(&path, &error);
            for work in batch {
                match work {
                    Durable::Accept { reply, .. } => {
                        let _ = reply.send(Err(error.clone()));
                    }
                    Durable::Decide { reply, .. } => {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

pub(super) fn decide_one(
    tx: &Transaction,
    key: &Key,
    replica: &str,
    decided: &Decided,
    targets: &[String],
) -> rusqlite::Result<bool> {
    let updated = tx.execute(
        "UPDATE events SET state = 'decided', attempts = attempts + 1, last_error = NULL,
             record = ?4, hash = ?5, decision = ?6, trace = ?7, decided_at = ?8,
             lease_owner = NULL, lease_until = NULL
         WHERE ruleset = ?1 AND call_id = ?2 AND state = 'pending' AND lease_owner = ?3",
        params![
            key.ruleset,
            key.call,
            replica,
            decided.record,
            decided.hash,
            decided.decision,
            decided.trace,
            decided.decided_at
        ],
    )?;
    if updated == 0 {
        return Ok(false);
    }
    for target in targets {
        tx.execute(
            "INSERT INTO deliveries (ruleset, call_id, target, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING",
            params![key.ruleset, key.call, target, decided.decided_at],
        )?;
    }
    Ok(true)
}

pub(super) fn accept_one(
    tx: &Transaction,
    key: &Key,
    body: &str,
    now: Millis,
) -> rusqlite::Result<Accepted> {
    let inserted = tx.execute(
        "INSERT INTO events (ruleset, call_id, body, received_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (ruleset, call_id) DO NOTHING",
        params![key.ruleset, key.call, body, now],
    )?;
    if inserted == 1 {
        return Ok(Accepted::New);
    }
    let state: String = tx.query_row(
        "SELECT state FROM events WHERE ruleset = ?1 AND call_id = ?2",
        params![key.ruleset, key.call],
        |row| row.get(0),
    )?;
    Ok(match EventState::from_name(&state) {
        EventState::Pending => Accepted::Pending,
        EventState::Decided => match views_of(tx, &key.call, Some(&key.ruleset))?.pop() {
            Some(view) => Accepted::Decided(Box::new(view)),
            None => Accepted::Pending,
        },
        EventState::GaveUp | EventState::Unreadable => {
            tx.execute(
                "UPDATE events SET state = 'pending', body = ?3, received_at = ?4, attempts = 0,
                     next_attempt_at = ?4, last_error = NULL, lease_owner = NULL, lease_until = NULL
                 WHERE ruleset = ?1 AND call_id = ?2",
                params![key.ruleset, key.call, body, now],
            )?;
            Accepted::Reopened
        }
    })
}
