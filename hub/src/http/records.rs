//! The review queue: listing records (a teacher sees only records captured in a room during a
//! session of one of their classes), their face crops, and approve / reject / reassign.
//! Marks follow from the review at once: `attendance` reads accepted records on demand.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rollcall_models::quality::QualityGate;
use rollcall_shared::{FaceQuality, ModelId, RecordId, StudentId, UnixMillis};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;

use super::access;
use super::error::ApiError;
use super::request::{Reply, Request};
use crate::attendance::Rules;
use crate::attendance::in_some_session;
use crate::auth::Principal;
use crate::enrol::{MAX_THUMBNAIL_BYTES, Refusal, check_record};
use crate::learn::{How, Learner};
use crate::state::Hub;
use crate::store::audit::{self, Change};
use crate::store::records::{self, RecordView, Review, Status};
use crate::store::school::{self, NewEnrolment, Source};
use crate::store::timetable::Slot;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reassign {
    student: StudentId,
    /// Also enrol the record's embedding for `student`, if it passes the quality gate.
    #[serde(default)]
    add_to_gallery: bool,
}

/// The records `who` may see, newest first: `?status` narrows, `?limit` (200, at most 1000).
pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let status = match req.query::<String>("status")? {
        Some(s) => Some(Status::parse(&s).ok_or_else(|| ApiError::bad("?status: unknown status"))?),
        None => None,
    };
    let limit = req.query::<u32>("limit")?.unwrap_or(200).min(1000);
    Reply::ok(
        hub.read(move |c| visible(c, &w, &rules, status, limit))
            .await?,
    )
}

pub async fn one(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record = req.id("record", "record")?;
    Reply::ok(hub.read(move |c| seen(c, &w, &rules, record)).await?)
}

pub async fn thumbnail(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record = req.id("record", "record")?;
    let read = move |c: &Connection| {
        seen(c, &w, &rules, record)?;
        records::thumbnail(c, record)?.ok_or(ApiError::NotFound("thumbnail".into()))
    };
    Ok(Reply::Jpeg(hub.read(read).await?))
}

pub async fn approve(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide_on(hub, req, who, "approve", None).await
}

pub async fn reject(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide_on(hub, req, who, "reject", None).await
}

pub async fn reassign(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json::<Reassign>()?;
    decide_on(hub, req, who, "reassign", Some(body)).await
}

/// Applies a teacher's decision on the record and audits it.
async fn decide_on(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    action: &'static str,
    reassign: Option<Reassign>,
) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record: RecordId = req.id("record", "record")?;
    let reassign_to = reassign.as_ref().map(|r| r.student);
    let enrol = reassign.is_some_and(|r| r.add_to_gallery);
    let (gate, model) = (hub.config.faces.gate, hub.config.gallery.model.clone());
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &Connection| {
        let verdict = Verdict {
            action,
            reassign_to,
            enrol,
            gate: &gate,
            model: &model,
            actor: &actor,
            now,
        };
        settle(tx, &w, &rules, record, &verdict)
    };
    let (after, learned) = hub.write(move |tx| write(tx)).await?;
    let _record = tracing::info_span!("record", id = %record).entered();
    tracing::info!(by = who.username, status = ?after.status, student = ?after.final_student, "reviewed: {action}");
    if enrol || learned {
        hub.gallery_changed();
    }
    Reply::ok(after)
}

/// A decision on one record and what applying it needs.
pub(super) struct Verdict<'a> {
    /// `approve`, `reject` or `reassign`.
    pub action: &'static str,
    pub reassign_to: Option<StudentId>,
    /// Also enrol a reassigned record's embedding for the student.
    pub enrol: bool,
    pub gate: &'a QualityGate,
    pub model: &'a ModelId,
    pub actor: &'a str,
    pub now: i64,
}

