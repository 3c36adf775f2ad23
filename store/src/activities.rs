//! One-off registers (issue 70): a trip, a club, an exam or a detention, made for one day
//! from one local minute to another, with its pupils, each marked present, late or absent by
//! hand. Plain reads and writes; what a trip does to the lessons it covers is
//! `rollcall_school::activities`'.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::marks::Mark;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO activities (id, kind, title, day, start_minute, end_minute,
    place, created_by, owner_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const SELECT: &str = "SELECT id, kind, title, day, start_minute, end_minute, place, created_by,
    owner_id, created_at FROM activities";
const DELETE: &str = "DELETE FROM activities WHERE id = ?1";
const ADD_PUPIL: &str = "INSERT INTO activity_pupils (activity_id, student_id) VALUES (?1, ?2)
    ON CONFLICT (activity_id, student_id) DO NOTHING";
const REMOVE_PUPIL: &str = "DELETE FROM activity_pupils WHERE activity_id = ?1 AND student_id = ?2";
const MARK: &str = "UPDATE activity_pupils SET mark = ?3, marked_by = ?4, marked_at = ?5
    WHERE activity_id = ?1 AND student_id = ?2";
const PUPILS: &str = "SELECT p.student_id, s.name, p.mark, p.marked_by, p.marked_at
    FROM activity_pupils p JOIN students s ON s.id = p.student_id
    WHERE p.activity_id = ?1 ORDER BY s.name, p.student_id";
const OF_STUDENT: &str = "SELECT a.id, a.kind, a.title, a.day, a.start_minute, a.end_minute,
    a.place, a.created_by, a.owner_id, a.created_at FROM activities a
    JOIN activity_pupils p ON p.activity_id = a.id
    WHERE p.student_id = ?1 AND a.day = ?2 ORDER BY a.start_minute, a.id";
const PURGE: &str = "DELETE FROM activities WHERE day < ?1";

/// What a one-off register is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Off site: its pupils are out of the lessons it covers.
    Trip,
    Club,
    Exam,
    Detention,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Trip, Kind::Club, Kind::Exam, Kind::Detention];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Trip => "trip",
            Kind::Club => "club",
            Kind::Exam => "exam",
            Kind::Detention => "detention",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A one-off register: when and where, and who made it and takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub day: NaiveDate,
    /// Local minutes of `day`, as a timetable's slot: `start_minute < end_minute`.
    pub start_minute: u16,
    pub end_minute: u16,
    pub place: Option<String>,
    pub created_by: String,
    /// The member of staff who takes it (who made it, unless an admin named another).
    pub owner: Option<Uuid>,
    pub created_at: UnixMillis,
}

/// One pupil of an activity and their mark, once taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pupil {
    pub student: StudentId,
    pub name: String,
    /// Present, late or absent; `None` until marked.
    pub mark: Option<Mark>,
    pub marked_by: Option<String>,
    pub marked_at: Option<UnixMillis>,
}

fn activity(row: &Row) -> ReadResult<Activity> {
    let kind: String = row.get("kind")?;
    let minute = |col: &str| -> ReadResult<u16> {
        let m: i64 = row.get(col)?;
        u16::try_from(m).map_err(|_| row.malformed(col, format!("minute {m}")))
    };
    let owner: Option<String> = row.get("owner_id")?;
    Ok(Activity {
        id: id_col(row, "id")?,
        kind: Kind::parse(&kind)
            .ok_or_else(|| row.malformed("kind", format!("unknown kind {kind:?}")))?,
        title: row.get("title")?,
        day: id_col(row, "day")?,
        start_minute: minute("start_minute")?,
        end_minute: minute("end_minute")?,
        place: row.get("place")?,
        created_by: row.get("created_by")?,
        owner: owner
            .map(|o| o.parse().map_err(|_| row.malformed("owner_id", o)))
            .transpose()?,
        created_at: row.get("created_at")?,
    })
}

fn pupil(row: &Row) -> ReadResult<Pupil> {
    let mark: Option<String> = row.get("mark")?;
    Ok(Pupil {
        student: id_col(row, "student_id")?,
        name: row.get("name")?,
        mark: mark
            .map(|m| Mark::parse(&m).ok_or_else(|| row.malformed("mark", m)))
            .transpose()?,
        marked_by: row.get("marked_by")?,
        marked_at: row.get("marked_at")?,
    })
}

pub fn insert(sql: &dyn Sql, a: &Activity) -> Result<(), StoreError> {
    let p = params![
        a.id.to_string(),
        a.kind.as_str(),
        a.title,
        a.day.to_string(),
        i64::from(a.start_minute),
        i64::from(a.end_minute),
        a.place,
        a.created_by,
        a.owner.map(|o| o.to_string()),
        a.created_at
    ];
    sql.execute(INSERT, p)?;
    Ok(())
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<Activity, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "activity", activity)
}

