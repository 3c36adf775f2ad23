//! The pool's connections: a client and the statements it has prepared, so each statement is
//! parsed and planned once per connection rather than on every call (a round trip saved on
//! every statement). Closing a client blocks, so the pool is dropped off the async executor.
//!
//! The schools of one hub process share its pool: a connection remembers whose schema its
//! `search_path` names, and [`Pool::checkout`] points it at the school asking when that is
//! another. PostgreSQL parses a prepared statement again when `search_path` changed since its
//! last use, so a statement prepared for one school never reads another's tables.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::{Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Schema;
use crate::error::StoreError;

/// One connection to the database.
pub struct Connection {
    pub client: Client,
    /// Prepared statements by the SQL text the store wrote (`?N` placeholders).
    pub statements: HashMap<String, Statement>,
    /// The school whose schema is the connection's `search_path`; `None` until one asks.
    schema: Option<Schema>,
}

/// Opens connections for r2d2, and checks them on checkout.
pub struct Manager {
    pub config: Config,
    pub tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("config", &self.config)
            .finish()
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.config.connect(self.tls.clone())?,
            statements: HashMap::new(),
            schema: None,
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

/// The pool, shared by every clone of the store's handle; the last to go closes it on a
/// thread of its own.
#[derive(Clone, Debug)]
pub struct Pool(Arc<Closing>);

#[derive(Debug)]
struct Closing(Option<r2d2::Pool<Manager>>);

impl Pool {
    pub fn new(pool: r2d2::Pool<Manager>) -> Self {
        Self(Arc::new(Closing(Some(pool))))
    }

    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::Error> {
        self.inner().get()
    }

    /// A connection whose only `search_path` is `schema`: a table missing there is an error,
    /// never another school's. Costs a round trip only when the connection last served
    /// another school (or none).
    pub fn checkout(&self, schema: &Schema) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        let mut conn = self.get()?;
        if conn.schema.as_ref() != Some(schema) {
            // Outside any transaction: the setting holds for the session. A schema name is
            // plain lower-case ASCII ([`Schema`]), written as is; it need not exist yet.
            conn.schema = None;
            conn.client
                .batch_execute(&format!("SET search_path TO {schema}"))?;
            conn.schema = Some(schema.clone());
        }
        Ok(conn)
    }

    pub fn state(&self) -> r2d2::State {
        self.inner().state()
    }

    fn inner(&self) -> &r2d2::Pool<Manager> {
        self.0
            .0
            .as_ref()
            .expect("the pool is taken only when dropped")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        // The postgres client waits for its connection to close; inside the runtime that
        // wait would panic.
        if let Some(pool) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(_) => drop(std::thread::spawn(move || drop(pool))),
                Err(_) => drop(pool),
            }
        }
    }
}
