//! What a query returns: [`Rows`] of owned values under named columns, and how a [`Column`]
//! is asked for by position or by name.

use rusqlite::types::{FromSql, Value, ValueRef};

/// Why a value could not be read from a row: a missing column, the wrong type, or a value its
/// reader refused ([`Row::malformed`]).
pub type ReadError = rusqlite::Error;

/// A value read from a row, or why it could not be.
pub type ReadResult<T> = Result<T, ReadError>;

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
    pub fn get<T: FromSql>(&self, col: impl Column) -> ReadResult<T> {
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

    /// The error for column `col` holding a value its reader refused, saying `why`.
    pub fn malformed(
        &self,
        col: impl Column,
        why: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ReadError {
        let idx = self.index_of(col);
        let found = self.values.get(idx).map(|v| ValueRef::from(v).data_type());
        ReadError::FromSqlConversionFailure(
            idx,
            found.unwrap_or(rusqlite::types::Type::Null),
            why.into(),
        )
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
    fn index(self, row: &Row) -> ReadResult<usize>;
}

impl Column for usize {
    fn index(self, row: &Row) -> ReadResult<usize> {
        if self < row.values.len() {
            Ok(self)
        } else {
            Err(rusqlite::Error::InvalidColumnIndex(self))
        }
    }
}

impl Column for &str {
    fn index(self, row: &Row) -> ReadResult<usize> {
        row.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(self))
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(self.to_owned()))
    }
}
