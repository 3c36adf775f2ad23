//! The hub's SQLite database: opening it (WAL, foreign keys, migrations) and running work on it
//! off the async executor. Each submodule owns the SQL of one part of the data model; none of
//! them knows about HTTP or MQTT.

pub mod audit;
pub mod devices;
pub mod faces;
pub mod gallery;
pub mod marks;
mod migrations;
pub mod records;
pub mod school;
pub mod timetable;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

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
    #[error("database task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub fn conflict_on_unique(e: rusqlite::Error, what: &str) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                StoreError::Conflict(format!("{what} already exists"))
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

/// A handle on the database, cheap to clone. Work runs on tokio's blocking pool.
#[derive(Clone, Debug)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }

    /// Runs `f` on the calling thread (command-line tools, which have no runtime).
    pub fn blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

/// Reads column `idx` of `row` as an id (for use inside `query_map`).
pub(crate) fn id_col<T: FromStr>(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    text.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("bad id {text:?}").into(),
        )
    })
}

/// Little-endian f32s, the embedding column format.
pub(crate) fn embedding_to_blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(crate) fn blob_to_embedding(blob: &[u8]) -> Result<Vec<f32>, StoreError> {
    if !blob.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt("embedding blob length".into()));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
pub(crate) fn memory() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    migrations::migrate(&mut conn).unwrap();
    conn
}
