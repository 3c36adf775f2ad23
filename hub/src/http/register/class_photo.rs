//! `POST /sessions/{slot}/{day}/photos`: the register from class photos
//! (`rollcall_school::class_photo`). A request's life: the form read (its photos, and when they
//! were taken); the lesson looked up (the teacher's own, its register not yet written, the photo
//! taken during it) with its class's names and gallery; each photo read on the blocking pool and
//! its faces judged against the class; every kept face stored in one transaction and audited; the
//! answer gives every face's box and name, for the page to draw over the photo the teacher still
//! has.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rollcall_models::matching::Gallery;
use rollcall_shared::{RecordId, StudentId, UnixMillis, UnknownFaces};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::multipart::{self, Part};
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::attendance::Session;
use rollcall_school::class_photo::{self, Judgement, Photo, Rule, SeenFace, Taken};
use rollcall_school::enrol::{Enroller, Refusal};
use rollcall_school::gallery;
use rollcall_school::principal::Principal;
use rollcall_school::session_rosters;
use rollcall_store::audit::{self, Change};
use rollcall_store::school;
use rollcall_store::{Sql, StoreError};

/// One uploaded photo, read and judged, or why it could not be.
struct Read {
    label: String,
    outcome: Result<(Photo, Vec<Option<Judgement>>), Refusal>,
}

/// What an upload is for: the lesson, when its photos were taken, and the hub's time once its
/// form was read (one instant for its checks, its records and its audit line).
#[derive(Clone, Copy, Debug)]
struct Upload {
    slot: Uuid,
    day: NaiveDate,
    taken_at: UnixMillis,
    now: UnixMillis,
}

/// The lesson's class: its session, its students' names and the faces a door in its room
/// would know.
struct Class {
    session: Session,
    names: HashMap<StudentId, String>,
    gallery: Gallery<StudentId>,
}

pub async fn upload(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    let enroller = hub.faces.clone().ok_or_else(|| {
        ApiError::Unavailable("class photos need the face models (faces.enabled = false)".into())
    })?;
    let (photos, taken_at) = form(req, hub.now())?;
    let upload = Upload {
        slot,
        day,
        taken_at,
        now: hub.now(),
    };
    let class = class(hub, who, upload, &enroller).await?;
    let read = read_photos(photos, &enroller, &class.gallery).await?;
    if read.iter().all(|r| r.outcome.is_err()) {
        return Err(unreadable(read));
    }
    let (kept, read) = store(hub, who, upload, &class.session, &enroller, read).await?;
    answer(upload, &read, &kept, &class.names)
}

/// The lesson, checked (see the module docs), with the class's names and the faces a door in
/// its room would know.
async fn class(
    hub: &Hub,
    who: &Principal,
    upload: Upload,
    enroller: &Enroller,
) -> Result<Class, ApiError> {
    let Upload {
        slot,
        day,
        taken_at,
        now,
    } = upload;
    let (w, rules, model) = (who.clone(), hub.config.rules(), enroller.model());
    let lesson = hub
        .read(move |c: &dyn Sql| {
            let session = session_rosters::session(c, slot, day)?;
            access::class(c, &w, session.slot.class_id)?;
            if session_rosters::view(c, &session, &rules, now)?.locked {
                return Err(ApiError::Conflict(
                    "the register of this lesson is written: amend it instead".into(),
                ));
            }
            class_photo::check_taken_at(&session, &rules, taken_at, now)
                .map_err(ApiError::BadRequest)?;
            let names: HashMap<StudentId, String> = school::members(c, session.slot.class_id)?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            let known = gallery::of_class(c, session.slot.class_id, &model)?;
            Ok::<_, ApiError>((session, names, known))
        })
        .await?;
    let (session, names, known) = lesson;
    let pairs = known
        .iter()
        .flat_map(|e| e.embeddings.iter().map(|x| (e.student, *x)));
    let gallery = Gallery::try_from_iter(pairs)
        .map_err(|e| ApiError::Internal(format!("the class's gallery: {e}")))?;
    Ok(Class {
        session,
        names,
        gallery,
    })
}

