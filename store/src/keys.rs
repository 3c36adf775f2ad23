//! Faces at rest on the hub: every column that holds a face is sealed
//! ([`rollcall_runtime::seal`]) under the keys of a file outside the database, which the store
//! reads again whenever it has changed as a transaction starts ([`Keyring`], held apart in
//! `store::keyring` so the database handle needs nothing of this file), so a rotation reaches
//! a hub that is serving before the first face is sealed again.
//!
//! The database names the keys its faces were sealed with (`face_keys`, ids only): a hub starts
//! only when its key file holds every one still in use ([`admit`]). Then [`reseal`] brings
//! every face under the key that seals now (faces stored before sealing existed, or under a
//! key being rotated out); [`forget_lost`] is what a lost key leaves: the faces it sealed
//! erased, the register and the records kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rollcall_runtime::seal::{Kept, KeyFileError, KeyId, Purpose};
use rollcall_shared::UnixMillis;

use super::columns::readable;
use super::db::Db;
use super::error::StoreError;
use super::sql::{Param, ReadResult, Sql, params};

pub use super::keyring::Keyring;

/// The key file inside the data directory, unless `[privacy] face_key_file` says otherwise.
pub const KEY_FILE: &str = "faces.key";

/// Rows re-sealed per write transaction: short, so ingest and teachers wait little.
const BATCH: i64 = 200;

