//! Consent to recognise a student's face, the school's rules for it in one place.
//!
//! In England a school may process a child's biometric data only with a parent's written
//! consent, must stop when a parent withdraws it or the child objects, and must offer another
//! way to be registered (Protection of Freedoms Act 2012, ss. 26–28); GDPR Art. 9 and BIPA ask
//! the same in their terms. So:
//!
//! - only a student whose consent is [`State::Given`] is enrolled ([`require`]), learned from
//!   ([`allows`]) or sent to a door unit (`gallery::target` reads the same column);
//! - a change is a [`Statement`] that says what the law needs for its state (consent given:
//!   by whom, the date on the form, the form's reference), recorded with who recorded it and
//!   audited ([`record`]);
//! - refusal, withdrawal or objection erases the student's faces at once on the hub
//!   ([`erase_faces`]: templates, enrolment crops, the crops and templates of their records);
//!   door units drop them with the next gallery push. Register entries stay;
//! - a student without consent is registered by hand: teachers' pages say so.
//!
//! The rules' floor: its SQL is `rollcall_store::consent`, its routes
//! `rollcall_hub::http::people::consent`; handlers, the roster import and the command line call it.

use chrono::{Datelike, NaiveDate};
use rollcall_shared::{StudentId, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::json;

use rollcall_store::audit::{self, Change};
use rollcall_store::consent::{self as stored, State};
use rollcall_store::school::Student;
use rollcall_store::{Sql, StoreError, gallery, quarantine, records};

/// Longest name of whoever gave or refused consent, in characters.
const MAX_BY: usize = 200;
/// Longest form reference, in characters.
const MAX_REFERENCE: usize = 200;
/// Longest note, in characters.
const MAX_NOTE: usize = 1000;
/// Who objects when an objection names nobody.
const THE_STUDENT: &str = "the student";

/// Why consent could not be recorded or a face used.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The statement does not say what its state needs.
    #[error("{0}")]
    Invalid(String),
    /// The student's face may not be used: nobody has consented.
    #[error(
        "{name}'s consent is {state}: record a parent's written consent (the student page, \
         PUT /students/{{id}}/consent or the roster's consent column) before enrolling their face",
        state = .state.as_str()
    )]
    NotGiven { name: String, state: State },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an admin says of a student's consent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub state: State,
    /// Who gave, refused, withdrew or objected ("Jane Doe (mother)").
    #[serde(default)]
    pub by: Option<String>,
    /// The date on the signed form (`YYYY-MM-DD`).
    #[serde(default)]
    pub signed_on: Option<NaiveDate>,
    /// The signed form's reference in the school's files.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Statement {
    /// The statement with its texts trimmed, if it says what its state needs: consent given
    /// names who gave it, the form's date (not after `today`) and its reference; a refusal or
    /// withdrawal names who made it; an objection is the student's unless it says otherwise.
    pub fn checked(self, today: NaiveDate) -> Result<Statement, ConsentError> {
        let by = text("by", self.by, MAX_BY)?;
        let reference = text("reference", self.reference, MAX_REFERENCE)?;
        let note = text("note", self.note, MAX_NOTE)?;
        let missing = |what: &str| {
            let state = self.state.as_str();
            Err(ConsentError::Invalid(format!(
                "consent {state} must say {what}"
            )))
        };
        let by = match self.state {
            State::Given | State::Refused | State::Withdrawn if by.is_none() => {
                return missing("by whom (`by`)");
            }
            State::Objected => by.or_else(|| Some(THE_STUDENT.to_owned())),
            _ => by,
        };
        if self.state == State::Given {
            if self.signed_on.is_none() {
                return missing("the date on the signed form (`signed_on`)");
            }
            if reference.is_none() {
                return missing("the signed form's reference (`reference`)");
            }
        }
        if let Some(day) = self.signed_on.filter(|d| *d > today || d.year() < 2000) {
            return Err(ConsentError::Invalid(format!(
                "signed_on: {day} is not a date a form was signed (2000 to today, {today})"
            )));
        }
        Ok(Statement {
            state: self.state,
            by,
            signed_on: self.signed_on,
            reference,
            note,
        })
    }
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ConsentError> {
    crate::office::optional_text(field, value.as_deref(), max).map_err(ConsentError::Invalid)
}

/// What erasing a student's faces took away on the hub.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Templates and the enrolment crops beside them.
    pub templates: usize,
    /// Door records that are their face (confirmed as them, or waiting with them named).
    pub records: usize,
    /// Held-back records naming them.
    pub held_back: usize,
}

impl Erased {
    pub fn any(&self) -> bool {
        self.templates + self.records + self.held_back > 0
    }
}

/// A change as recorded: the state before and after, and what it erased.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recorded {
    pub student: StudentId,
    pub before: State,
    pub state: State,
    pub erased: Erased,
}

/// Records `statement` (already [`Statement::checked`]) as `student`'s consent, by `actor`
/// at `now`, and audits it. A refusal, withdrawal or objection erases the student's faces on
/// the hub in the same transaction; the caller pushes galleries so door units drop them too.
pub fn record(
    tx: &dyn Sql,
    student: StudentId,
    statement: &Statement,
    actor: &str,
    now: UnixMillis,
) -> Result<Recorded, ConsentError> {
    let before = stored::state_of(tx, student)?;
    let change = stored::Change {
        student,
        state: statement.state,
        by: statement.by.clone(),
        signed_on: statement.signed_on,
        reference: statement.reference.clone(),
        note: statement.note.clone(),
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    stored::record(tx, &change)?;
    let erased = match erases(statement.state) {
        true => erase_faces(tx, student)?,
        false => Erased::default(),
    };
    audit::log(
        tx,
        Change {
            actor,
            action: "consent.set",
            target: format!("student:{student}"),
            before: Some(json!({"state": before})),
            after: Some(json!({"consent": change, "erased": erased})),
            at: now,
        },
    )?;
    Ok(Recorded {
        student,
        before,
        state: statement.state,
        erased,
    })
}

/// Whether a change to `state` takes the student's faces away: a parent said no, withdrew,
/// or the student objects.
pub fn erases(state: State) -> bool {
    matches!(state, State::Refused | State::Withdrawn | State::Objected)
}

/// Whether `student`'s face may be enrolled, learned from or sent to a door unit.
pub fn allows(tx: &dyn Sql, student: StudentId) -> Result<bool, StoreError> {
    Ok(stored::state_of(tx, student)? == State::Given)
}

/// [`allows`] for a student already read, as an error naming them and their state when it
/// does not.
pub fn require(student: &Student) -> Result<(), ConsentError> {
    match student.consent {
        State::Given => Ok(()),
        state => Err(ConsentError::NotGiven {
            name: student.name.clone(),
            state,
        }),
    }
}

/// Deletes every face of `student` the hub holds: their templates with the enrolment crops
/// beside them, the copies in the galleries remembered as sent to door units, the door
/// records that are their face, and held-back records naming them. Register entries are not
/// touched.
pub fn erase_faces(tx: &dyn Sql, student: StudentId) -> Result<Erased, StoreError> {
    gallery::forget_faces(tx, student)?;
    Ok(Erased {
        templates: stored::erase_templates(tx, student)?,
        records: records::erase_faces_of(tx, student)?,
        held_back: quarantine::erase_faces_of(tx, student)?,
    })
}

#[cfg(test)]
mod tests;
