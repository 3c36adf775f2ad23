//! The store's face towards its back ends: SQL text and parameters in, rows out.
//!
//! Both back ends speak SQLite's value model (NULL, 64-bit integer, double, text, blob), so a
//! store function reads and writes the same values, with the same conversions, whichever
//! holds the data: rusqlite's [`ToSql`] and [`FromSql`] (which the shared ids implement) are
//! the one vocabulary. SQL is written once, with `?N` placeholders, in the part of SQL both
//! engines accept (`ON CONFLICT … DO NOTHING`, `RETURNING`, `coalesce`, `length`); where they
//! truly differ a store function asks [`Sql::dialect`].
//!
//! Each call of [`Sql`] runs inside the transaction its caller opened: a `&dyn Sql` is one
//! transaction's view of the database, never a connection to manage.

mod sqlite;

pub(crate) use sqlite::SqliteSql;

use rollcall_runtime::seal::FaceKeys;
use rusqlite::ToSql;
use rusqlite::types::{FromSql, Value, ValueRef};

use super::error::StoreError;

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

/// A query's result: its columns' names (known even when no row came back) and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    pub columns: std::sync::Arc<[String]>,
    pub rows: Vec<Row>,
}

/// One row of a result, its values owned, its columns named.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    columns: std::sync::Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: std::sync::Arc<[String]>, values: Vec<Value>) -> Self {
        Self { columns, values }
    }

    /// Column `col` (a position, or a name) as a `T`, converted as rusqlite converts it.
    pub fn get<T: FromSql>(&self, col: impl Column) -> rusqlite::Result<T> {
        let idx = col.index(self)?;
        let value = ValueRef::from(&self.values[idx]);
        T::column_result(value).map_err(|e| match e {
            rusqlite::types::FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
                idx,
                self.columns[idx].clone(),
                value.data_type(),
            ),
            rusqlite::types::FromSqlError::OutOfRange(n) => {
                rusqlite::Error::IntegralValueOutOfRange(idx, n)
            }
            other => {
                rusqlite::Error::FromSqlConversionFailure(idx, value.data_type(), other.into())
            }
        })
    }

    /// The position of column `col`, for errors that name it.
    pub fn index_of(&self, col: impl Column) -> usize {
        col.index(self).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// How a [`Row`] column is named: by position or by name.
pub trait Column: Copy {
    fn index(self, row: &Row) -> rusqlite::Result<usize>;
}

impl Column for usize {
    fn index(self, row: &Row) -> rusqlite::Result<usize> {
        if self < row.values.len() {
            Ok(self)
        } else {
            Err(rusqlite::Error::InvalidColumnIndex(self))
        }
    }
}

impl Column for &str {
    fn index(self, row: &Row) -> rusqlite::Result<usize> {
        row.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(self))
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(self.to_owned()))
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

#[cfg(test)]
mod tests;
