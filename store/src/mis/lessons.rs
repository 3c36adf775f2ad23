//! The lesson registers' outbox (migration 43, `mis_lesson_outbox`): one row per pupil and
//! lesson (a closed register's slot and day), the mark the MIS should hold for it in
//! Rollcall's code, with the versioned life a statutory day's row has ([`super`]): a new
//! version each time the mark changes or the office asks, recorded against the version
//! written, so the newest wins.
//!
//! A row is read with what the connector needs to find the lesson at the MIS: the class's
//! reference (its MIS id, from the roster import) and the lesson's times, as the register
//! kept them when it closed.

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::{Counts, Status};
use crate::columns::{id_col, readable};
use crate::error::StoreError;
use crate::sql::{ReadResult, Row, Sql, params};

const COLUMNS: &str =
    "o.slot_id, o.day, o.student_id, s.name, s.external_ref, r.class_id, r.class_name,
    c.external_ref AS class_ref, r.start_minute, r.end_minute, o.code, o.version, o.status,
    o.tries, o.next_try_at, o.last_error, o.written_version, o.written_at, o.mis_ref,
    o.changed_at";
const FROM: &str = "FROM mis_lesson_outbox o
    JOIN students s ON s.id = o.student_id
    JOIN register_sessions r ON r.slot_id = o.slot_id AND r.day = o.day
    LEFT JOIN classes c ON c.id = r.class_id";
const HELD: &str = "SELECT slot_id, day, student_id, code FROM mis_lesson_outbox WHERE day >= ?1";
// Each closed entry's code in force: its last amendment's, else the code it was closed with.
const MARKS: &str = "SELECT e.slot_id, e.day, e.student_id,
    coalesce((SELECT a.code FROM register_amendments a
        WHERE a.slot_id = e.slot_id AND a.day = e.day AND a.student_id = e.student_id
        ORDER BY a.id DESC LIMIT 1), e.code) AS code
    FROM register_entries e WHERE e.day >= ?1 AND e.day <= ?2";
const INSERT: &str = "INSERT INTO mis_lesson_outbox (slot_id, day, student_id, code, version,
    status, next_try_at, changed_at) VALUES (?1, ?2, ?3, ?4, 1, 'pending', ?5, ?5)
    ON CONFLICT (slot_id, day, student_id) DO UPDATE SET code = ?4, version =
    mis_lesson_outbox.version + 1, status = 'pending', tries = 0, next_try_at = ?5,
    last_error = NULL, changed_at = ?5";
const WRITTEN: &str = "UPDATE mis_lesson_outbox SET status = 'written', tries = tries + 1,
    last_error = NULL, written_version = ?4, written_at = ?5, mis_ref = ?6
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3 AND version = ?4
    AND status = 'pending'";
const RETRY: &str = "UPDATE mis_lesson_outbox SET tries = tries + 1, next_try_at = ?5,
    last_error = ?6 WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3 AND version = ?4
    AND status = 'pending'";
const REFUSED: &str = "UPDATE mis_lesson_outbox SET status = 'refused', tries = tries + 1,
    last_error = ?5 WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3 AND version = ?4
    AND status = 'pending'";
const AGAIN: &str = "UPDATE mis_lesson_outbox SET version = version + 1, status = 'pending',
    tries = 0, next_try_at = ?4, last_error = NULL
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3";
const AGAIN_WITH: &str = "UPDATE mis_lesson_outbox SET version = version + 1,
    status = 'pending', tries = 0, next_try_at = ?2, last_error = NULL
    WHERE status = 'refused' AND code = ?1";
const AGAIN_OF_CLASS: &str = "UPDATE mis_lesson_outbox SET version = version + 1,
    status = 'pending', tries = 0, next_try_at = ?2, last_error = NULL
    WHERE status = 'refused' AND EXISTS (SELECT 1 FROM register_sessions r
        WHERE r.slot_id = mis_lesson_outbox.slot_id AND r.day = mis_lesson_outbox.day
        AND r.class_id = ?1)";
const AGAIN_OF: &str = "UPDATE mis_lesson_outbox SET version = version + 1,
    status = 'pending', tries = 0, next_try_at = ?2, last_error = NULL
    WHERE status = 'refused' AND student_id = ?1";
const COUNTS: &str = "SELECT status, count(*) AS n, max(written_at) AS last
    FROM mis_lesson_outbox GROUP BY status";