/// Why the hub may not use its key file with this database.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(
        "the faces in this database are sealed with key {}, which {} does not hold: put back \
         the key file that holds it (the copy kept apart from the database), or, if it is lost \
         for good, run `rollcall-hub faces-key lost` to erase those faces (the register and \
         records stay) and start again",
        .missing.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", "),
        .file.display()
    )]
    Missing { missing: Vec<KeyId>, file: PathBuf },
    #[error(transparent)]
    File(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const IN_USE: &str = "SELECT id FROM face_keys WHERE retired_at IS NULL ORDER BY added_at, id";
const ADD: &str =
    "INSERT INTO face_keys (id, added_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING";
const RETIRE: &str = "UPDATE face_keys SET retired_at = ?2 WHERE id = ?1 AND retired_at IS NULL";

/// The keys the database's faces may be sealed with.
pub fn in_use(sql: &dyn Sql) -> Result<Vec<KeyId>, StoreError> {
    let rows = sql.query_map(IN_USE, params![], |r| r.get::<String>("id"))?;
    Ok(readable(rows, "face key")?
        .into_iter()
        .filter_map(|id| id.parse().ok())
        .collect())
}

/// Lets the key file the hub was given seal and open this database's faces: it must hold
/// every key still in use; its sealing key is recorded as in use.
pub fn admit(sql: &dyn Sql, file: &Path, now: UnixMillis) -> Result<(), KeysError> {
    let keys = sql.faces();
    let missing: Vec<KeyId> = in_use(sql)?
        .into_iter()
        .filter(|id| !keys.holds(*id))
        .collect();
    if !missing.is_empty() {
        return Err(KeysError::Missing {
            missing,
            file: file.to_owned(),
        });
    }
    sql.execute(ADD, params![keys.current().to_string(), now.0])?;
    Ok(())
}

/// Records `retired` as sealing nothing any more.
pub fn retire(sql: &dyn Sql, retired: KeyId, now: UnixMillis) -> Result<(), StoreError> {
    sql.execute(RETIRE, params![retired.to_string(), now.0])?;
    Ok(())
}

/// Whether the database names no key yet: a hub from before sealing, or a new one.
pub fn none_in_use(sql: &dyn Sql) -> Result<bool, StoreError> {
    Ok(in_use(sql)?.is_empty())
}

/// A table with faces: its key column and the columns sealed.
struct Table {
    name: &'static str,
    key: &'static str,
    columns: &'static [Column],
    /// What a lost key leaves of a row: nothing, or the row with its faces blanked.
    when_lost: WhenLost,
}

struct Column {
    name: &'static str,
    purpose: Purpose,
    /// Blanked as NULL (else as no bytes, for a column that may not be NULL).
    nullable: bool,
}

#[derive(Clone, Copy)]
enum WhenLost {
    Delete,
    Blank,
}

/// A template and the face crop beside it (enrolments, staff's faces, door records).
const TEMPLATE_AND_CROP: &[Column] = &[
    Column {
        name: "embedding",
        purpose: Purpose::Template,
        nullable: false,
    },
    Column {
        name: "thumbnail",
        purpose: Purpose::Crop,
        nullable: true,
    },
];

/// Every column that holds a face.
const TABLES: &[Table] = &[
    Table {
        name: "embeddings",
        key: "id",
        columns: TEMPLATE_AND_CROP,
        when_lost: WhenLost::Delete,
    },
    Table {
        name: "staff_faces",
        key: "id",
        columns: TEMPLATE_AND_CROP,
        when_lost: WhenLost::Delete,
    },
    Table {
        name: "records",
        key: "id",
        columns: TEMPLATE_AND_CROP,
        when_lost: WhenLost::Blank,
    },
    Table {
        name: "quarantine",
        key: "record_id",
        columns: &[Column {
            name: "thumbnail",
            purpose: Purpose::Crop,
            nullable: true,
        }],
        when_lost: WhenLost::Blank,
    },
    Table {
        name: "dismissed_strangers",
        key: "id",
        columns: &[Column {
            name: "centroid",
            purpose: Purpose::Template,
            nullable: false,
        }],
        when_lost: WhenLost::Delete,
    },
    Table {
        name: "device_galleries",
        key: "device_id",
        columns: &[Column {
            name: "state",
            purpose: Purpose::Gallery,
            nullable: false,
        }],
        when_lost: WhenLost::Delete,
    },
];

impl Table {
    /// The next batch of rows after `after` (by key): the key, then each sealed column.
    fn batch(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        format!(
            "SELECT {key}, {columns} FROM {table} WHERE {key} > ?1 ORDER BY {key} LIMIT ?2",
            key = self.key,
            columns = columns.join(", "),
            table = self.name,
        )
    }

    fn update(&self, column: &Column) -> String {
        format!(
            "UPDATE {} SET {} = ?2 WHERE {} = ?1",
            self.name, column.name, self.key
        )
    }

    fn forget(&self) -> String {
        match self.when_lost {
            WhenLost::Delete => format!("DELETE FROM {} WHERE {} = ?1", self.name, self.key),
            WhenLost::Blank => {
                let blanks: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| match c.nullable {
                        true => format!("{} = NULL", c.name),
                        false => format!("{} = ?2", c.name),
                    })
                    .collect();
                format!(
                    "UPDATE {} SET {} WHERE {} = ?1",
                    self.name,
                    blanks.join(", "),
                    self.key
                )
            }
        }
    }
}

/// One batch of a table: each row's key and sealed values (`None`: NULL).
type Batch = Vec<(String, Vec<Option<Vec<u8>>>)>;

fn read_batch(sql: &dyn Sql, table: &Table, after: &str) -> Result<Batch, StoreError> {
    let rows = sql.query_map(&table.batch(), params![after, BATCH], |r| {
        let key: String = r.get(0)?;
        let values = (1..=table.columns.len())
            .map(|i| r.get::<Option<Vec<u8>>>(i))
            .collect::<ReadResult<_>>()?;
        Ok((key, values))
    })?;
    readable(rows, "sealed row")
}

/// How many faces a pass changed, and how many it could not read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub changed: u64,
    pub unreadable: u64,
}

/// Seals every face not yet under the key that seals now, a batch per write transaction,
/// while the hub serves (call it off the async executor). A face that does not open is
/// logged, counted and left as it is.
pub fn reseal(db: &Db) -> Result<Pass, StoreError> {
    let mut pass = Pass::default();
    for table in TABLES {
        let mut after = String::new();
        loop {
            let (next, done) = db.write_blocking(|sql| reseal_batch(sql, table, &after))?;
            pass.changed += done.changed;
            pass.unreadable += done.unreadable;
            match next {
                Some(key) => after = key,
                None => break,
            }
        }
    }
    Ok(pass)
}

