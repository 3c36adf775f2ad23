//! The daemon's SQLite file: its numbered migrations and the SQL of every table in named
//! constants (opened and migrated by [`rollcall_runtime::sqlite`]). The outbox and the gallery
//! store share one connection. It also says how much room the database has left to grow into
//! on its disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rollcall_runtime::sqlite::{self, MigrateError};
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
    // 2: the school's time zone, as the hub last said it.
    "CREATE TABLE site (
        slot INTEGER PRIMARY KEY CHECK (slot = 1),
        timezone TEXT NOT NULL
    );",
    // 3: what the school does with faces that match nobody, as the hub last said it (none yet:
    // discard).
    "ALTER TABLE site ADD COLUMN unknown_faces TEXT;",
];

/// Bytes of the database's own free pages (reused before the file grows).
const FREE_PAGE_BYTES: &str =
    "SELECT f.freelist_count * p.page_size FROM pragma_freelist_count() f, pragma_page_size() p";
/// Copies the write-ahead log into the database and truncates it to nothing.
const CHECKPOINT: &str = "PRAGMA wal_checkpoint(TRUNCATE)";

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database {path}: {source}")]
    Migrate { path: String, source: MigrateError },
    #[error("database lock poisoned")]
    Poisoned,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot tell the free space of {path}: {source}")]
    Statvfs {
        path: String,
        source: std::io::Error,
    },
}

impl DbError {
    /// Whether SQLite could not write because the disk is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, DbError::Sqlite(e) if sqlite::is_disk_full(e))
    }
}

/// One connection, shared by the outbox and the gallery store. Every use is short and runs
/// off the async executor (the pipeline thread or `spawn_blocking`).
#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// The directory holding the file, whose file system the database grows on.
    dir: PathBuf,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = sqlite::open(path)?;
        sqlite::migrate(&mut conn, MIGRATIONS).map_err(|source| DbError::Migrate {
            path: path.display().to_string(),
            source,
        })?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            dir,
        })
    }

    pub fn lock(&self) -> Result<MutexGuard<'_, Connection>, DbError> {
        self.conn.lock().map_err(|_| DbError::Poisoned)
    }

    /// Bytes the database can still grow into: what its file system has free for
    /// unprivileged writers, plus its own free pages.
    pub fn room(&self) -> Result<u64, DbError> {
        let fs = rustix::fs::statvfs(&self.dir).map_err(|e| DbError::Statvfs {
            path: self.dir.display().to_string(),
            source: e.into(),
        })?;
        let free = fs.f_bavail.saturating_mul(fs.f_frsize);
        Ok(free.saturating_add(self.free_page_bytes()?))
    }

    /// Bytes of free pages inside the database (left by deleted rows, reused first).
    pub fn free_page_bytes(&self) -> Result<u64, DbError> {
        let bytes: i64 = self.lock()?.query_row(FREE_PAGE_BYTES, [], |r| r.get(0))?;
        Ok(bytes.max(0) as u64)
    }

    /// Moves the write-ahead log into the database file and truncates the log, giving its
    /// space back to the file system.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        self.lock()?.query_row(CHECKPOINT, [], |_| Ok(()))?;
        Ok(())
    }
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
        assert!(matches!(
            Db::open(&path),
            Err(DbError::Migrate {
                source: MigrateError::TooNew { .. },
                ..
            })
        ));
    }

    #[test]
    fn room_counts_the_pages_deleted_rows_leave_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("edge.db")).unwrap();
        let conn = db.lock().unwrap();
        conn.execute_batch("CREATE TABLE t (b BLOB); INSERT INTO t VALUES (zeroblob(100000));")
            .unwrap();
        drop(conn);
        assert_eq!(db.free_page_bytes().unwrap(), 0);
        db.lock().unwrap().execute("DELETE FROM t", []).unwrap();
        assert!(db.free_page_bytes().unwrap() >= 90_000);
        assert!(db.room().unwrap() >= db.free_page_bytes().unwrap());
        db.checkpoint().unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join("edge.db-wal"))
                .unwrap()
                .len(),
            0,
            "the checkpoint truncates the log"
        );
    }
}
