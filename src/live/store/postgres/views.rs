//! Reading what the store holds of a call: its events' rows as views,
//! each with its deliveries.

use tokio_postgres::Row;

use super::*;

pub(super) fn view_of(row: &Row) -> View {
    View {
        key: Key {
            ruleset: row.get(0),
            call: row.get(1),
        },
        state: EventState::from_name(row.get(2)),
        received_at: row.get(3),
        attempts: row.get(4),
        last_error: row.get(5),
        hash: row.get(6),
        decision: row.get(7),
        trace: row.get(8),
        decided_at: row.get(9),
        deliveries: Vec::new(),
    }
}

pub(super) async fn with_deliveries<C: tokio_postgres::GenericClient>(
    client: &C,
    mut views: Vec<View>,
) -> Result<Vec<View>> {
    for view in &mut views {
        view.deliveries = client
            .query(
                "SELECT target, state, attempts, last_error FROM deliveries
                 WHERE ruleset = $1 AND call_id = $2 ORDER BY target",
                &[&view.key.ruleset, &view.key.call],
            )
            .await
            .map_err(error)?
            .iter()
            .map(|row| DeliveryView {
                target: row.get(0),
                state: DeliveryState::from_name(row.get(1)),
                attempts: row.get(2),
                last_error: row.get(3),
            })
            .collect();
    }
    Ok(views)
}

pub(super) async fn views_of<C: tokio_postgres::GenericClient>(
    client: &C,
    call: &str,
    ruleset: Option<&str>,
) -> Result<Vec<View>> {
    let rows = client
        .query(
            &format!(
                "SELECT {VIEW_COLUMNS} FROM events WHERE call_id = $1 AND ($2::TEXT IS NULL OR ruleset = $2) ORDER BY ruleset"
            ),
            &[&call, &ruleset],
        )
        .await
        .map_err(error)?;
    with_deliveries(client, rows.iter().map(view_of).collect()).await
}
