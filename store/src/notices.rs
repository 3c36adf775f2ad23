//! The first-day notice (migration 38): each absence a family is told of (`absence_notices`,
//! one per student and day: the family's reply, the office's decision, when the child
//! arrived after all) and each message sent for it (`notice_messages`, one per kind, contact
//! and channel, so nothing is sent twice). The rules are `rollcall_school::notices`'.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const OPEN: &str = "INSERT INTO absence_notices (student_id, day, language, created_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (student_id, day) DO NOTHING";
const NOTICE: &str = "SELECT n.student_id, s.name, n.day, n.language, n.created_at, n.reason,
    n.note, n.replied_at, n.decision, n.decided_by, n.decided_at, n.decision_note, n.arrived_at
    FROM absence_notices n JOIN students s ON s.id = n.student_id";
const ADD: &str = "INSERT INTO notice_messages (id, student_id, day, kind, contact, guardian,
    channel, address, subject, body, status, tries, next_try_at, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', 0, ?11, ?11)
    ON CONFLICT (student_id, day, kind, contact, channel) DO NOTHING";
const MESSAGE: &str = "SELECT id, student_id, day, kind, contact, guardian, channel, address,
    subject, body, status, tries, next_try_at, last_error, sent_at, created_at
    FROM notice_messages";
const SENT: &str = "UPDATE notice_messages SET status = 'sent', tries = tries + 1, sent_at = ?2,
    last_error = NULL WHERE id = ?1 AND status = 'pending'";
const RETRY: &str = "UPDATE notice_messages SET tries = tries + 1, next_try_at = ?2,
    last_error = ?3 WHERE id = ?1 AND status = 'pending'";
const FAILED: &str = "UPDATE notice_messages SET status = 'failed', tries = tries + 1,
    last_error = ?2 WHERE id = ?1 AND status = 'pending'";
const REPLY: &str = "UPDATE absence_notices SET reason = ?3, note = ?4, replied_at = ?5
    WHERE student_id = ?1 AND day = ?2 AND replied_at IS NULL";
const DECIDE: &str = "UPDATE absence_notices SET decision = ?3, decided_by = ?4,
    decided_at = ?5, decision_note = ?6
    WHERE student_id = ?1 AND day = ?2 AND replied_at IS NOT NULL AND decision IS NULL";
const CANCEL: &str = "UPDATE notice_messages SET status = 'failed', last_error = ?4
    WHERE student_id = ?1 AND day = ?2 AND kind = ?3 AND status = 'pending'";
const PURGE: &str = "DELETE FROM absence_notices WHERE day < ?1";
const ARRIVED: &str = "UPDATE absence_notices SET arrived_at = ?3
    WHERE student_id = ?1 AND day = ?2 AND arrived_at IS NULL";

/// One absence a family is told of.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    pub student: StudentId,
    pub name: String,
    pub day: NaiveDate,
    /// The language its messages are written in.
    pub language: String,
    pub created_at: UnixMillis,
    pub reply: Option<Reply>,
    pub decision: Option<Decision>,
    /// When the child was marked after all.
    pub arrived_at: Option<UnixMillis>,
}

/// What the family said.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reply {
    /// `ill`, `medical`, `religious` or `other`.
    pub reason: String,
    pub note: Option<String>,
    pub replied_at: UnixMillis,
}

/// What the office made of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// `accepted` or `rejected`.
    pub state: String,
    pub by: String,
    pub at: UnixMillis,
    pub note: Option<String>,
}

/// One message of a notice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub id: Uuid,
    pub student: StudentId,
    pub day: NaiveDate,
    /// `absence` or `arrived`.
    pub kind: String,
    /// Which contact, by priority among those told of absences (1: the first).
    pub contact: u8,
    /// Their name when it was written.
    pub guardian: String,
    /// `email` or `sms`.
    pub channel: String,
    pub address: String,
    pub subject: Option<String>,
    /// The text, its reply link left as `{reply_link}` (the link is made when it is sent).
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub tries: u32,
    pub next_try_at: UnixMillis,
    pub last_error: Option<String>,
    pub sent_at: Option<UnixMillis>,
    pub created_at: UnixMillis,
}

