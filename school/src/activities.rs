//! One-off registers (issue 70): a trip, a club, an exam or a detention, made by an admin or a
//! teacher for one day and time with its pupils, and taken by hand, on a phone at a coach door
//! as often as not.
//!
//! 1. Who: any member of staff makes one; an admin may put any pupil on it, a teacher the
//!    pupils of their own classes. It is taken, changed and cancelled by whoever made it, the
//!    member of staff it names as taking it, or an admin.
//! 2. Taking it: each pupil is present, late or absent. "All present except…" is one call
//!    ([`take`]): the pupils it names are absent (or late), every other one present. Sent
//!    again, it says the same: a phone that sends it twice changes nothing.
//! 3. A trip takes its pupils off site: each lesson of theirs it covers, wholly or in part
//!    (a coach leaving at 10:30 in a lesson of 10:00–11:00 covers that lesson), gets the
//!    off-site educational activity code (`B`, counted present), saying which trip, unless
//!    the lesson's register is written, the lesson is over, or someone already gave a mark by
//!    hand. So a pupil on a trip is never missing from a lesson it covers
//!    ([`crate::missing`] reads a hand mark as marked). The code is given when the pupil is
//!    put on the trip, not when its register is taken: the coach may leave before anyone
//!    opens the page.
//! 4. A pupil marked absent from the trip, taken off it, or whose trip is cancelled is back in
//!    the lessons not over: the trip's marks come off them (only the trip's own: a mark
//!    changed since is left), so the door or the teacher marks them as usual, and a pupil in
//!    school who misses one is missing. Marked present again, the code comes back.
//! 5. A trip is a way out of school and back ([`movements`]): its pupils leave at its start and
//!    are back at its end, so the on-site list and the fire roll call do not expect them at
//!    the assembly point while they are away.
//!
//! Clubs, exams and detentions are registers only: their pupils are on site, and an exam in
//! lesson time is for the school to timetable. Every change is audited.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rollcall_shared::{Direction, StudentId, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access::{self, AccessError};
use crate::attendance::{Rules, Session};
use crate::office;
use crate::principal::Principal;
use crate::session_rosters;
use rollcall_store::activities::{self as stored, Activity, Kind, Pupil};
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::sightings::Movement;
use rollcall_store::{Sql, StoreError, school, users};

/// Longest title or place, in characters.
pub const MAX_TEXT: usize = 120;
/// Most pupils one register holds: a year group on a trip.
pub const MAX_PUPILS: usize = 400;
/// The register's code of a pupil on a trip: an approved off-site educational activity.
pub const TRIP_CODE: &str = "B";

/// An activity as asked for, checked by [`create`].
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub kind: Kind,
    pub title: String,
    pub day: NaiveDate,
    pub start_minute: u16,
    pub end_minute: u16,
    pub place: Option<String>,
    /// Who takes it, when not who made it.
    pub owner: Option<Uuid>,
    pub pupils: Vec<StudentId>,
}

/// "All present except…": who was absent and who late; every other pupil was there.
#[derive(Clone, Debug, Default)]
pub struct Register {
    pub absent: Vec<StudentId>,
    pub late: Vec<StudentId>,
}

/// An activity with its pupils, as the page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub activity: Activity,
    pub start: String,
    pub end: String,
    pub pupils: Vec<Pupil>,
    /// Whether the caller may take it.
    pub yours: bool,
}

/// Why an activity could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AccessError> for ActivityError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Forbidden(m) => ActivityError::Forbidden(m.into()),
            AccessError::Store(s) => s.into(),
        }
    }
}

fn invalid(m: impl Into<String>) -> ActivityError {
    ActivityError::Invalid(m.into())
}

/// Whether an activity of `start..end` covers a lesson of `lesson_start..lesson_end` (local
/// minutes of one day), wholly or in part.
pub fn covers(activity: (u16, u16), lesson: (u16, u16)) -> bool {
    activity.0 < lesson.1 && lesson.0 < activity.1
}

