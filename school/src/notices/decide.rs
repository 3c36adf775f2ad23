//! The office's decision on a family's reply: accepted, each of the child's sessions that day
//! gets the reason's code (an amendment saying who and why in a closed one, an excused mark
//! carrying the code in an open one); rejected with a note, the register is unchanged.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;

use super::reasons::{MAX_NOTE, REASONS};
use crate::access::{self, AccessError};
use crate::attendance::Rules;
use crate::principal::Principal;
use crate::session_rosters;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::notices::{self as stored, Decision, Notice};
use rollcall_store::register::{self, Amendment};
use rollcall_store::{Sql, StoreError, school, timetable, users};

/// Why the office's decision could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("no notice was sent for this student on this day")]
    NoNotice,
    #[error("the family has not replied yet")]
    NoReply,
    #[error("this reply was {0} already")]
    Decided(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The office accepts (the register gets the reason's code) or rejects the family's reply to
/// the notice of `student` on `day` (see the module docs, point 6).
pub fn decide(
    tx: &dyn Sql,
    who: &Principal,
    (student, day): (StudentId, NaiveDate),
    (accept, note): (bool, Option<&str>),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, DecideError> {
    access::student(tx, who, student)?;
    let notice = stored::get(tx, student, day)?.ok_or(DecideError::NoNotice)?;
    let reply = notice.reply.clone().ok_or(DecideError::NoReply)?;
    if let Some(d) = &notice.decision {
        return Err(DecideError::Decided(d.state.clone()));
    }
    let note =
        crate::office::optional_text("note", note, MAX_NOTE).map_err(DecideError::Invalid)?;
    if !accept && note.is_none() {
        return Err(DecideError::Invalid(
            "note: say why the family's reason is not accepted".into(),
        ));
    }
    let by_name = users::by_id(tx, who.user_id)?.display_name;
    if accept {
        let code = REASONS
            .iter()
            .find(|(r, _)| *r == reply.reason)
            .map_or("C", |(_, c)| *c);
        let why = match &note {
            Some(n) => format!(
                "Reported by the family ({}), accepted by {by_name}: {n}",
                reply.reason
            ),
            None => format!(
                "Reported by the family ({}), accepted by {by_name}",
                reply.reason
            ),
        };
        excuse(tx, who, (student, day), (code, &why), &by_name, rules, now)?;
    }
    let decision = Decision {
        state: if accept { "accepted" } else { "rejected" }.into(),
        by: who.username.clone(),
        at: now,
        note,
    };
    stored::decide(tx, student, day, &decision)?;
    audit::log(
        tx,
        Change {
            actor: &who.actor(),
            action: if accept {
                "notice.accept"
            } else {
                "notice.reject"
            },
            target: format!("notice:{student}:{day}"),
            before: Some(json!({"reason": reply.reason})),
            after: Some(json!(decision)),
            at: now,
        },
    )?;
    Ok(Notice {
        decision: Some(decision),
        ..notice
    })
}

/// Gives each of `student`'s sessions of `day` where they are not marked there `code`: an
/// amendment in a closed one, an excused mark carrying it in an open one.
fn excuse(
    tx: &dyn Sql,
    who: &Principal,
    (student, day): (StudentId, NaiveDate),
    (code, why): (&str, &str),
    by_name: &str,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let classes = school::classes_of(tx, student)?;
    let mut slots = Vec::new();
    for class in &classes {
        slots.extend(timetable::slots_of_class(tx, *class)?);
    }
    for session in session_rosters::sessions_between(tx, (&classes, &slots), day, day)? {
        let roster = session_rosters::session_roster(tx, &session, rules, now)?;
        let Some(line) = roster.rows.iter().find(|l| l.student == student) else {
            continue;
        };
        if matches!(line.mark, Some(Mark::Present | Mark::Late)) {
            continue;
        }
        let (slot, target) = (
            session.slot.id,
            format!("session:{}/{day}/student:{student}", session.slot.id),
        );
        if roster.session.locked {
            let amendment = Amendment {
                code: code.into(),
                reason: why.into(),
                by_user: who.username.clone(),
                by_name: by_name.into(),
                by_role: who.role.as_str().into(),
                at: now,
            };
            register::amend(tx, (slot, day, student), &amendment)?;
            audit::log(
                tx,
                Change {
                    actor: &who.actor(),
                    action: "register.amend",
                    target,
                    before: Some(json!({"code": line.code})),
                    after: Some(json!(amendment)),
                    at: now,
                },
            )?;
        } else {
            let mark = Override {
                student,
                mark: Mark::Excused,
                reason: why.into(),
                set_by: who.actor(),
                set_at: now,
                code: Some(code.into()),
            };
            marks::set(tx, slot, day, &mark)?;
            audit::log(
                tx,
                Change {
                    actor: &who.actor(),
                    action: "mark.override",
                    target,
                    before: None,
                    after: Some(json!(mark)),
                    at: now,
                },
            )?;
        }
    }
    Ok(())
}
