//! Records held in quarantine (admins only): what a door unit sent that the hub does not
//! believe, with the reason, so an admin can fix the door unit's clock or config and then let
//! the entry go. Letting go is audited.

use serde_json::json;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::quarantine;

/// The newest held records, `?limit` of them (100 unless said, 1000 at most).
pub async fn list(hub: &Hub, req: &Request, _: &Principal) -> Result<Reply, ApiError> {
    let limit = req.query::<u32>("limit")?.unwrap_or(100).min(1000);
    Reply::ok(hub.read(move |c| quarantine::newest(c, limit)).await?)
}

/// The face picture a held record carried, if any.
pub async fn thumbnail(hub: &Hub, req: &Request, _: &Principal) -> Result<Reply, ApiError> {
    let record = req.id("record", "record")?;
    let jpeg = hub
        .read(move |c| {
            quarantine::thumbnail(c, record)?.ok_or(ApiError::NotFound("thumbnail".into()))
        })
        .await?;
    Ok(Reply::Jpeg(jpeg))
}

/// Lets go of a held record: it is deleted, never counted. The audit log keeps what it was.
pub async fn dismiss(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let record = req.id("record", "record")?;
    let (actor, now) = (who.actor(), hub.now());
    hub.write(move |tx| {
        let held = quarantine::get(tx, record)?;
        quarantine::remove(tx, record)?;
        let before = json!({
            "device_id": held.device_id, "room": held.room, "captured_at": held.captured_at,
            "reason": held.reason, "detail": held.detail,
        });
        let entry = Change {
            actor: &actor,
            action: "quarantine.dismiss",
            target: format!("record:{record}"),
            before: Some(before),
            after: None,
            at: now,
        };
        audit::log(tx, entry)?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(Reply::NoContent)
}
