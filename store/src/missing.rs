//! What the hub remembers of lessons watched while they run (issue 70): each pupil found
//! missing from a lesson, alerted once and then ended (found, given a reason, gone off site,
//! the lesson over or taken off the timetable), and each register whose teacher was reminded
//! that it is not taken. A row is written once per pupil and lesson (per lesson for a
//! reminder), so a pass run again, by another hub or after the clock went back, alerts nobody
//! twice. Only SQL; the rules are `rollcall_school::missing`.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const COLUMNS: &str = "slot_id, day, student_id, class_name, room, starts_at, in_school,
    alerted_at, ended, ended_at";
const INSERT: &str = "INSERT INTO missing_alerts (slot_id, day, student_id, class_name, room,
    starts_at, in_school, alerted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT (slot_id, day, student_id) DO NOTHING";
const END: &str = "UPDATE missing_alerts SET ended = ?4, ended_at = ?5
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3 AND ended IS NULL";
const ON_DAY: &str = "WHERE day = ?1 ORDER BY alerted_at, student_id";
const OPEN_ON_DAY: &str = "WHERE day = ?1 AND ended IS NULL ORDER BY alerted_at, student_id";
/// An open alert not mailed yet; a pupil found whose alert was mailed, and the finding not.
const UNMAILED_MISSING: &str = "WHERE day = ?1 AND ended IS NULL AND mailed_at IS NULL
    ORDER BY alerted_at";
const UNMAILED_FOUND: &str = "WHERE day = ?1 AND ended = 'found' AND mailed_at IS NOT NULL
    AND found_mailed_at IS NULL ORDER BY ended_at";
const SET_MAILED: &str = "UPDATE missing_alerts SET mailed_at = ?4
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3";
const SET_FOUND_MAILED: &str = "UPDATE missing_alerts SET found_mailed_at = ?4
    WHERE slot_id = ?1 AND day = ?2 AND student_id = ?3";

const REMIND: &str = "INSERT INTO register_reminders (slot_id, day, teacher_id, reminded_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (slot_id, day) DO NOTHING";
const REMINDERS: &str = "SELECT slot_id, day, teacher_id, reminded_at, mailed_at
    FROM register_reminders WHERE day = ?1 ORDER BY reminded_at, slot_id";
const SET_REMINDER_MAILED: &str =
    "UPDATE register_reminders SET mailed_at = ?3 WHERE slot_id = ?1 AND day = ?2";
const PURGE_ALERTS: &str = "DELETE FROM missing_alerts WHERE day < ?1";
const PURGE_REMINDERS: &str = "DELETE FROM register_reminders WHERE day < ?1";

/// How a pupil's absence from a lesson stopped being one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Marked there (by a door or a teacher), in the lesson or one at the same time.
    Found,
    /// Given a reason: an excused mark, a family's reason the office accepted.
    Reason,
    /// A door saw them leave the site.
    Left,
    /// The lesson ended with them still unmarked: its register says the rest.
    LessonOver,
    /// The lesson was taken off the timetable, or the day made a holiday.
    LessonGone,
}

impl Ending {
    pub const ALL: [Ending; 5] = [
        Ending::Found,
        Ending::Reason,
        Ending::Left,
        Ending::LessonOver,
        Ending::LessonGone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Found => "found",
            Ending::Reason => "reason",
            Ending::Left => "left",
            Ending::LessonOver => "lesson_over",
            Ending::LessonGone => "lesson_gone",
        }
    }

    pub fn parse(s: &str) -> Option<Ending> {
        Ending::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A pupil missing from a lesson, as alerted: the lesson, as it was then (it may be gone
/// since), and what said they were in school.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub slot_id: Uuid,
    pub day: NaiveDate,
    pub student: StudentId,
    pub class_name: String,
    pub room: String,
    pub starts_at: UnixMillis,
    /// What showed them in school: "seen at Main gate at 08:40", "present in 7B at 09:02".
    pub in_school: String,
    pub alerted_at: UnixMillis,
    pub ended: Option<Ending>,
    pub ended_at: Option<UnixMillis>,
}

/// A register whose teacher was reminded that it is not taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub slot_id: Uuid,
    pub day: NaiveDate,
    pub teacher: Option<Uuid>,
    pub reminded_at: UnixMillis,
    pub mailed_at: Option<UnixMillis>,
}

