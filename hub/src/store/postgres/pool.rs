//! The pool's connections: a client and the statements it has prepared, so each statement is
//! parsed and planned once per connection rather than on every call (a round trip saved on
//! every statement). Closing a client blocks, so the pool is dropped off the async executor.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::{Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

/// One connection to the database.
pub struct Connection {
    pub client: Client,
    /// Prepared statements by the SQL text the store wrote (`?N` placeholders).
    pub statements: HashMap<String, Statement>,
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
