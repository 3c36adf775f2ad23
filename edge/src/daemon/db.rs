//! The daemon's SQLite file: opening it (WAL), numbered migrations, and the SQL of every table
//! in named constants. The outbox and the gallery store share one connection.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

/// Migrations in order; `PRAGMA user_version` counts those applied. Only ever append.
pub const MIGRATIONS: &[&str] = &[
    // 1: the outbox and the gallery.
    "CREATE TABLE outbox (
        id BLOB PRIMARY KEY NOT NULL,
        created_ms INTEGER NOT NULL,
        decision INTEGER NOT NULL,
        has_thumbnail INTEGER NOT NULL,
        payload BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE gallery (
        slot INTEGER PRIMARY KEY CHECK (slot = 1),
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        snapshot BLOB NOT NULL
    );",
];

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "database {path} is at schema {found}, newer than this build ({known}): upgrade rollcall-edge"
    )]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("database lock poisoned")]
    Poisoned,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// One connection, shared by the outbox and the gallery store. Every use is short and runs
/// off the async executor (the pipeline thread or `spawn_blocking`).
#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn, &path.display().to_string())?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn lock(&self) -> Result<MutexGuard<'_, Connection>, DbError> {
        self.conn.lock().map_err(|_| DbError::Poisoned)
    }
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), DbError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > MIGRATIONS.len() as i64 {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.db");
        drop(Db::open(&path).unwrap());
        let db = Db::open(&path).unwrap();
        let mode: String = db
            .lock()
            .unwrap()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        db.lock()
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        drop(db);
        assert!(matches!(Db::open(&path), Err(DbError::TooNew { .. })));
    }
}