/// Each photo read on the blocking pool, one after the other, and its faces judged against
/// `class`.
async fn read_photos(
    photos: Vec<Part>,
    enroller: &Arc<Enroller>,
    class: &Gallery<StudentId>,
) -> Result<Vec<Read>, ApiError> {
    let mut read = Vec::with_capacity(photos.len());
    for (i, part) in photos.into_iter().enumerate() {
        let label = part
            .filename
            .clone()
            .unwrap_or_else(|| format!("photo {}", i + 1));
        let enroller = enroller.clone();
        let outcome = tokio::task::spawn_blocking(move || class_photo::read(&enroller, &part.data))
            .await
            .map_err(|e| ApiError::Internal(format!("face pipeline task: {e}")))?
            .map(|photo| {
                let evidence: Vec<_> = photo.faces.iter().map(SeenFace::evidence).collect();
                let judgements = class_photo::judge(&evidence, class, &Rule::CLASS_PHOTO);
                (photo, judgements)
            });
        read.push(Read { label, outcome });
    }
    Ok(read)
}

/// The error when no photo could be read: the first photo's refusal, with every photo's.
fn unreadable(read: Vec<Read>) -> ApiError {
    let photos = read
        .iter()
        .map(|r| refused(r).unwrap_or(Value::Null))
        .collect();
    let first = read.into_iter().find_map(|r| r.outcome.err());
    ApiError::Photo {
        refusal: first.unwrap_or(Refusal::NoFace),
        photos: Some(Value::Array(photos)),
    }
}

/// Every kept face in one transaction, with one line in the audit log: the records kept of
/// each photo (none for one not read), and the photos back.
async fn store(
    hub: &Hub,
    who: &Principal,
    upload: Upload,
    session: &Session,
    enroller: &Enroller,
    read: Vec<Read>,
) -> Result<(Vec<Vec<Option<RecordId>>>, Vec<Read>), ApiError> {
    let Upload {
        slot,
        day,
        taken_at,
        now,
    } = upload;
    let (actor, unknown_faces) = (who.actor(), hub.config.privacy.unknown_faces);
    let room = session.slot.room.clone();
    let target = class_photo::target(slot, day);
    let model = enroller.model();
    hub.write(move |tx: &dyn Sql| {
        let taken = Taken {
            room: &room,
            at: taken_at,
            by: &actor,
        };
        let kept = keep_photos(tx, taken, &read, unknown_faces, model.as_str(), now)?;
        let summary = summary(&read, &kept, taken_at);
        let change = Change {
            actor: &actor,
            action: "class_photo.read",
            target,
            before: None,
            after: Some(summary),
            at: now,
        };
        audit::log(tx, change)?;
        Ok::<_, ApiError>((kept, read))
    })
    .await
}

/// The records kept of each photo's faces, in order (none of a photo not read).
fn keep_photos(
    tx: &dyn Sql,
    taken: Taken<'_>,
    read: &[Read],
    unknown_faces: UnknownFaces,
    model: &str,
    now: UnixMillis,
) -> Result<Vec<Vec<Option<RecordId>>>, StoreError> {
    let mut kept = Vec::with_capacity(read.len());
    for r in read {
        kept.push(match &r.outcome {
            Ok((photo, judgements)) => class_photo::keep(
                tx,
                taken,
                &photo.faces,
                judgements,
                unknown_faces,
                model,
                now,
            )?,
            Err(_) => Vec::new(),
        });
    }
    Ok(kept)
}

/// The answer: every photo with its faces, the students it marked, and how many records wait
/// for a teacher.
fn answer(
    upload: Upload,
    read: &[Read],
    kept: &[Vec<Option<RecordId>>],
    names: &HashMap<StudentId, String>,
) -> Result<Reply, ApiError> {
    let name = |s: &StudentId| names.get(s).cloned();
    let photos: Vec<Value> = read
        .iter()
        .zip(kept)
        .map(|(r, ids)| refused(r).unwrap_or_else(|| answered(r, ids, &name)))
        .collect();
    let waiting = kept
        .iter()
        .flatten()
        .flatten()
        .count()
        .saturating_sub(confident_count(read, kept));
    Reply::created(json!({
        "slot_id": upload.slot,
        "day": upload.day,
        "taken_at": upload.taken_at,
        "photos": photos,
        "marked": marked(read, &name),
        "waiting": waiting,
    }))
}