/// A message to add.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub student: StudentId,
    pub day: NaiveDate,
    pub kind: &'a str,
    pub contact: u8,
    pub guardian: &'a str,
    pub channel: &'a str,
    pub address: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub at: UnixMillis,
}

fn day_col(r: &Row, col: &str) -> ReadResult<NaiveDate> {
    let text: String = r.get(col)?;
    text.parse()
        .map_err(|_| r.malformed(col, format!("bad day {text:?}")))
}

fn notice(r: &Row) -> ReadResult<Notice> {
    let replied_at: Option<UnixMillis> = r.get("replied_at")?;
    let reply = match (replied_at, r.get::<Option<String>>("reason")?) {
        (Some(replied_at), Some(reason)) => Some(Reply {
            reason,
            note: r.get("note")?,
            replied_at,
        }),
        _ => None,
    };
    let decision = match (
        r.get::<Option<String>>("decision")?,
        r.get::<Option<String>>("decided_by")?,
        r.get::<Option<UnixMillis>>("decided_at")?,
    ) {
        (Some(state), Some(by), Some(at)) => Some(Decision {
            state,
            by,
            at,
            note: r.get("decision_note")?,
        }),
        _ => None,
    };
    Ok(Notice {
        student: id_col(r, "student_id")?,
        name: r.get("name")?,
        day: day_col(r, "day")?,
        language: r.get("language")?,
        created_at: r.get("created_at")?,
        reply,
        decision,
        arrived_at: r.get("arrived_at")?,
    })
}

fn message(r: &Row) -> ReadResult<Message> {
    Ok(Message {
        id: id_col(r, "id")?,
        student: id_col(r, "student_id")?,
        day: day_col(r, "day")?,
        kind: r.get("kind")?,
        contact: r.get::<i64>("contact")?.clamp(1, 9) as u8,
        guardian: r.get("guardian")?,
        channel: r.get("channel")?,
        address: r.get("address")?,
        subject: r.get("subject")?,
        body: r.get("body")?,
        status: r.get("status")?,
        tries: r.get::<i64>("tries")?.max(0) as u32,
        next_try_at: r.get("next_try_at")?,
        last_error: r.get("last_error")?,
        sent_at: r.get("sent_at")?,
        created_at: r.get("created_at")?,
    })
}

/// Opens the notice of `student`'s absence on `day`; whether it is new (a family is told of
/// one absence once).
pub fn open(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    language: &str,
    at: UnixMillis,
) -> Result<bool, StoreError> {
    let row = params![student.to_string(), day.to_string(), language, at];
    Ok(sql.execute(OPEN, row)? == 1)
}

