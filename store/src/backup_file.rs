//! A hub database in a file of its own (a backup just written, or one about to be restored):
//! checked whole by SQLite and read for what it holds, without opening it as the school's.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// What a database file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holds {
    /// Its schema version (`PRAGMA user_version`), at least 1.
    pub schema: usize,
    pub records: u64,
    pub students: u64,
}

/// Opens `path` read-only, runs SQLite's integrity check and reads what it holds; why not, as
/// a sentence, when it is not a whole hub database.
pub fn inspect(path: &Path) -> Result<Holds, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("SQLite's integrity check says: {integrity}"));
    }
    let schema: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let schema = usize::try_from(schema).unwrap_or(0);
    if schema == 0 {
        return Err("it holds no hub schema".into());
    }
    let count = |table: &str| -> Result<u64, String> {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) AS n FROM {table}"), [], |r| {
                r.get("n")
            })
            .map_err(|e| format!("reading {table}: {e}"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(Holds {
        schema,
        records: count("records")?,
        students: count("students")?,
    })
}
