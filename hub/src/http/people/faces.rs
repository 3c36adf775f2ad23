//! Enrolment photos: `POST /students/{id}/faces` runs each uploaded photo through the face
//! pipeline (off the async executor) and stores what passes (a face that is another enrolled
//! child's is held, 409, until `?confirmed=true`); `GET` lists a student's faces with
//! thumbnail links; `PATCH` switches one off (a bad photo, kept but matched against nowhere)
//! or on again; `DELETE` removes one. Changes are admin-only, audited, and poke the gallery
//! pusher.

use std::sync::Arc;

use rollcall_shared::{StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::multipart::{self, Part};
use crate::http::request::{Reply, Request};
use rollcall_models::pipeline::model_id;
use rollcall_models::quality::FaceQuality;
use rollcall_school::access;

use crate::http_state::Hub;
use rollcall_school::consent;
use rollcall_school::enrol::{Accepted, Enroller, LookAlike, Refusal, look_alike, save};
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::school;
use rollcall_store::{Sql, faces};

/// A student's enrolled faces, with links to their crops.
pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, student): (_, StudentId) = (who.clone(), req.id("student", "student")?);
    let read = move |c: &dyn Sql| {
        access::student(c, &w, student)?;
        Ok::<_, ApiError>(faces::list(c, student)?)
    };
    let rows = hub.read(read).await?;
    Reply::ok(
        rows.into_iter()
            .map(|r| listed(student, r))
            .collect::<Vec<_>>(),
    )
}

pub async fn thumbnail(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (w, face): (_, Uuid) = (who.clone(), req.id("face", "face")?);
    let read = move |c: &dyn Sql| {
        access::student(c, &w, student)?;
        Ok::<_, ApiError>(faces::thumbnail(c, student, face)?)
    };
    Ok(Reply::Jpeg(hub.read(read).await?))
}

fn listed(student: StudentId, row: faces::FaceRow) -> Value {
    let url = row
        .has_thumbnail
        .then(|| format!("/api/v1/students/{student}/faces/{}/thumbnail", row.id));
    json!({
        "id": row.id,
        "model": row.model,
        "quality": row.figures,
        "thumbnail_url": url,
        "created_at": row.created_at,
        "source": row.source,
        "record_id": row.record_id,
        "active": row.active,
    })
}

/// What became of one uploaded photo.
type Outcome = (String, Result<(Uuid, FaceQuality), Refusal>);

/// Runs each uploaded photo through the face pipeline and enrols what passes.
pub async fn upload(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let enroller = hub.faces.clone().ok_or_else(|| {
        ApiError::Unavailable("photo enrolment is off on this hub (faces.enabled = false)".into())
    })?;
    let enrolled = hub.read(move |c| school::student(c, student)).await?;
    consent::require(&enrolled)?;
    let confirmed = req.query::<bool>("confirmed")?.unwrap_or(false);
    let mut outcomes: Vec<Outcome> = Vec::new();
    for (i, part) in photos(req)?.into_iter().enumerate() {
        let label = part
            .filename
            .clone()
            .unwrap_or_else(|| format!("photo {}", i + 1));
        let outcome = match assess(&enroller, part).await? {
            Ok(accepted) => match held(hub, student, &accepted, confirmed).await? {
                Some(like) => Err(Refusal::LooksLike(like)),
                None => {
                    let quality = accepted.quality;
                    Ok((store(hub, who, student, accepted).await?, quality))
                }
            },
            Err(refusal) => Err(refusal),
        };
        outcomes.push((label, outcome));
    }
    finish(hub, student, outcomes)
}

/// 201 with every photo's outcome when any was enrolled; else the first refusal's error.
fn finish(hub: &Hub, student: StudentId, outcomes: Vec<Outcome>) -> Result<Reply, ApiError> {
    let photos: Vec<Value> = outcomes.iter().map(outcome_json).collect();
    if outcomes.iter().any(|(_, o)| o.is_ok()) {
        hub.gallery_changed();
        return Reply::created(json!({"student": student, "model": model_id(), "photos": photos}));
    }
    match outcomes.into_iter().find_map(|(_, o)| o.err()) {
        Some(refusal) => Err(ApiError::Photo {
            refusal,
            photos: Some(Value::Array(photos)),
        }),
        None => Err(ApiError::bad("no photos in the upload")),
    }
}

