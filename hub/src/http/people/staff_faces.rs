//! Staff's faces (admins; `rollcall_school::staff_faces` has the rules): a member's consent to
//! be recognised at the gates, and their enrolment photos.
//!
//! - `PUT /staff/{id}/consent`: what the member said (`state`, `signed_on`, `reference`,
//!   `note`; `by` is the member unless it says otherwise). Refused or withdrawn erases their
//!   faces at once; every change reaches the gates' galleries.
//! - `POST /staff/{id}/faces`: photos as `multipart/form-data` parts, each through the same
//!   enrolment gate as a student's; 201 with each photo's outcome when any was enrolled.
//! - `GET /staff/{id}/faces`, `GET /staff/{id}/faces/{face}/thumbnail`,
//!   `DELETE /staff/{id}/faces/{face}`.

use rollcall_shared::StaffId;
use serde_json::{Value, json};
use uuid::Uuid;

use super::faces::{assess, photos};
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::consent::Statement;
use rollcall_school::principal::Principal;
use rollcall_school::staff_faces;
use rollcall_store::consent::State;
use rollcall_store::staff;
use rollcall_store::staff_faces::{self as stored, Saved, StaffFace};
use rollcall_store::{Sql, StoreError};

pub async fn consent(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("id", "member of staff")?;
    let statement: Statement = req.json()?;
    let (actor, now) = (who.actor(), hub.now());
    let today = hub.config.rules().local_day(now);
    let write = move |tx: &dyn Sql| {
        let done = staff_faces::record_consent(tx, member, statement, &actor, today, now)?;
        Ok::<_, ApiError>(done)
    };
    let recorded = hub.write(write).await?;
    hub.gallery_changed();
    Reply::ok(json!({"id": member, "consent": recorded.consent, "erased": recorded.erased}))
}

pub async fn list(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("id", "member of staff")?;
    let read = move |c: &dyn Sql| {
        staff::get(c, member)?;
        let consent = stored::consent_of(c, member)?;
        let faces = stored::faces(c, member)?;
        let history = stored::consent_history(c, member)?;
        Ok::<_, StoreError>((consent, faces, history))
    };
    let (consent, faces, history) = hub.read(read).await?;
    let faces: Vec<Value> = faces.into_iter().map(|f| listed(member, f)).collect();
    Reply::ok(json!({
        "id": member,
        "consent": consent,
        "consent_history": history,
        "faces": faces,
    }))
}

fn listed(member: Uuid, face: StaffFace) -> Value {
    let url = face
        .has_thumbnail
        .then(|| format!("/api/v1/staff/{member}/faces/{}/thumbnail", face.id));
    json!({
        "id": face.id,
        "model": face.model,
        "quality": face.figures,
        "thumbnail_url": url,
        "created_at": face.created_at,
    })
}

pub async fn thumbnail(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("id", "member of staff")?;
    let face: Uuid = req.id("face", "face")?;
    let jpeg = hub
        .read(move |c| stored::thumbnail(c, member, face))
        .await?;
    Ok(Reply::Jpeg(jpeg))
}

/// Runs each uploaded photo through the enrolment gate and enrols what passes.
pub async fn upload(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("id", "member of staff")?;
    let enroller = hub.faces.clone().ok_or_else(|| {
        ApiError::Unavailable("photo enrolment is off on this hub (faces.enabled = false)".into())
    })?;
    let read = move |c: &dyn Sql| {
        let name = staff::get(c, member)?.name;
        Ok::<_, StoreError>((name, stored::consent_of(c, member)?))
    };
    let (name, consent) = hub.read(read).await?;
    if consent != State::Given {
        return Err(ApiError::NoConsent(format!(
            "{name}'s consent is {}: record their written consent (PUT /staff/{{id}}/consent, \
             or the Staff page) before enrolling their face",
            consent.as_str()
        )));
    }
    let mut photos_json = Vec::new();
    let (mut enrolled, mut first_refusal) = (false, None);
    for (i, part) in photos(req)?.into_iter().enumerate() {
        let label = part
            .filename
            .clone()
            .unwrap_or_else(|| format!("photo {}", i + 1));
        match assess(&enroller, part).await? {
            Ok(accepted) => {
                let (actor, now, quality) = (who.actor(), hub.now(), accepted.quality);
                let write = move |tx: &dyn Sql| {
                    Ok::<_, ApiError>(staff_faces::save_face(tx, &actor, member, &accepted, now)?)
                };
                let (face, again) = match hub.write(write).await? {
                    Saved::New(face) => (face, false),
                    Saved::Already(face) => (face, true),
                };
                enrolled = true;
                photos_json.push(json!({
                    "photo": label, "accepted": true, "id": face, "quality": quality,
                    "already_enrolled": again,
                }));
            }
            Err(refusal) => {
                let error = json!({"code": refusal.code(), "message": refusal.to_string()});
                photos_json.push(json!({"photo": label, "accepted": false, "error": error}));
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    if enrolled {
        hub.gallery_changed();
        let member = StaffId(member);
        return Reply::created(json!({"staff": member, "photos": photos_json}));
    }
    match first_refusal {
        Some(refusal) => Err(ApiError::Photo {
            refusal,
            photos: Some(Value::Array(photos_json)),
        }),
        None => Err(ApiError::bad("no photos in the upload")),
    }
}

pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("id", "member of staff")?;
    let face: Uuid = req.id("face", "face")?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        Ok::<_, ApiError>(staff_faces::delete_face(tx, &actor, member, face, now)?)
    };
    hub.write(write).await?;
    hub.gallery_changed();
    Ok(Reply::NoContent)
}