/// What a trip's lessons say of it: the same words on each, which is how it knows its own.
pub fn words(a: &Activity) -> String {
    format!(
        "On the trip \u{201c}{}\u{201d} ({}\u{2013}{})",
        a.title,
        session_rosters::hhmm(a.start_minute),
        session_rosters::hhmm(a.end_minute)
    )
}

/// A trip's pupils leave at its start and are back at its end, as reception's sign-outs are
/// movements: the on-site list, the roll call and who is in school for [`crate::missing`]
/// follow (`crate::on_site::movements_of_day`). A pupil marked absent from it never left.
pub fn movements(
    conn: &dyn Sql,
    rules: &Rules,
    day: NaiveDate,
) -> Result<Vec<Movement>, StoreError> {
    let mut moves = Vec::new();
    for trip in stored::on_day(conn, day)? {
        if trip.kind != Kind::Trip {
            continue;
        }
        let room = format!("Trip: {}", trip.title);
        let out = rules.instant(day, trip.start_minute);
        let back = rules.instant(day, trip.end_minute);
        for pupil in stored::pupils(conn, trip.id)? {
            if pupil.mark == Some(Mark::Absent) {
                continue;
            }
            for (at, direction) in [(out, Direction::Out), (back, Direction::In)] {
                moves.push(Movement {
                    student: pupil.student,
                    at,
                    room: room.clone(),
                    direction: Some(direction),
                });
            }
        }
    }
    Ok(moves)
}

