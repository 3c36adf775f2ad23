//! Staff's faces at the gates: a member's consent, and their enrolment photos.
//!
//! - A member of staff consents for themselves, in writing, as a student's parent does
//!   ([`record_consent`]: the same [`Statement`], its `by` the member unless it says
//!   otherwise; `objected` is a student's state and is refused). Refusing or withdrawing
//!   erases every face of theirs the hub holds, at once.
//! - Only with consent given is a photo enrolled ([`save_face`]: the same gate as a
//!   student's photo, run by the caller; the same photo twice is one face).
//! - A gate (a door unit facing in or out) is sent every active member whose consent is given
//!   and who has a face (`rollcall_store::staff_faces::gallery`, chosen by `crate::gallery`);
//!   classroom doors are sent none. What a gate recognises is a staff log entry
//!   ([`recognised`]), in or out as the gate is registered, with the match's confidence.

use chrono::NaiveDate;
use rollcall_models::pipeline::model_id;
use rollcall_shared::{DeviceId, Direction, RecordId, StaffMatch, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::consent::{self, Statement};
use crate::enrol::Accepted;
use crate::staff::StaffError;
use rollcall_store::audit::{self, Change};
use rollcall_store::consent::State;
use rollcall_store::staff::{self, NewEntry, Source, StaffMember};
use rollcall_store::staff_faces::{self as stored, ConsentChange, NewFace, Saved};
use rollcall_store::{Sql, StoreError};

/// A member's consent after a change, and how many faces it erased.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsentRecorded {
    pub consent: State,
    pub erased: usize,
}

/// Records what `member` says of being recognised at the gates (see the module docs).
pub fn record_consent(
    tx: &dyn Sql,
    member: Uuid,
    statement: Statement,
    actor: &str,
    today: NaiveDate,
    now: UnixMillis,
) -> Result<ConsentRecorded, StaffError> {
    let StaffMember { name, code, .. } = staff::get(tx, member)?;
    if statement.state == State::Objected {
        return Err(StaffError::Invalid(
            "a member of staff refuses or withdraws consent themselves: say refused or withdrawn"
                .into(),
        ));
    }
    let statement = Statement {
        by: statement.by.or(Some(name)),
        ..statement
    };
    let statement = statement
        .checked(today)
        .map_err(|e| StaffError::Invalid(e.to_string()))?;
    let before = stored::consent_of(tx, member)?;
    let change = ConsentChange {
        staff: member,
        state: statement.state,
        signed_on: statement.signed_on,
        reference: statement.reference,
        note: statement.note,
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    stored::record_consent(tx, &change)?;
    let erased = match consent::erases(statement.state) {
        true => stored::erase(tx, member)?,
        false => 0,
    };
    audit::log(
        tx,
        Change {
            actor,
            action: "staff.consent",
            target: format!("staff:{member}:{code}"),
            before: Some(json!({"consent": before})),
            after: Some(json!({"consent": change.state, "erased": erased})),
            at: now,
        },
    )?;
    Ok(ConsentRecorded {
        consent: change.state,
        erased,
    })
}

/// Stores `accepted` (a photo past the enrolment gate) as a face of `member`, whose consent
/// must be given; audited. The caller tells the gallery pusher afterwards.
pub fn save_face(
    tx: &dyn Sql,
    actor: &str,
    member: Uuid,
    accepted: &Accepted,
    now: UnixMillis,
) -> Result<Saved, StaffError> {
    let model = model_id();
    let new = NewFace {
        staff: member,
        model: model.as_str(),
        embedding: &accepted.embedding,
        thumbnail: Some(accepted.thumbnail.as_slice()),
        figures: serde_json::to_string(&accepted.quality).ok(),
        photo_sha256: &accepted.photo_sha256,
        at: now,
    };
    let saved = stored::insert_face(tx, &new)?;
    if let Saved::New(face) = saved {
        let after = json!({"face": face, "model": model, "quality": accepted.quality});
        audit::log(
            tx,
            Change {
                actor,
                action: "staff.enrol_photo",
                target: format!("staff:{member}"),
                before: None,
                after: Some(after),
                at: now,
            },
        )?;
    }
    Ok(saved)
}

/// Deletes one of `member`'s faces; audited.
pub fn delete_face(
    tx: &dyn Sql,
    actor: &str,
    member: Uuid,
    face: Uuid,
    now: UnixMillis,
) -> Result<(), StaffError> {
    stored::delete_face(tx, member, face)?;
    audit::log(
        tx,
        Change {
            actor,
            action: "staff.delete_face",
            target: format!("staff:{member}"),
            before: Some(json!({"face": face})),
            after: None,
            at: now,
        },
    )?;
    Ok(())
}

/// Why a gate's recognition of a member of staff was not logged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotLogged {
    #[error("no such member of staff (deleted since the gate's gallery was sent?)")]
    Unknown,
    #[error("the member of staff is not active")]
    Inactive,
    #[error("the member of staff's consent is {0}: their face is not to be recognised")]
    NoConsent(&'static str),
    #[error("the door unit is not registered as a gate (direction in or out)")]
    NotAGate,
}

/// What a gate saw: the record's id, which member, where and when.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub record: RecordId,
    pub member: StaffMatch,
    pub device: DeviceId,
    /// Which way the gate is registered as facing.
    pub direction: Direction,
    pub at: UnixMillis,
}

/// Logs a gate's Confident recognition of a member of staff, under the record's id: an entry
/// in or out as the unit is registered, at the time it was seen (`Ok(false)`: logged before,
/// a resend). A member deleted, made inactive or without consent since the gate's gallery was
/// sent is not logged (the gate's next gallery drops them).
pub fn recognised(tx: &dyn Sql, seen: Seen) -> Result<Result<bool, NotLogged>, StoreError> {
    let Seen {
        record,
        member: seen,
        device,
        direction,
        at,
    } = seen;
    let member = match staff::get(tx, seen.member.0) {
        Ok(member) => member,
        Err(StoreError::NotFound(_)) => return Ok(Err(NotLogged::Unknown)),
        Err(e) => return Err(e),
    };
    if !member.active {
        return Ok(Err(NotLogged::Inactive));
    }
    let consent = stored::consent_of(tx, member.id)?;
    if consent != State::Given {
        return Ok(Err(NotLogged::NoConsent(consent.as_str())));
    }
    if direction == Direction::Both {
        return Ok(Err(NotLogged::NotAGate));
    }
    let entry = NewEntry {
        staff: member.id,
        at,
        direction,
        source: Source::Door,
        device: Some(device),
        confidence: Some(seen.confidence()),
        recorded_by: None,
    };
    Ok(Ok(staff::log_once(tx, record.0, &entry)?))
}
