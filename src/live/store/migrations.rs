//! The store's schema, versioned in the repository (`migrations/`) and
//! compiled in: a store is brought to the newest version when opened, one
//! migration per transaction, each recorded in `schema_migrations`.

/// One schema change.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// SQLite's migrations, oldest first.
pub const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "events_and_deliveries",
    sql: include_str!("../../../migrations/sqlite/0001_events_and_deliveries.sql"),
}];

/// PostgreSQL's migrations, oldest first.
pub const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    name: "events_and_deliveries",
    sql: include_str!("../../../migrations/postgres/0001_events_and_deliveries.sql"),
}];

/// The table that records which migrations a store has.
pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// A store migrated past what this callassign knows is refused: its
/// schema may mean something this version would get wrong.
pub fn check_known(applied: i64, known: &[Migration]) -> Result<(), String> {
    let newest = known.last().map_or(0, |migration| migration.version);
    if applied > newest {
        return Err(format!(
            "the store's schema is at version {applied}, newer than this callassign knows ({newest}); run the callassign that migrated it, or a newer one"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_after_their_files() {
        for list in [SQLITE, POSTGRES] {
            for (index, migration) in list.iter().enumerate() {
                assert_eq!(migration.version, index as i64 + 1);
                assert!(!migration.sql.trim().is_empty());
            }
        }
        // Both stores have the same versions, so one callassign speaks to both.
        let versions =
            |list: &[Migration]| list.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE), versions(POSTGRES));
        let files = std::fs::read_dir("migrations/sqlite").unwrap().count();
        assert_eq!(
            files,
            SQLITE.len(),
            "every file in migrations/sqlite is listed"
        );
        let files = std::fs::read_dir("migrations/postgres").unwrap().count();
        assert_eq!(
            files,
            POSTGRES.len(),
            "every file in migrations/postgres is listed"
        );
    }

    #[test]
    fn a_store_newer_than_callassign_is_refused() {
        assert!(check_known(1, SQLITE).is_ok());
        assert!(check_known(2, SQLITE)
            .unwrap_err()
            .contains("version 2, newer"));
    }
}