/// Makes an activity (see the module docs).
pub fn create(
    tx: &dyn Sql,
    who: &Principal,
    new: NewActivity,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Listed, ActivityError> {
    let title = office::text("title", &new.title, MAX_TEXT).map_err(invalid)?;
    let place = office::optional_text("place", new.place.as_deref(), MAX_TEXT).map_err(invalid)?;
    if new.end_minute <= new.start_minute {
        return Err(invalid("end: after the start"));
    }
    if new.day < rules.local_day(now) {
        return Err(invalid(
            "day: a one-off register is for today or a day to come",
        ));
    }
    if let Some(owner) = new.owner
        && owner != who.user_id
    {
        if !who.is_admin() {
            return Err(ActivityError::Forbidden(
                "only an admin names another member of staff to take it".into(),
            ));
        }
        if !users::by_id(tx, owner)?.role.is_staff() {
            return Err(invalid("owner: not a member of staff"));
        }
    }
    let activity = Activity {
        id: Uuid::now_v7(),
        kind: new.kind,
        title,
        day: new.day,
        start_minute: new.start_minute,
        end_minute: new.end_minute,
        place,
        created_by: who.actor(),
        owner: Some(new.owner.unwrap_or(who.user_id)),
        created_at: now,
    };
    stored::insert(tx, &activity)?;
    add_pupils(tx, who, &activity, &new.pupils, rules, now)?;
    audited(tx, who, "activity.create", &activity, json!(activity), now)?;
    listed(tx, who, activity)
}

/// Puts `students` on it (those on it already stay as they are).
pub fn add(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    students: &[StudentId],
    rules: &Rules,
    now: UnixMillis,
) -> Result<Listed, ActivityError> {
    let activity = yours(tx, who, id)?;
    add_pupils(tx, who, &activity, students, rules, now)?;
    let added = json!({"pupils_added": students});
    audited(tx, who, "activity.pupils", &activity, added, now)?;
    listed(tx, who, activity)
}

/// Takes `student` off it, and off the trip's lessons not over.
pub fn remove(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    student: StudentId,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Listed, ActivityError> {
    let activity = yours(tx, who, id)?;
    if !stored::remove_pupil(tx, id, student)? {
        return Err(StoreError::NotFound("pupil on this activity").into());
    }
    back_in_lessons(tx, &activity, student, rules, now)?;
    let removed = json!({"pupil_removed": student});
    audited(tx, who, "activity.pupils", &activity, removed, now)?;
    listed(tx, who, activity)
}

/// Marks one pupil (`None` takes the mark off).
pub fn mark(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    student: StudentId,
    mark: Option<Mark>,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Listed, ActivityError> {
    let activity = yours(tx, who, id)?;
    set_mark(tx, who, &activity, student, mark, rules, now)?;
    listed(tx, who, activity)
}

/// "All present except…" (see the module docs): every pupil marked at once.
pub fn take(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    register: &Register,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Listed, ActivityError> {
    let activity = yours(tx, who, id)?;
    let pupils = stored::pupils(tx, id)?;
    let on_it: BTreeSet<StudentId> = pupils.iter().map(|p| p.student).collect();
    let absent: BTreeSet<StudentId> = register.absent.iter().copied().collect();
    let late: BTreeSet<StudentId> = register.late.iter().copied().collect();
    if let Some(both) = absent.intersection(&late).next() {
        return Err(invalid(format!("{both}: absent and late at once")));
    }
    if let Some(stranger) = absent.union(&late).find(|s| !on_it.contains(s)) {
        return Err(invalid(format!("{stranger}: not a pupil of this register")));
    }
    for pupil in &pupils {
        let mark = match (
            absent.contains(&pupil.student),
            late.contains(&pupil.student),
        ) {
            (true, _) => Mark::Absent,
            (_, true) => Mark::Late,
            _ => Mark::Present,
        };
        if pupil.mark != Some(mark) {
            set_mark(tx, who, &activity, pupil.student, Some(mark), rules, now)?;
        }
    }
    listed(tx, who, activity)
}

/// Cancels it: its pupils are back in the lessons not over.
pub fn cancel(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), ActivityError> {
    let activity = yours(tx, who, id)?;
    for pupil in stored::pupils(tx, id)? {
        back_in_lessons(tx, &activity, pupil.student, rules, now)?;
    }
    stored::delete(tx, id)?;
    audited(tx, who, "activity.cancel", &activity, json!(null), now)?;
    Ok(())
}

/// The activity with its pupils, as `who` sees it.
pub fn listed(tx: &dyn Sql, who: &Principal, activity: Activity) -> Result<Listed, ActivityError> {
    Ok(Listed {
        pupils: stored::pupils(tx, activity.id)?,
        start: session_rosters::hhmm(activity.start_minute),
        end: session_rosters::hhmm(activity.end_minute),
        yours: may_take(who, &activity),
        activity,
    })
}

/// Whether `who` takes, changes and cancels it.
pub fn may_take(who: &Principal, a: &Activity) -> bool {
    who.is_admin() || a.owner == Some(who.user_id) || a.created_by == who.actor()
}

fn yours(tx: &dyn Sql, who: &Principal, id: Uuid) -> Result<Activity, ActivityError> {
    let activity = stored::get(tx, id)?;
    match may_take(who, &activity) {
        true => Ok(activity),
        false => Err(ActivityError::Forbidden(
            "this register is taken by whoever made it, the member of staff it names, or an admin"
                .into(),
        )),
    }
}

fn add_pupils(
    tx: &dyn Sql,
    who: &Principal,
    activity: &Activity,
    students: &[StudentId],
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), ActivityError> {
    let students: BTreeSet<StudentId> = students.iter().copied().collect();
    let already = stored::pupils(tx, activity.id)?.len();
    if already + students.len() > MAX_PUPILS {
        return Err(invalid(format!(
            "pupils: at most {MAX_PUPILS} on one register"
        )));
    }
    for &student in &students {
        let pupil = school::student(tx, student)?;
        if !pupil.profile.active {
            return Err(invalid(format!("{} has left the school", pupil.name)));
        }
        access::student(tx, who, student)?;
        if stored::add_pupil(tx, activity.id, student)? {
            away_in_lessons(tx, who, activity, student, rules, now)?;
        }
    }
    Ok(())
}

fn set_mark(
    tx: &dyn Sql,
    who: &Principal,
    activity: &Activity,
    student: StudentId,
    mark: Option<Mark>,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), ActivityError> {
    if mark.is_some_and(|m| !matches!(m, Mark::Present | Mark::Late | Mark::Absent)) {
        return Err(invalid("mark: present, late or absent"));
    }
    if !stored::mark(tx, activity.id, student, mark, &who.actor(), now)? {
        return Err(StoreError::NotFound("pupil on this activity").into());
    }
    match mark {
        Some(Mark::Absent) => back_in_lessons(tx, activity, student, rules, now)?,
        _ => away_in_lessons(tx, who, activity, student, rules, now)?,
    }
    let marked = json!({"student": student, "mark": mark});
    Ok(audited(tx, who, "activity.mark", activity, marked, now)?)
}

/// A trip's lessons of `student` that are not over and whose register is not written.
fn open_lessons(
    tx: &dyn Sql,
    activity: &Activity,
    student: StudentId,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<Session>, StoreError> {
    if activity.kind != Kind::Trip {
        return Ok(Vec::new());
    }
    let span = (activity.start_minute, activity.end_minute);
    Ok(session_rosters::lessons_of(tx, student, activity.day)?
        .into_iter()
        .filter(|s| covers(span, (s.slot.start_minute, s.slot.end_minute)))
        .filter(|s| s.ends_at(rules) > now)
        .collect())
}

fn away_in_lessons(
    tx: &dyn Sql,
    who: &Principal,
    activity: &Activity,
    student: StudentId,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let why = words(activity);
    for session in open_lessons(tx, activity, student, rules, now)? {
        let (slot, day) = (session.slot.id, session.day);
        if rollcall_store::register::session(tx, slot, day)?.is_some()
            || marks::get(tx, slot, day, student)?.is_some_and(|m| m.reason != why)
        {
            continue;
        }
        let mark = Override {
            student,
            mark: Mark::Present,
            reason: why.clone(),
            set_by: who.actor(),
            set_at: now,
            code: Some(TRIP_CODE.into()),
        };
        marks::set(tx, slot, day, &mark)?;
    }
    Ok(())
}

fn back_in_lessons(
    tx: &dyn Sql,
    activity: &Activity,
    student: StudentId,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let why = words(activity);
    for session in open_lessons(tx, activity, student, rules, now)? {
        let (slot, day) = (session.slot.id, session.day);
        if rollcall_store::register::session(tx, slot, day)?.is_some() {
            continue;
        }
        if marks::get(tx, slot, day, student)?.is_some_and(|m| m.reason == why) {
            marks::clear(tx, slot, day, student)?;
        }
    }
    Ok(())
}

fn audited(
    tx: &dyn Sql,
    who: &Principal,
    action: &str,
    a: &Activity,
    after: serde_json::Value,
    now: UnixMillis,
) -> Result<(), StoreError> {
    audit::log(
        tx,
        Change {
            actor: &who.actor(),
            action,
            target: format!("activity:{}", a.id),
            before: None,
            after: Some(after),
            at: now,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn a_trip_covers_a_lesson_it_overlaps_by_a_minute_and_not_one_it_only_touches() {
        let lesson = (10 * 60, 11 * 60);
        assert!(covers((9 * 60, 15 * 60), lesson), "wholly");
        assert!(
            covers((10 * 60 + 30, 15 * 60), lesson),
            "leaving mid-lesson"
        );
        assert!(covers((8 * 60, 10 * 60 + 1), lesson), "back a minute in");
        assert!(!covers((11 * 60, 15 * 60), lesson), "leaving as it ends");
        assert!(!covers((8 * 60, 10 * 60), lesson), "back as it starts");
    }
}
