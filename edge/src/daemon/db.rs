//! The daemon's SQLite file: its numbered migrations and the SQL of every table in named
//! constants (opened and migrated by [`rollcall_runtime::sqlite`]). The outbox and the gallery
//! store share one connection. It also says how much room the database has left to grow into
//! on its disk.
//!
//! Faces in it (the gallery, each record waiting in the outbox) are sealed
//! ([`rollcall_runtime::seal`]) under the keys of a file outside it ([`Db::open_with_keys`]):
//! a copy of the SD card without that file yields no face.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rollcall_runtime::seal::{FaceKeys, Kept, KeyFileError, KeyId, Purpose, SealError};
use rollcall_runtime::sqlite::{self, MigrateError};
use rusqlite::{Connection, params};

/// File name of the daemon's SQLite database inside the data directory.
pub const FILE_NAME: &str = "edge.db";

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
    // 4: the settings the hub chose for this unit, last taken (none: edge.toml alone).
    "CREATE TABLE unit_settings (
        slot INTEGER PRIMARY KEY CHECK (slot = 1),
        version INTEGER NOT NULL,
        toml TEXT NOT NULL
    );",
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
    #[error("a face cannot be opened: {0}")]
    Sealed(#[from] SealError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(
        "{records} records waiting in the outbox are sealed with key {}, which the face key \
         file {} does not hold: put that file back (mounted where the config says), or, if it \
         is lost for good, `rollcall-edge faces-key lost --config …` drops those records",
        .keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "),
        .file.display()
    )]
    KeysMissing {
        keys: Vec<KeyId>,
        records: usize,
        file: PathBuf,
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
    /// What seals and opens the faces in it.
    keys: Arc<FaceKeys>,
}

/// Sealed values the keys do not open: by key, how many outbox records and whether the
/// gallery.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Lacking {
    pub records: BTreeMap<KeyId, usize>,
    pub gallery: Option<KeyId>,
}

const OUTBOX_PAYLOADS: &str = "SELECT id, payload FROM outbox";
const GALLERY_SNAPSHOT: &str = "SELECT snapshot FROM gallery WHERE slot = 1";
const SET_PAYLOAD: &str = "UPDATE outbox SET payload = ?2 WHERE id = ?1";
const SET_SNAPSHOT: &str = "UPDATE gallery SET snapshot = ?1 WHERE slot = 1";
const DROP_RECORD: &str = "DELETE FROM outbox WHERE id = ?1";
const DROP_GALLERY: &str = "DELETE FROM gallery";

impl Db {
    /// Opens the database at `path` with the face keys of `key_file`: made with a new key when
    /// there is no such file and the database holds no sealed face; refused, saying what to
    /// do, when records waiting to be sent are sealed with a key the file lacks (a gallery it
    /// cannot open is dropped: the hub sends it again). Faces stored before sealing existed
    /// are sealed on the way.
    pub fn open_with_keys(path: &Path, key_file: &Path) -> Result<Self, DbError> {
        let made = !key_file.exists();
        let keys = match made {
            true => FaceKeys::generate(),
            false => FaceKeys::load(key_file)?,
        };
        let db = Self::open(path, keys)?;
        let lacking = db.lacking()?;
        if !lacking.records.is_empty() {
            return Err(DbError::KeysMissing {
                keys: lacking.records.keys().copied().collect(),
                records: lacking.records.values().sum(),
                file: key_file.to_owned(),
            });
        }
        if let Some(key) = lacking.gallery {
            tracing::warn!(%key, "the stored gallery is sealed with a key the key file lacks: dropped, the hub sends it again");
            db.lock()?.execute(DROP_GALLERY, [])?;
        }
        if made {
            db.keys.save(key_file)?;
            tracing::info!(file = %key_file.display(), "made a new face key file");
        }
        let sealed = db.reseal()?;
        if sealed > 0 {
            tracing::info!(sealed, "faces sealed under the current key");
        }
        Ok(db)
    }

