//! The PostgreSQL back end: a pool of blocking clients (the `postgres` crate over
//! tokio-postgres, pooled by r2d2), TLS by rustls, and [`Sql`] on one transaction.
//!
//! Write transactions take one transaction-scoped advisory lock first, so writes run one at a
//! time across every hub sharing the school's tables, as they do on SQLite's single writer: a
//! store function's read-then-write sees what it would see there. The lock is the school's
//! ([`Schema`]): schools sharing one database do not wait for each other. The hubs' membership
//! (their beats and the leader lease, [`Postgres::write_membership`]) takes a lock of its
//! own: it touches no table the school's writers do, so neither waits for the other. Reads run at
//! REPEATABLE READ, read-only: one consistent snapshot, like a SQLite reader's.

mod district;
mod migrations;
mod pool;
mod schema;
mod values;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use postgres::{IsolationLevel, Statement, Transaction};
use rollcall_runtime::seal::FaceKeys;
use rusqlite::ToSql;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use district::{AddedSchool, DISTRICT_SCHEMA, SchoolSummary, SetAside};
pub use migrations::{migrate, schema_version};
pub use schema::Schema;

use super::error::{StoreError, chain};
use super::sql::{Dialect, Row, Rows, Sql, to_value};
use pool::{Connection, Manager, Pool};
use values::{Cell, Param, placeholders};

/// The advisory lock every write transaction on `public` takes (any constant both sides agree
/// on: ASCII "rollcall"); another schema's writers take one derived from its name.
const WRITER_LOCK: i64 = 0x726f_6c6c_6361_6c6c;

/// What tells the hubs' membership lock from the writers' lock of the same school (ASCII
/// "hubs").
const MEMBERSHIP: i64 = 0x6875_6273;

/// How long asking the pool for a connection may wait before the call fails.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// A pool of connections to one database, cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    /// The school's tables.
    schema: Schema,
    /// The advisory lock this school's writers take.
    writer_lock: i64,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("state", &self.pool.state())
            .finish()
    }
}

/// Where the database is and how to reach it.
#[derive(Debug)]
pub struct Target<'a> {
    /// `postgres://user@host:port/database?sslmode=…`.
    pub url: &'a str,
    /// Read from a file so it is neither in the URL nor in the configuration.
    pub password: Option<&'a str>,
    /// The CA that signed the server's certificate; the system's roots when absent.
    pub ca_file: Option<&'a Path>,
    pub pool_size: u32,
    /// The school's tables.
    pub schema: &'a Schema,
}

impl Postgres {
    /// Connects (at least one connection must open) without migrating.
    pub fn connect(target: &Target<'_>) -> Result<Self, StoreError> {
        let mut config: postgres::Config = target
            .url
            .parse()
            .map_err(|e| StoreError::Config(format!("store.url: {e}")))?;
        if let Some(password) = target.password {
            config.password(password);
        }
        config.application_name("rollcall-hub");
        config.connect_timeout(Duration::from_secs(10));
        let tls = MakeRustlsConnect::new(tls(target.ca_file)?);
        // One connection first, for its error: the pool only says it timed out.
        let mut first = config
            .connect(tls.clone())
            .map_err(|e| StoreError::Connect(chain(&e)))?;
        let writer_lock = writer_lock(&mut first, target.schema)?;
        let pool = r2d2::Pool::builder()
            .max_size(target.pool_size)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .error_handler(Box::new(LogErrors))
            .build_unchecked(Manager { config, tls });
        Ok(Self {
            pool: Pool::new(pool),
            schema: target.schema.clone(),
            writer_lock,
        })
    }

    /// Connects and brings the schema up to date.
    pub fn open(target: &Target<'_>) -> Result<Self, StoreError> {
        let db = Self::connect(target)?;
        db.migrate()?;
        Ok(db)
    }

    /// Another school of the same database, on the same pool of connections, its schema
    /// brought up to date (made when missing): how one hub process serves several schools.
    pub fn school(&self, schema: &Schema) -> Result<Self, StoreError> {
        let mut conn = self.pool.get()?;
        let writer_lock = writer_lock(&mut conn.client, schema)?;
        drop(conn);
        let db = Self {
            pool: self.pool.clone(),
            schema: schema.clone(),
            writer_lock,
        };
        db.migrate()?;
        Ok(db)
    }