fn alert(row: &Row) -> ReadResult<Alert> {
    let ended: Option<String> = row.get("ended")?;
    Ok(Alert {
        slot_id: id_col(row, "slot_id")?,
        day: id_col(row, "day")?,
        student: id_col(row, "student_id")?,
        class_name: row.get("class_name")?,
        room: row.get("room")?,
        starts_at: row.get("starts_at")?,
        in_school: row.get("in_school")?,
        alerted_at: row.get("alerted_at")?,
        ended: ended.as_deref().and_then(Ending::parse),
        ended_at: row.get("ended_at")?,
    })
}

fn alerts(sql: &dyn Sql, filter: &str, day: NaiveDate) -> Result<Vec<Alert>, StoreError> {
    let query = format!("SELECT {COLUMNS} FROM missing_alerts {filter}");
    readable(
        sql.query_map(&query, params![day.to_string()], alert)?,
        "missing pupil",
    )
}

/// Writes `a` unless this pupil was alerted of in this lesson already; whether it was written
/// (only then is anyone told).
pub fn insert(sql: &dyn Sql, a: &Alert) -> Result<bool, StoreError> {
    let row = params![
        a.slot_id.to_string(),
        a.day.to_string(),
        a.student.to_string(),
        a.class_name,
        a.room,
        a.starts_at,
        a.in_school,
        a.alerted_at
    ];
    Ok(sql.execute(INSERT, row)? == 1)
}

/// Ends an open alert; whether it was open.
pub fn end(
    sql: &dyn Sql,
    (slot, day, student): (Uuid, NaiveDate, StudentId),
    ending: Ending,
    at: UnixMillis,
) -> Result<bool, StoreError> {
    let row = params![
        slot.to_string(),
        day.to_string(),
        student.to_string(),
        ending.as_str(),
        at
    ];
    Ok(sql.execute(END, row)? == 1)
}

/// Every alert of `day`, oldest first.
pub fn on_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Alert>, StoreError> {
    alerts(sql, ON_DAY, day)
}

