//! The database file: opened in WAL mode with full syncs, locked against
//! a second server (`flock`), migrated to the schema this build knows; and
//! SQLite's errors said in words that say what to do.

use super::*;
use crate::live::store::migrations::{self, Migration};

/// A SQLite error, in words that say what to do.
pub(super) fn describe(path: &Path, error: &rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let code = error.sqlite_error_code();
    let what = match code {
        Some(ErrorCode::DiskFull) => "the disk is full".to_string(),
        Some(ErrorCode::ReadOnly) => "the database is read-only".to_string(),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            "the database is busy".to_string()
        }
        _ => error.to_string(),
    };
    StoreError(format!("the store `{}` failed: {what}", path.display()))
}

pub(super) fn open_connection(
    path: &Path,
    serving: bool,
) -> Result<(Connection, Option<std::fs::File>)> {
    if !serving && !path.exists() {
        // Only a server creates a store: a typo here would start an empty one.
        return Err(StoreError(format!(
            "the store `{}` does not exist",
            path.display()
        )));
    }
    // Only a plain file: SQLite would open a device (`/dev/null`, then
    // write `/dev/null-journal` beside it) or a pipe and fail later with a
    // "disk I/O error" that says nothing of the path.
    if let Ok(metadata) = std::fs::metadata(path) {
        use std::os::unix::fs::FileTypeExt as _;
        let kind = metadata.file_type();
        if !kind.is_file() {
            let what = if kind.is_dir() {
                "a folder"
            } else if kind.is_fifo() {
                "a named pipe"
            } else if kind.is_char_device() || kind.is_block_device() {
                "a device"
            } else {
                "not a regular file"
            };
            return Err(StoreError(format!(
                "the store `{}` is {what}: `sqlite:PATH` names a database file (created if missing), e.g. `sqlite:/var/lib/callassign/live.db`",
                path.display()
            )));
        }
    }
    let conn = Connection::open(path).map_err(|error| describe(path, &error))?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "cannot use WAL mode (the file system gave `{mode}`)"
            )));
        }
        // An acknowledged event survives a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    };
    setup().map_err(|error| describe(path, &error))?;
    let lock = if serving { Some(lock(path)?) } else { None };
    let mut conn = conn;
    migrate(&mut conn).map_err(|error| match error {
        Migrate::Sql(error) => describe(path, &error),
        Migrate::Newer(message) => StoreError(format!("`{}`: {message}", path.display())),
    })?;
    if serving {
        // The previous run is gone (the lock says so): its leases are void.
        conn.execute_batch(
            "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL;
             DELETE FROM target_leases;",
        )
        .map_err(|error| describe(path, &error))?;
    }
    Ok((conn, lock))
}

/// The advisory lock that keeps a second server off the file.
pub(super) fn lock(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::io::AsRawFd;
    let file = std::fs::File::open(path)
        .map_err(|error| StoreError(format!("cannot open `{}`: {error}", path.display())))?;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        return Err(StoreError(format!(
            "the store `{}` is in use by another `callassign serve`",
            path.display()
        )));
    }
    Ok(file)
}

pub(super) enum Migrate {
    Sql(rusqlite::Error),
    Newer(String),
}

impl From<rusqlite::Error> for Migrate {
    fn from(error: rusqlite::Error) -> Migrate {
        Migrate::Sql(error)
    }
}

pub(super) fn migrate(conn: &mut Connection) -> std::result::Result<(), Migrate> {
    conn.execute_batch(migrations::TABLE)?;
    let applied: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    migrations::check_known(applied, migrations::SQLITE).map_err(Migrate::Newer)?;
    for Migration { version, name, sql } in migrations::SQLITE {
        if *version <= applied {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now()],
        )?;
        tx.commit()?;
    }
    Ok(())
}
