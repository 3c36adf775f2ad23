//! Reviewing a record: who may see which records, and what a teacher's approve, reject or
//! reassign does to one (the record's status and the reviewer's note, the gallery learning
//! from it, enrolling its face for the student, the audit). The review routes and the
//! strangers' actions both call [`settle`], so a face is reviewed the same way from either
//! page. An admin may also [`delete`] a wrong record, and what it made follows. Runs inside
//! one database transaction; knows nothing of HTTP.

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use rollcall_models::quality::QualityGate;
use rollcall_shared::{FaceQuality, ModelId, RecordId, StudentId, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access::{self, AccessError};
use crate::attendance::{Rules, in_some_session};
use crate::consent::{self, ConsentError};
use crate::enrol::{MAX_THUMBNAIL_BYTES, Refusal, check_record};
use crate::learn::{How, Learner, Offered};
use crate::principal::Principal;
use crate::principal::SYSTEM_USER;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::Source as MarkSource;
use rollcall_store::records::{self, RecordFilter, RecordView, Review, Status};
use rollcall_store::register::{self as stored_register, Amendment, Entry};
use rollcall_store::school::{self, NewEnrolment, Source};
use rollcall_store::timetable::Slot;
use rollcall_store::users;
use rollcall_store::{Sql, StoreError};

/// The review outcomes that count a record for its `final_student`: the one definition of an
/// accepted record, read by live marks, a closing register's evidence and late amendments.
pub const ACCEPTED: [Status; 2] = [Status::Approved, Status::Reassigned];

/// Why a review could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The record is not in a state the action fits.
    #[error("{0}")]
    Conflict(String),
    /// The record's face does not meet the enrolment gate.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The student has no consent given: their face is not kept.
    #[error(transparent)]
    Consent(#[from] ConsentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a reviewer does with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The top candidate was right.
    Approve,
    /// Nobody we know, or not a face worth marking.
    Reject,
    /// It was this student.
    Reassign(StudentId),
}

impl Action {
    /// The name in the audit log (`record.approve`, …) and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Reassign(_) => "reassign",
        }
    }
}

/// A decision on one record and what applying it needs.
#[derive(Debug)]
pub struct Verdict<'a> {
    pub action: Action,
    /// Also enrol a reassigned record's embedding for the student.
    pub enrol: bool,
    pub gate: &'a QualityGate,
    pub model: &'a ModelId,
    /// The reviewer's note, already checked (1 to [`MAX_NOTE`] characters).
    pub note: Option<&'a str>,
    /// Only if the record still waits for a review: a decision queued on a phone without a
    /// network was made on the card as it was, and must not undo one made since.
    pub pending_only: bool,
    pub actor: &'a str,
    pub now: UnixMillis,
}

/// Longest note a reviewer may leave on a record, or reason for deleting one, in characters.
pub const MAX_NOTE: usize = 500;

/// What became of a reassigned face the reviewer asked to add to the student's photos.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GalleryAnswer {
    /// The face is one of the student's photos now: the door knows them next time.
    pub added: bool,
    /// Why not, in words for the page (no consent, a face too small or turned, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Why not, as a stable code: `no_consent` or a photo refusal's (`too_small`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// A review applied: the record after, whether the gallery learned from it, and, when the
/// reviewer asked to add the face to the student's photos, what came of it.
#[derive(Debug)]
pub struct Settled {
    pub record: RecordView,
    pub learned: bool,
    pub gallery: Option<GalleryAnswer>,
}

