//! The audit log: who changed what, when, with the before and after state as JSON. Written in
//! the same transaction as the change it describes; never updated or deleted.

use rollcall_shared::UnixMillis;
use rusqlite::params;
use serde::Serialize;
use serde_json::Value;

use super::{Sql, StoreError};

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

pub fn log(sql: &dyn Sql, change: Change<'_>) -> Result<(), StoreError> {
    let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    sql.execute(
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

pub fn recent(sql: &dyn Sql, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let rows = sql.query_map(SELECT_RECENT, params![limit], |r| {
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
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::engines::each;

    #[test]
    fn recent_changes_come_back_newest_first_with_their_json() {
        each(|db| {
            let change = |target: &str, after: Option<Value>| Change {
                actor: "ada",
                action: "rename",
                target: target.into(),
                before: None,
                after,
                at: UnixMillis(7),
            };
            db.write_blocking(|sql| {
                log(sql, change("a", Some(json!({"name": "Lab ü"}))))?;
                log(sql, change("b", None))?;
                log(sql, change("c", None))
            })
            .unwrap();
            let entries = db.read_blocking(|sql| recent(sql, 2)).unwrap();
            let targets: Vec<_> = entries.iter().map(|e| e.target.as_str()).collect();
            assert_eq!(targets, ["c", "b"]);
            assert!(entries[0].id > entries[1].id);
            let all = db.read_blocking(|sql| recent(sql, 10)).unwrap();
            assert_eq!(all[2].after, Some(json!({"name": "Lab ü"})));
            assert_eq!((all[2].actor.as_str(), all[2].at), ("ada", UnixMillis(7)));
        });
    }
}
