//! What the notifications remember between checks and restarts: each user's digest for each
//! school day (sent, nothing to say, or failed so far), and which students are below the
//! at-risk threshold in which class. Only SQL; the rules are in `email` and `at_risk`.

use std::collections::HashSet;

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{StoreError, id_col};

const SELECT_DIGEST: &str = "SELECT status, attempts, next_at, last_error FROM email_digests WHERE user_id = ?1 AND day = ?2";
const UPSERT_DIGEST: &str = "INSERT INTO email_digests
    (user_id, day, status, attempts, next_at, last_error, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (user_id, day) DO UPDATE SET status = ?3, attempts = ?4, next_at = ?5,
        last_error = ?6, updated_at = ?7";
const SELECT_RECENT: &str = "SELECT d.user_id AS user_id, u.username AS username,
    d.day AS day, d.status AS status, d.attempts AS attempts, d.last_error AS last_error,
    d.updated_at AS updated_at FROM email_digests d JOIN users u ON u.id = d.user_id
    ORDER BY d.day DESC, u.username LIMIT ?1";
const SELECT_AT_RISK: &str = "SELECT student_id FROM at_risk_students WHERE class_id = ?1";
const INSERT_AT_RISK: &str = "INSERT OR IGNORE INTO at_risk_students (class_id, student_id, since)
    VALUES (?1, ?2, ?3)";
const DELETE_AT_RISK: &str = "DELETE FROM at_risk_students WHERE class_id = ?1 AND student_id = ?2";

/// Where one user's digest for one day stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestStatus {
    Sent,
    /// Nothing to say: no message.
    Empty,
    /// The last try failed; tried again from `next_at`.
    Retrying,
    /// Given up for that day.
    Failed,
}

impl DigestStatus {
    fn as_str(self) -> &'static str {
        match self {
            DigestStatus::Sent => "sent",
            DigestStatus::Empty => "empty",
            DigestStatus::Retrying => "retrying",
            DigestStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DigestStatus {
        match s {
            "sent" => DigestStatus::Sent,
            "empty" => DigestStatus::Empty,
            "retrying" => DigestStatus::Retrying,
            _ => DigestStatus::Failed,
        }
    }
}

/// One user's digest on one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DigestState {
    pub status: DigestStatus,
    pub attempts: u32,
    pub next_at: UnixMillis,
    pub last_error: Option<String>,
}

/// A digest as `GET /email/digests` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct DigestRow {
    pub user_id: Uuid,
    pub username: String,
    pub day: NaiveDate,
    pub status: DigestStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: UnixMillis,
}

pub fn digest(
    conn: &Connection,
    user: Uuid,
    day: NaiveDate,
) -> Result<Option<DigestState>, StoreError> {
    let row = conn
        .query_row(
            SELECT_DIGEST,
            params![user.to_string(), day.to_string()],
            |r| {
                let status: String = r.get("status")?;
                Ok(DigestState {
                    status: DigestStatus::parse(&status),
                    attempts: r.get("attempts")?,
                    next_at: r.get("next_at")?,
                    last_error: r.get("last_error")?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

pub fn set_digest(
    conn: &Connection,
    user: Uuid,
    day: NaiveDate,
    state: &DigestState,
    now: UnixMillis,
) -> Result<(), StoreError> {
    conn.execute(
        UPSERT_DIGEST,
        params![
            user.to_string(),
            day.to_string(),
            state.status.as_str(),
            state.attempts,
            state.next_at,
            state.last_error,
            now
        ],
    )?;
    Ok(())
}

/// The latest `limit` digests, newest day first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<DigestRow>, StoreError> {
    let mut stmt = conn.prepare(SELECT_RECENT)?;
    let rows = stmt.query_map([limit], |r| {
        let (day, status): (String, String) = (r.get("day")?, r.get("status")?);
        Ok(DigestRow {
            user_id: id_col(r, "user_id")?,
            username: r.get("username")?,
            day: day.parse().unwrap_or_default(),
            status: DigestStatus::parse(&status),
            attempts: r.get("attempts")?,
            last_error: r.get("last_error")?,
            updated_at: r.get("updated_at")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The students remembered as below the threshold in `class`.
pub fn at_risk(conn: &Connection, class: ClassId) -> Result<HashSet<StudentId>, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT_AT_RISK)?;
    let rows = stmt.query_map([class.to_string()], |r| id_col(r, "student_id"))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Remembers `student` as below the threshold in `class` (from `now`), or no longer.
pub fn set_at_risk(
    conn: &Connection,
    class: ClassId,
    student: StudentId,
    below: bool,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let (class, student) = (class.to_string(), student.to_string());
    match below {
        true => conn.execute(INSERT_AT_RISK, params![class, student, now])?,
        false => conn.execute(DELETE_AT_RISK, params![class, student])?,
    };
    Ok(())
}
