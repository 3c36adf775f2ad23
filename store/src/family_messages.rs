//! Families' messages in the school's own words (migration 37): at most one template of each
//! kind in each language. What a template may say is `rollcall_school::family_messages`'.

use rollcall_shared::UnixMillis;
use serde::Serialize;

use super::columns::readable;
use super::error::StoreError;
use super::sql::{Sql, params};

const SELECT: &str = "SELECT kind, language, subject, email, sms, updated_by, updated_at
    FROM family_messages";
const UPSERT: &str = "INSERT INTO family_messages
    (kind, language, subject, email, sms, updated_by, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (kind, language) DO UPDATE SET subject = excluded.subject,
    email = excluded.email, sms = excluded.sms, updated_by = excluded.updated_by,
    updated_at = excluded.updated_at";
const DELETE: &str = "DELETE FROM family_messages WHERE kind = ?1 AND language = ?2";

/// A school's template, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// `absence` or `arrived`.
    pub kind: String,
    /// A BCP 47 tag, as the school wrote it (`cy`, `pl`).
    pub language: String,
    pub subject: String,
    pub email: String,
    pub sms: String,
    pub updated_by: String,
    pub updated_at: UnixMillis,
}

/// Every template the school wrote, by kind and language.
pub fn list(sql: &dyn Sql) -> Result<Vec<Stored>, StoreError> {
    let query = format!("{SELECT} ORDER BY kind, language");
    let rows = sql.query_map(&query, &[], |r| {
        Ok(Stored {
            kind: r.get("kind")?,
            language: r.get("language")?,
            subject: r.get("subject")?,
            email: r.get("email")?,
            sms: r.get("sms")?,
            updated_by: r.get("updated_by")?,
            updated_at: r.get("updated_at")?,
        })
    })?;
    readable(rows, "family message")
}

/// Stores `t`, replacing the school's template of its kind and language.
pub fn put(sql: &dyn Sql, t: &Stored) -> Result<(), StoreError> {
    let row = params![
        t.kind,
        t.language,
        t.subject,
        t.email,
        t.sms,
        t.updated_by,
        t.updated_at
    ];
    sql.execute(UPSERT, row)?;
    Ok(())
}

/// Removes the school's template of `kind` in `language` (the built-in words apply again);
/// whether there was one.
pub fn delete(sql: &dyn Sql, kind: &str, language: &str) -> Result<bool, StoreError> {
    Ok(sql.execute(DELETE, params![kind, language])? > 0)
}
