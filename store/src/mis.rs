//! Write-back to the school's MIS (migration 42): the outbox (`mis_outbox`, one row per pupil
//! and day: the statutory marks the MIS should hold, in Rollcall's codes, with a version that
//! goes up each time they change and what became of the last write), and the office's code
//! table (`mis_codes`: Rollcall's code, the MIS's), and the nightly comparison
//! (`mis_comparisons`, one row per day compared; `mis_differences`, one per pupil-day the MIS
//! holds otherwise, until the office settles it). The rules are `rollcall_school::mis`'.
//!
//! Lesson registers have their own outbox, one row per pupil and lesson, with the same life:
//! [`lessons`].
//!
//! A write is recorded against the version it wrote: when the marks changed while it was on
//! its way, the row stays pending and the newer version is written next.

pub mod lessons;

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const COLUMNS: &str = "o.student_id, s.name, s.external_ref, o.day, o.am, o.pm, o.version,
    o.status, o.tries, o.next_try_at, o.last_error, o.written_version, o.written_at, o.mis_ref,
    o.changed_at";
const FROM: &str = "FROM mis_outbox o JOIN students s ON s.id = o.student_id";
const INSERT: &str = "INSERT INTO mis_outbox (student_id, day, am, pm, version, status,
    next_try_at, changed_at) VALUES (?1, ?2, ?3, ?4, 1, 'pending', ?5, ?5)";
const CHANGE: &str = "UPDATE mis_outbox SET am = ?3, pm = ?4, version = version + 1,
    status = 'pending', tries = 0, next_try_at = ?5, last_error = NULL, changed_at = ?5
    WHERE student_id = ?1 AND day = ?2";
const WRITTEN: &str = "UPDATE mis_outbox SET status = 'written', tries = tries + 1,
    last_error = NULL, written_version = ?3, written_at = ?4, mis_ref = ?5
    WHERE student_id = ?1 AND day = ?2 AND version = ?3 AND status = 'pending'";
const RETRY: &str = "UPDATE mis_outbox SET tries = tries + 1, next_try_at = ?4, last_error = ?5
    WHERE student_id = ?1 AND day = ?2 AND version = ?3 AND status = 'pending'";
const REFUSED: &str = "UPDATE mis_outbox SET status = 'refused', tries = tries + 1,
    last_error = ?4 WHERE student_id = ?1 AND day = ?2 AND version = ?3 AND status = 'pending'";
const AGAIN: &str = "UPDATE mis_outbox SET version = version + 1, status = 'pending', tries = 0,
    next_try_at = ?3, last_error = NULL WHERE student_id = ?1 AND day = ?2";
const AGAIN_WITH: &str = "UPDATE mis_outbox SET version = version + 1, status = 'pending',
    tries = 0, next_try_at = ?2, last_error = NULL
    WHERE status = 'refused' AND (am = ?1 OR pm = ?1)";
const AGAIN_OF: &str = "UPDATE mis_outbox SET version = version + 1, status = 'pending',
    tries = 0, next_try_at = ?2, last_error = NULL WHERE status = 'refused' AND student_id = ?1";
const COUNTS: &str = "SELECT status, count(*) AS n, max(written_at) AS last FROM mis_outbox
    GROUP BY status";
const CODES: &str = "SELECT code, mis_code FROM mis_codes ORDER BY code";
const SET_CODE: &str = "INSERT INTO mis_codes (code, mis_code, updated_by, updated_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (code) DO UPDATE SET mis_code = ?2, updated_by = ?3,
    updated_at = ?4";
const DELETE_CODE: &str = "DELETE FROM mis_codes WHERE code = ?1";
const PURGE: [&str; 4] = [
    "DELETE FROM mis_outbox WHERE day < ?1",
    "DELETE FROM mis_lesson_outbox WHERE day < ?1",
    "DELETE FROM mis_differences WHERE day < ?1",
    "DELETE FROM mis_comparisons WHERE day < ?1",
];