    /// The school's tables, as [`Postgres::school`] and [`Postgres::open`] name them.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn migrate(&self) -> Result<(), StoreError> {
        migrate(&mut self.pool.checkout(&self.schema)?.client, &self.schema)
    }

    /// Runs `f` in one write transaction, writers one at a time; commits when it succeeds.
    pub fn write<T, E: From<StoreError>>(
        &self,
        keys: &FaceKeys,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_holding(self.writer_lock, keys, f)
    }

    /// [`Postgres::write`] for the hubs' membership alone (tables `hubs` and `leases`): one
    /// hub's at a time, beside the school's writers rather than among them. Every hub of
    /// every school beats at the same instants; behind the writers' lock, each beat held the
    /// school's ingest and reviews.
    pub fn write_membership<T, E: From<StoreError>>(
        &self,
        keys: &FaceKeys,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_holding(self.writer_lock ^ MEMBERSHIP, keys, f)
    }

    fn write_holding<T, E: From<StoreError>>(
        &self,
        lock: i64,
        keys: &FaceKeys,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.pool.checkout(&self.schema)?;
        let Connection {
            client, statements, ..
        } = &mut *conn;
        let mut tx = client.transaction().map_err(StoreError::from)?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({lock})"))
            .map_err(StoreError::from)?;
        run(tx, statements, keys, f)
    }

    /// Runs `f` in a read-only transaction on one snapshot.
    pub fn read<T, E: From<StoreError>>(
        &self,
        keys: &FaceKeys,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.pool.checkout(&self.schema)?;
        let Connection {
            client, statements, ..
        } = &mut *conn;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(StoreError::from)?;
        run(tx, statements, keys, f)
    }
}

fn run<T, E: From<StoreError>>(
    tx: Transaction<'_>,
    statements: &mut HashMap<String, Statement>,
    keys: &FaceKeys,
    f: impl FnOnce(&dyn Sql) -> Result<T, E>,
) -> Result<T, E> {
    let sql = PgSql {
        tx: RefCell::new(tx),
        statements: RefCell::new(statements),
        keys,
    };
    let out = f(&sql)?;
    sql.tx.into_inner().commit().map_err(StoreError::from)?;
    Ok(out)
}

/// Logs why the pool could not open a connection (the database restarting, the network).
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, e: postgres::Error) {
        tracing::warn!("database connection: {}", chain(&e));
    }
}

/// The advisory lock `schema`'s writers take: [`WRITER_LOCK`] for `public` (as every hub
/// before schools took), else a hash of the name computed by the server, the same for every
/// hub whatever its build. Two schools whose hashes met would only wait for each other.
fn writer_lock(client: &mut postgres::Client, schema: &Schema) -> Result<i64, StoreError> {
    if schema.is_public() {
        return Ok(WRITER_LOCK);
    }
    let row = client.query_one(
        "SELECT hashtextextended('rollcall writers ' || $1, 0)",
        &[&schema.as_str()],
    )?;
    Ok(row.get(0))
}

/// The client's TLS: the CA in `ca_file`, else the system's roots. `sslmode` in the URL says
/// whether TLS is required (`require`), tried (`prefer`, the default) or off (`disable`).
fn tls(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, StoreError> {
    let config = match ca_file {
        Some(ca) => rollcall_runtime::tls::client_config(ca, None, None)
            .map_err(|e| StoreError::Config(format!("store.ca_file: {e}")))?,
        None => rollcall_runtime::tls::client_config_with_system_roots()
            .map_err(|e| StoreError::Config(format!("the system's CA certificates: {e}")))?,
    };
    Ok(Arc::unwrap_or_clone(config))
}

/// [`Sql`] on one PostgreSQL transaction, with its connection's prepared statements.
struct PgSql<'a> {
    tx: RefCell<Transaction<'a>>,
    statements: RefCell<&'a mut HashMap<String, Statement>>,
    keys: &'a FaceKeys,
}

impl PgSql<'_> {
    /// `sql` prepared on this connection, once.
    fn prepared(&self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.borrow_mut().prepare(&placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

fn params(params: &[&dyn ToSql]) -> Result<Vec<Param>, StoreError> {
    params.iter().map(|p| to_value(*p).map(Param)).collect()
}

fn refs(params: &[Param]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Sql for PgSql<'_> {
    fn execute(&self, sql: &str, p: &[&dyn ToSql]) -> Result<usize, StoreError> {
        let p = params(p)?;
        let statement = self.prepared(sql)?;
        let changed = self.tx.borrow_mut().execute(&statement, &refs(&p))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn query(&self, sql: &str, p: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        let p = params(p)?;
        let statement = self.prepared(sql)?;
        let mut tx = self.tx.borrow_mut();
        let columns: Arc<[String]> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        let rows = tx
            .query(&statement, &refs(&p))?
            .iter()
            .map(|row| {
                let values = (0..columns.len())
                    .map(|i| row.try_get::<_, Cell>(i).map(|c| c.0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Row::new(columns.clone(), values))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Rows { columns, rows })
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.tx.borrow_mut().batch_execute(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn faces(&self) -> &FaceKeys {
        self.keys
    }
}
