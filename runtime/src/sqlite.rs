//! Opening a daemon's SQLite file the one way both daemons need it, and numbered migrations.
//!
//! Writers run in WAL mode (readers see committed snapshots while a write goes on) with
//! `synchronous = FULL` (a commit survives a power cut: records are acknowledged only once
//! they are on disk) and foreign keys enforced. A statement waits [`BUSY_TIMEOUT`] for a lock
//! another connection or process holds; a write transaction takes the write lock as it
//! begins ([`write_transaction`]), so it waits its turn instead of failing. Migrations are
//! SQL batches applied in order, each in its own transaction, counted by
//! `PRAGMA user_version`; only ever append to the list.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// How long a statement waits for a lock held by another connection (a checkpoint, or a
/// command-line tool run beside the daemon).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database is at schema version {found}, newer than this build knows ({known}): \
         run the newer program, or restore a backup made by this one"
    )]
    TooNew { found: usize, known: usize },
    #[error("migration {migration} would leave {rows} rows pointing at nothing; nothing changed")]
    BrokenKeys { migration: usize, rows: i64 },
}

/// Opens (creating if needed) the database at `path` for writing.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Deleted rows are overwritten with zeros, not left in free pages: an erased face (a
    // template, a crop) cannot be read back from a copy of the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Opens a read-only connection to the database at `path` (beside a writer, in WAL mode).
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Begins a transaction that writes: `BEGIN IMMEDIATE`, which waits [`BUSY_TIMEOUT`] for the
/// write lock. A deferred one that reads first and then writes, while another process (a
/// command-line tool beside the daemon) has committed, would fail at once with "database is
/// locked": its snapshot is stale, and waiting cannot help.
pub fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Runs every migration in `migrations` the database has not seen yet.
pub fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), MigrateError> {
    migrate_to(conn, migrations, migrations.len())
}

/// The first line of a migration that rebuilds a table others refer to (SQLite cannot change
/// a CHECK constraint in place). It runs with foreign keys off, so dropping the old table
/// neither cascades nor fails, and commits only if `PRAGMA foreign_key_check` then finds
/// nothing: the procedure of SQLite's "Making Other Kinds Of Table Schema Changes".
pub const REBUILDS_TABLES: &str = "-- rebuilds tables: foreign keys off\n";

/// Runs the migrations up to schema version `target` (tests of one migration's effect).
pub fn migrate_to(
    conn: &mut Connection,
    migrations: &[&str],
    target: usize,
) -> Result<(), MigrateError> {
    loop {
        let next = user_version(conn)?;
        let rebuilds = migrations
            .get(next)
            .is_some_and(|m| m.trim_start().starts_with(REBUILDS_TABLES.trim_end()));
        if rebuilds {
            // Only outside a transaction does the pragma take effect.
            conn.pragma_update(None, "foreign_keys", false)?;
        }
        let done = migrate_one(conn, migrations, target, next, rebuilds);
        if rebuilds {
            conn.pragma_update(None, "foreign_keys", true)?;
        }
        if done? {
            return Ok(());
        }
    }
}

/// Runs migration `expected` if the database is still there (read again inside the write
/// lock: two processes opening the file at once migrate it once); true when there is nothing
/// left to do.
fn migrate_one(
    conn: &mut Connection,
    migrations: &[&str],
    target: usize,
    expected: usize,
    check_keys: bool,
) -> Result<bool, MigrateError> {
    let tx = write_transaction(conn)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let found = usize::try_from(found).unwrap_or(0);
    if found > migrations.len() {
        return Err(MigrateError::TooNew {
            found,
            known: migrations.len(),
        });
    }
    if found >= target {
        return Ok(true);
    }
    if found != expected {
        // Another process migrated meanwhile: look again.
        return Ok(false);
    }
    tx.execute_batch(migrations[found])?;
    if check_keys {
        let broken: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(MigrateError::BrokenKeys {
                migration: found + 1,
                rows: broken,
            });
        }
    }
    tx.pragma_update(None, "user_version", found + 1)?;
    tx.commit()?;
    Ok(false)
}

fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(0))
}

/// Whether SQLite could not write because the disk is full (`SQLITE_FULL`).
pub fn is_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATIONS: &[&str] = &[
        "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        "CREATE TABLE b (a_id INTEGER NOT NULL REFERENCES a (id));",
    ];

    #[test]
    fn migrations_apply_once_in_order_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite3");
        let mut conn = open(&path).unwrap();
        migrate_to(&mut conn, MIGRATIONS, 1).unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let orphan = conn.execute("INSERT INTO b (a_id) VALUES (7)", []);
        assert!(orphan.is_err(), "foreign keys are enforced");
        let reader = open_reader(&path).unwrap();
        assert!(reader.execute("INSERT INTO a (id) VALUES (1)", []).is_err());
        assert!(matches!(
            migrate(&mut conn, &MIGRATIONS[..1]),
            Err(MigrateError::TooNew { found: 2, known: 1 })
        ));
    }

    /// A table others refer to is rebuilt (a CHECK loosened) without the old table's drop
    /// cascading to them; a rebuild that would orphan a row is refused and changes nothing.
    #[test]
    fn a_rebuilt_table_keeps_the_rows_that_refer_to_it() {
        let referred = [
            "CREATE TABLE a (id INTEGER PRIMARY KEY, kind TEXT CHECK (kind IN ('x')));
             CREATE TABLE b (a_id INTEGER NOT NULL REFERENCES a (id) ON DELETE CASCADE);
             INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1);",
        ];
        let rebuild = |keep: &str| {
            format!(
                "{REBUILDS_TABLES}CREATE TABLE a_new (id INTEGER PRIMARY KEY,
                    kind TEXT CHECK (kind IN ('x', 'y')));
                 INSERT INTO a_new SELECT * FROM a WHERE id IN ({keep});
                 DROP TABLE a; ALTER TABLE a_new RENAME TO a;"
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("x.sqlite3")).unwrap();
        migrate(&mut conn, &referred).unwrap();
        let orphaning = rebuild("NULL");
        let refused = migrate(&mut conn, &[referred[0], &orphaning]);
        assert!(matches!(
            refused,
            Err(MigrateError::BrokenKeys {
                migration: 2,
                rows: 1
            })
        ));
        let good = rebuild("1");
        migrate(&mut conn, &[referred[0], &good]).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM b", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the referring row survived the drop");
        conn.execute("INSERT INTO a VALUES (2, 'y')", []).unwrap();
        let orphan = conn.execute("INSERT INTO b (a_id) VALUES (7)", []);
        assert!(orphan.is_err(), "foreign keys are enforced again");
    }

    /// A daemon's transaction reads, then writes, while a command-line tool commits beside
    /// it: each waits for the other, and neither is told the database is locked.
    #[test]
    fn a_write_transaction_waits_its_turn_beside_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite3");
        let mut daemon = open(&path).unwrap();
        migrate(&mut daemon, MIGRATIONS).unwrap();
        let tx = write_transaction(&mut daemon).unwrap();
        let count = |c: &Connection| -> i64 {
            c.query_row("SELECT count(*) FROM a", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count(&tx), 0);
        let tool = std::thread::spawn({
            let path = path.clone();
            move || {
                let mut tool = open(&path).unwrap();
                let tx = write_transaction(&mut tool)?;
                tx.execute("INSERT INTO a (id) VALUES (2)", [])?;
                tx.commit()
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        tx.execute("INSERT INTO a (id) VALUES (1)", []).unwrap();
        tx.commit().unwrap();
        tool.join().unwrap().unwrap();
        assert_eq!(count(&daemon), 2);
    }
}
