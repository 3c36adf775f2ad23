//! Reading and writing the columns every store module shares: ids and dates kept as text,
//! faces sealed under the store's keys (templates as little-endian f32s inside), and
//! [`readable`], which keeps the rows that read and logs the one that does not.

use std::str::FromStr;

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{EMBEDDING_DIM, Embedding};

use super::error::StoreError;
use super::sql::{Column, ReadError, ReadResult, Row, Sql};

/// The rows that read, in order; a row that does not (a bad id, a value of the wrong type) is
/// logged and left out, so one bad row never hides the others. Other errors end the read.
pub(crate) fn readable<T>(
    rows: impl IntoIterator<Item = ReadResult<T>>,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut kept = Vec::new();
    for row in rows {
        match row {
            Ok(value) => kept.push(value),
            Err(
                e @ (ReadError::FromSqlConversionFailure(..)
                | ReadError::IntegralValueOutOfRange(..)
                | ReadError::InvalidColumnType(..)),
            ) => tracing::warn!("left out an unreadable {what}: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(kept)
}

/// Reads column `col` (a name, or a position) of `row` as an id or a date, parsed from its
/// text (for use inside [`Sql::query_map`], where [`readable`] leaves a bad one out).
pub(crate) fn id_col<T: FromStr>(row: &Row, col: impl Column) -> ReadResult<T> {
    let text: String = row.get(col)?;
    text.parse()
        .map_err(|_| row.malformed(col, format!("bad id {text:?}")))
}

/// `plain` sealed as `purpose` for a column; nothing stays nothing (a face erased from a row
/// that stays, such as a record's).
pub(crate) fn seal(sql: &dyn Sql, purpose: Purpose, plain: &[u8]) -> Vec<u8> {
    match plain.is_empty() {
        true => Vec::new(),
        false => sql.faces().seal(purpose, plain),
    }
}

/// What a sealed column holds.
pub fn unseal(sql: &dyn Sql, purpose: Purpose, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
    Ok(sql.faces().open(purpose, stored)?.into_owned())
}

/// A template sealed for its column: little-endian f32s inside (none: no face).
pub fn seal_embedding(sql: &dyn Sql, values: &[f32]) -> Vec<u8> {
    let plain: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    seal(sql, Purpose::Template, &plain)
}

/// A template column read back: exactly [`EMBEDDING_DIM`] little-endian f32s once opened,
/// else an error naming `what` (the row) and what was found.
pub fn open_embedding(sql: &dyn Sql, stored: &[u8], what: &str) -> Result<Embedding, StoreError> {
    let blob = sql.faces().open(Purpose::Template, stored)?;
    let corrupt = |found: String| {
        StoreError::Corrupt(format!(
            "embedding of {what}: {found}, expected {EMBEDDING_DIM} values"
        ))
    };
    if !blob.len().is_multiple_of(4) {
        return Err(corrupt(format!("{} bytes", blob.len())));
    }
    let values: Vec<f32> = blob
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Embedding::try_from(values).map_err(|wrong| corrupt(format!("{} values", wrong.0)))
}

/// Reads column `col` of `row` as a template (for use inside [`Sql::query_map`], where
/// [`readable`] leaves a bad one out and logs it); `what` names the row.
pub(crate) fn embedding_col(
    sql: &dyn Sql,
    row: &Row,
    col: &str,
    what: &str,
) -> ReadResult<Embedding> {
    let blob: Vec<u8> = row.get(col)?;
    open_embedding(sql, &blob, what).map_err(|e| row.malformed(col, e))
}
