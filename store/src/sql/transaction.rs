//! [`Sql`]: one transaction's access to the database and the queries built on it, the
//! [`Dialect`] for the few statements written twice, and a parameter as the value it binds.

use rollcall_runtime::seal::FaceKeys;
use rusqlite::ToSql;
use rusqlite::types::Value;

use super::rows::{Row, Rows};
use crate::error::StoreError;

/// Which engine runs the SQL, for the few statements written twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One transaction's access to the database.
pub trait Sql {
    /// Runs one statement; returns the rows it changed.
    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError>;

    /// Runs one query; returns its columns and rows, read whole.
    fn query(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Rows, StoreError>;

    /// Runs one query; returns its rows, read whole.
    fn rows(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Row>, StoreError> {
        Ok(self.query(sql, params)?.rows)
    }

    /// Runs statements that take no parameters and return nothing (savepoints), in one
    /// round trip.
    fn batch(&self, sql: &str) -> Result<(), StoreError>;

    fn dialect(&self) -> Dialect;

    /// The keys faces are sealed with in this transaction (`store::keys`).
    fn faces(&self) -> &FaceKeys;
}

impl dyn Sql + '_ {
    /// The rows of a query, each mapped by `f`: a row `f` cannot read stays an error of its
    /// own (see `store::columns::readable`), an error of the query ends it.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        f: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<rusqlite::Result<T>>, StoreError> {
        Ok(self.rows(sql, params)?.iter().map(f).collect())
    }

    /// The first row of a query mapped by `f`, or `None` when it has none.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        f: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        match self.rows(sql, params)?.first() {
            Some(row) => Ok(Some(f(row)?)),
            None => Ok(None),
        }
    }

    /// Runs `f` in a savepoint: when it fails, what it did is undone and the transaction
    /// goes on (on PostgreSQL a refused statement would otherwise spoil every later one).
    pub fn attempt<T>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.batch("SAVEPOINT attempt")?;
        let outcome = f(self);
        if outcome.is_err() {
            self.batch("ROLLBACK TO SAVEPOINT attempt")?;
        }
        self.batch("RELEASE SAVEPOINT attempt")?;
        outcome
    }

    /// The first row of a query mapped by `f`; no row is [`StoreError::NotFound`] of `what`.
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        what: &'static str,
        f: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.query_opt(sql, params, f)?
            .ok_or(StoreError::NotFound(what))
    }
}

/// A parameter as the value SQLite would store for it.
pub(crate) fn to_value(param: &dyn ToSql) -> Result<Value, StoreError> {
    use rusqlite::types::ToSqlOutput;
    Ok(match param.to_sql()? {
        ToSqlOutput::Borrowed(v) => v.into(),
        ToSqlOutput::Owned(v) => v,
        other => {
            return Err(StoreError::Corrupt(format!(
                "a parameter of a kind the store does not bind: {other:?}"
            )));
        }
    })
}
