//! Reading what the store holds of a call: its events' rows as views,
//! each with its deliveries.

use super::*;

pub(super) fn view_of(row: &rusqlite::Row) -> rusqlite::Result<View> {
    Ok(View {
        key: Key {
            ruleset: row.get(0)?,
            call: row.get(1)?,
        },
        state: EventState::from_name(&row.get::<_, String>(2)?),
        received_at: row.get(3)?,
        attempts: row.get(4)?,
        last_error: row.get(5)?,
        hash: row.get(6)?,
        decision: row.get(7)?,
        trace: row.get(8)?,
        decided_at: row.get(9)?,
        deliveries: Vec::new(),
    })
}

pub(super) fn with_deliveries(
    conn: &Connection,
    mut views: Vec<View>,
) -> rusqlite::Result<Vec<View>> {
    let mut query = conn.prepare_cached(
        "SELECT target, state, attempts, last_error FROM deliveries
         WHERE ruleset = ?1 AND call_id = ?2 ORDER BY target",
    )?;
    for view in &mut views {
        view.deliveries = query
            .query_map(params![view.key.ruleset, view.key.call], |row| {
                Ok(DeliveryView {
                    target: row.get(0)?,
                    state: DeliveryState::from_name(&row.get::<_, String>(1)?),
                    attempts: row.get(2)?,
                    last_error: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(views)
}

pub(super) fn views_of(
    conn: &Connection,
    call: &str,
    ruleset: Option<&str>,
) -> rusqlite::Result<Vec<View>> {
    let mut query = conn.prepare_cached(&format!(
        "SELECT {VIEW_COLUMNS} FROM events WHERE call_id = ?1 AND (?2 IS NULL OR ruleset = ?2) ORDER BY ruleset"
    ))?;
    let views = query
        .query_map(params![call, ruleset], view_of)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    with_deliveries(conn, views)
}
