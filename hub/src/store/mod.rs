//! The hub's database: SQLite in the data directory (opened the way
//! [`rollcall_runtime::sqlite`] opens both daemons' files), or PostgreSQL for several hubs
//! (`[store] url`); migrating it, and running work on it off the async executor. Each
//! submodule owns the SQL of one part of the data model, written once against [`Sql`] for
//! both engines; none of them knows about HTTP or MQTT.

pub mod audit;
pub mod cluster;
pub mod consent;
pub mod devices;
pub mod digests;
#[cfg(test)]
pub(crate) mod engines;
pub mod faces;
pub mod gallery;
pub mod imports;
pub mod keys;
pub mod marks;
mod migrations;
pub mod postgres;
pub mod provisioning;
pub mod quarantine;
pub mod records;
pub mod register;
pub mod roll_calls;
pub mod school;
pub mod sightings;
pub mod signins;
pub mod sql;
pub mod strangers;
pub mod timetable;
pub mod unit_settings;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use rollcall_runtime::contain;
use rollcall_runtime::seal::{Purpose, SealError};
use rollcall_runtime::sqlite::{self, MigrateError};
use rollcall_shared::{EMBEDDING_DIM, Embedding};
use rusqlite::Connection;

pub use migrations::schema_version;
use sql::SqliteSql;
pub use sql::{Dialect, Row, Rows, Sql};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "hub.sqlite3";

