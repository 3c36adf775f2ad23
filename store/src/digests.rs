//! What the notifications remember between checks and restarts: each user's digest for each
//! school day (sent, nothing to say, or failed so far), and which students are below the
//! at-risk threshold in which class. Only SQL; the rules are in `email` and `at_risk`.

use std::collections::HashSet;

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{Sql, params};

const SELECT_DIGEST: &str = "SELECT status, attempts, next_at, last_error FROM email_digests WHERE user_id = ?1 AND day = ?2";
const UPSERT_DIGEST: &str = "INSERT INTO email_digests
    (user_id, day, status, attempts, next_at, last_error, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (user_id, day) DO UPDATE SET status = excluded.status,
        attempts = excluded.attempts, next_at = excluded.next_at,
        last_error = excluded.last_error, updated_at = excluded.updated_at";
const SELECT_RECENT: &str = "SELECT d.user_id AS user_id, u.username AS username,
    d.day AS day, d.status AS status, d.attempts AS attempts, d.last_error AS last_error,
    d.updated_at AS updated_at FROM email_digests d JOIN users u ON u.id = d.user_id
    ORDER BY d.day DESC, u.username LIMIT ?1";
const SELECT_AT_RISK: &str = "SELECT student_id FROM at_risk_students WHERE class_id = ?1";
const INSERT_AT_RISK: &str = "INSERT INTO at_risk_students (class_id, student_id, since)
    VALUES (?1, ?2, ?3) ON CONFLICT (class_id, student_id) DO NOTHING";
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
    sql: &dyn Sql,
    user: Uuid,
    day: NaiveDate,
) -> Result<Option<DigestState>, StoreError> {
    let key = params![user.to_string(), day.to_string()];
    sql.query_opt(SELECT_DIGEST, key, |r| {
        let status: String = r.get("status")?;
        Ok(DigestState {
            status: DigestStatus::parse(&status),
            attempts: r.get("attempts")?,
            next_at: r.get("next_at")?,
            last_error: r.get("last_error")?,
        })
    })
}

pub fn set_digest(
    sql: &dyn Sql,
    user: Uuid,
    day: NaiveDate,
    state: &DigestState,
    now: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(
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
pub fn recent(sql: &dyn Sql, limit: u32) -> Result<Vec<DigestRow>, StoreError> {
    let rows = sql.query_map(SELECT_RECENT, params![limit], |r| {
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
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// The students remembered as below the threshold in `class`.
pub fn at_risk(sql: &dyn Sql, class: ClassId) -> Result<HashSet<StudentId>, StoreError> {
    let rows = sql.query_map(SELECT_AT_RISK, params![class.to_string()], |r| {
        id_col(r, "student_id")
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Remembers `student` as below the threshold in `class` (from `now`), or no longer.
pub fn set_at_risk(
    sql: &dyn Sql,
    class: ClassId,
    student: StudentId,
    below: bool,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let (class, student) = (class.to_string(), student.to_string());
    match below {
        true => sql.execute(INSERT_AT_RISK, params![class, student, now])?,
        false => sql.execute(DELETE_AT_RISK, params![class, student])?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::engines::each;
    use crate::imports;
    use crate::users::{self, Role};

    fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
        db.write_blocking(f).unwrap()
    }

    fn state(status: DigestStatus, attempts: u32, error: Option<&str>) -> DigestState {
        DigestState {
            status,
            attempts,
            next_at: UnixMillis(60),
            last_error: error.map(str::to_owned),
        }
    }

    #[test]
    fn a_digest_is_set_then_replaced_and_listed_newest_day_first() {
        each(|db| {
            let ada = users::tests::add(db, "ada", Role::Teacher).unwrap().id;
            let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
            let next = day.succ_opt().unwrap();
            assert_eq!(write(db, |sql| digest(sql, ada, day)), None);
            let retrying = state(DigestStatus::Retrying, 1, Some("smtp"));
            write(db, |sql| {
                set_digest(sql, ada, day, &retrying, UnixMillis(1))
            });
            assert_eq!(write(db, |sql| digest(sql, ada, day)), Some(retrying));
            let sent = state(DigestStatus::Sent, 2, None);
            write(db, |sql| set_digest(sql, ada, day, &sent, UnixMillis(2)));
            assert_eq!(write(db, |sql| digest(sql, ada, day)), Some(sent));
            let empty = state(DigestStatus::Empty, 0, None);
            write(db, |sql| set_digest(sql, ada, next, &empty, UnixMillis(3)));

            let rows = db.read_blocking(|sql| recent(sql, 5)).unwrap();
            let seen: Vec<_> = rows.iter().map(|r| (r.day, r.status, r.attempts)).collect();
            assert_eq!(
                seen,
                [(next, DigestStatus::Empty, 0), (day, DigestStatus::Sent, 2)]
            );
            assert_eq!((rows[1].user_id, rows[1].username.as_str()), (ada, "ada"));
            assert_eq!(rows[1].updated_at, UnixMillis(2));
            assert_eq!(db.read_blocking(|sql| recent(sql, 1)).unwrap().len(), 1);
        });
    }

    #[test]
    fn students_at_risk_are_remembered_once_and_forgotten() {
        each(|db| {
            let (class, ada, bea) = write(db, |sql| {
                Ok((
                    imports::insert_class(sql, "c", "7B", None, None, UnixMillis(0))?,
                    imports::insert_student(sql, "s1", "Ada", UnixMillis(0))?,
                    imports::insert_student(sql, "s2", "Bea", UnixMillis(0))?,
                ))
            });
            let mark = |student, below| {
                write(db, |sql| {
                    set_at_risk(sql, class, student, below, UnixMillis(9))
                })
            };
            mark(ada, true);
            mark(ada, true);
            mark(bea, true);
            let held = |db: &Db| db.read_blocking(|sql| at_risk(sql, class)).unwrap();
            assert_eq!(held(db), HashSet::from([ada, bea]));
            mark(bea, false);
            mark(bea, false);
            assert_eq!(held(db), HashSet::from([ada]));
        });
    }
}
