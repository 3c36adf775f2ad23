//! The audit log: who changed what, when, with the before and after state as JSON, and the id
//! of the HTTP request it was made in (`rollcall_runtime::request_id`; none for the hub's own
//! work). Written in the same transaction as the change it describes; never updated or deleted.

use rollcall_runtime::request_id;
use rollcall_shared::UnixMillis;
use serde::Serialize;
use serde_json::Value;

use super::error::StoreError;
use super::sql::{Param, Sql, Value as SqlValue, params};

const INSERT: &str = "INSERT INTO audit_log (actor, action, target, before, after, at, request_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const SELECT: &str =
    "SELECT id, actor, action, target, before, after, at, request_id FROM audit_log";

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
    /// The HTTP request the change was made in; `None` for the hub's own work.
    pub request_id: Option<String>,
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

/// Records `change`, as made in the request being served, if any.
pub fn log(sql: &dyn Sql, change: Change<'_>) -> Result<(), StoreError> {
    let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    let request_id = request_id::current().map(|id| id.to_string());
    sql.execute(
        INSERT,
        params![
            change.actor,
            change.action,
            change.target,
            text(&change.before),
            text(&change.after),
            change.at,
            request_id
        ],
    )?;
    Ok(())
}

/// Which entries to list; each condition absent: any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Part of who made the change (`user:tess`, `hub`, `device:…`).
    pub actor: Option<String>,
    /// The action, or the start of one (`student.` lists every change to students).
    pub action: Option<String>,
    /// Part of what was changed (`student:…`, `session:…`).
    pub target: Option<String>,
    /// From this instant, inclusive.
    pub from: Option<UnixMillis>,
    /// Before this instant.
    pub to: Option<UnixMillis>,
    /// Older than this entry (the next page).
    pub before_id: Option<i64>,
}

/// The newest `limit` entries.
pub fn recent(sql: &dyn Sql, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    search(sql, &Filter::default(), limit)
}

/// The newest `limit` entries that `filter` keeps, newest first.
pub fn search(sql: &dyn Sql, filter: &Filter, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    let mut when = |condition: &str, value: SqlValue| {
        values.push(value);
        conditions.push(condition.replace('?', &format!("?{}", values.len())));
    };
    if let Some(actor) = &filter.actor {
        when("instr(actor, ?) > 0", SqlValue::Text(actor.clone()));
    }
    if let Some(action) = &filter.action {
        when("instr(action, ?) = 1", SqlValue::Text(action.clone()));
    }
    if let Some(target) = &filter.target {
        when("instr(target, ?) > 0", SqlValue::Text(target.clone()));
    }
    if let Some(from) = filter.from {
        when("at >= ?", SqlValue::Integer(from.0));
    }
    if let Some(to) = filter.to {
        when("at < ?", SqlValue::Integer(to.0));
    }
    if let Some(id) = filter.before_id {
        when("id < ?", SqlValue::Integer(id));
    }
    let kept = match conditions.is_empty() {
        true => String::new(),
        false => format!(" WHERE {}", conditions.join(" AND ")),
    };
    values.push(SqlValue::Integer(limit.into()));
    let query = format!("{SELECT}{kept} ORDER BY id DESC LIMIT ?{}", values.len());
    let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let rows = sql.query_map(&query, &params, |r| {
        Ok(AuditEntry {
            id: r.get("id")?,
            actor: r.get("actor")?,
            action: r.get("action")?,
            target: r.get("target")?,
            before: json(r.get("before")?),
            after: json(r.get("after")?),
            at: r.get("at")?,
            request_id: r.get("request_id")?,
        })
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engines::each;

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
            let only = |filter: Filter| {
                let found = db
                    .read_blocking(move |sql| search(sql, &filter, 10))
                    .unwrap();
                found.iter().map(|e| e.target.clone()).collect::<Vec<_>>()
            };
            let of = |target: &str| Filter {
                target: Some(target.into()),
                ..Filter::default()
            };
            assert_eq!(only(of("b")), ["b"]);
            let by_action = |action: &str| Filter {
                action: Some(action.into()),
                ..Filter::default()
            };
            assert_eq!(
                only(by_action("ren")),
                ["c", "b", "a"],
                "the start of an action"
            );
            assert!(only(by_action("name")).is_empty(), "not any part of it");
            let next_page = Filter {
                before_id: Some(all[0].id),
                actor: Some("ad".into()),
                ..Filter::default()
            };
            assert_eq!(only(next_page), ["b", "a"]);
            let later = Filter {
                from: Some(UnixMillis(8)),
                ..Filter::default()
            };
            assert!(only(later).is_empty());
            assert_eq!(all[2].after, Some(json!({"name": "Lab ü"})));
            assert_eq!((all[2].actor.as_str(), all[2].at), ("ada", UnixMillis(7)));
            assert_eq!(all[2].request_id, None, "made outside any request");
        });
    }

    #[tokio::test]
    async fn a_change_made_in_a_request_names_it() {
        let engine = crate::engines::sqlite();
        let db = &engine.db;
        let change = |at| Change {
            actor: "ada",
            action: "rename",
            target: "a".into(),
            before: None,
            after: None,
            at: UnixMillis(at),
        };
        let write = db.write(move |sql| log(sql, change(1)));
        request_id::scope("req-7", write).await.unwrap();
        db.write(move |sql| log(sql, change(2))).await.unwrap();
        let entries = db.read(|sql| recent(sql, 2)).await.unwrap();
        let ids: Vec<_> = entries.iter().map(|e| e.request_id.as_deref()).collect();
        assert_eq!(ids, [None, Some("req-7")]);
    }
}
