//! The register as written: closed sessions, one entry per expected student, the amendments
//! made to them since, and the attendance codes they use. Rows here are only ever inserted
//! (triggers refuse an UPDATE); the current value of an entry is its last amendment's code,
//! else its own. Retention is the only thing that deletes.

use chrono::NaiveDate;
use rollcall_shared::{RecordId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::marks::{Mark, Source};
use super::records::Status;
use super::sql::{ReadResult, Row, Sql, params};
use super::timetable::Slot;

const CODES: &str = "SELECT code, meaning, mark, retired FROM attendance_codes ORDER BY rowid";
const CODE: &str = "SELECT code, meaning, mark, retired FROM attendance_codes WHERE code = ?1";
const INSERT_CODE: &str =
    "INSERT INTO attendance_codes (code, meaning, mark, retired) VALUES (?1, ?2, ?3, ?4)";
const UPDATE_CODE: &str =
    "UPDATE attendance_codes SET meaning = ?2, mark = ?3, retired = ?4 WHERE code = ?1";
const DELETE_CODE: &str = "DELETE FROM attendance_codes WHERE code = ?1";
const CODE_USED: &str = "SELECT (EXISTS (SELECT 1 FROM register_entries WHERE code = ?1)
    OR EXISTS (SELECT 1 FROM register_amendments WHERE code = ?1)) AS used";

const SESSION_COLUMNS: &str = "slot_id, day, class_id, class_name, room, weekday, start_minute,
    end_minute, starts_at, ends_at, closed_at";
const INSERT_SESSION: &str = "INSERT INTO register_sessions (slot_id, day, class_id, class_name,
    room, weekday, start_minute, end_minute, starts_at, ends_at, closed_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const INSERT_ENTRY: &str = "INSERT INTO register_entries (slot_id, day, student_id, student_name,
    code, source, first_seen_at, evidence, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const CITING: &str = "SELECT slot_id, day, student_id FROM register_entries
    WHERE instr(evidence, ?1) > 0
    UNION SELECT slot_id, day, student_id FROM register_amendments WHERE instr(reason, ?1) > 0
    ORDER BY day, slot_id, student_id";
const ENTRIES: &str = "SELECT student_id, student_name, code, source, first_seen_at, evidence,
    reason FROM register_entries WHERE slot_id = ?1 AND day = ?2 ORDER BY student_name, student_id";
const AMENDMENTS: &str = "SELECT student_id, code, reason, by_user, by_name, by_role, at
    FROM register_amendments WHERE slot_id = ?1 AND day = ?2 ORDER BY id";
const INSERT_AMENDMENT: &str = "INSERT INTO register_amendments (slot_id, day, student_id, code,
    reason, by_user, by_name, by_role, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
// Accepted sightings (?3, ?4: the statuses that count; a door facing out sees nobody arrive)
// of a student in the window of a closed
// session whose entry is still the automatic absence it was closed with (no amendment yet),
// for sessions on or after ?1, ?2 the early-arrival margin.
const LATE_EVIDENCE: &str = "SELECT e.slot_id AS slot_id, e.day AS day,
    e.student_id AS student_id, s.starts_at AS starts_at, r.id AS record_id,
    r.captured_at AS captured_at
    FROM register_sessions s
    JOIN register_entries e ON e.slot_id = s.slot_id AND e.day = s.day
    JOIN records r ON r.room = s.room AND r.final_student = e.student_id
        AND r.captured_at >= s.starts_at - ?2 AND r.captured_at < s.ends_at
        AND r.status IN (?3, ?4) AND coalesce(r.direction, 'both') != 'out'
    WHERE s.day >= ?1 AND e.source = 'closed'
    AND NOT EXISTS (SELECT 1 FROM register_amendments a
        WHERE a.slot_id = e.slot_id AND a.day = e.day AND a.student_id = e.student_id)
    ORDER BY r.captured_at, r.id";