/// The notice of `student` on `day`, if the family was told.
pub fn get(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Option<Notice>, StoreError> {
    let query = format!("{NOTICE} WHERE n.student_id = ?1 AND n.day = ?2");
    sql.query_opt(
        &query,
        params![student.to_string(), day.to_string()],
        notice,
    )
}

/// Every notice of `day`, by name.
pub fn of_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Notice>, StoreError> {
    let query = format!("{NOTICE} WHERE n.day = ?1 ORDER BY s.name, n.student_id");
    readable(
        sql.query_map(&query, params![day.to_string()], notice)?,
        "notice",
    )
}

/// The notices of `student` from `day` on, soonest first (what their family sees ahead).
pub fn of_student_from(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Vec<Notice>, StoreError> {
    let query = format!("{NOTICE} WHERE n.student_id = ?1 AND n.day >= ?2 ORDER BY n.day");
    readable(
        sql.query_map(
            &query,
            params![student.to_string(), day.to_string()],
            notice,
        )?,
        "notice",
    )
}

/// Adds a message, pending from `at`; whether it is new.
pub fn add(sql: &dyn Sql, m: &NewMessage<'_>) -> Result<bool, StoreError> {
    let row = params![
        Uuid::now_v7().to_string(),
        m.student.to_string(),
        m.day.to_string(),
        m.kind,
        i64::from(m.contact),
        m.guardian,
        m.channel,
        m.address,
        m.subject,
        m.body,
        m.at
    ];
    Ok(sql.execute(ADD, row)? == 1)
}

/// The messages of `student`'s notice on `day`, oldest first.
pub fn messages(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Vec<Message>, StoreError> {
    let query = format!("{MESSAGE} WHERE student_id = ?1 AND day = ?2 ORDER BY created_at, id");
    let rows = sql.query_map(
        &query,
        params![student.to_string(), day.to_string()],
        message,
    )?;
    readable(rows, "notice message")
}

/// Every message of `day`, oldest first.
pub fn messages_of_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Message>, StoreError> {
    let query = format!("{MESSAGE} WHERE day = ?1 ORDER BY created_at, id");
    readable(
        sql.query_map(&query, params![day.to_string()], message)?,
        "notice message",
    )
}

/// Pending messages due by `now`, oldest first, at most `limit`.
pub fn due(sql: &dyn Sql, now: UnixMillis, limit: usize) -> Result<Vec<Message>, StoreError> {
    let query = format!(
        "{MESSAGE} WHERE status = 'pending' AND next_try_at <= ?1 ORDER BY next_try_at, id \
         LIMIT {limit}"
    );
    readable(
        sql.query_map(&query, params![now], message)?,
        "notice message",
    )
}

/// Message `id` went out at `at`.
pub fn sent(sql: &dyn Sql, id: Uuid, at: UnixMillis) -> Result<(), StoreError> {
    sql.execute(SENT, params![id.to_string(), at])?;
    Ok(())
}

/// Message `id` failed this time with `error`; tried again from `next`.
pub fn retry(sql: &dyn Sql, id: Uuid, next: UnixMillis, error: &str) -> Result<(), StoreError> {
    sql.execute(RETRY, params![id.to_string(), next, error])?;
    Ok(())
}

/// Message `id` failed for the last time with `error`.
pub fn failed(sql: &dyn Sql, id: Uuid, error: &str) -> Result<(), StoreError> {
    sql.execute(FAILED, params![id.to_string(), error])?;
    Ok(())
}

/// Gives up the pending messages of `kind` of `student`'s notice on `day`, saying `why`;
/// returns how many.
pub fn cancel_pending(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    kind: &str,
    why: &str,
) -> Result<usize, StoreError> {
    let row = params![student.to_string(), day.to_string(), kind, why];
    sql.execute(CANCEL, row)
}

/// Records the family's reply; false when they replied before.
pub fn reply(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    reply: &Reply,
) -> Result<bool, StoreError> {
    let row = params![
        student.to_string(),
        day.to_string(),
        reply.reason,
        reply.note,
        reply.replied_at
    ];
    Ok(sql.execute(REPLY, row)? == 1)
}

/// Records the office's decision on a reply; false when there is no reply or it was decided.
pub fn decide(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    decision: &Decision,
) -> Result<bool, StoreError> {
    let row = params![
        student.to_string(),
        day.to_string(),
        decision.state,
        decision.by,
        decision.at,
        decision.note
    ];
    Ok(sql.execute(DECIDE, row)? == 1)
}

/// Records when the child arrived after the notice; false when it was recorded before.
pub fn arrived(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    at: UnixMillis,
) -> Result<bool, StoreError> {
    Ok(sql.execute(ARRIVED, params![student.to_string(), day.to_string(), at])? == 1)
}

/// Deletes the notices of days before `before`, with their messages. Returns how many.
pub fn purge(sql: &dyn Sql, before: NaiveDate) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before.to_string()])
}

#[cfg(test)]
mod tests;