/// Applies `v` to `record` if `who` may see it, lets the gallery learn from it and audits
/// it. Returns the record after, and whether the gallery learned it.
pub(super) fn settle(
    tx: &Connection,
    who: &Principal,
    rules: &Rules,
    record: RecordId,
    v: &Verdict<'_>,
) -> Result<(RecordView, bool), ApiError> {
    let before = seen(tx, who, rules, record)?;
    let review = decide(tx, who, &before, v.action, v.reassign_to, v.actor, v.now)?;
    records::review(tx, record, &review)?;
    if let (true, Some(student)) = (v.enrol, v.reassign_to) {
        let to = GalleryTarget {
            gate: *v.gate,
            model: v.model.clone(),
            student,
        };
        add_to_gallery(tx, &before, &to, v.actor, v.now)?;
    }
    let after = records::get(tx, record)?;
    // What a teacher confirmed may teach the gallery (learn::rules).
    let learner = Learner {
        model: v.model.as_str(),
        gate: v.gate,
    };
    let learned = match after.final_student {
        Some(student) => learner
            .learn(tx, &after, student, How::Reviewed, v.actor, v.now)?
            .is_some(),
        None => false,
    };
    let audit_action = format!("record.{}", v.action);
    let change = Change {
        actor: v.actor,
        action: &audit_action,
        target: format!("record:{record}"),
        before: Some(json!({"status": before.status, "final_student": before.final_student})),
        after: Some(json!({"status": after.status, "final_student": after.final_student})),
        at: v.now,
    };
    audit::log(tx, change)?;
    Ok((after, learned))
}

/// Where a reassigned record's embedding would go, and the rules it must meet.
pub(super) struct GalleryTarget {
    pub gate: QualityGate,
    pub model: ModelId,
    pub student: StudentId,
}

/// Enrols a reassigned record's embedding for the student, if its figures pass the gate.
pub(super) fn add_to_gallery(
    tx: &Connection,
    record: &RecordView,
    to: &GalleryTarget,
    actor: &str,
    now: i64,
) -> Result<(), ApiError> {
    if record.model != to.model.as_str() {
        return Err(ApiError::Conflict(format!(
            "the record was made by model {}, the gallery holds {}",
            record.model, to.model
        )));
    }
    let quality: FaceQuality = serde_json::from_value(record.quality.clone())
        .map_err(|e| ApiError::Internal(format!("record quality: {e}")))?;
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
    conn: &Connection,
    who: &Principal,
    rules: &Rules,
    r: &RecordView,
) -> Result<bool, ApiError> {
    if who.is_admin() {
        return Ok(true);
    }
    let slots = access::slots(conn, who)?;
    Ok(in_some_session(&r.room, r.captured_at.0, &slots, rules))
}

/// The records `who` may see, newest first, at most `limit`.
pub(super) fn visible(
    conn: &Connection,
    who: &Principal,
    rules: &Rules,
    status: Option<Status>,
    limit: u32,
) -> Result<Vec<RecordView>, ApiError> {
    let (ids, _) = visible_ids(conn, who, rules, status, limit as usize, limit as usize)?;
    Ok(ids
        .into_iter()
        .map(|id| records::get(conn, id))
        .collect::<Result<_, _>>()?)
}

/// The ids of the newest `take` records `who` may see, and how many they may see in all,
/// counted up to `count_to` (at least `take`). Decides from the records' keys alone, so only
/// the records shown are read whole.
pub(super) fn visible_ids(
    conn: &Connection,
    who: &Principal,
    rules: &Rules,
    status: Option<Status>,
    take: usize,
    count_to: usize,
) -> Result<(Vec<RecordId>, usize), ApiError> {
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
    records::each_key(conn, status, |key| {
        let shown = who.is_admin()
            || by_room.get(key.room.as_str()).is_some_and(|in_room| {
                in_some_session(&key.room, key.captured_at.0, in_room, rules)
            });
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
pub(super) fn seen(
    conn: &Connection,
    who: &Principal,
    rules: &Rules,
    id: RecordId,
) -> Result<RecordView, ApiError> {
    let record = records::get(conn, id)?;
    match may_see(conn, who, rules, &record)? {
        true => Ok(record),
        false => Err(ApiError::Forbidden(
            "this record is not from your classes".into(),
        )),
    }
}

fn decide<'a>(
    conn: &Connection,
    who: &Principal,
    record: &RecordView,
    action: &str,
    reassign_to: Option<StudentId>,
    actor: &'a str,
    at: i64,
) -> Result<Review<'a>, ApiError> {
    let (status, final_student) = match (action, reassign_to) {
        ("approve", _) => {
            let top = record.candidates.first().ok_or_else(|| {
                ApiError::Conflict(
                    "an Unknown record has no candidate: reassign or reject it".into(),
                )
            })?;
            (Status::Approved, Some(top.student))
        }
        ("reassign", Some(student)) => {
            access::student(conn, who, student)?;
            (Status::Reassigned, Some(student))
        }
        _ => (Status::Rejected, None),
    };
    Ok(Review {
        status,
        final_student,
        by: actor,
        at: UnixMillis(at),
    })
}
