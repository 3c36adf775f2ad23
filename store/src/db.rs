//! The handle on the database, [`Db`]: opening and migrating it on either engine (SQLite's
//! one writer and few readers in the data directory, or a PostgreSQL pool), and running each
//! unit of work in one transaction off the async executor, a panic in it contained to that
//! call. What the work says is the other store modules' business: here is only where it runs.

use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use rollcall_runtime::sqlite;
use rollcall_runtime::{contain, request_id};
use rusqlite::Connection;

use super::error::StoreError;
use super::keyring::Keyring;
use super::migrations;
use super::postgres::{AddedSchool, Postgres, Schema, SchoolSummary, SetAside, Target};
use super::sql::{Dialect, Sql, SqliteSql};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "hub.sqlite3";

/// Read-only connections beside the one writer. In WAL mode each reads a committed snapshot
/// while the writer goes on, so teachers' pages do not queue behind ingest batches, nor
/// ingest behind them. Two: the hub's machine has few cores.
const READERS: usize = 2;

/// How many pages (of 4 KiB) the write-ahead log holds before the writer copies it into the
/// database file: 64 MiB, not SQLite's 4 MiB. Each copy writes every page the log changed
/// once, however many commits changed it, and waits for the disk twice; at ingest's rate a
/// 4 MiB log was copied every few commits, so the pages every batch touches (the recent ends
/// of the records' indexes) were copied again each time. Measured in docs/PERFORMANCE.md
/// ("The write-ahead log copied less often"): one hub on one core carries 19,000 records a
/// second instead of 17,000, and 16,200 instead of 13,800 when offered 38,000, at the same
/// latency below its capacity.
const CHECKPOINT_PAGES: i64 = 16_384;

/// A handle on the database, cheap to clone. Work runs on tokio's blocking pool, contained: a
/// call that panics fails alone (its transaction rolls back) and the hub goes on.
#[derive(Clone, Debug)]
pub struct Db {
    engine: Engine,
    /// What seals and opens faces in each transaction.
    keys: Keyring,
}

#[derive(Clone, Debug)]
enum Engine {
    Sqlite(Sqlite),
    Postgres(Postgres),
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
    pub fn open(path: &Path, keys: Keyring) -> Result<Self, StoreError> {
        let mut conn = sqlite::open(path)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
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
    pub fn open_postgres(target: &Target<'_>, keys: Keyring) -> Result<Self, StoreError> {
        let engine = Engine::Postgres(Postgres::open(target)?);
        Ok(Self { engine, keys })
    }

    /// Another school of the same PostgreSQL database, on this handle's connections and keys,
    /// its schema brought up to date ([`Postgres::school`]). SQLite holds one school.
    pub fn school(&self, schema: &Schema) -> Result<Self, StoreError> {
        match &self.engine {
            Engine::Postgres(pg) => Ok(Self {
                engine: Engine::Postgres(pg.school(schema)?),
                keys: self.keys.clone(),
            }),
            Engine::Sqlite(_) => Err(StoreError::Config(
                "schools served by one hub share a PostgreSQL database ([store] url)".into(),
            )),
        }
    }

    /// Every school sharing this PostgreSQL database, with the records each received since
    /// `since` (ms since the epoch), and the schemas set aside with why
    /// ([`Postgres::schools`]); on the blocking pool.
    pub async fn district(
        &self,
        since: i64,
    ) -> Result<(Vec<SchoolSummary>, Vec<SetAside>), StoreError> {
        let Engine::Postgres(pg) = &self.engine else {
            return Err(StoreError::Config(
                "a district's schools share a PostgreSQL database ([store] url)".into(),
            ));
        };
        let pg = pg.clone();
        blocking(move || pg.schools(since)).await
    }

    /// The schools district admins added while the hubs ran ([`Postgres::added_schools`]);
    /// none on SQLite, which holds one school.
    pub async fn added_schools(&self) -> Result<Vec<AddedSchool>, StoreError> {
        let Engine::Postgres(pg) = &self.engine else {
            return Ok(Vec::new());
        };
        let pg = pg.clone();
        blocking(move || pg.added_schools()).await
    }

    /// Records a school a district admin adds, when `fits` accepts it beside those added
    /// before ([`Postgres::add_school`]).
    pub async fn add_school(
        &self,
        school: AddedSchool,
        fits: impl FnOnce(&[AddedSchool]) -> Result<(), String> + Send + 'static,
    ) -> Result<(), StoreError> {
        let Engine::Postgres(pg) = &self.engine else {
            return Err(StoreError::Config(
                "a district's schools share a PostgreSQL database ([store] url)".into(),
            ));
        };
        let pg = pg.clone();
        blocking(move || pg.add_school(&school, fits)).await
    }

    /// The PostgreSQL schema of the school's tables; `None` on SQLite.
    pub fn schema(&self) -> Option<&Schema> {
        match &self.engine {
            Engine::Postgres(pg) => Some(pg.schema()),
            Engine::Sqlite(_) => None,
        }
    }

    /// The keys faces are sealed with.
    pub fn keyring(&self) -> &Keyring {
        &self.keys
    }

    /// This database with other keys (as a hub given the wrong key file would open it).
    #[cfg(test)]
    pub(crate) fn with_keys(&self, keys: Keyring) -> Self {
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

    /// [`Db::write`] for the hubs' membership alone (tables `hubs` and `leases`,
    /// `rollcall_hub::cluster`): on PostgreSQL it waits for no writer of the school's other tables,
    /// and none waits for it; on SQLite's one writer it is any write.
    pub async fn write_membership<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        blocking(move || match &db.engine {
            Engine::Postgres(pg) => pg.write_membership(&db.keys.keys(), f),
            Engine::Sqlite(_) => db.write_blocking(f),
        })
        .await
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

/// Runs `f` on tokio's blocking pool, a panic in it contained to an error of this call, as
/// part of the request the caller serves (its log lines and audit entries carry its id).
async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let f = request_id::carry(f);
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