/// The activities of `day`, earliest first.
pub fn on_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Activity>, StoreError> {
    let query = format!("{SELECT} WHERE day = ?1 ORDER BY start_minute, title, id");
    readable(
        sql.query_map(&query, params![day.to_string()], activity)?,
        "activity",
    )
}

/// The activities of `day` `student` is on, earliest first.
pub fn of_student(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Vec<Activity>, StoreError> {
    let p = params![student.to_string(), day.to_string()];
    readable(sql.query_map(OF_STUDENT, p, activity)?, "activity")
}

/// Deletes it and its pupils' marks; whether it was there.
pub fn delete(sql: &dyn Sql, id: Uuid) -> Result<bool, StoreError> {
    Ok(sql.execute(DELETE, params![id.to_string()])? == 1)
}

/// Adds `student` (unmarked); whether they were not on it already.
pub fn add_pupil(sql: &dyn Sql, id: Uuid, student: StudentId) -> Result<bool, StoreError> {
    Ok(sql.execute(ADD_PUPIL, params![id.to_string(), student.to_string()])? == 1)
}

/// Takes `student` off it; whether they were on it.
pub fn remove_pupil(sql: &dyn Sql, id: Uuid, student: StudentId) -> Result<bool, StoreError> {
    Ok(sql.execute(REMOVE_PUPIL, params![id.to_string(), student.to_string()])? == 1)
}

/// Marks `student` (`None` takes the mark off); whether they are on it.
pub fn mark(
    sql: &dyn Sql,
    id: Uuid,
    student: StudentId,
    mark: Option<Mark>,
    by: &str,
    at: UnixMillis,
) -> Result<bool, StoreError> {
    let p = params![
        id.to_string(),
        student.to_string(),
        mark.map(Mark::as_str),
        mark.map(|_| by),
        mark.map(|_| at)
    ];
    Ok(sql.execute(MARK, p)? == 1)
}

/// Its pupils by name, with their marks.
pub fn pupils(sql: &dyn Sql, id: Uuid) -> Result<Vec<Pupil>, StoreError> {
    readable(
        sql.query_map(PUPILS, params![id.to_string()], pupil)?,
        "activity pupil",
    )
}

/// Deletes the activities of days before `before`; how many.
pub fn purge(sql: &dyn Sql, before: NaiveDate) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::imports;

    #[test]
    fn an_activity_keeps_its_pupils_and_their_marks_until_purged() {
        each(|db| {
            let (ada, bo) = write(db, |sql| {
                let ada = imports::insert_student(sql, "S1", "Ada", UnixMillis(1))?;
                let bo = imports::insert_student(sql, "S2", "Bo", UnixMillis(1))?;
                Ok::<_, StoreError>((ada, bo))
            })
            .unwrap();
            let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
            let trip = Activity {
                id: Uuid::now_v7(),
                kind: Kind::Trip,
                title: "Science museum".into(),
                day,
                start_minute: 9 * 60,
                end_minute: 15 * 60,
                place: Some("London".into()),
                created_by: "user:tess".into(),
                owner: None,
                created_at: UnixMillis(1),
            };
            write(db, |sql| insert(sql, &trip)).unwrap();
            assert!(write(db, |sql| add_pupil(sql, trip.id, bo)).unwrap());
            assert!(write(db, |sql| add_pupil(sql, trip.id, ada)).unwrap());
            assert!(
                !write(db, |sql| add_pupil(sql, trip.id, ada)).unwrap(),
                "on it once"
            );
            let at = UnixMillis(5_000);
            assert!(
                write(db, |sql| mark(
                    sql,
                    trip.id,
                    bo,
                    Some(Mark::Absent),
                    "user:tess",
                    at
                ))
                .unwrap()
            );
            let listed = read(db, |sql| pupils(sql, trip.id));
            assert_eq!(
                listed
                    .iter()
                    .map(|p| (p.name.as_str(), p.mark, p.marked_at))
                    .collect::<Vec<_>>(),
                [("Ada", None, None), ("Bo", Some(Mark::Absent), Some(at))]
            );
            assert_eq!(read(db, |sql| get(sql, trip.id)), trip);
            assert_eq!(
                read(db, |sql| of_student(sql, ada, day)),
                std::slice::from_ref(&trip)
            );
            assert!(write(db, |sql| remove_pupil(sql, trip.id, ada)).unwrap());
            assert_eq!(read(db, |sql| of_student(sql, ada, day)), []);
            assert_eq!(write(db, |sql| purge(sql, day)).unwrap(), 0);
            let next = day.succ_opt().unwrap();
            assert_eq!(write(db, |sql| purge(sql, next)).unwrap(), 1);
            assert_eq!(read(db, |sql| on_day(sql, day)), []);
        });
    }
}
