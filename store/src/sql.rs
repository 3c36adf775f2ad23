//! The store's face towards its back ends: SQL text and parameters in, rows out.
//!
//! Both back ends speak SQLite's value model (NULL, 64-bit integer, double, text, blob), so a
//! store function reads and writes the same values, with the same conversions, whichever
//! holds the data: rusqlite's [`ToSql`](rusqlite::ToSql) and
//! [`FromSql`](rusqlite::types::FromSql) (which the shared ids implement) are the one
//! vocabulary. SQL is written once, with `?N` placeholders, in the part of SQL both
//! engines accept (`ON CONFLICT … DO NOTHING`, `RETURNING`, `coalesce`, `length`); where they
//! truly differ a store function asks [`Sql::dialect`].
//!
//! Each call of [`Sql`] runs inside the transaction its caller opened: a `&dyn Sql` is one
//! transaction's view of the database, never a connection to manage.

mod rows;
mod sqlite;
mod transaction;

pub use rows::{Column, ReadError, ReadResult, Row, Rows};
pub(crate) use sqlite::SqliteSql;
pub(crate) use transaction::to_value;
pub use transaction::{Dialect, Sql};

/// The values both engines hold (SQLite's value model), by the names every store module uses:
/// only `sql`, `postgres`, `migrations` and `db` name rusqlite themselves.
pub use rusqlite::ToSql as Param;
pub use rusqlite::types::Value;
pub use rusqlite::{params, params_from_iter};

#[cfg(test)]
mod tests;
