//! The audit log: who changed what, when, with the before and after state as JSON. Written in
//! the same transaction as the change it describes; never updated or deleted.

use rollcall_shared::UnixMillis;
use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::StoreError;

const INSERT: &str = "INSERT INTO audit_log (actor, action, target, before, after, at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const SELECT_RECENT: &str = "SELECT id, actor, action, target, before, after, at FROM audit_log
    ORDER BY id DESC LIMIT ?1";

/// One change.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: UnixMillis,
}

/// What a caller records; `id` is assigned by the database.
#[derive(Debug)]
pub struct Change<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: UnixMillis,
}

pub fn log(conn: &Connection, change: Change<'_>) -> Result<(), StoreError> {
    let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    conn.execute(
        INSERT,
        params![
            change.actor,
            change.action,
            change.target,
            text(&change.before),
            text(&change.after),
            change.at
        ],
    )?;
    Ok(())
}

pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare(SELECT_RECENT)?;
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditEntry {
            id: r.get("id")?,
            actor: r.get("actor")?,
            action: r.get("action")?,
            target: r.get("target")?,
            before: json(r.get("before")?),
            after: json(r.get("after")?),
            at: r.get("at")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
