//! [`Sql`] on a rusqlite transaction: statements are prepared once per connection and cached,
//! values copied out of each row.

use std::sync::Arc;

use rollcall_runtime::seal::FaceKeys;
use rusqlite::types::Value;
use rusqlite::{Connection, ToSql};

use super::rows::{Row, Rows};
use super::transaction::{Dialect, Sql};
use crate::error::StoreError;

/// One SQLite transaction with the keys that seal faces in it.
pub(crate) struct SqliteSql<'a> {
    pub conn: &'a Connection,
    pub keys: &'a FaceKeys,
}

impl Sql for SqliteSql<'_> {
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
        execute(self.conn, sql, params)
    }

    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        query(self.conn, sql, params)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn faces(&self) -> &FaceKeys {
        self.keys
    }
}

/// A bare connection in unit tests, its faces sealed with one key made for the test run.
#[cfg(any(test, feature = "fixtures"))]
impl Sql for Connection {
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
        execute(self, sql, params)
    }

    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        query(self, sql, params)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn faces(&self) -> &FaceKeys {
        static KEYS: std::sync::LazyLock<FaceKeys> = std::sync::LazyLock::new(FaceKeys::generate);
        &KEYS
    }
}

/// A transaction in unit tests, as its connection.
#[cfg(any(test, feature = "fixtures"))]
impl Sql for rusqlite::Transaction<'_> {
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
        execute(self, sql, params)
    }

    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        query(self, sql, params)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn faces(&self) -> &FaceKeys {
        Sql::faces(&**self)
    }
}

fn execute(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

fn query(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let columns: Arc<[String]> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let width = columns.len();
    let mut rows = statement.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..width)
            .map(|i| row.get_ref(i).map(Value::from))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.push(Row::new(columns.clone(), values));
    }
    Ok(Rows { columns, rows: out })
}
