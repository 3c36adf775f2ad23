//! [`Sql`] on a rusqlite connection (a transaction derefs to one): statements are prepared
//! once per connection and cached, values copied out of each row.

use std::sync::Arc;

use rusqlite::types::Value;
use rusqlite::{Connection, ToSql, Transaction};

use super::{Dialect, Row, Rows, Sql};
use crate::store::StoreError;

impl Sql for Connection {
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
        Ok(self.prepare_cached(sql)?.execute(params)?)
    }

    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        let mut statement = self.prepare_cached(sql)?;
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

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.execute_batch(sql)?)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl Sql for Transaction<'_> {
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
        Sql::execute(&**self, sql, params)
    }

    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError> {
        Sql::query(&**self, sql, params)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Sql::batch(&**self, sql)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}
