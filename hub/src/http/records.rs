//! The review queue's routes: listing records (a teacher sees only records captured in a room
//! during a session of one of their classes), their face crops, and approve / reject /
//! reassign, each applied by [`rollcall_school::review`]. Marks follow from the review at once:
//! `attendance` reads accepted records on demand.

use rollcall_shared::{RecordId, StudentId};
use serde::Deserialize;

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_school::review::{Action, Verdict, seen, settle, visible};
use rollcall_store::Sql;
use rollcall_store::records::{self, Status};

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
    let read = move |c: &dyn Sql| {
        seen(c, &w, &rules, record)?;
        records::thumbnail(c, record)?.ok_or(ApiError::NotFound("thumbnail".into()))
    };
    Ok(Reply::Jpeg(hub.read(read).await?))
}

pub async fn approve(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide_on(hub, req, Action::Approve, false, who).await
}

pub async fn reject(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide_on(hub, req, Action::Reject, false, who).await
}

pub async fn reassign(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json::<Reassign>()?;
    let action = Action::Reassign(body.student);
    decide_on(hub, req, action, body.add_to_gallery, who).await
}

/// Applies a teacher's decision on the record (and `enrol`s its face for a reassigned
/// student) in one transaction.
async fn decide_on(
    hub: &Hub,
    req: &Request,
    action: Action,
    enrol: bool,
    who: &Principal,
) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record: RecordId = req.id("record", "record")?;
    let (gate, model) = (hub.config.faces.gate, hub.config.gallery.model.clone());
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let verdict = Verdict {
            action,
            enrol,
            gate: &gate,
            model: &model,
            actor: &actor,
            now,
        };
        Ok::<_, ApiError>(settle(tx, &w, &rules, record, &verdict)?)
    };
    let (after, learned) = hub.write(move |tx| write(tx)).await?;
    let _record = tracing::info_span!("record", id = %record).entered();
    tracing::info!(by = who.username, status = ?after.status, student = ?after.final_student, "reviewed: {}", action.as_str());
    if enrol || learned {
        hub.gallery_changed();
    }
    Reply::ok(after)
}