const STAMP: &str = "SELECT (SELECT count(*) FROM register_sessions WHERE day >= ?1) AS sessions,
    (SELECT coalesce(max(closed_at), 0) FROM register_sessions WHERE day >= ?1) AS closed,
    (SELECT count(*) FROM register_amendments WHERE day >= ?1) AS amendments,
    (SELECT coalesce(max(id), 0) FROM register_amendments WHERE day >= ?1) AS last_amendment";
const CLOSED_THROUGH: &str = "SELECT closed_through FROM register_progress WHERE slot = 1";
const SET_CLOSED_THROUGH: &str =
    "INSERT INTO register_progress (slot, closed_through) VALUES (1, ?1)
    ON CONFLICT (slot) DO UPDATE SET closed_through = ?1";

/// The codes the hub writes itself: when sessions close (`rollcall_school::register::entry_code`),
/// for a pupil signed out at reception (`I`, `M`, `C`) and for one on a trip (`B`). They cannot
/// be deleted and their marks cannot change.
pub const BUILT_IN: [&str; 10] = ["/", "L", "B", "C", "I", "M", "O", "N", "X", LEFT_EARLY];

/// The code of a student who was there and left before the lesson ended (schema 25).
pub const LEFT_EARLY: &str = "LE";

/// An attendance code: what it means and how it counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Code {
    pub code: String,
    pub meaning: String,
    pub mark: Mark,
    /// Kept for the entries that use it, offered for no new one.
    pub retired: bool,
}

/// A session as it was when it closed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosedSession {
    pub slot: Slot,
    pub day: NaiveDate,
    pub class_name: String,
    pub starts_at: UnixMillis,
    pub ends_at: UnixMillis,
    pub closed_at: UnixMillis,
}

/// A change to a closed entry: the new code, why, who (name and role) and when.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Amendment {
    pub code: String,
    pub reason: String,
    pub by_user: String,
    pub by_name: String,
    pub by_role: String,
    pub at: UnixMillis,
}

/// One student's line in a closed session: the entry as written and its amendments.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub student: StudentId,
    pub student_name: String,
    /// The code written when the session closed.
    pub original_code: String,
    /// `record` (the door saw them), `override` (a teacher's mark) or `closed` (nobody).
    pub source: Source,
    pub first_seen_at: Option<UnixMillis>,
    /// The accepted records that put the student in the room.
    pub evidence: Vec<RecordId>,
    /// The teacher's reason, when the source is a teacher.
    pub reason: Option<String>,
    /// Oldest first.
    pub amendments: Vec<Amendment>,
}

impl Entry {
    /// The code in force: the last amendment's, else the original.
    pub fn code(&self) -> &str {
        self.amendments
            .last()
            .map_or(&self.original_code, |a| &a.code)
    }
}

/// An entry about to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    pub student: StudentId,
    pub student_name: String,
    pub code: &'static str,
    pub source: Source,
    pub first_seen_at: Option<UnixMillis>,
    pub evidence: Vec<RecordId>,
    pub reason: Option<String>,
}

fn code_row(r: &Row) -> ReadResult<Code> {
    let mark: String = r.get("mark")?;
    Ok(Code {
        code: r.get("code")?,
        meaning: r.get("meaning")?,
        mark: Mark::parse(&mark).unwrap_or(Mark::Absent),
        retired: r.get("retired")?,
    })
}

