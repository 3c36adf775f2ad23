//! Pupils who leave during the day and come back (issue 70): reception signs a pupil out with a
//! reason (a medical appointment, ill, collected by a named adult) and back in.
//!
//! 1. Signing out gives each of the pupil's lessons today that has not started yet (and is not
//!    written) an excused mark carrying the reason's code (`M` medical, `I` ill, `C`
//!    collected), saying who signed them out, when and why. A lesson under way keeps what its
//!    register has: they were there and left.
//! 2. Signing back in takes that mark off each lesson not over by then, so the door or the
//!    teacher marks them as they come in; a mark someone changed since is left as it is.
//! 3. Reception is a door: a sign-out is a movement out and a sign-in one in
//!    ([`SignOut::movements`]), so the on-site list, the roll call and who is in school for
//!    `crate::missing` follow, and a pupil signed out is never missing.
//!
//! A pupil is signed out once at a time; every change is audited, naming the pupil by id.

use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::attendance::Rules;
use crate::office;
use crate::principal::Principal;
use crate::session_rosters;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::sign_outs::{self as stored, Reason, SignOut};
use rollcall_store::{Sql, StoreError, school};

/// Longest name of the adult who collects, or note, in characters.
pub const MAX_TEXT: usize = 200;

/// What reception gives when a pupil leaves.
#[derive(Clone, Debug)]
pub struct Leaving {
    pub reason: Reason,
    pub collected_by: Option<String>,
    pub note: Option<String>,
}

/// Why a pupil could not be signed out or in.
#[derive(Debug, thiserror::Error)]
pub enum SignOutError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The register's code of each reason.
pub fn code(reason: Reason) -> &'static str {
    match reason {
        Reason::Medical => "M",
        Reason::Ill => "I",
        Reason::Collected => "C",
    }
}

/// What the lessons' marks say of a sign-out: the same words on every lesson it covers, which
/// is how signing back in knows its own marks.
pub fn words(s: &SignOut, rules: &Rules) -> String {
    let minute = rules.zone.local(s.out_at.0).minute;
    let at = session_rosters::hhmm(minute);
    let why = match (s.reason, &s.collected_by) {
        (Reason::Medical, _) => "medical appointment".to_owned(),
        (Reason::Ill, _) => "ill".to_owned(),
        (Reason::Collected, Some(by)) => format!("collected by {by}"),
        (Reason::Collected, None) => "collected".to_owned(),
    };
    match &s.note {
        Some(note) => format!("Signed out at reception at {at} ({why}): {note}"),
        None => format!("Signed out at reception at {at} ({why})"),
    }
}

/// Signs `student` out at `now` (see the module docs).
pub fn sign_out(
    tx: &dyn Sql,
    who: &Principal,
    student: StudentId,
    leaving: Leaving,
    rules: &Rules,
    now: UnixMillis,
) -> Result<SignOut, SignOutError> {
    let pupil = school::student(tx, student)?;
    if !pupil.profile.active {
        return Err(SignOutError::Invalid(format!(
            "{} has left the school",
            pupil.name
        )));
    }
    let collected_by =
        office::optional_text("collected_by", leaving.collected_by.as_deref(), MAX_TEXT)
            .map_err(SignOutError::Invalid)?;
    let note = office::optional_text("note", leaving.note.as_deref(), MAX_TEXT)
        .map_err(SignOutError::Invalid)?;
    if leaving.reason == Reason::Collected && collected_by.is_none() {
        return Err(SignOutError::Invalid(
            "collected_by: name the adult who collects them".into(),
        ));
    }
    if stored::still_out(tx, student)?.is_some() {
        return Err(SignOutError::Conflict(format!(
            "{} is signed out already: sign them back in first",
            pupil.name
        )));
    }
    let out = SignOut {
        id: Uuid::now_v7(),
        student,
        day: rules.local_day(now),
        out_at: now,
        reason: leaving.reason,
        collected_by,
        note,
        signed_out_by: who.actor(),
        back_at: None,
        signed_in_by: None,
    };
    stored::insert(tx, &out)?;
    let why = words(&out, rules);
    for session in session_rosters::lessons_of(tx, student, out.day)? {
        let roster = session_rosters::session_roster(tx, &session, rules, now)?;
        if roster.session.locked || roster.session.starts_at < now {
            continue;
        }
        let mark = Override {
            student,
            mark: Mark::Excused,
            reason: why.clone(),
            set_by: who.actor(),
            set_at: now,
            code: Some(code(out.reason).into()),
        };
        marks::set(tx, session.slot.id, session.day, &mark)?;
    }
    audited(tx, who, "pupil.sign_out", &out, now)?;
    Ok(out)
}

/// Signs the pupil of sign-out `id` back in at `now` (see the module docs).
pub fn sign_in(
    tx: &dyn Sql,
    who: &Principal,
    id: Uuid,
    rules: &Rules,
    now: UnixMillis,
) -> Result<SignOut, SignOutError> {
    let out = stored::get(tx, id)?;
    if now < out.out_at {
        return Err(SignOutError::Invalid(
            "the hub's clock is before the sign-out: check the time and try again".into(),
        ));
    }
    if !stored::sign_in(tx, id, now, &who.actor())? {
        return Err(SignOutError::Conflict("signed back in already".into()));
    }
    let why = words(&out, rules);
    for session in session_rosters::lessons_of(tx, out.student, out.day)? {
        let Some(mark) = marks::get(tx, session.slot.id, session.day, out.student)? else {
            continue;
        };
        if mark.reason != why || session.ends_at(rules) <= now {
            continue;
        }
        marks::clear(tx, session.slot.id, session.day, out.student)?;
    }
    let back = stored::get(tx, id)?;
    audited(tx, who, "pupil.sign_in", &back, now)?;
    Ok(back)
}

fn audited(
    tx: &dyn Sql,
    who: &Principal,
    action: &str,
    s: &SignOut,
    now: UnixMillis,
) -> Result<(), StoreError> {
    audit::log(
        tx,
        Change {
            actor: &who.actor(),
            action,
            target: format!("student:{}", s.student),
            before: None,
            after: Some(json!({
                "sign_out": s.id,
                "reason": s.reason,
                "out_at": s.out_at,
                "back_at": s.back_at,
            })),
            at: now,
        },
    )
}