/// A pupil's mark in one lesson, as the MIS should hold it, and its write's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxLesson {
    /// The lesson: its timetable slot and day.
    pub slot: Uuid,
    pub day: NaiveDate,
    pub student: StudentId,
    pub name: String,
    /// The pupil's reference in the MIS; `None`: not matched.
    pub external_ref: Option<String>,
    /// The class the lesson was of, and its name then.
    pub class: Uuid,
    pub class_name: String,
    /// The class's reference in the MIS; `None`: not matched (or the class is gone).
    pub class_ref: Option<String>,
    /// When the lesson began and ended, in minutes after the school's midnight.
    pub start_minute: u32,
    pub end_minute: u32,
    /// Rollcall's code in force for the pupil in the lesson.
    pub code: String,
    pub version: i64,
    pub status: Status,
    pub tries: i64,
    pub next_try_at: UnixMillis,
    pub last_error: Option<String>,
    pub written_version: Option<i64>,
    pub written_at: Option<UnixMillis>,
    pub mis_ref: Option<String>,
    pub changed_at: UnixMillis,
}

fn row(r: &Row) -> ReadResult<OutboxLesson> {
    let status: String = r.get("status")?;
    let minute = |name: &str| -> ReadResult<u32> {
        let m: i64 = r.get(name)?;
        Ok(u32::try_from(m).unwrap_or(0))
    };
    Ok(OutboxLesson {
        slot: id_col(r, "slot_id")?,
        day: id_col(r, "day")?,
        student: id_col(r, "student_id")?,
        name: r.get("name")?,
        external_ref: r.get("external_ref")?,
        class: id_col(r, "class_id")?,
        class_name: r.get("class_name")?,
        class_ref: r.get("class_ref")?,
        start_minute: minute("start_minute")?,
        end_minute: minute("end_minute")?,
        code: r.get("code")?,
        version: r.get("version")?,
        status: Status::parse(&status).unwrap_or(Status::Pending),
        tries: r.get("tries")?,
        next_try_at: r.get("next_try_at")?,
        last_error: r.get("last_error")?,
        written_version: r.get("written_version")?,
        written_at: r.get("written_at")?,
        mis_ref: r.get("mis_ref")?,
        changed_at: r.get("changed_at")?,
    })
}

/// One pupil's place in one lesson.
pub type LessonKey = (Uuid, NaiveDate, StudentId);

fn marks_row(r: &Row) -> ReadResult<(LessonKey, String)> {
    let key = (
        id_col(r, "slot_id")?,
        id_col(r, "day")?,
        id_col(r, "student_id")?,
    );
    Ok((key, r.get("code")?))
}

/// Every closed register entry's code in force on the days `from..=to` (its last
/// amendment's, else the code it was closed with).
pub fn marks(
    sql: &dyn Sql,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<HashMap<LessonKey, String>, StoreError> {
    let rows = sql.query_map(MARKS, params![from.to_string(), to.to_string()], marks_row)?;
    Ok(readable(rows, "register entry")?.into_iter().collect())
}

/// The marks of `marks` the outbox (from `since` on) does not hold as they are, in the
/// register's order.
pub fn changed(
    sql: &dyn Sql,
    since: NaiveDate,
    marks: HashMap<LessonKey, String>,
) -> Result<Vec<(LessonKey, String)>, StoreError> {
    let held: HashMap<LessonKey, String> = readable(
        sql.query_map(HELD, params![since.to_string()], marks_row)?,
        "MIS lesson outbox row",
    )?
    .into_iter()
    .collect();
    let mut changed: Vec<_> = (marks.into_iter())
        .filter(|(key, code)| held.get(key) != Some(code))
        .collect();
    changed.sort_unstable();
    Ok(changed)
}

/// Puts each of `changed` into the outbox: a new row, or a new version of the row.
pub fn put(
    sql: &dyn Sql,
    changed: &[(LessonKey, String)],
    now: UnixMillis,
) -> Result<(), StoreError> {
    for ((slot, day, student), code) in changed {
        let key = (slot.to_string(), day.to_string(), student.to_string());
        sql.execute(INSERT, params![key.0, key.1, key.2, code.as_str(), now])?;
    }
    Ok(())
}

/// The pending lesson marks due by `now`, the oldest change first, at most `limit`.
pub fn due(sql: &dyn Sql, now: UnixMillis, limit: usize) -> Result<Vec<OutboxLesson>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = 'pending' AND o.next_try_at <= ?1
         ORDER BY o.changed_at, o.day, r.start_minute, o.slot_id, s.name, o.student_id
         LIMIT ?2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    readable(
        sql.query_map(&query, params![now, limit], row)?,
        "MIS lesson outbox row",
    )
}