/// What went wrong with the store; variants say what a caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", postgres::message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database: {0}")]
    Migrate(#[from] MigrateError),
    #[error("database settings: {0}")]
    Config(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database task failed: {0}")]
    Task(String),
    #[error("a face cannot be opened: {0}")]
    Sealed(#[from] SealError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub fn conflict_on_unique(e: impl Into<StoreError>, what: &str) -> Self {
        let e = e.into();
        match e.is_constraint_violation() {
            true => StoreError::Conflict(format!("{what} already exists")),
            false => e,
        }
    }

    /// Whether the database refused a write for breaking a constraint (unique, check, foreign
    /// key, not null), on either engine.
    pub fn is_constraint_violation(&self) -> bool {
        use ::postgres::error::SqlState;
        match self {
            StoreError::Sqlite(e) => {
                e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
            }
            StoreError::Postgres(e) => e.code().is_some_and(|code| {
                [
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::CHECK_VIOLATION,
                    SqlState::FOREIGN_KEY_VIOLATION,
                    SqlState::NOT_NULL_VIOLATION,
                ]
                .contains(code)
            }),
            _ => false,
        }
    }
}

/// Read-only connections beside the one writer. In WAL mode each reads a committed snapshot
/// while the writer goes on, so teachers' pages do not queue behind ingest batches, nor
/// ingest behind them. Two: the hub's machine has few cores.
const READERS: usize = 2;

/// A handle on the database, cheap to clone. Work runs on tokio's blocking pool, contained: a
/// call that panics fails alone (its transaction rolls back) and the hub goes on.
#[derive(Clone, Debug)]
pub struct Db {
    engine: Engine,
    /// What seals and opens faces in each transaction.
    keys: keys::Keyring,
}

#[derive(Clone, Debug)]
enum Engine {
    Sqlite(Sqlite),
    Postgres(postgres::Postgres),
}

/// SQLite: one connection for writes, a few for reads.
#[derive(Clone, Debug)]
struct Sqlite {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<AtomicUsize>,
}

impl Db {
    /// Opens (creating if needed) and migrates the SQLite database at `path`, its faces sealed
    /// with `keys`.
    pub fn open(path: &Path, keys: keys::Keyring) -> Result<Self, StoreError> {
        let mut conn = sqlite::open(path)?;
        migrations::migrate(&mut conn)?;
        let readers = (0..READERS)
            .map(|_| sqlite::open_reader(path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        let engine = Engine::Sqlite(Sqlite {
            writer: Arc::new(Mutex::new(conn)),
            readers: readers.into(),
            next_reader: Arc::default(),
        });
        Ok(Self { engine, keys })
    }

    /// Connects to and migrates the PostgreSQL database `target` names, its faces sealed with
    /// `keys`.
    pub fn open_postgres(
        target: &postgres::Target<'_>,
        keys: keys::Keyring,
    ) -> Result<Self, StoreError> {
        let engine = Engine::Postgres(postgres::Postgres::open(target)?);
        Ok(Self { engine, keys })
    }

    /// The keys faces are sealed with.
    pub fn keyring(&self) -> &keys::Keyring {
        &self.keys
    }

    /// This database with other keys (as a hub given the wrong key file would open it).
    #[cfg(test)]
    pub(crate) fn with_keys(&self, keys: keys::Keyring) -> Self {
        Self {
            engine: self.engine.clone(),
            keys,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.engine {
            Engine::Sqlite(_) => Dialect::Sqlite,
            Engine::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` in one write transaction on the blocking pool; commits when it succeeds.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        blocking(move || db.write_blocking(f)).await
    }

    /// Runs `f` in one read-only transaction, on one snapshot, on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        blocking(move || db.read_blocking(f)).await
    }

    /// After an erasure: SQLite's log is written into the file and emptied, so the rows just
    /// deleted (zeroed when freed: `secure_delete`) leave no copy in either, as far as readers
    /// allow (one still reading keeps the log until the next checkpoint). PostgreSQL reclaims
    /// deleted rows with its autovacuum.
    pub async fn forget_deleted(&self) -> Result<(), StoreError> {
        let Engine::Sqlite(db) = &self.engine else {
            return Ok(());
        };
        let writer = db.writer.clone();
        blocking(move || {
            let conn = lock(&writer);
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                tracing::info!("erased rows stay in the write-ahead log until a reader is done");
            }
            Ok(())
        })
        .await
    }

    /// [`Db::write`] on the calling thread (command-line tools, tests).
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let keys = self.keys.keys();
        match &self.engine {
            Engine::Sqlite(db) => {
                let mut conn = lock(&db.writer);
                let tx = sqlite::write_transaction(&mut conn).map_err(StoreError::from)?;
                let out = f(&SqliteSql {
                    conn: &tx,
                    keys: &keys,
                })?;
                tx.commit().map_err(StoreError::from)?;
                Ok(out)
            }
            Engine::Postgres(db) => db.write(&keys, f),
        }
    }

    /// [`Db::read`] on the calling thread (command-line tools, tests).
    pub fn read_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let keys = self.keys.keys();
        match &self.engine {
            Engine::Sqlite(db) => {
                let turn = db.next_reader.fetch_add(1, Relaxed);
                let idle = db.readers.iter().find_map(|r| r.try_lock().ok());
                let mut conn = idle.unwrap_or_else(|| lock(&db.readers[turn % db.readers.len()]));
                let tx = conn.transaction().map_err(StoreError::from)?;
                let out = f(&SqliteSql {
                    conn: &tx,
                    keys: &keys,
                })?;
                tx.commit().map_err(StoreError::from)?;
                Ok(out)
            }
            Engine::Postgres(db) => db.read(&keys, f),
        }
    }
}

/// Runs `f` on tokio's blocking pool, a panic in it contained to an error of this call.
async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || contain::run(f))
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
        .map_err(|panicked| E::from(StoreError::Task(panicked.to_string())))?
}

/// Locks `conn`; a panic in an earlier holder left nothing half-done (SQLite rolls back an
/// unfinished transaction), so the connection is used on.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// The rows that read, in order; a row that does not (a bad id, a value of the wrong type) is
/// logged and left out, so one bad row never hides the others. Other errors end the read.
pub(crate) fn readable<T>(
    rows: impl IntoIterator<Item = rusqlite::Result<T>>,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    use rusqlite::Error::{FromSqlConversionFailure, IntegralValueOutOfRange, InvalidColumnType};
    let mut kept = Vec::new();
    for row in rows {
        match row {
            Ok(value) => kept.push(value),
            Err(
                e @ (FromSqlConversionFailure(..)
                | IntegralValueOutOfRange(..)
                | InvalidColumnType(..)),
            ) => tracing::warn!("left out an unreadable {what}: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(kept)
}

/// Reads column `col` (a name, or a position) of `row` as an id or a date, parsed from its
/// text (for use inside [`Sql::query_map`], where [`readable`] leaves a bad one out).
pub(crate) fn id_col<T: FromStr>(row: &Row, col: impl sql::Column) -> rusqlite::Result<T> {
    let text: String = row.get(col)?;
    text.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            row.index_of(col),
            rusqlite::types::Type::Text,
            format!("bad id {text:?}").into(),
        )
    })
}

/// `plain` sealed as `purpose` for a column; nothing stays nothing (a face erased from a row
/// that stays, such as a record's).
pub(crate) fn seal(sql: &dyn Sql, purpose: Purpose, plain: &[u8]) -> Vec<u8> {
    match plain.is_empty() {
        true => Vec::new(),
        false => sql.faces().seal(purpose, plain),
    }
}

/// What a sealed column holds.
pub(crate) fn unseal(
    sql: &dyn Sql,
    purpose: Purpose,
    stored: &[u8],
) -> Result<Vec<u8>, StoreError> {
    Ok(sql.faces().open(purpose, stored)?.into_owned())
}

/// A template sealed for its column: little-endian f32s inside (none: no face).
pub(crate) fn seal_embedding(sql: &dyn Sql, values: &[f32]) -> Vec<u8> {
    let plain: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    seal(sql, Purpose::Template, &plain)
}

/// A template column read back: exactly [`EMBEDDING_DIM`] little-endian f32s once opened,
/// else an error naming `what` (the row) and what was found.
pub(crate) fn open_embedding(
    sql: &dyn Sql,
    stored: &[u8],
    what: &str,
) -> Result<Embedding, StoreError> {
    let blob = sql.faces().open(Purpose::Template, stored)?;
    let corrupt = |found: String| {
        StoreError::Corrupt(format!(
            "embedding of {what}: {found}, expected {EMBEDDING_DIM} values"
        ))
    };
    if !blob.len().is_multiple_of(4) {
        return Err(corrupt(format!("{} bytes", blob.len())));
    }
    let values: Vec<f32> = blob
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Embedding::try_from(values).map_err(|wrong| corrupt(format!("{} values", wrong.0)))
}

/// Reads column `col` of `row` as a template (for use inside [`Sql::query_map`], where
/// [`readable`] leaves a bad one out and logs it); `what` names the row.
pub(crate) fn embedding_col(
    sql: &dyn Sql,
    row: &Row,
    col: &str,
    what: &str,
) -> rusqlite::Result<Embedding> {
    let blob: Vec<u8> = row.get(col)?;
    open_embedding(sql, &blob, what).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            row.index_of(col),
            rusqlite::types::Type::Blob,
            e.into(),
        )
    })
}

/// Registers door unit `id` in "Lab 3", for unit tests that store its records.
#[cfg(test)]
pub(crate) fn register_device(conn: &Connection, id: rollcall_shared::DeviceId) {
    let device = devices::Device::new(id, &id.to_string(), "Lab 3", rollcall_shared::UnixMillis(0));
    devices::insert(conn, &device, "hash").unwrap();
}

/// [`register_device`] on either engine: door unit `id` in "Lab 3", named by its id.
#[cfg(test)]
pub(crate) fn register_device_in(sql: &dyn Sql, id: rollcall_shared::DeviceId) {
    sql.execute(
        "INSERT INTO devices (id, name, room, credential_hash, created_at)
         VALUES (?1, ?1, 'Lab 3', 'hash', 0)",
        rusqlite::params![id.to_string()],
    )
    .unwrap();
}

/// A well-formed record from a random door unit in "Lab 3", naming `students` at distance 0.3,
/// for unit tests of what the hub does with records.
#[cfg(test)]
pub(crate) fn sample_record(
    decision: rollcall_shared::Decision,
    captured_at: i64,
    students: &[rollcall_shared::StudentId],
) -> rollcall_shared::AttendanceRecord {
    use rollcall_shared::*;
    AttendanceRecord {
        id: RecordId::now_v7(),
        device: DeviceId::random(),
        room: "Lab 3".into(),
        captured_at: UnixMillis(captured_at),
        model: ModelId::new("m").unwrap(),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.5; EMBEDDING_DIM]),
        candidates: students
            .iter()
            .map(|&student| Candidate {
                student,
                distance: 0.3,
            })
            .collect(),
        decision,
        thumbnail: None,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.9,
            yaw_deg: 0.0,
            frames: 2,
        },
        clock: rollcall_shared::ClockSync::Unknown,
        direction: Some(rollcall_shared::Direction::Both),
    }
}

#[cfg(test)]
pub(crate) fn memory() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    migrations::migrate(&mut conn).unwrap();
    conn
}