/// What became of a pupil's day's marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not yet written in this version (or written, failed, and due again).
    Pending,
    /// The MIS took this version.
    Written,
    /// The MIS refused this version for good; the office sees why.
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Written => "written",
            Status::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Pending, Status::Written, Status::Refused]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A pupil's statutory day, as the MIS should hold it, and its write's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxDay {
    pub student: StudentId,
    pub name: String,
    /// The pupil's reference in the MIS (from the roster import); `None`: not matched.
    pub external_ref: Option<String>,
    pub day: NaiveDate,
    /// Rollcall's codes for the morning and the afternoon; `None`: no mark yet.
    pub am: Option<String>,
    pub pm: Option<String>,
    /// Goes up by one each time the marks change, or the office has the day written again:
    /// each version is a new write, with its own key.
    pub version: i64,
    pub status: Status,
    /// Tries of this version so far.
    pub tries: i64,
    pub next_try_at: UnixMillis,
    /// Why the last try did not work: the MIS's words.
    pub last_error: Option<String>,
    pub written_version: Option<i64>,
    pub written_at: Option<UnixMillis>,
    /// What the MIS named the last write it took.
    pub mis_ref: Option<String>,
    pub changed_at: UnixMillis,
}

/// How many days are in each state, and when the MIS last took a write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pending: i64,
    pub written: i64,
    pub refused: i64,
    pub last_written_at: Option<UnixMillis>,
}