/// Applies `v` to `record` if `who` may see it, lets the gallery learn from it and audits
/// it. A reassigned face to be enrolled (`v.enrol`) that the student's consent or the
/// enrolment gate refuses is still reassigned; [`Settled::gallery`] says why it was not added.
pub fn settle(
    tx: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    record: RecordId,
    v: &Verdict<'_>,
) -> Result<Settled, ReviewError> {
    let before = seen(tx, who, rules, record)?;
    if v.pending_only && before.status != Status::Pending {
        let by = match before.reviewed_by.as_deref() {
            Some(by) if by != SYSTEM_USER => by.trim_start_matches("user:"),
            _ => "the hub",
        };
        return Err(ReviewError::Conflict(format!(
            "this face was decided first ({} by {by}): look at it again before changing it",
            before.status.as_str()
        )));
    }
    let mut review = decide(tx, who, &before, v.action, v.actor, v.now)?;
    review.note = v.note;
    records::review(tx, record, &review)?;
    let mut gallery = None;
    if let (true, Action::Reassign(student)) = (v.enrol, v.action) {
        let to = GalleryTarget {
            gate: *v.gate,
            model: v.model.clone(),
            student,
        };
        // Both refusals are found before anything is written.
        gallery = Some(match add_to_gallery(tx, &before, &to, v.actor, v.now) {
            Ok(()) => GalleryAnswer {
                added: true,
                why: None,
                code: None,
            },
            Err(ReviewError::Refused(refusal)) => GalleryAnswer {
                added: false,
                why: Some(refusal.to_string()),
                code: Some(refusal.code()),
            },
            Err(ReviewError::Consent(e)) => GalleryAnswer {
                added: false,
                why: Some(e.to_string()),
                code: Some("no_consent"),
            },
            Err(e) => return Err(e),
        });
    }
    let after = records::get(tx, record)?;
    // What a teacher confirmed may teach the gallery (learn::rules).
    let learner = Learner {
        model: v.model.as_str(),
        gate: v.gate,
    };
    let learned = match after.final_student {
        Some(student) => {
            let embedding = records::embedding(tx, after.id)?;
            let face = Offered {
                record: &after,
                embedding: &embedding,
                student,
                how: How::Reviewed,
                actor: v.actor,
                now: v.now,
            };
            learner.learn(tx, &face)?.is_some()
        }
        None => false,
    };
    let audit_action = format!("record.{}", v.action.as_str());
    let change = Change {
        actor: v.actor,
        action: &audit_action,
        target: format!("record:{record}"),
        before: Some(json!({"status": before.status, "final_student": before.final_student})),
        after: Some(json!({
            "status": after.status, "final_student": after.final_student, "note": v.note,
        })),
        at: v.now,
    };
    audit::log(tx, change)?;
    Ok(Settled {
        record: after,
        learned,
        gallery,
    })
}

/// How long after a review its reviewer may take it back ([`undo`]), in milliseconds.
pub const UNDO_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Takes back a review `who` made in the last [`UNDO_WINDOW_MS`] (an admin: anyone's): the
/// record waits for a review again, faces the gallery learned or was given from it are
/// removed, and it is audited (`record.undo`). Refused, saying why, for a record waiting
/// already, one the door marked itself, another teacher's review, one older than the window,
/// or one a written register cites (the office amends that). Returns the record after and how
/// many faces were removed.
pub fn undo(
    tx: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    record: RecordId,
    now: UnixMillis,
) -> Result<(RecordView, usize), ReviewError> {
    let before = seen(tx, who, rules, record)?;
    let conflict = |why: &str| Err(ReviewError::Conflict(why.to_owned()));
    let actor = who.actor();
    let (by, at) = match (&before.reviewed_by, before.reviewed_at) {
        _ if before.status == Status::Pending => {
            return conflict("this face is waiting for a review: there is nothing to undo");
        }
        (Some(by), Some(at)) if by != SYSTEM_USER => (by, at),
        _ => {
            return conflict(
                "the door or the hub decided this face, not a person: there is no review to undo",
            );
        }
    };
    if by != &actor && !who.is_admin() {
        return conflict("another person reviewed this face: only they or an admin can undo it");
    }
    if now.0.saturating_sub(at.0) > UNDO_WINDOW_MS {
        return conflict(
            "a review can be undone for 10 minutes only: reassign or reject the face instead",
        );
    }
    if !stored_register::citing(tx, record)?.is_empty() {
        return conflict(
            "the lesson's register has been written since: ask the office to amend it",
        );
    }
    let unlearned = school::unlearn(tx, record)?;
    records::reopen(tx, record)?;
    let after = records::get(tx, record)?;
    let change = Change {
        actor: &actor,
        action: "record.undo",
        target: format!("record:{record}"),
        before: Some(json!({
            "status": before.status, "final_student": before.final_student,
            "reviewed_by": before.reviewed_by, "note": before.review_note,
        })),
        after: Some(json!({"status": after.status, "unlearned": unlearned})),
        at: now,
    };
    audit::log(tx, change)?;
    Ok((after, unlearned))
}

/// A closed register entry amended to `N` because the record its code stood on was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unmarked {
    pub slot: Uuid,
    pub day: NaiveDate,
    pub student: StudentId,
}

