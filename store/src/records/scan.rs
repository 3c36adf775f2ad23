//! Scanning records newest first by their keys (id, room, time), narrowed by a
//! [`RecordFilter`], a page of keys at a time: deciding who may see a record needs only its
//! key, so only the records shown are read whole.

use std::ops::ControlFlow;

use super::{RecordView, SELECT, Status, from_row};
use crate::columns::{id_col, readable};
use crate::error::StoreError;
use crate::sql::{Param, ReadResult, Row, Sql, Value, params};
use rollcall_shared::{Decision, DeviceId, RecordId, StudentId, UnixMillis};

// The key scans read the indexes of migration 3 where the filter allows (by status, by room),
// newest first, a page at a time, each page after the last key of the one before.
const KEYS: &str = "SELECT id, room, captured_at FROM records";
const KEYS_ORDER: &str = "ORDER BY captured_at DESC, id DESC";
const KEY_OF: &str = "SELECT captured_at, id FROM records WHERE id = ?1";
/// How many keys a scan reads at once: a scan that stops early has read little.
pub(super) const KEY_PAGE: i64 = 256;

/// Where and when a record was captured: what deciding who may see it needs, read without the
/// record itself.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordKey {
    pub id: RecordId,
    pub room: String,
    pub captured_at: UnixMillis,
}

/// Which records a scan visits: each field `None` narrows nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordFilter {
    /// How the review left it.
    pub status: Option<Status>,
    /// What the door decided.
    pub decision: Option<Decision>,
    /// Captured at or after.
    pub from: Option<UnixMillis>,
    /// Captured before.
    pub to: Option<UnixMillis>,
    pub room: Option<String>,
    /// The door unit that captured it.
    pub device: Option<DeviceId>,
    /// Confirmed as this student, or with them among its candidates.
    pub student: Option<StudentId>,
    /// Only records older than this one (the last of the page before).
    pub before: Option<RecordId>,
}

impl RecordFilter {
    /// The records with `status`, and no other narrowing.
    pub fn status(status: Status) -> Self {
        RecordFilter {
            status: Some(status),
            ..RecordFilter::default()
        }
    }
}

/// Visits the keys of the records `filter` keeps, newest first, until `visit` breaks. A
/// `filter.before` naming no record is [`StoreError::NotFound`].
pub fn each_key(
    sql: &dyn Sql,
    filter: &RecordFilter,
    mut visit: impl FnMut(RecordKey) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let mut after = match filter.before {
        Some(id) => Some(
            sql.query_one(KEY_OF, params![id.to_string()], "record", |r| {
                Ok((r.get("captured_at")?, r.get("id")?))
            })?,
        ),
        None => None,
    };
    loop {
        let page = key_page(sql, filter, after.as_ref())?;
        for row in &page {
            // One unreadable row is left out (and logged), never the end of the scan.
            let Some(key) = readable([key(row)], "record key")?.pop() else {
                continue;
            };
            if visit(key).is_break() {
                return Ok(());
            }
        }
        match page.last() {
            // Where the next page starts, as stored: even an unreadable key moves it on.
            Some(last) if page.len() as i64 == KEY_PAGE => {
                after = Some((last.get("captured_at")?, last.get("id")?));
            }
            _ => return Ok(()),
        }
    }
}

/// One page of the keys `f` keeps, the first or the one after `after` (its `captured_at` and
/// `id`).
fn key_page(
    sql: &dyn Sql,
    f: &RecordFilter,
    after: Option<&(Value, Value)>,
) -> Result<Vec<Row>, StoreError> {
    let (query, values) = key_query(f, after);
    let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
    sql.rows(&query, &params)
}

/// The query of [`key_page`] and its parameters. Only the conditions the filter names are in
/// it, so an index can serve it.
pub(super) fn key_query(f: &RecordFilter, after: Option<&(Value, Value)>) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    // `condition` with each `?` the placeholder of `value`.
    let mut bind = |condition: &str, value: Value| {
        values.push(value);
        clauses.push(condition.replace('?', &format!("?{}", values.len())));
    };
    let text = |s: &str| Value::Text(s.to_owned());
    if let Some(status) = f.status {
        bind("status = ?", text(status.as_str()));
    }
    if let Some(decision) = f.decision {
        bind("decision = ?", text(decision.as_str()));
    }
    if let Some(from) = f.from {
        bind("captured_at >= ?", Value::Integer(from.0));
    }
    if let Some(to) = f.to {
        bind("captured_at < ?", Value::Integer(to.0));
    }
    if let Some(room) = &f.room {
        bind("room = ?", text(room));
    }
    if let Some(device) = f.device {
        bind("device_id = ?", text(&device.to_string()));
    }
    if let Some(student) = f.student {
        let condition = "(final_student = ? OR instr(candidates, ?) > 0)";
        bind(condition, text(&student.to_string()));
    }
    if let Some((at, id)) = after {
        values.extend([at.clone(), id.clone()]);
        let n = values.len();
        clauses.push(format!("(captured_at, id) < (?{}, ?{n})", n - 1));
    }
    values.push(Value::Integer(KEY_PAGE));
    let filter = match clauses.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", clauses.join(" AND ")),
    };
    let query = format!("{KEYS} {filter} {KEYS_ORDER} LIMIT ?{}", values.len());
    (query, values)
}

fn key(row: &Row) -> ReadResult<RecordKey> {
    Ok(RecordKey {
        id: id_col(row, "id")?,
        room: row.get("room")?,
        captured_at: row.get("captured_at")?,
    })
}

/// The records with `status` (all when `None`), newest first, at most `limit`.
pub fn by_status(
    sql: &dyn Sql,
    status: Option<Status>,
    limit: u32,
) -> Result<Vec<RecordView>, StoreError> {
    let mut found = Vec::new();
    let filter = RecordFilter {
        status,
        ..RecordFilter::default()
    };
    each_key(sql, &filter, |key| {
        found.push(key.id);
        match found.len() < limit as usize {
            true => ControlFlow::Continue(()),
            false => ControlFlow::Break(()),
        }
    })?;
    let one = format!("{SELECT} WHERE id = ?1");
    let mut rows = Vec::new();
    for id in found {
        rows.extend(sql.query_map(&one, params![id.to_string()], from_row)?);
    }
    readable(rows, "record")
}