pub fn codes(sql: &dyn Sql) -> Result<Vec<Code>, StoreError> {
    let rows = sql.query_map(CODES, &[], code_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn code(sql: &dyn Sql, code: &str) -> Result<Code, StoreError> {
    sql.query_one(CODE, params![code], "attendance code", code_row)
}

pub fn add_code(sql: &dyn Sql, c: &Code) -> Result<(), StoreError> {
    sql.execute(
        INSERT_CODE,
        params![c.code, c.meaning, c.mark.as_str(), c.retired],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("attendance code {:?}", c.code)))?;
    Ok(())
}

/// Changes a code's meaning, and its mark while no entry uses it (a used code's mark is part
/// of closed registers).
pub fn update_code(sql: &dyn Sql, c: &Code) -> Result<(), StoreError> {
    let before = code(sql, &c.code)?;
    if before.mark != c.mark && BUILT_IN.contains(&c.code.as_str()) {
        return Err(StoreError::Conflict(format!(
            "attendance code {:?} is written by the hub (a session closing, a sign-out, a trip): its mark stays {}",
            c.code,
            before.mark.as_str()
        )));
    }
    if before.mark != c.mark && code_used(sql, &c.code)? {
        return Err(StoreError::Conflict(format!(
            "attendance code {:?} is used in the register: its mark stays {}",
            c.code,
            before.mark.as_str()
        )));
    }
    if c.retired && BUILT_IN.contains(&c.code.as_str()) {
        return Err(StoreError::Conflict(format!(
            "attendance code {:?} is written by the hub (a session closing, a sign-out, a trip): it cannot retire",
            c.code
        )));
    }
    let p = params![c.code, c.meaning, c.mark.as_str(), c.retired];
    sql.execute(UPDATE_CODE, p)?;
    Ok(())
}

/// Deletes a code nobody has used.
pub fn delete_code(sql: &dyn Sql, code_name: &str) -> Result<(), StoreError> {
    code(sql, code_name)?;
    if BUILT_IN.contains(&code_name) {
        return Err(StoreError::Conflict(format!(
            "attendance code {code_name:?} is written by the hub (a session closing, a sign-out, a trip) and stays"
        )));
    }
    if code_used(sql, code_name)? {
        return Err(StoreError::Conflict(format!(
            "attendance code {code_name:?} is used in the register and stays"
        )));
    }
    sql.execute(DELETE_CODE, params![code_name])?;
    Ok(())
}

fn code_used(sql: &dyn Sql, code: &str) -> Result<bool, StoreError> {
    sql.query_one(CODE_USED, params![code], "code use", |r| r.get("used"))
}

fn session_row(r: &Row) -> ReadResult<ClosedSession> {
    let day = id_col(r, "day")?;
    Ok(ClosedSession {
        slot: Slot {
            id: id_col(r, "slot_id")?,
            class_id: id_col(r, "class_id")?,
            room: r.get("room")?,
            weekday: r.get("weekday")?,
            start_minute: r.get("start_minute")?,
            end_minute: r.get("end_minute")?,
            valid_from: Some(day),
            valid_until: Some(day),
        },
        day,
        class_name: r.get("class_name")?,
        starts_at: r.get("starts_at")?,
        ends_at: r.get("ends_at")?,
        closed_at: r.get("closed_at")?,
    })
}

/// The day of the earliest closed session of `slot`, if any.
pub fn first_closed_day(sql: &dyn Sql, slot: Uuid) -> Result<Option<NaiveDate>, StoreError> {
    let query = "SELECT min(day) AS first_day FROM register_sessions WHERE slot_id = ?1";
    let day: Option<String> =
        sql.query_one(query, params![slot.to_string()], "first day", |r| {
            r.get("first_day")
        })?;
    day.map(|d| {
        d.parse()
            .map_err(|_| StoreError::Corrupt(format!("register session day {d:?}")))
    })
    .transpose()
}

/// The closed session of `slot` on `day`, if it has closed.
pub fn session(
    sql: &dyn Sql,
    slot: Uuid,
    day: NaiveDate,
) -> Result<Option<ClosedSession>, StoreError> {
    let query =
        format!("SELECT {SESSION_COLUMNS} FROM register_sessions WHERE slot_id = ?1 AND day = ?2");
    sql.query_opt(
        &query,
        params![slot.to_string(), day.to_string()],
        session_row,
    )
}

/// The sessions closed on the days `from..=to`, by day and start.
pub fn sessions_between(
    sql: &dyn Sql,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ClosedSession>, StoreError> {
    let query = format!(
        "SELECT {SESSION_COLUMNS} FROM register_sessions WHERE day BETWEEN ?1 AND ?2
         ORDER BY day, start_minute, room"
    );
    let rows = sql.query_map(
        &query,
        params![from.to_string(), to.to_string()],
        session_row,
    )?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Writes a closed session and its entries (in the caller's transaction).
pub fn write(sql: &dyn Sql, s: &ClosedSession, entries: &[NewEntry]) -> Result<(), StoreError> {
    let (slot, day) = (s.slot.id.to_string(), s.day.to_string());
    sql.execute(
        INSERT_SESSION,
        params![
            slot,
            day,
            s.slot.class_id.to_string(),
            s.class_name,
            s.slot.room,
            s.slot.weekday,
            s.slot.start_minute,
            s.slot.end_minute,
            s.starts_at,
            s.ends_at,
            s.closed_at
        ],
    )?;
    for e in entries {
        let evidence: Vec<String> = e.evidence.iter().map(ToString::to_string).collect();
        sql.execute(
            INSERT_ENTRY,
            params![
                slot,
                day,
                e.student.to_string(),
                e.student_name,
                e.code,
                e.source.as_str(),
                e.first_seen_at,
                serde_json::to_string(&evidence).unwrap_or_else(|_| "[]".into()),
                e.reason
            ],
        )?;
    }
    Ok(())
}

fn entry_row(r: &Row) -> ReadResult<Entry> {
    let source: String = r.get("source")?;
    let evidence: String = r.get("evidence")?;
    Ok(Entry {
        student: id_col(r, "student_id")?,
        student_name: r.get("student_name")?,
        original_code: r.get("code")?,
        source: Source::parse(&source).unwrap_or(Source::Closed),
        first_seen_at: r.get("first_seen_at")?,
        evidence: serde_json::from_str::<Vec<String>>(&evidence)
            .unwrap_or_default()
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect(),
        reason: r.get("reason")?,
        amendments: Vec::new(),
    })
}

fn amendment_row(r: &Row) -> ReadResult<(StudentId, Amendment)> {
    Ok((
        id_col(r, "student_id")?,
        Amendment {
            code: r.get("code")?,
            reason: r.get("reason")?,
            by_user: r.get("by_user")?,
            by_name: r.get("by_name")?,
            by_role: r.get("by_role")?,
            at: r.get("at")?,
        },
    ))
}

/// The entries of a closed session with their amendments, by student name.
pub fn entries(sql: &dyn Sql, slot: Uuid, day: NaiveDate) -> Result<Vec<Entry>, StoreError> {
    let key = params![slot.to_string(), day.to_string()];
    let mut entries: Vec<Entry> = sql
        .query_map(ENTRIES, key, entry_row)?
        .into_iter()
        .collect::<Result<_, _>>()?;
    for a in sql.query_map(AMENDMENTS, key, amendment_row)? {
        let (student, amendment) = a?;
        if let Some(e) = entries.iter_mut().find(|e| e.student == student) {
            e.amendments.push(amendment);
        }
    }
    Ok(entries)
}

/// The closed entries that name `record`: as evidence written at the close, or in the reason
/// of an amendment it made (a late record's), as (slot, day, student).
pub fn citing(
    sql: &dyn Sql,
    record: RecordId,
) -> Result<Vec<(Uuid, NaiveDate, StudentId)>, StoreError> {
    let rows = sql.query_map(CITING, params![record.to_string()], |r| {
        let day: String = r.get("day")?;
        Ok((id_col(r, "slot_id")?, day, id_col(r, "student_id")?))
    })?;
    let mut found = Vec::new();
    for (slot, day, student) in readable(rows, "register entry")? {
        match day.parse() {
            Ok(day) => found.push((slot, day, student)),
            Err(_) => tracing::warn!("left out a register entry with the day {day:?}"),
        }
    }
    Ok(found)
}

/// Appends an amendment to the entry of `student` in a closed session.
pub fn amend(
    sql: &dyn Sql,
    (slot, day, student): (Uuid, NaiveDate, StudentId),
    a: &Amendment,
) -> Result<(), StoreError> {
    sql.execute(
        INSERT_AMENDMENT,
        params![
            slot.to_string(),
            day.to_string(),
            student.to_string(),
            a.code,
            a.reason,
            a.by_user,
            a.by_name,
            a.by_role,
            a.at
        ],
    )?;
    Ok(())
}

/// An accepted record that reached the register after its session closed with the student
/// absent and unamended: a door unit that was offline, or a review done late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateEvidence {
    pub slot: Uuid,
    pub day: NaiveDate,
    pub student: StudentId,
    pub starts_at: UnixMillis,
    pub record: RecordId,
    pub captured_at: UnixMillis,
}

/// The late evidence of sessions on or after `since` (`early_ms` the early-arrival margin of a
/// session window, `accepted` the record statuses that count), the earliest record first.
pub fn late_evidence(
    sql: &dyn Sql,
    since: NaiveDate,
    early_ms: i64,
    accepted: [Status; 2],
) -> Result<Vec<LateEvidence>, StoreError> {
    let [a, b] = accepted.map(Status::as_str);
    let rows = sql.query_map(
        LATE_EVIDENCE,
        params![since.to_string(), early_ms, a, b],
        |r| {
            Ok(LateEvidence {
                slot: id_col(r, "slot_id")?,
                day: id_col(r, "day")?,
                student: id_col(r, "student_id")?,
                starts_at: r.get("starts_at")?,
                record: id_col(r, "record_id")?,
                captured_at: r.get("captured_at")?,
            })
        },
    )?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Deletes the register of every session before `before`, amendments first. Returns how
/// many sessions.
pub fn purge(sql: &dyn Sql, before: NaiveDate) -> Result<usize, StoreError> {
    let day = before.to_string();
    sql.execute(
        "DELETE FROM register_amendments WHERE day < ?1",
        params![day],
    )?;
    sql.execute("DELETE FROM register_entries WHERE day < ?1", params![day])?;
    sql.execute("DELETE FROM register_sessions WHERE day < ?1", params![day])
}

/// What the register written since a day holds, in four numbers: equal stamps, the same
/// sessions and amendments (nothing is ever updated in place, only added or purged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    sessions: i64,
    closed: i64,
    amendments: i64,
    last_amendment: i64,
}

/// The [`Stamp`] of the register from `since` on.
pub fn stamp(sql: &dyn Sql, since: NaiveDate) -> Result<Stamp, StoreError> {
    let found = sql.query_opt(STAMP, params![since.to_string()], |r| {
        Ok(Stamp {
            sessions: r.get("sessions")?,
            closed: r.get("closed")?,
            amendments: r.get("amendments")?,
            last_amendment: r.get("last_amendment")?,
        })
    })?;
    found.ok_or_else(|| StoreError::Corrupt("the register's stamp read no row".into()))
}

/// The last day every session of which is closed; `None` before the first pass.
pub fn closed_through(sql: &dyn Sql) -> Result<Option<NaiveDate>, StoreError> {
    let day: Option<String> = sql.query_opt(CLOSED_THROUGH, &[], |r| r.get("closed_through"))?;
    day.map(|d| {
        d.parse()
            .map_err(|e| StoreError::Corrupt(format!("register progress {d:?}: {e}")))
    })
    .transpose()
}

pub fn set_closed_through(sql: &dyn Sql, day: NaiveDate) -> Result<(), StoreError> {
    sql.execute(SET_CLOSED_THROUGH, params![day.to_string()])?;
    Ok(())
}

#[cfg(test)]
mod tests;
