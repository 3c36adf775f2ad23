//! What a guardian's own account sees and does (issue 57, point 7). A guardian signs in with
//! an account opened by invitation (`accounts::invite`), and reaches only the routes for their
//! own children; everything else refuses them.
//!
//! 1. **Whose children** ([`children`]): the students with a guardian who has parental
//!    responsibility at the account's address. The office's contacts decide: a guardian
//!    removed from a student, or given another address, stops seeing them at once, and a
//!    brother enrolled later is seen without a new invitation. A guardian cannot change their
//!    own address (the account page is staff's).
//! 2. **What they see** ([`as_child`]): what the child's own account would see of their
//!    attendance (today's lessons and marks, their history), nothing of other students, no
//!    face.
//! 3. **A future absence** ([`report_absence`]): a reason for a day from today to
//!    [`AHEAD_DAYS`] ahead on which the child has lessons (a dentist tomorrow). It is the
//!    same notice a reply to the morning's message makes (`crate::notices`): the office
//!    accepts it, and the register gets its code, or rejects it with a note. One reason per
//!    child and day; the morning pass tells no one of an absence the family reported.

use chrono::{Days, NaiveDate};
use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;

use crate::access::AccessError;
use crate::attendance::Rules;
use crate::guardians::DEFAULT_LANGUAGE;
use crate::notices::family_reason;
use crate::principal::Principal;
use crate::session_rosters;
use rollcall_store::audit::{self, Change};
use rollcall_store::notices::{self as stored, Notice};
use rollcall_store::users::Role;
use rollcall_store::{Sql, StoreError, guardians, school, timetable, users};

/// How far ahead a family may report an absence, in days.
pub const AHEAD_DAYS: u64 = 60;

/// The last day a family may report an absence for, seen from `today`.
pub fn report_until(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(Days::new(AHEAD_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// The children of the guardian `who`, in the order of their ids; 403 for any other account.
pub fn children(conn: &dyn Sql, who: &Principal) -> Result<Vec<StudentId>, AccessError> {
    if who.role != Role::Guardian {
        return Err(AccessError::Forbidden(
            "only a guardian's account has children here",
        ));
    }
    let Some(email) = users::by_id(conn, who.user_id)?.email else {
        return Ok(Vec::new());
    };
    Ok(guardians::children_of(conn, &email)?)
}

/// Fails unless `student` is one of `who`'s children.
pub fn child(conn: &dyn Sql, who: &Principal, student: StudentId) -> Result<(), AccessError> {
    match children(conn, who)?.contains(&student) {
        true => Ok(()),
        false => Err(AccessError::Forbidden("this is not your child")),
    }
}

/// The caller `student`'s own account would be: what their guardian is shown of them.
pub fn as_child(who: &Principal, student: StudentId) -> Principal {
    Principal {
        role: Role::Student,
        student: Some(student),
        ..who.clone()
    }
}

/// Why a reported absence was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("{0}")]
    Invalid(String),
    /// The school has a reason for that day already (reported before, or answered from the
    /// morning's message).
    #[error("the school already has a reason for {0} on {1}")]
    Known(String, NaiveDate),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the reason `who` gives for their child `student` missing `day` (see the module
/// docs, point 3).
pub fn report_absence(
    tx: &dyn Sql,
    who: &Principal,
    (student, day): (StudentId, NaiveDate),
    (reason, note): (&str, Option<&str>),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, ReportError> {
    child(tx, who, student)?;
    let today = rules.local_day(now);
    let until = report_until(today);
    if day < today || day > until {
        return Err(ReportError::Invalid(format!(
            "day: from today to {AHEAD_DAYS} days ahead ({today} to {until})"
        )));
    }
    let answer = family_reason(reason, note, now).map_err(ReportError::Invalid)?;
    let name = school::student(tx, student)?.name;
    if !has_lessons(tx, student, day)? {
        return Err(ReportError::Invalid(format!(
            "day: {name} has no lessons on {}",
            day.format("%A %-d %B %Y")
        )));
    }
    let language = language_of(tx, who, student)?;
    stored::open(tx, student, day, &language, now)?;
    if !stored::reply(tx, student, day, &answer)? {
        return Err(ReportError::Known(name, day));
    }
    audit::log(
        tx,
        Change {
            actor: &who.actor(),
            action: "notice.report",
            target: format!("notice:{student}:{day}"),
            before: None,
            after: Some(json!({"reason": answer.reason, "note": answer.note})),
            at: now,
        },
    )?;
    Ok(stored::get(tx, student, day)?.ok_or(StoreError::NotFound("notice"))?)
}

/// Whether `student` is expected at a lesson on `day` (a holiday or closed day has none).
fn has_lessons(tx: &dyn Sql, student: StudentId, day: NaiveDate) -> Result<bool, StoreError> {
    let classes = school::classes_of(tx, student)?;
    let mut slots = Vec::new();
    for class in &classes {
        slots.extend(timetable::slots_of_class(tx, *class)?);
    }
    Ok(!session_rosters::sessions_between(tx, (&classes, &slots), day, day)?.is_empty())
}

/// The language the guardian `who` is written to in, as the office keeps it for `student`.
fn language_of(tx: &dyn Sql, who: &Principal, student: StudentId) -> Result<String, StoreError> {
    let email = users::by_id(tx, who.user_id)?.email.unwrap_or_default();
    Ok(guardians::of(tx, student)?
        .into_iter()
        .find(|g| {
            g.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&email))
        })
        .map_or_else(|| DEFAULT_LANGUAGE.to_owned(), |g| g.language))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_reports_up_to_sixty_days_ahead_and_the_calendars_end_is_no_panic() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(
            report_until(today),
            NaiveDate::from_ymd_opt(2027, 1, 22).unwrap()
        );
        assert_eq!(report_until(NaiveDate::MAX), NaiveDate::MAX);
    }
}