fn row(r: &Row) -> ReadResult<OutboxDay> {
    let status: String = r.get("status")?;
    Ok(OutboxDay {
        student: id_col(r, "student_id")?,
        name: r.get("name")?,
        external_ref: r.get("external_ref")?,
        day: id_col(r, "day")?,
        am: r.get("am")?,
        pm: r.get("pm")?,
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

/// The row of `student`'s `day`.
pub fn day(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Option<OutboxDay>, StoreError> {
    let query = format!("SELECT {COLUMNS} {FROM} WHERE o.student_id = ?1 AND o.day = ?2");
    let found = sql.query_opt(&query, params![student.to_string(), day.to_string()], row)?;
    Ok(found)
}

/// Pupil-days' marks, (AM, PM) in Rollcall's codes, by pupil and day.
pub type DayMarks = HashMap<(StudentId, NaiveDate), (Option<String>, Option<String>)>;

/// Each pupil-day of the outbox from `since` on, with its marks: what a gathering sets the
/// register's marks beside.
pub fn held(sql: &dyn Sql, since: NaiveDate) -> Result<DayMarks, StoreError> {
    let rows = sql.query_map(
        "SELECT student_id, day, am, pm FROM mis_outbox WHERE day >= ?1",
        params![since.to_string()],
        |r| {
            let key = (id_col(r, "student_id")?, id_col(r, "day")?);
            Ok((key, (r.get("am")?, r.get("pm")?)))
        },
    )?;
    Ok(readable(rows, "MIS outbox row")?.into_iter().collect())
}

/// Makes the MIS's copy of `student`'s `day` be `am` and `pm` (Rollcall's codes): a new row,
/// or a new version of a row whose marks differ. Returns whether anything changed.
pub fn put(
    sql: &dyn Sql,
    (student, on): (StudentId, NaiveDate),
    (am, pm): (Option<&str>, Option<&str>),
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let key = (student.to_string(), on.to_string());
    match day(sql, student, on)? {
        Some(d) if d.am.as_deref() == am && d.pm.as_deref() == pm => Ok(false),
        Some(_) => Ok(sql.execute(CHANGE, params![key.0, key.1, am, pm, now])? > 0),
        None => Ok(sql.execute(INSERT, params![key.0, key.1, am, pm, now])? > 0),
    }
}

/// The pending days due by `now`, the oldest change first, at most `limit`.
pub fn due(sql: &dyn Sql, now: UnixMillis, limit: usize) -> Result<Vec<OutboxDay>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = 'pending' AND o.next_try_at <= ?1
         ORDER BY o.changed_at, o.day, o.student_id LIMIT ?2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    readable(
        sql.query_map(&query, params![now, limit], row)?,
        "MIS outbox row",
    )
}

/// The days in `status` (the most recently changed first), at most `limit`.
pub fn in_status(
    sql: &dyn Sql,
    status: Status,
    limit: usize,
) -> Result<Vec<OutboxDay>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = ?1
         ORDER BY o.changed_at DESC, o.day DESC, s.name LIMIT ?2"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = sql.query_map(&query, params![status.as_str(), limit], row)?;
    readable(rows, "MIS outbox row")
}

/// The days still pending that a try has failed (retried with backoff), the oldest first.
pub fn failing(sql: &dyn Sql, limit: usize) -> Result<Vec<OutboxDay>, StoreError> {
    let query = format!(
        "SELECT {COLUMNS} {FROM} WHERE o.status = 'pending' AND o.last_error IS NOT NULL
         ORDER BY o.changed_at, o.day, s.name LIMIT ?1"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    readable(
        sql.query_map(&query, params![limit], row)?,
        "MIS outbox row",
    )
}

/// The key of one version of a day: the row it was read as.
fn version_key(d: &OutboxDay) -> (String, String, i64) {
    (d.student.to_string(), d.day.to_string(), d.version)
}

/// The MIS took `d`'s version. False when the marks changed meanwhile: the row stays pending
/// for its newer version.
pub fn written(
    sql: &dyn Sql,
    d: &OutboxDay,
    mis_ref: Option<&str>,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let (student, day, version) = version_key(d);
    Ok(sql.execute(WRITTEN, params![student, day, version, now, mis_ref])? > 0)
}

/// `d`'s version failed with `error`; tried again at `next`.
pub fn retry(
    sql: &dyn Sql,
    d: &OutboxDay,
    next: UnixMillis,
    error: &str,
) -> Result<bool, StoreError> {
    let (student, day, version) = version_key(d);
    Ok(sql.execute(RETRY, params![student, day, version, next, error])? > 0)
}

/// The MIS refused `d`'s version for good, saying `error`.
pub fn refused(sql: &dyn Sql, d: &OutboxDay, error: &str) -> Result<bool, StoreError> {
    let (student, day, version) = version_key(d);
    Ok(sql.execute(REFUSED, params![student, day, version, error])? > 0)
}

/// Writes `student`'s `day` again from now, as a new version (the office's "write ours
/// again", or a refusal whose cause is fixed). False when there is no such row.
pub fn again(
    sql: &dyn Sql,
    (student, day): (StudentId, NaiveDate),
    now: UnixMillis,
) -> Result<bool, StoreError> {
    Ok(sql.execute(AGAIN, params![student.to_string(), day.to_string(), now])? > 0)
}

/// Writes again every refused day that has Rollcall's `code` (its mapping has just been
/// set). Returns how many.
pub fn again_refused_with(sql: &dyn Sql, code: &str, now: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(AGAIN_WITH, params![code, now])
}

/// Writes again every refused day of `student` (their MIS reference has just been set).
/// Returns how many.
pub fn again_refused_of(
    sql: &dyn Sql,
    student: StudentId,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    sql.execute(AGAIN_OF, params![student.to_string(), now])
}

/// How many days are in each state.
pub fn counts(sql: &dyn Sql) -> Result<Counts, StoreError> {
    counts_of(sql, COUNTS)
}

/// The counts `query` finds (a status, its count `n` and the latest `last` write per row).
fn counts_of(sql: &dyn Sql, query: &str) -> Result<Counts, StoreError> {
    let rows = sql.query_map(query, &[], |r| {
        let status: String = r.get("status")?;
        let n: i64 = r.get("n")?;
        let last: Option<UnixMillis> = r.get("last")?;
        Ok((status, n, last))
    })?;
    let mut counts = Counts::default();
    for (status, n, last) in readable(rows, "MIS outbox count")? {
        match Status::parse(&status) {
            Some(Status::Pending) => counts.pending = n,
            Some(Status::Written) => counts.written = n,
            Some(Status::Refused) => counts.refused = n,
            None => {}
        }
        counts.last_written_at = counts.last_written_at.max(last);
    }
    Ok(counts)
}

/// Deletes the outboxes and the comparisons of days before `before`. Returns how many
/// pupil-days left the statutory outbox.
pub fn purge(sql: &dyn Sql, before: NaiveDate) -> Result<usize, StoreError> {
    let day = before.to_string();
    let [outbox, rest @ ..] = PURGE;
    let gone = sql.execute(outbox, params![day])?;
    for query in rest {
        sql.execute(query, params![day])?;
    }
    Ok(gone)
}

/// One line of the code table: Rollcall's code and the MIS's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeMapping {
    pub code: String,
    pub mis_code: String,
}

/// The code table, by Rollcall's code.
pub fn codes(sql: &dyn Sql) -> Result<Vec<CodeMapping>, StoreError> {
    let rows = sql.query_map(CODES, &[], |r| {
        Ok(CodeMapping {
            code: r.get("code")?,
            mis_code: r.get("mis_code")?,
        })
    })?;
    readable(rows, "MIS code mapping")
}

/// Maps Rollcall's `code` to `mis_code`, by `user`.
pub fn set_code(
    sql: &dyn Sql,
    m: &CodeMapping,
    user: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(SET_CODE, params![m.code, m.mis_code, user, now])?;
    Ok(())
}

/// Removes `code`'s mapping. False when it had none.
pub fn delete_code(sql: &dyn Sql, code: &str) -> Result<bool, StoreError> {
    Ok(sql.execute(DELETE_CODE, params![code])? > 0)
}

/// A pupil-day the MIS holds otherwise than Rollcall, both in the MIS's codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub student: StudentId,
    pub name: String,
    pub external_ref: Option<String>,
    pub day: NaiveDate,
    pub ours_am: Option<String>,
    pub ours_pm: Option<String>,
    pub theirs_am: Option<String>,
    pub theirs_pm: Option<String>,
    pub found_at: UnixMillis,
    /// How the office settled it: `ours` (written again) or `theirs` (taken into Rollcall).
    pub settled: Option<String>,
    pub settled_by: Option<String>,
    pub settled_at: Option<UnixMillis>,
}