/// The students named Confident in any photo, each once, in id order.
fn marked(read: &[Read], name: &dyn Fn(&StudentId) -> Option<String>) -> Vec<Value> {
    let mut marked: Vec<StudentId> = read
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .flat_map(|(_, judgements)| judgements.iter().flatten().filter_map(Judgement::named))
        .collect();
    marked.sort();
    marked.dedup();
    marked
        .iter()
        .map(|s| json!({"student": s, "name": name(s)}))
        .collect()
}

/// The photos of the form, and when they were taken (`taken_at`, Unix ms; now when absent).
fn form(req: &Request, now: UnixMillis) -> Result<(Vec<Part>, UnixMillis), ApiError> {
    let parts = multipart::form(req, "the class photos")?;
    let taken_at = match parts.iter().find(|p| p.name.as_deref() == Some("taken_at")) {
        None => now,
        Some(part) => std::str::from_utf8(&part.data)
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .map(UnixMillis)
            .ok_or_else(|| {
                ApiError::bad("taken_at: when the photo was taken, in Unix milliseconds")
            })?,
    };
    let photos: Vec<Part> = parts.into_iter().filter(multipart::is_photo).collect();
    if photos.is_empty() {
        return Err(ApiError::bad(
            "no photos in the upload (send file parts named \"photo\")",
        ));
    }
    Ok((photos, taken_at))
}

fn confident_count(read: &[Read], kept: &[Vec<Option<RecordId>>]) -> usize {
    read.iter()
        .zip(kept)
        .filter_map(|(r, ids)| r.outcome.as_ref().ok().map(|(_, j)| (j, ids)))
        .flat_map(|(judgements, ids)| judgements.iter().zip(ids))
        .filter(|(j, id)| id.is_some() && j.as_ref().and_then(Judgement::named).is_some())
        .count()
}

/// A photo that could not be read, as the answer lists it.
fn refused(r: &Read) -> Option<Value> {
    let refusal = r.outcome.as_ref().err()?;
    let error = json!({"code": refusal.code(), "message": refusal.to_string()});
    Some(json!({"photo": r.label, "error": error}))
}

/// A photo read, with every face: its box, what it was judged, the student named and the
/// record kept.
fn answered(
    r: &Read,
    ids: &[Option<RecordId>],
    name: &dyn Fn(&StudentId) -> Option<String>,
) -> Value {
    let Ok((photo, judgements)) = &r.outcome else {
        return Value::Null;
    };
    let faces: Vec<Value> = photo
        .faces
        .iter()
        .zip(judgements)
        .zip(ids.iter().copied().chain(std::iter::repeat(None)))
        .map(|((face, judgement), record)| {
            let candidates: Vec<Value> = judgement
                .iter()
                .flat_map(|v| &v.candidates)
                .map(|c| json!({"student": c.student, "name": name(&c.student), "distance": c.distance}))
                .collect();
            let named = judgement.as_ref().and_then(Judgement::named);
            json!({
                "box": face.bbox.map(f32::round),
                "grade": face.grade,
                "issue": face.issue.map(|i| i.to_string()),
                "decision": judgement.as_ref().map(|j| j.decision),
                "student": named,
                "name": named.as_ref().and_then(name),
                "candidates": candidates,
                "record": record,
            })
        })
        .collect();
    json!({"photo": r.label, "width": photo.width, "height": photo.height, "faces": faces})
}

/// What the audit log keeps of an upload: counts, never faces or names.
fn summary(read: &[Read], kept: &[Vec<Option<RecordId>>], taken_at: UnixMillis) -> Value {
    let faces: usize = read
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .map(|(p, _)| p.faces.len())
        .sum();
    let records = kept.iter().flatten().flatten().count();
    json!({
        "photos": read.len(),
        "unreadable": read.iter().filter(|r| r.outcome.is_err()).count(),
        "faces": faces,
        "records": records,
        "confident": confident_count(read, kept),
        "taken_at": taken_at,
    })
}
