//! Attendance marks set by hand: a teacher's override of what the records say (Excused, a
//! forgotten Present…), always with a reason. Marks derived from records are computed on read
//! by `attendance` and never stored, so a review changes them at once.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const UPSERT: &str =
    "INSERT INTO marks (slot_id, day, student_id, mark, source, reason, set_by, set_at, code)
    VALUES (?1, ?2, ?3, ?4, 'override', ?5, ?6, ?7, ?8)
    ON CONFLICT (slot_id, day, student_id) DO UPDATE SET mark = excluded.mark,
    reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at,
    code = excluded.code";
const DELETE: &str = "DELETE FROM marks WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3";
const SELECT_ONE: &str = "SELECT student_id, mark, reason, set_by, set_at, code FROM marks
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3";
const SELECT_SESSION: &str = "SELECT student_id, mark, reason, set_by, set_at, code FROM marks
    WHERE slot_id = ?1 AND day = ?2";

/// An attendance mark: which way a session counts. Every attendance code has one
/// (`rollcall_school::register::Code`); `excused` is an authorised absence and `absent` an
/// unauthorised one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Present,
    Late,
    Absent,
    Excused,
    /// Not expected that session (a closure, a student not of compulsory age): not counted.
    NotRequired,
}

impl Mark {
    pub const ALL: [Mark; 5] = [
        Mark::Present,
        Mark::Late,
        Mark::Absent,
        Mark::Excused,
        Mark::NotRequired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Present => "present",
            Mark::Late => "late",
            Mark::Absent => "absent",
            Mark::Excused => "excused",
            Mark::NotRequired => "not_required",
        }
    }

    pub fn parse(s: &str) -> Option<Mark> {
        Mark::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a roster mark came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An accepted record (Confident, or approved or reassigned in review).
    Record,
    /// A teacher's override.
    Override,
    /// The session ended without a record.
    Closed,
    /// Nothing yet: the session is still open.
    Open,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Record => "record",
            Source::Override => "override",
            Source::Closed => "closed",
            Source::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [
            Source::Record,
            Source::Override,
            Source::Closed,
            Source::Open,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A teacher's override for one student in one session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Override {
    pub student: StudentId,
    pub mark: Mark,
    pub reason: String,
    pub set_by: String,
    pub set_at: UnixMillis,
    /// The attendance code it stands for when not its mark's default (`I`, a family's
    /// accepted "ill"); none: the default.
    pub code: Option<String>,
}

fn from_row(r: &Row) -> ReadResult<Override> {
    let mark: String = r.get("mark")?;
    Ok(Override {
        student: id_col(r, "student_id")?,
        mark: Mark::parse(&mark).unwrap_or(Mark::Absent),
        reason: r.get("reason")?,
        set_by: r.get("set_by")?,
        set_at: r.get("set_at")?,
        code: r.get("code")?,
    })
}

pub fn set(sql: &dyn Sql, slot: Uuid, day: NaiveDate, o: &Override) -> Result<(), StoreError> {
    sql.execute(
        UPSERT,
        params![
            slot.to_string(),
            day.to_string(),
            o.student.to_string(),
            o.mark.as_str(),
            o.reason,
            o.set_by,
            o.set_at,
            o.code
        ],
    )?;
    Ok(())
}

pub fn clear(
    sql: &dyn Sql,
    slot: Uuid,
    day: NaiveDate,
    student: StudentId,
) -> Result<(), StoreError> {
    sql.execute(
        DELETE,
        params![slot.to_string(), day.to_string(), student.to_string()],
    )?;
    Ok(())
}

pub fn get(
    sql: &dyn Sql,
    slot: Uuid,
    day: NaiveDate,
    student: StudentId,
) -> Result<Option<Override>, StoreError> {
    let p = params![slot.to_string(), day.to_string(), student.to_string()];
    sql.query_opt(SELECT_ONE, p, from_row)
}

pub fn for_session(sql: &dyn Sql, slot: Uuid, day: NaiveDate) -> Result<Vec<Override>, StoreError> {
    let rows = sql.query_map(
        SELECT_SESSION,
        params![slot.to_string(), day.to_string()],
        from_row,
    )?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests;