fn outcome_json((label, outcome): &Outcome) -> Value {
    match outcome {
        Ok((face, quality)) => {
            json!({"photo": label, "accepted": true, "id": face, "quality": quality})
        }
        Err(refusal) => {
            let mut error = json!({"code": refusal.code(), "message": refusal.to_string()});
            if let Some(details) = refusal.details() {
                error["details"] = details;
            }
            json!({"photo": label, "accepted": false, "error": error})
        }
    }
}

/// The file parts of a `multipart/form-data` body.
pub(in crate::http) fn photos(req: &Request) -> Result<Vec<Part>, ApiError> {
    let parts: Vec<Part> = multipart::form(req, "the photos")?
        .into_iter()
        .filter(multipart::is_photo)
        .collect();
    if parts.is_empty() {
        return Err(ApiError::bad(
            "no photos in the upload (send file parts named \"photo\")",
        ));
    }
    Ok(parts)
}

/// The other student `accepted`'s face looks like, unless the admin `confirmed` it is this
/// student's ([`look_alike`]).
async fn held(
    hub: &Hub,
    student: StudentId,
    accepted: &Accepted,
    confirmed: bool,
) -> Result<Option<LookAlike>, ApiError> {
    if confirmed {
        return Ok(None);
    }
    let face = accepted.embedding;
    let found = hub.read(move |c| look_alike(c, &model_id(), &face, student));
    Ok(found.await?)
}

/// Runs the pipeline on one photo on the blocking pool.
pub(in crate::http) async fn assess(
    enroller: &Arc<Enroller>,
    part: Part,
) -> Result<Result<Accepted, Refusal>, ApiError> {
    let enroller = enroller.clone();
    tokio::task::spawn_blocking(move || enroller.assess(&part.data))
        .await
        .map_err(|e| ApiError::Internal(format!("face pipeline task: {e}")))
}

/// Stores an accepted photo as an enrolment embedding and audits it.
async fn store(
    hub: &Hub,
    who: &Principal,
    student: StudentId,
    accepted: Accepted,
) -> Result<Uuid, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| Ok::<_, ApiError>(save(tx, &actor, student, &accepted, now)?);
    hub.write(move |tx| write(tx)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceChange {
    active: bool,
}

pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (student, face): (StudentId, Uuid) =
        (req.id("student", "student")?, req.id("face", "face")?);
    let FaceChange { active } = req.json()?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let before = faces::list(tx, student)?.into_iter().find(|f| f.id == face);
        let before = before.ok_or(rollcall_store::StoreError::NotFound("face"))?;
        faces::set_active(tx, student, face, active)?;
        let change = Change {
            actor: &actor,
            action: "student.face_active",
            target: format!("student:{student}"),
            before: Some(json!({"embedding": face, "active": before.active})),
            after: Some(json!({"embedding": face, "active": active})),
            at: now,
        };
        audit::log(tx, change)?;
        let row = faces::list(tx, student)?.into_iter().find(|f| f.id == face);
        Ok::<_, ApiError>(row.map(|r| listed(student, r)))
    };
    let changed = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::ok(changed)
}

pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (student, face): (StudentId, Uuid) =
        (req.id("student", "student")?, req.id("face", "face")?);
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        faces::delete(tx, student, face)?;
        log(
            tx,
            &actor,
            "student.delete_face",
            student,
            Some(json!({"embedding": face})),
            now,
        )
    };
    hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Ok(Reply::NoContent)
}

fn log(
    tx: &dyn Sql,
    actor: &str,
    action: &str,
    student: StudentId,
    after: Option<Value>,
    at: UnixMillis,
) -> Result<(), ApiError> {
    let change = Change {
        actor,
        action,
        target: format!("student:{student}"),
        before: None,
        after,
        at,
    };
    Ok(audit::log(tx, change)?)
}