/// One batch of [`reseal`]: the last key read (`None`: the table is done) and what it did.
fn reseal_batch(
    sql: &dyn Sql,
    table: &Table,
    after: &str,
) -> Result<(Option<String>, Pass), StoreError> {
    let keys = sql.faces();
    let rows = read_batch(sql, table, after)?;
    let mut pass = Pass::default();
    for (key, values) in &rows {
        for (column, value) in table.columns.iter().zip(values) {
            let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            match keys.reseal(column.purpose, value) {
                Ok(Some(sealed)) => {
                    sql.execute(&table.update(column), params![key, sealed])?;
                    pass.changed += 1;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("{}.{} of {key}: {e}", table.name, column.name);
                    pass.unreadable += 1;
                }
            }
        }
    }
    let full = rows.len() as i64 == BATCH;
    Ok((rows.last().filter(|_| full).map(|(k, _)| k.clone()), pass))
}

/// How the faces of one column are kept: how many under each key, and how many from before
/// sealing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Census {
    pub plain: u64,
    pub sealed: BTreeMap<KeyId, u64>,
}

/// How every column's faces are kept, by `table.column`.
pub fn census(sql: &dyn Sql) -> Result<BTreeMap<String, Census>, StoreError> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        each_row(sql, table, |_, values| {
            for (column, value) in table.columns.iter().zip(values) {
                let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else {
                    continue;
                };
                let census: &mut Census = out
                    .entry(format!("{}.{}", table.name, column.name))
                    .or_default();
                match Kept::of(value) {
                    Kept::Plain => census.plain += 1,
                    Kept::Sealed(id) => *census.sealed.entry(id).or_default() += 1,
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Calls `f` with each row of `table` (its key and sealed values), a batch at a time, in one
/// transaction.
fn each_row(
    sql: &dyn Sql,
    table: &Table,
    mut f: impl FnMut(&str, &[Option<Vec<u8>>]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut after = String::new();
    loop {
        let rows = read_batch(sql, table, &after)?;
        for (key, values) in &rows {
            f(key, values)?;
        }
        match rows.last() {
            Some((key, _)) if rows.len() as i64 == BATCH => after = key.clone(),
            _ => return Ok(()),
        }
    }
}

/// What [`forget_lost`] erased: rows deleted or blanked, by table.
pub type Forgotten = BTreeMap<&'static str, u64>;

/// Erases every face sealed under a key `sql.faces()` does not hold, and retires those keys:
/// templates, enrolment crops, strangers' averages and remembered galleries go; records and
/// held-back records stay without their faces; the register is not touched.
pub fn forget_lost(sql: &dyn Sql, now: UnixMillis) -> Result<Forgotten, StoreError> {
    let keys = sql.faces();
    let lost = |value: &Option<Vec<u8>>| match value.as_deref().map(Kept::of) {
        Some(Kept::Sealed(id)) => !keys.holds(id),
        _ => false,
    };
    let mut forgotten = Forgotten::new();
    let blank = Vec::<u8>::new();
    for table in TABLES {
        let blanks_bytes =
            matches!(table.when_lost, WhenLost::Blank) && table.columns.iter().any(|c| !c.nullable);
        each_row(sql, table, |key, values| {
            if values.iter().any(lost) {
                let p: &[&dyn Param] = match blanks_bytes {
                    true => params![key, blank],
                    false => params![key],
                };
                sql.execute(&table.forget(), p)?;
                *forgotten.entry(table.name).or_default() += 1;
            }
            Ok(())
        })?;
    }
    for id in in_use(sql)? {
        if !keys.holds(id) {
            retire(sql, id, now)?;
        }
    }
    Ok(forgotten)
}

#[cfg(test)]
mod tests;