/// A day compared with the MIS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub day: NaiveDate,
    pub compared_at: UnixMillis,
    /// Pupils compared.
    pub pupils: i64,
    pub differences: i64,
}

const DIFFERENCE_COLUMNS: &str = "d.student_id, s.name, s.external_ref, d.day, d.ours_am,
    d.ours_pm, d.theirs_am, d.theirs_pm, d.found_at, d.settled, d.settled_by, d.settled_at
    FROM mis_differences d JOIN students s ON s.id = d.student_id";
const FORGET_UNSETTLED: &str = "DELETE FROM mis_differences WHERE day = ?1 AND settled IS NULL";
const INSERT_DIFFERENCE: &str = "INSERT INTO mis_differences (student_id, day, ours_am, ours_pm,
    theirs_am, theirs_pm, found_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (student_id, day) DO UPDATE SET ours_am = ?3, ours_pm = ?4, theirs_am = ?5,
    theirs_pm = ?6, found_at = ?7, settled = NULL, settled_by = NULL, settled_at = NULL";
const COMPARED: &str = "INSERT INTO mis_comparisons (day, compared_at, pupils, differences)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (day) DO UPDATE SET compared_at = ?2, pupils = ?3,
    differences = ?4";
const SETTLE: &str = "UPDATE mis_differences SET settled = ?3, settled_by = ?4, settled_at = ?5
    WHERE student_id = ?1 AND day = ?2 AND settled IS NULL";