/// The alerts of `day` not ended yet.
pub fn open_on(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Alert>, StoreError> {
    alerts(sql, OPEN_ON_DAY, day)
}

/// The alerts of `day` whose e-mail is still to go: the open ones not mailed; with `found`,
/// those found since their alert was mailed.
pub fn unmailed(sql: &dyn Sql, day: NaiveDate, found: bool) -> Result<Vec<Alert>, StoreError> {
    alerts(
        sql,
        if found {
            UNMAILED_FOUND
        } else {
            UNMAILED_MISSING
        },
        day,
    )
}

/// Notes that an alert's e-mail went (`found`: the second one).
pub fn set_mailed(
    sql: &dyn Sql,
    (slot, day, student): (Uuid, NaiveDate, StudentId),
    found: bool,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let query = if found { SET_FOUND_MAILED } else { SET_MAILED };
    sql.execute(
        query,
        params![slot.to_string(), day.to_string(), student.to_string(), at],
    )?;
    Ok(())
}

/// Notes that the teacher of a lesson was reminded of its register; whether this is the first
/// time (only then is the teacher told).
pub fn remind(
    sql: &dyn Sql,
    (slot, day): (Uuid, NaiveDate),
    teacher: Option<Uuid>,
    at: UnixMillis,
) -> Result<bool, StoreError> {
    let row = params![
        slot.to_string(),
        day.to_string(),
        teacher.map(|t| t.to_string()),
        at
    ];
    Ok(sql.execute(REMIND, row)? == 1)
}

/// The reminders of `day`.
pub fn reminders_on(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Reminder>, StoreError> {
    let rows = sql.query_map(REMINDERS, params![day.to_string()], |row| {
        Ok(Reminder {
            slot_id: id_col(row, "slot_id")?,
            day: id_col(row, "day")?,
            teacher: match row.get::<Option<String>>("teacher_id")? {
                Some(_) => Some(id_col(row, "teacher_id")?),
                None => None,
            },
            reminded_at: row.get("reminded_at")?,
            mailed_at: row.get("mailed_at")?,
        })
    })?;
    readable(rows, "register reminder")
}

/// Notes that a reminder's e-mail went.
pub fn set_reminder_mailed(
    sql: &dyn Sql,
    (slot, day): (Uuid, NaiveDate),
    at: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(
        SET_REMINDER_MAILED,
        params![slot.to_string(), day.to_string(), at],
    )?;
    Ok(())
}

/// Deletes the alerts and reminders of the days before `before`; how many.
pub fn purge(sql: &dyn Sql, before: NaiveDate) -> Result<usize, StoreError> {
    let day = before.to_string();
    Ok(sql.execute(PURGE_ALERTS, params![day])? + sql.execute(PURGE_REMINDERS, params![day])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::imports;

    #[test]
    fn a_pupil_is_alerted_of_once_per_lesson_and_ended_once() {
        each(|db| {
            let ada = write(db, |sql| {
                imports::insert_student(sql, "S1", "Ada", UnixMillis(1))
            })
            .unwrap();
            let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let slot = Uuid::now_v7();
            let missing = Alert {
                slot_id: slot,
                day,
                student: ada,
                class_name: "7B".into(),
                room: "Lab 3".into(),
                starts_at: UnixMillis(100),
                in_school: "seen at Main gate at 08:40".into(),
                alerted_at: UnixMillis(200),
                ended: None,
                ended_at: None,
            };
            assert!(write(db, |sql| insert(sql, &missing)).unwrap());
            let again = Alert {
                alerted_at: UnixMillis(900),
                ..missing.clone()
            };
            assert!(
                !write(db, |sql| insert(sql, &again)).unwrap(),
                "a second pass (or the clock gone back) alerts nobody twice"
            );
            assert_eq!(
                read(db, |sql| open_on(sql, day)),
                std::slice::from_ref(&missing)
            );
            assert_eq!(read(db, |sql| unmailed(sql, day, false)).len(), 1);
            write(db, |sql| {
                set_mailed(sql, (slot, day, ada), false, UnixMillis(201))
            })
            .unwrap();
            assert!(read(db, |sql| unmailed(sql, day, false)).is_empty());

            let key = (slot, day, ada);
            assert!(write(db, |sql| end(sql, key, Ending::Found, UnixMillis(300))).unwrap());
            assert!(
                !write(db, |sql| end(sql, key, Ending::LessonOver, UnixMillis(400))).unwrap(),
                "an alert ends once"
            );
            assert!(read(db, |sql| open_on(sql, day)).is_empty());
            let all = read(db, |sql| on_day(sql, day));
            assert_eq!(
                (all[0].ended, all[0].ended_at),
                (Some(Ending::Found), Some(UnixMillis(300)))
            );
            assert_eq!(read(db, |sql| unmailed(sql, day, true)).len(), 1);
            write(db, |sql| set_mailed(sql, key, true, UnixMillis(301))).unwrap();
            assert!(read(db, |sql| unmailed(sql, day, true)).is_empty());
        });
    }

    #[test]
    fn a_register_is_reminded_of_once() {
        each(|db| {
            let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let slot = Uuid::now_v7();
            assert!(write(db, |sql| remind(sql, (slot, day), None, UnixMillis(5))).unwrap());
            assert!(!write(db, |sql| remind(sql, (slot, day), None, UnixMillis(6))).unwrap());
            write(db, |sql| {
                set_reminder_mailed(sql, (slot, day), UnixMillis(7))
            })
            .unwrap();
            let reminders = read(db, |sql| reminders_on(sql, day));
            assert_eq!(
                (
                    reminders.len(),
                    reminders[0].reminded_at,
                    reminders[0].mailed_at
                ),
                (1, UnixMillis(5), Some(UnixMillis(7)))
            );
            let next_day = day.succ_opt().unwrap();
            assert_eq!(write(db, |sql| purge(sql, day)).unwrap(), 0);
            assert_eq!(write(db, |sql| purge(sql, next_day)).unwrap(), 1);
        });
    }
}