/// The lesson marks in `status` (the most recently changed first), at most `limit`.
pub fn in_status(
    sql: &dyn Sql,
    status: Status,
    limit: usize,
) -> Result<Vec<OutboxLesson>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = ?1
         ORDER BY o.changed_at DESC, o.day DESC, r.start_minute, s.name LIMIT ?2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = sql.query_map(&query, params![status.as_str(), limit], row)?;
    readable(rows, "MIS lesson outbox row")
}

/// The lesson marks still pending that a try has failed, the oldest first.
pub fn failing(sql: &dyn Sql, limit: usize) -> Result<Vec<OutboxLesson>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = 'pending' AND o.last_error IS NOT NULL
         ORDER BY o.changed_at, o.day, r.start_minute, s.name LIMIT ?1"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    readable(
        sql.query_map(&query, params![limit], row)?,
        "MIS lesson outbox row",
    )
}

/// The row of `student` in the lesson of `slot` on `day`.
pub fn lesson(
    sql: &dyn Sql,
    (slot, day, student): LessonKey,
) -> Result<Option<OutboxLesson>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.slot_id = ?1 AND o.day = ?2 AND o.student_id = ?3"
    );
    let key = params![slot.to_string(), day.to_string(), student.to_string()];
    sql.query_opt(&query, key, row)
}

/// The MIS took `l`'s version. False when the mark changed meanwhile.
pub fn written(
    sql: &dyn Sql,
    l: &OutboxLesson,
    mis_ref: Option<&str>,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let (slot, day, student) = key_of(l);
    let args = params![slot, day, student, l.version, now, mis_ref];
    Ok(sql.execute(WRITTEN, args)? > 0)
}

/// `l`'s version failed with `error`; tried again at `next`.
pub fn retry(
    sql: &dyn Sql,
    l: &OutboxLesson,
    next: UnixMillis,
    error: &str,
) -> Result<bool, StoreError> {
    let (slot, day, student) = key_of(l);
    let args = params![slot, day, student, l.version, next, error];
    Ok(sql.execute(RETRY, args)? > 0)
}

/// The MIS refused `l`'s version for good, saying `error`.
pub fn refused(sql: &dyn Sql, l: &OutboxLesson, error: &str) -> Result<bool, StoreError> {
    let (slot, day, student) = key_of(l);
    let args = params![slot, day, student, l.version, error];
    Ok(sql.execute(REFUSED, args)? > 0)
}

/// Writes the pupil's mark in the lesson again from now, as a new version. False when there
/// is no such row.
pub fn again(
    sql: &dyn Sql,
    (slot, day, student): LessonKey,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let args = params![slot.to_string(), day.to_string(), student.to_string(), now];
    Ok(sql.execute(AGAIN, args)? > 0)
}

/// Writes again every refused lesson mark with Rollcall's `code` (its mapping has just been
/// set). Returns how many.
pub fn again_refused_with(sql: &dyn Sql, code: &str, now: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(AGAIN_WITH, params![code, now])
}

/// Writes again every refused lesson mark of `student` (their MIS reference has just been
/// set). Returns how many.
pub fn again_refused_of(
    sql: &dyn Sql,
    student: StudentId,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    sql.execute(AGAIN_OF, params![student.to_string(), now])
}

/// Writes again every refused lesson mark of `class` (its reference has just been set).
/// Returns how many.
pub fn again_refused_of_class(
    sql: &dyn Sql,
    class: Uuid,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    sql.execute(AGAIN_OF_CLASS, params![class.to_string(), now])
}

/// How many lesson marks are in each state, and when the MIS last took one.
pub fn counts(sql: &dyn Sql) -> Result<Counts, StoreError> {
    super::counts_of(sql, COUNTS)
}

fn key_of(l: &OutboxLesson) -> (String, String, String) {
    (l.slot.to_string(), l.day.to_string(), l.student.to_string())
}

#[cfg(test)]
mod tests;
