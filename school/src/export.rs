//! The school's data in one archive, so a school is never locked in: `rollcall-hub export
//! --to FILE` and `GET /api/v1/export` (admin). A zip holding every table a school owns as CSV
//! (for people and spreadsheets) and JSON (exact, for programs), a manifest and a README.
//!
//! Read in one transaction, so the files agree with each other while the hub keeps serving.
//! Left out on purpose: faces (photos, crops, embeddings: biometric data, which another system
//! must enrol afresh) and secrets (password hashes, device credentials, tokens). Columns whose
//! name ends in `_at` are times, written as RFC 3339 UTC; `day` columns are the school's dates.

use std::io::{Seek, Write};

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use rollcall_store::export::{TABLES, Table};
use rollcall_store::sql::{Param, ReadError, Value as Stored};
use rollcall_store::{Sql, StoreError};

/// What an export held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows per table, in the archive's order.
    pub rows: Vec<(&'static str, usize)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.rows.iter().map(|(t, n)| format!("{n} {t}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the database: {0}")]
    Store(#[from] StoreError),
    #[error("writing the archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the archive: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ReadError> for ExportError {
    fn from(e: ReadError) -> Self {
        ExportError::Store(e.into())
    }
}

/// Who the export is of and when it was made, for the manifest.
#[derive(Debug, Clone)]
pub struct About<'a> {
    pub site: &'a str,
    pub timezone: &'a str,
    pub exported_at: i64,
    pub exported_by: &'a str,
    pub schema_version: usize,
}