/// What deleting a record undid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub record: RecordId,
    /// Closed register entries whose code stood on this record alone, amended to `N`.
    pub amended: Vec<Unmarked>,
    /// Faces the gallery had learned from the record, removed.
    pub unlearned: usize,
}

/// Deletes a record an admin found wrong (a stranger named as a student, a face of no one),
/// saying why, and undoes what it made: live marks follow at once (they are read from the
/// records), a closed register entry whose code stood on this record alone is amended to `N`
/// with the reason, and faces the gallery learned from it are removed. Audited with what the
/// record said. The caller checks that `who` is an admin and `reason` is 1 to [`MAX_NOTE`]
/// characters.
pub fn delete(
    tx: &dyn Sql,
    who: &Principal,
    record: RecordId,
    reason: &str,
    now: UnixMillis,
) -> Result<Deleted, ReviewError> {
    let before = records::get(tx, record)?;
    let by_name = users::by_id(tx, who.user_id)?.display_name;
    let mut amended = Vec::new();
    for (slot, day, student) in stored_register::citing(tx, record)? {
        let entry = stored_register::entries(tx, slot, day)?
            .into_iter()
            .find(|e| e.student == student);
        if !entry.is_some_and(|e| stands_on(&e, record)) {
            continue;
        }
        let amendment = Amendment {
            code: "N".into(),
            reason: format!("Record {record} was deleted by {by_name}: {reason}"),
            by_user: who.username.clone(),
            by_name: by_name.clone(),
            by_role: who.role.as_str().to_owned(),
            at: now,
        };
        stored_register::amend(tx, (slot, day, student), &amendment)?;
        amended.push(Unmarked { slot, day, student });
    }
    let unlearned = school::unlearn(tx, record)?;
    records::delete(tx, record)?;
    let change = Change {
        actor: &who.actor(),
        action: "record.delete",
        target: format!("record:{record}"),
        before: Some(json!({
            "room": before.room, "device_id": before.device_id,
            "captured_at": before.captured_at, "decision": before.decision,
            "status": before.status, "final_student": before.final_student,
            "candidates": before.candidates,
        })),
        after: Some(json!({"reason": reason, "amended": amended, "unlearned": unlearned})),
        at: now,
    };
    audit::log(tx, change)?;
    Ok(Deleted {
        record,
        amended,
        unlearned,
    })
}

/// Whether `entry`'s code in force stands on `record` alone: the code written at the close
/// from it and no other record, or an amendment it made (a late record's, whose reason names
/// it), not since amended by someone.
fn stands_on(entry: &Entry, record: RecordId) -> bool {
    match entry.amendments.last() {
        Some(last) => last.by_user == SYSTEM_USER && last.reason.contains(&record.to_string()),
        None => entry.source == MarkSource::Record && entry.evidence == [record],
    }
}

/// Where a reassigned record's embedding would go, and the rules it must meet.
#[derive(Debug)]
pub struct GalleryTarget {
    pub gate: QualityGate,
    pub model: ModelId,
    pub student: StudentId,
}

/// Enrols a reassigned record's embedding for the student, if its figures pass the gate.
pub fn add_to_gallery(
    tx: &dyn Sql,
    record: &RecordView,
    to: &GalleryTarget,
    actor: &str,
    now: UnixMillis,
) -> Result<(), ReviewError> {
    if record.model != to.model.as_str() {
        return Err(ReviewError::Conflict(format!(
            "the record was made by model {}, the gallery holds {}",
            record.model, to.model
        )));
    }
    consent::require(&school::student(tx, to.student)?)?;
    let quality: FaceQuality = serde_json::from_value(record.quality.clone())
        .map_err(|e| StoreError::Corrupt(format!("record {}: quality: {e}", record.id)))?;
    check_record(&to.gate, &quality).map_err(Refusal::from)?;
    let embedding = records::embedding(tx, record.id)?;
    let thumbnail = records::thumbnail(tx, record.id)?.filter(|t| t.len() <= MAX_THUMBNAIL_BYTES);
    let new = NewEnrolment {
        student: to.student,
        model: to.model.as_str(),
        embedding: &embedding,
        quality: Some(f64::from(quality.detector_score)),
        thumbnail: thumbnail.as_deref(),
        figures: Some(record.quality.to_string()),
        source: Source::Review,
        record: Some(record.id),
        at: now,
    };
    let face = school::insert_enrolment(tx, &new)?;
    let change = Change {
        actor,
        action: "student.enrol_record",
        target: format!("student:{}", to.student),
        before: None,
        after: Some(json!({"embedding": face, "record": record.id, "quality": record.quality})),
        at: now,
    };
    Ok(audit::log(tx, change)?)
}