fn difference_row(r: &Row) -> ReadResult<Difference> {
    Ok(Difference {
        student: id_col(r, "student_id")?,
        name: r.get("name")?,
        external_ref: r.get("external_ref")?,
        day: id_col(r, "day")?,
        ours_am: r.get("ours_am")?,
        ours_pm: r.get("ours_pm")?,
        theirs_am: r.get("theirs_am")?,
        theirs_pm: r.get("theirs_pm")?,
        found_at: r.get("found_at")?,
        settled: r.get("settled")?,
        settled_by: r.get("settled_by")?,
        settled_at: r.get("settled_at")?,
    })
}

/// Records `day`'s comparison: its `differences` replace the day's unsettled ones (a settled
/// one found again is open again).
pub fn compared(
    sql: &dyn Sql,
    day: NaiveDate,
    pupils: usize,
    differences: &[Difference],
    now: UnixMillis,
) -> Result<Comparison, StoreError> {
    let on = day.to_string();
    sql.execute(FORGET_UNSETTLED, params![on])?;
    for d in differences {
        sql.execute(
            INSERT_DIFFERENCE,
            params![
                d.student.to_string(),
                on,
                d.ours_am,
                d.ours_pm,
                d.theirs_am,
                d.theirs_pm,
                now
            ],
        )?;
    }
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let comparison = Comparison {
        day,
        compared_at: now,
        pupils: count(pupils),
        differences: count(differences.len()),
    };
    sql.execute(
        COMPARED,
        params![on, now, comparison.pupils, comparison.differences],
    )?;
    Ok(comparison)
}

/// Whether `day` has been compared.
pub fn comparison(sql: &dyn Sql, day: NaiveDate) -> Result<Option<Comparison>, StoreError> {
    let found = sql.query_opt(
        "SELECT day, compared_at, pupils, differences FROM mis_comparisons WHERE day = ?1",
        params![day.to_string()],
        |r| {
            Ok(Comparison {
                day: id_col(r, "day")?,
                compared_at: r.get("compared_at")?,
                pupils: r.get("pupils")?,
                differences: r.get("differences")?,
            })
        },
    )?;
    Ok(found)
}

/// The differences of the days from `from` to `to`, by day and name; `open` only the
/// unsettled.
pub fn differences(
    sql: &dyn Sql,
    (from, to): (NaiveDate, NaiveDate),
    open: bool,
) -> Result<Vec<Difference>, StoreError> {
    let only_open = if open { "AND d.settled IS NULL" } else { "" };
    let query = format!(
        "SELECT {DIFFERENCE_COLUMNS} WHERE d.day >= ?1 AND d.day <= ?2 {only_open}
         ORDER BY d.day, s.name, d.student_id"
    );
    let rows = sql.query_map(
        &query,
        params![from.to_string(), to.to_string()],
        difference_row,
    )?;
    readable(rows, "MIS difference")
}

/// The difference of `student`'s `day`, settled or not.
pub fn difference(
    sql: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Option<Difference>, StoreError> {
    let query = format!("SELECT {DIFFERENCE_COLUMNS} WHERE d.student_id = ?1 AND d.day = ?2");
    let found = sql.query_opt(
        &query,
        params![student.to_string(), day.to_string()],
        difference_row,
    )?;
    Ok(found)
}

/// Settles an open difference `how` (`ours` or `theirs`), by `user`. False when it was not
/// open.
pub fn settle(
    sql: &dyn Sql,
    (student, day): (StudentId, NaiveDate),
    how: &str,
    user: &str,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let key = params![student.to_string(), day.to_string(), how, user, now];
    Ok(sql.execute(SETTLE, key)? > 0)
}

/// The rows of `day` (what the comparison compares), by name.
pub fn of_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<OutboxDay>, StoreError> {
    let query = format!("SELECT {COLUMNS} {FROM} WHERE o.day = ?1 ORDER BY s.name, o.student_id");
    readable(
        sql.query_map(&query, params![day.to_string()], row)?,
        "MIS outbox row",
    )
}

#[cfg(test)]
mod tests;