/// Writes the archive to `out`, reading every table in the caller's transaction (one
/// snapshot, so the files agree).
pub fn write<W: Write + Seek>(
    tx: &dyn Sql,
    about: &About<'_>,
    out: W,
) -> Result<Summary, ExportError> {
    let folder = format!("rollcall-export-{}", about.site);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(out);
    let mut rows = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let (csv, json, n) = read_table(tx, table)?;
        zip.start_file(format!("{folder}/csv/{}.csv", table.name), options)?;
        zip.write_all(csv.as_bytes())?;
        zip.start_file(format!("{folder}/json/{}.json", table.name), options)?;
        serde_json::to_writer_pretty(&mut zip, &json).map_err(std::io::Error::from)?;
        rows.push((table.name, n));
    }
    let manifest = json!({
        "format": "rollcall-export/1",
        "site": about.site,
        "timezone": about.timezone,
        "exported_at": rfc3339(about.exported_at),
        "exported_by": about.exported_by,
        "schema_version": about.schema_version,
        "software_version": env!("CARGO_PKG_VERSION"),
        "tables": rows.iter().map(|(t, n)| json!({"name": t, "rows": n})).collect::<Vec<_>>(),
    });
    zip.start_file(format!("{folder}/manifest.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &manifest).map_err(std::io::Error::from)?;
    zip.start_file(format!("{folder}/README.txt"), options)?;
    zip.write_all(readme(about, &rows).as_bytes())?;
    zip.finish()?;
    Ok(Summary { rows })
}

/// One table as CSV text and a JSON array of objects, with its row count.
fn read_table(tx: &dyn Sql, table: &Table) -> Result<(String, Value, usize), ExportError> {
    read_query(tx, table.sql(tx.dialect()), &[])
}

/// The rows of `sql` as CSV text and a JSON array of objects (times as RFC 3339, JSON columns
/// as JSON, blobs left out), with their count.
pub(crate) fn read_query(
    tx: &dyn Sql,
    sql: &str,
    params: &[&dyn Param],
) -> Result<(String, Value, usize), ExportError> {
    let result = tx.query(sql, params)?;
    let names = &result.columns;
    let header: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut csv = crate::csv::line(&header);
    let mut json = Vec::new();
    for row in &result.rows {
        let mut object = Map::with_capacity(names.len());
        let mut fields = Vec::with_capacity(names.len());
        for (name, value) in names.iter().zip(row.values()) {
            let value = cell(name, value);
            fields.push(match &value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            object.insert(name.clone(), value);
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        csv.push_str(&crate::csv::line(&fields));
        json.push(Value::Object(object));
    }
    let n = json.len();
    Ok((csv, Value::Array(json), n))
}

/// A column's value as JSON: times (`*_at`) as RFC 3339, JSON text (evidence, candidates,
/// audit before/after) as JSON, blobs never (no query selects one).
fn cell(name: &str, value: &Stored) -> Value {
    match value {
        Stored::Null => Value::Null,
        Stored::Integer(ms) if name.ends_with("_at") || name == "at" => rfc3339(*ms).into(),
        Stored::Integer(i) => (*i).into(),
        Stored::Real(r) => json!(r),
        Stored::Text(text) => {
            let structured = matches!(name, "evidence" | "candidates" | "before" | "after");
            match structured.then(|| serde_json::from_str::<Value>(text).ok()) {
                Some(Some(parsed)) => parsed,
                _ => Value::String(text.clone()),
            }
        }
        Stored::Blob(_) => Value::Null,
    }
}

pub(crate) fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

fn readme(about: &About<'_>, rows: &[(&str, usize)]) -> String {
    let mut text = format!(
        "Rollcall export of site {site}, made {at} by {by}.\n\n\
         Every table twice: csv/NAME.csv for people and spreadsheets (a cell starting with =, +, -\n\
         or @ has a ' put in front, so a spreadsheet shows it instead of running it) and\n\
         json/NAME.json, exact, for programs. Times (columns ending in _at) are UTC, RFC 3339;\n\
         days and lesson times are in the school's time zone, {tz}. Ids are stable: the same\n\
         student has the same id in every file and every later export.\n\n\
         Not included: faces (photos, crops and face embeddings are biometric data; another\n\
         system must enrol students afresh) and secrets (passwords, door-unit credentials).\n\n",
        site = about.site,
        at = rfc3339(about.exported_at),
        by = about.exported_by,
        tz = about.timezone,
    );
    for table in TABLES {
        let n = rows
            .iter()
            .find(|(t, _)| *t == table.name)
            .map_or(0, |(_, n)| *n);
        text.push_str(&format!(
            "{:<20} {n:>8} rows  {}\n",
            table.name, table.about
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_dates_and_json_text_becomes_json() {
        assert_eq!(
            cell("captured_at", &Stored::Integer(1_764_000_000_000)),
            json!("2025-11-24T16:00:00.000Z")
        );
        assert_eq!(cell("weekday", &Stored::Integer(3)), json!(3));
        assert_eq!(
            cell("evidence", &Stored::Text(r#"{"records":["a"]}"#.into())),
            json!({"records": ["a"]})
        );
        assert_eq!(cell("reason", &Stored::Text("{x".into())), json!("{x"));
        assert_eq!(
            cell("thumbnail", &Stored::Blob(b"jpeg".to_vec())),
            Value::Null
        );
    }

    #[test]
    fn every_query_runs_on_the_current_schema_and_selects_no_secret_or_face() {
        rollcall_store::engines::each(|db| {
            db.read_blocking(|sql| {
                check_schema(sql);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    fn check_schema(sql: &dyn Sql) {
        for table in TABLES {
            let result = sql
                .query(table.sql(sql.dialect()), &[])
                .unwrap_or_else(|e| panic!("{}: {e}", table.name));
            for column in result.columns.iter() {
                for secret in [
                    "hash",
                    "credential",
                    "embedding",
                    "thumbnail",
                    "token",
                    "state",
                ] {
                    assert!(!column.contains(secret), "{}.{column}", table.name);
                }
            }
        }
        let about = About {
            site: "school",
            timezone: "Europe/London",
            exported_at: 0,
            exported_by: "test",
            schema_version: 1,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let summary = write(sql, &about, &mut out).unwrap();
        assert_eq!(summary.rows.len(), TABLES.len());
        let archive = zip::ZipArchive::new(out).unwrap();
        assert_eq!(archive.len(), 2 * TABLES.len() + 2);
    }
}