    /// Opens (creating if needed) and migrates the database at `path`, its faces sealed with
    /// `keys`.
    pub fn open(path: &Path, keys: FaceKeys) -> Result<Self, DbError> {
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
            keys: Arc::new(keys),
        })
    }

    /// `plain` sealed as `purpose`.
    pub fn seal(&self, purpose: Purpose, plain: &[u8]) -> Vec<u8> {
        self.keys.seal(purpose, plain)
    }

    /// What a sealed value holds.
    pub fn unseal(&self, purpose: Purpose, stored: &[u8]) -> Result<Vec<u8>, DbError> {
        Ok(self.keys.open(purpose, stored)?.into_owned())
    }

    /// What is sealed with keys these keys lack.
    pub fn lacking(&self) -> Result<Lacking, DbError> {
        let conn = self.lock()?;
        let mut lacking = Lacking::default();
        let unknown = |v: &[u8]| match Kept::of(v) {
            Kept::Sealed(id) if !self.keys.holds(id) => Some(id),
            _ => None,
        };
        let mut stmt = conn.prepare(OUTBOX_PAYLOADS)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Some(id) = unknown(&row.get::<_, Vec<u8>>(1)?) {
                *lacking.records.entry(id).or_default() += 1;
            }
        }
        let snapshot: Option<Vec<u8>> = conn.query_row(GALLERY_SNAPSHOT, [], |r| r.get(0)).ok();
        lacking.gallery = snapshot.as_deref().and_then(unknown);
        Ok(lacking)
    }

    /// Seals under the current key every face not yet under it, in one transaction; returns
    /// how many.
    pub fn reseal(&self) -> Result<usize, DbError> {
        let mut conn = self.lock()?;
        let tx = sqlite::write_transaction(&mut conn)?;
        let mut sealed = 0;
        let records: Vec<(Vec<u8>, Vec<u8>)> = tx
            .prepare(OUTBOX_PAYLOADS)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, payload) in records {
            if let Some(again) = self.keys.reseal(Purpose::Record, &payload)? {
                tx.execute(SET_PAYLOAD, params![id, again])?;
                sealed += 1;
            }
        }
        let snapshot: Option<Vec<u8>> = tx.query_row(GALLERY_SNAPSHOT, [], |r| r.get(0)).ok();
        if let Some(snapshot) = snapshot
            && let Some(again) = self.keys.reseal(Purpose::Gallery, &snapshot)?
        {
            tx.execute(SET_SNAPSHOT, params![again])?;
            sealed += 1;
        }
        tx.commit()?;
        Ok(sealed)
    }

    /// Drops the records and the gallery sealed with keys these keys lack (`faces-key lost`);
    /// returns what was dropped.
    pub fn forget_lost(&self) -> Result<Lacking, DbError> {
        let lacking = self.lacking()?;
        let mut conn = self.lock()?;
        let tx = sqlite::write_transaction(&mut conn)?;
        let records: Vec<(Vec<u8>, Vec<u8>)> = tx
            .prepare(OUTBOX_PAYLOADS)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, payload) in records {
            if matches!(Kept::of(&payload), Kept::Sealed(k) if !self.keys.holds(k)) {
                tx.execute(DROP_RECORD, params![id])?;
            }
        }
        if lacking.gallery.is_some() {
            tx.execute(DROP_GALLERY, [])?;
        }
        tx.commit()?;
        Ok(lacking)
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

/// One key for the unit tests' databases, so a test can open one again.
#[cfg(test)]
pub(crate) fn test_keys() -> FaceKeys {
    static KEYS: std::sync::LazyLock<FaceKeys> = std::sync::LazyLock::new(FaceKeys::generate);
    KEYS.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.db");
        drop(Db::open(&path, test_keys()).unwrap());
        let db = Db::open(&path, test_keys()).unwrap();
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
            Db::open(&path, test_keys()),
            Err(DbError::Migrate {
                source: MigrateError::TooNew { .. },
                ..
            })
        ));
    }

    #[test]
    fn room_counts_the_pages_deleted_rows_leave_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("edge.db"), test_keys()).unwrap();
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

    /// A record in the outbox, sealed or (as before sealing existed) plain.
    fn put_record(db: &Db, id: u8, payload: &[u8]) {
        db.lock()
            .unwrap()
            .execute(
                "INSERT INTO outbox (id, created_ms, decision, has_thumbnail, payload)
                 VALUES (?1, 0, 0, 0, ?2)",
                params![vec![id; 16], payload],
            )
            .unwrap();
    }

    #[test]
    fn faces_on_the_card_open_only_with_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, key_file) = (dir.path().join("edge.db"), dir.path().join("faces.key"));
        let face = b"a record with a face".repeat(50);

        // From before sealing: a plain record, sealed when the daemon starts.
        drop(Db::open(&path, FaceKeys::generate()).map(|db| put_record(&db, 1, &face)));
        let db = Db::open_with_keys(&path, &key_file).unwrap();
        assert!(key_file.exists(), "the key file is made on first start");
        put_record(&db, 2, &db.seal(Purpose::Record, &face));
        db.checkpoint().unwrap();
        drop(db);
        let card = std::fs::read(&path).unwrap();
        assert!(
            !card.windows(20).any(|w| w == &face[..20]),
            "no record is readable in the file"
        );

        // The card without its key file: the daemon refuses, saying what to do.
        let elsewhere = dir.path().join("moved.key");
        std::fs::rename(&key_file, &elsewhere).unwrap();
        let refused = Db::open_with_keys(&path, &key_file).unwrap_err();
        assert!(
            matches!(&refused, DbError::KeysMissing { records: 2, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("faces-key lost"), "{refused}");
        assert!(!key_file.exists(), "no key file is made over sealed faces");

        // With it back, both records open.
        std::fs::rename(&elsewhere, &key_file).unwrap();
        let db = Db::open_with_keys(&path, &key_file).unwrap();
        let conn = db.lock().unwrap();
        let stored: Vec<Vec<u8>> = conn
            .prepare("SELECT payload FROM outbox")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        drop(conn);
        for sealed in stored {
            assert_eq!(db.unseal(Purpose::Record, &sealed).unwrap(), face);
        }
    }

    #[test]
    fn a_lost_key_drops_only_what_it_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.db");
        let old = Db::open(&path, FaceKeys::generate()).unwrap();
        put_record(&old, 1, &old.seal(Purpose::Record, b"lost"));
        drop(old);
        let db = Db::open(&path, test_keys()).unwrap();
        put_record(&db, 2, &db.seal(Purpose::Record, b"kept"));
        let lacking = db.forget_lost().unwrap();
        assert_eq!(lacking.records.values().sum::<usize>(), 1);
        let left: i64 = db
            .lock()
            .unwrap()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
        assert_eq!(db.lacking().unwrap(), Lacking::default());
    }
}
