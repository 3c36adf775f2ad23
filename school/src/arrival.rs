//! What a record from a door unit becomes when it arrives: the school's rule, pure, over what
//! the hub's ingest read for it (where the unit is registered, the consent of the students it
//! names, the hub's clock). The ingest keeps the transaction, its savepoints, the metrics and
//! the acknowledgement, and does what the verdict says ([`judge`]):
//!
//! 1. A face that matched nobody, where the school keeps none (`[privacy] unknown_faces =
//!    "discard"`), from a unit too old to have been told: **discarded**, face and all.
//! 2. A member of staff recognised at a gate: **logged** for them if believable ([`vet`]),
//!    else not, and said why.
//! 3. A record not believable ([`vet`]: captured outside the window around the hub's clock, or
//!    naming a student not on the roster): **held** in quarantine with the reason.
//! 4. Otherwise **stored**, as its unit is registered: under the unit's room and facing its
//!    way whatever the record claims (a version-4 unit says no direction); without its face
//!    when the student it names has no consent given (a unit that has not yet had the gallery
//!    without them may still name them: the record counts, the face is not kept); starting in
//!    review as [`standing`] says; and teaching the gallery only when Confident within the band
//!    a Confident capture is learned in ([`Arrival::teaches`]).
//!
//! Standing in review: a Confident record counts at once for its best candidate (approved,
//! nobody asked); an Uncertain or Unknown one waits for a teacher (pending, nobody named yet).
//! The hub's ingest, `class_photo` and the tests' record helpers store through here.

mod vet;

pub use vet::{Doubt, Window, vet};

use std::collections::HashMap;

use rollcall_models::learning::CONFIDENT;
use rollcall_shared::{
    AttendanceRecord, Decision, DeviceId, Direction, StudentId, UnixMillis, UnknownFaces,
};

use crate::staff_faces::Seen;
use rollcall_store::consent;
use rollcall_store::records::{self, Face, Standing, Status};
use rollcall_store::{Sql, StoreError};

/// Where the door unit that sent a record is registered: its records are stored as this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The unit, as the broker authenticated it.
    pub device: DeviceId,
    pub room: String,
    pub direction: Direction,
}

/// What an arriving record is judged by, besides its unit's [`Place`].
#[derive(Clone, Copy, Debug)]
pub struct Judge<'a> {
    /// The hub's clock as the record arrives.
    pub now: UnixMillis,
    pub window: Window,
    /// What the school does with faces that match nobody.
    pub unknown_faces: UnknownFaces,
    /// The students the records name, with where their consent stands (absent: not on the
    /// roster).
    pub roster: &'a HashMap<StudentId, consent::State>,
}

/// What an arriving record becomes (see the module docs).
#[derive(Debug)]
pub enum Verdict {
    /// A face the school keeps none of: dropped, face and all.
    Discard,
    /// A member of staff recognised at a gate: logged, or not because of the doubt.
    Staff(Result<Seen, Doubt>),
    /// Not believed: held in quarantine (or, sent before, a duplicate).
    Hold(Doubt),
    /// Stored, as [`Arrival`] says; the record was made to say what is stored.
    Store(Arrival),
}

/// How a believed record is stored.
#[derive(Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Kept, or forgotten: no consent given for the student it names.
    pub face: Face,
    /// The room the unit claimed, when not the one it is registered in.
    pub claimed_room: Option<String>,
    /// The way the unit claimed to face, when not the way it is registered.
    pub claimed_direction: Option<Direction>,
    /// Whether its face may teach the gallery: Confident, its best candidate within the band
    /// a Confident capture is learned in (the learner checks the rest once it is stored).
    pub teaches: bool,
}

/// Judges `record`, from a unit registered at `place`, and makes it say what is stored: the
/// registered room and direction, and no face when the face is not to be kept.
pub fn judge(record: &mut AttendanceRecord, place: &Place, by: &Judge<'_>) -> Verdict {
    if record.decision == Decision::Unknown && by.unknown_faces == UnknownFaces::Discard {
        return Verdict::Discard;
    }
    let now = by.now.0;
    if let Some(member) = record.staff {
        return Verdict::Staff(vet(record, now, by.window, |_| true).map(|()| Seen {
            record: record.id,
            member,
            device: place.device,
            direction: place.direction,
            at: record.captured_at,
        }));
    }
    if let Err(doubt) = vet(record, now, by.window, |s| by.roster.contains_key(&s)) {
        return Verdict::Hold(doubt);
    }
    let claimed_room = (record.room != place.room)
        .then(|| std::mem::replace(&mut record.room, place.room.clone()));
    let claimed_direction = record
        .direction
        .replace(place.direction)
        .filter(|d| *d != place.direction);
    let named = record.candidates.first().map(|c| by.roster.get(&c.student));
    let faceless = record.decision != Decision::Unknown
        && named.is_some_and(|state| state != Some(&consent::State::Given));
    let face = match faceless {
        true => {
            record.thumbnail = None; // nor kept in quarantine, should the store refuse it
            Face::Forgotten
        }
        false => Face::Kept,
    };
    Verdict::Store(Arrival {
        face,
        claimed_room,
        claimed_direction,
        teaches: may_teach(record),
    })
}

/// Whether `record` could teach the gallery: Confident, and its best candidate within the
/// band a Confident capture is learned in.
fn may_teach(record: &AttendanceRecord) -> bool {
    record.decision == Decision::Confident
        && record
            .candidates
            .first()
            .is_some_and(|c| c.distance <= CONFIDENT.band)
}

/// Where `record` stands in review on arrival (see the module docs).
pub fn standing(record: &AttendanceRecord) -> Standing {
    starting(
        record.decision,
        record.candidates.first().map(|c| c.student),
    )
}

/// Where a face decided `decision`, with `best` its best candidate, stands in review when it
/// is stored (a door's record or a class photo's face alike).
pub fn starting(decision: Decision, best: Option<StudentId>) -> Standing {
    match decision {
        Decision::Confident => Standing {
            status: Status::Approved,
            final_student: best,
        },
        Decision::Uncertain | Decision::Unknown => Standing {
            status: Status::Pending,
            final_student: None,
        },
    }
}

/// Stores `record`, received at `received_at`, standing as [`standing`] says, unless a record
/// with its id is stored already. Returns whether a row was added.
pub fn store(
    conn: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
) -> Result<bool, StoreError> {
    records::insert(conn, record, received_at, standing(record))
}

/// [`store`], without the record's face when `face` says so (a student whose consent is not
/// given: the record counts, the face is not kept).
pub fn store_with(
    conn: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
    face: Face,
) -> Result<bool, StoreError> {
    records::insert_with(conn, record, received_at, standing(record), face)
}

#[cfg(test)]
mod tests;
