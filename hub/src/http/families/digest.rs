//! The e-mail digest's endpoints (what a digest says is `crate::digests::gather`).
//! `POST /email/test` sends the signed-in admin a test message, `POST /email/digest/preview`
//! shows a user's digest as it would go now, `GET /email/digests` lists what was sent.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::digests::gather;
use crate::email::compose;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_store::{digests, users};

/// Digests listed by `GET /email/digests`.
const LISTED: u32 = 200;

/// `POST /email/test` (admin): a short message to the caller's own address.
pub async fn test(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let mailer = hub.mailer.as_ref().ok_or_else(no_email)?;
    let id = who.user_id;
    let user = hub.read(move |c| users::by_id(c, id)).await?;
    let to = user.email.ok_or_else(|| {
        ApiError::Conflict("your account has no e-mail address: add one on the Admin page".into())
    })?;
    let body = format!(
        "This is a test message from Rollcall, sent by {} from the Admin page.\n\
         The daily digest will arrive the same way.\n",
        who.username
    );
    mailer
        .send(&to, "Rollcall test message", body)
        .await
        .map_err(|e| ApiError::BadGateway(format!("the mail relay refused or failed: {e}")))?;
    Reply::ok(json!({"sent_to": to}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    user: Option<Uuid>,
}

/// `POST /email/digest/preview` (admin): `{user}`'s digest (the caller's by default) as it
/// would be sent now, and whether it would be sent at all.
pub async fn preview(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: PreviewBody = req.json()?;
    let id = body.user.unwrap_or(who.user_id);
    let (rules, now) = (hub.config.rules(), hub.now());
    let threshold = hub.config.reports.at_risk_below;
    let digest = hub
        .read(move |c| {
            let user = users::by_id(c, id)?;
            let digest = gather(c, &user, &rules, (threshold, now))?;
            Ok::<_, ApiError>((user, digest))
        })
        .await?;
    let (user, digest) = digest;
    let pages_url = hub.mailer.as_ref().and_then(|m| m.pages_url.as_deref());
    Reply::ok(json!({
        "user": user.id,
        "email": user.email,
        "would_send": !digest.is_empty()
            && user.email.is_some()
            && !user.disabled
            && user.choices.digest,
        "digest_at": user.choices.digest_at.map(rollcall_school::session_rosters::hhmm),
        "subject": compose::subject(&digest),
        "text": compose::text(&digest, pages_url),
        "digest": digest,
    }))
}

/// `GET /email/digests` (admin): the latest digests, sent or not, with the relay's last error.
pub async fn list(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let rows = hub.read(|c| digests::recent(c, LISTED)).await?;
    Reply::ok(json!({"configured": hub.mailer.is_some(), "digests": rows}))
}

fn no_email() -> ApiError {
    ApiError::Conflict(
        "e-mail is not set up: add an [email] section to the hub's configuration".into(),
    )
}
