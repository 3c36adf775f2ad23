//! A teacher's override of one student's mark while the session is open: allowed on a session
//! of one of their classes, for a student of that class, until the register is written (after
//! that a mark changes only by amendment, `register`). Each change is audited with the mark
//! before and after. Runs inside one database transaction; knows nothing of HTTP. The rules'
//! floor: the SQL is `rollcall_store::marks`, the route `rollcall_hub::http::register::sessions`.

use std::collections::HashSet;

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::access::{self, AccessError};
use crate::attendance::Rules;
use crate::principal::Principal;
use crate::session_rosters;
use rollcall_store::StoreError;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::{Sql, register, school};

/// Why a mark could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(
        "this session's register is closed: change an entry by amending it with a code and a \
         reason (POST /sessions/{{slot}}/{{day}}/amendments/{{student}})"
    )]
    RegisterClosed,
    #[error("mark: not_required is set by an attendance code once the session closes")]
    NotRequired,
    #[error("student in this class")]
    NotInClass,
    /// A register taken at once that names a pupil twice, or names too many.
    #[error("{0}")]
    Invalid(String),
    /// A pupil marked since the page was drawn: the teacher should look again.
    #[error("{0}")]
    MarkedSince(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One student's mark in one session.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub slot: Uuid,
    pub day: NaiveDate,
    pub student: StudentId,
}

/// What a teacher sets: a mark and the reason for it.
#[derive(Clone, Debug)]
pub struct NewMark {
    pub mark: Mark,
    pub reason: String,
}

/// Sets `who`'s override of the mark at `at` (or clears it with `None`), audited as `actor`.
pub fn change(
    tx: &dyn Sql,
    who: &Principal,
    at: Target,
    new: Option<NewMark>,
    actor: &str,
    now: UnixMillis,
) -> Result<(), MarkError> {
    let Target { slot, day, student } = at;
    let session = session_rosters::session(tx, slot, day)?;
    access::class(tx, who, session.slot.class_id)?;
    if register::session(tx, slot, day)?.is_some() {
        return Err(MarkError::RegisterClosed);
    }
    if new.as_ref().is_some_and(|n| n.mark == Mark::NotRequired) {
        return Err(MarkError::NotRequired);
    }
    if !school::classes_of(tx, student)?.contains(&session.slot.class_id) {
        return Err(MarkError::NotInClass);
    }
    let before = marks::get(tx, slot, day, student)?;
    let after = match new {
        Some(n) => {
            let o = Override {
                student,
                mark: n.mark,
                reason: n.reason,
                set_by: actor.to_owned(),
                set_at: now,
                code: None,
            };
            marks::set(tx, slot, day, &o)?;
            Some(o)
        }
        None => {
            marks::clear(tx, slot, day, student)?;
            None
        }
    };
    let change = Change {
        actor,
        action: match after {
            Some(_) => "mark.override",
            None => "mark.clear",
        },
        target: format!("session:{slot}/{day}/student:{student}"),
        before: before.map(|b| json!(b)),
        after: after.map(|a| json!(a)),
        at: now,
    };
    Ok(audit::log(tx, change)?)
}

/// "All present except…" for the pupils of a lesson nobody has marked: who was there, who was
/// not, who came late, given at once. Every other pupil is left as they are.
#[derive(Clone, Debug, Default)]
pub struct Taken {
    pub present: Vec<StudentId>,
    pub absent: Vec<StudentId>,
    pub late: Vec<StudentId>,
}

/// The reason each mark of a register taken at once carries.
pub const TAKEN: &str =
    "register taken by the teacher: all present except those marked absent or late";

/// Most pupils a register taken at once names.
pub const MAX_TAKEN: usize = 200;

/// Gives each pupil of `taken` their mark in the lesson of `slot` on `day`, in one transaction:
/// each must be of the lesson's class and not marked yet (a door, a card or a teacher may have
/// marked one since the page was drawn: then nothing is given, and the teacher looks again).
/// How many were marked.
pub fn take(
    tx: &dyn Sql,
    who: &Principal,
    (slot, day): (Uuid, NaiveDate),
    taken: &Taken,
    (rules, actor, now): (&Rules, &str, UnixMillis),
) -> Result<usize, MarkError> {
    let lists = [
        (Mark::Present, &taken.present),
        (Mark::Absent, &taken.absent),
        (Mark::Late, &taken.late),
    ];
    if lists.iter().map(|(_, l)| l.len()).sum::<usize>() > MAX_TAKEN {
        return Err(MarkError::Invalid(format!(
            "at most {MAX_TAKEN} pupils at once"
        )));
    }
    let session = session_rosters::session(tx, slot, day)?;
    access::class(tx, who, session.slot.class_id)?;
    if register::session(tx, slot, day)?.is_some() {
        return Err(MarkError::RegisterClosed);
    }
    let roster = session_rosters::session_roster(tx, &session, rules, now)?;
    let mut named = HashSet::new();
    for (mark, list) in lists {
        for &student in list {
            if !named.insert(student) {
                return Err(MarkError::Invalid(format!(
                    "{student}: named twice in one register"
                )));
            }
            let row = roster.rows.iter().find(|r| r.student == student);
            let row = row.ok_or(MarkError::NotInClass)?;
            if row.mark.is_some() {
                return Err(MarkError::MarkedSince(format!(
                    "{} was marked since the page was drawn: look at the lesson again",
                    row.name
                )));
            }
            let new = NewMark {
                mark,
                reason: TAKEN.into(),
            };
            let at = Target { slot, day, student };
            change(tx, who, at, Some(new), actor, now)?;
        }
    }
    Ok(named.len())
}