/// Whether `who` may see a record captured in `room` at `captured_at`.
fn may_see(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    r: &RecordView,
) -> Result<bool, AccessError> {
    if who.is_admin() {
        return Ok(true);
    }
    let slots = access::slots(conn, who)?;
    Ok(in_some_session(&r.room, r.captured_at, &slots, rules))
}

/// The records `filter` keeps that `who` may see, newest first, at most `limit`.
pub fn visible(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    filter: &RecordFilter,
    limit: u32,
) -> Result<Vec<RecordView>, AccessError> {
    let (ids, _) = visible_ids(conn, who, rules, filter, limit as usize, limit as usize)?;
    Ok(ids
        .into_iter()
        .map(|id| records::get(conn, id))
        .collect::<Result<_, _>>()?)
}

/// The ids of the newest `take` records `filter` keeps that `who` may see, and how many they
/// may see in all, counted up to `count_to` (at least `take`). Decides from the records' keys
/// alone, so only the records shown are read whole.
pub fn visible_ids(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    filter: &RecordFilter,
    take: usize,
    count_to: usize,
) -> Result<(Vec<RecordId>, usize), AccessError> {
    let slots = match who.is_admin() {
        true => Vec::new(),
        false => access::slots(conn, who)?,
    };
    // Each record is checked against its own room's slots only: a school has hundreds.
    let mut by_room: HashMap<&str, Vec<Slot>> = HashMap::new();
    for slot in &slots {
        by_room.entry(&slot.room).or_default().push(slot.clone());
    }
    let (mut ids, mut count) = (Vec::new(), 0);
    if count_to == 0 || (!who.is_admin() && by_room.is_empty()) {
        return Ok((ids, count));
    }
    records::each_key(conn, filter, |key| {
        let shown = who.is_admin()
            || by_room
                .get(key.room.as_str())
                .is_some_and(|in_room| in_some_session(&key.room, key.captured_at, in_room, rules));
        if shown {
            if ids.len() < take {
                ids.push(key.id);
            }
            count += 1;
        }
        match count < count_to {
            true => ControlFlow::Continue(()),
            false => ControlFlow::Break(()),
        }
    })?;
    Ok((ids, count))
}

/// The record, if `who` may see it.
pub fn seen(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    id: RecordId,
) -> Result<RecordView, AccessError> {
    let record = records::get(conn, id)?;
    match may_see(conn, who, rules, &record)? {
        true => Ok(record),
        false => Err(AccessError::Forbidden(
            "this record is not from your classes",
        )),
    }
}

/// The review `action` writes on `record`, if it fits the record.
fn decide<'a>(
    conn: &dyn Sql,
    who: &Principal,
    record: &RecordView,
    action: Action,
    actor: &'a str,
    at: UnixMillis,
) -> Result<Review<'a>, ReviewError> {
    let (status, final_student) = match action {
        Action::Approve => {
            let top = record.candidates.first().ok_or_else(|| {
                ReviewError::Conflict(
                    "an Unknown record has no candidate: reassign or reject it".into(),
                )
            })?;
            (Status::Approved, Some(top.student))
        }
        Action::Reassign(student) => {
            access::student(conn, who, student)?;
            (Status::Reassigned, Some(student))
        }
        Action::Reject => (Status::Rejected, None),
    };
    Ok(Review {
        status,
        final_student,
        by: actor,
        at,
        note: None,
    })
}
