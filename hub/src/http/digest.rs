//! The e-mail digest's figures, and its endpoints. [`gather`] reads what one user's digest
//! says with the review queue's and the at-risk report's own functions (so the digest never
//! counts differently from the pages); wording is `email::compose`, sending `email::smtp`.
//! `POST /email/test` sends the signed-in admin a test message, `POST /email/digest/preview`
//! shows a user's digest as it would go now, `GET /email/digests` lists what was sent.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rollcall_shared::UnixMillis;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::access;
use crate::attendance::{Rules, in_some_session};
use crate::auth::Principal;
use crate::email::compose::{self, AtRiskLine, ClassPart, Digest};
use crate::reports::class_at_risk_now;
use crate::review::visible_ids;
use crate::state::Hub;
use crate::store::records::{self, Status};
use crate::store::school::Class;
use crate::store::timetable::{self, Slot};
use crate::store::users::{self, User};
use crate::store::{Sql, digests};

/// Pending records looked at to count (as the review queue's count).
const COUNT_LIMIT: usize = 10_000;
/// Digests listed by `GET /email/digests`.
const LISTED: u32 = 200;

/// What `user`'s digest says at `now`: the pending reviews and at-risk students of the classes
/// they see (an admin: every class, and every pending record).
pub fn gather(
    conn: &dyn Sql,
    user: &User,
    rules: &Rules,
    (threshold, now): (f64, UnixMillis),
) -> Result<Digest, ApiError> {
    let who = Principal {
        user_id: user.id,
        username: user.username.clone(),
        role: user.role,
        signin: Uuid::nil(),
    };
    let classes = access::classes(conn, &who)?;
    let (_, pending) = visible_ids(conn, &who, rules, Some(Status::Pending), 0, COUNT_LIMIT)?;
    let per_class = pending_by_class(conn, &classes, rules)?;
    let mut parts = Vec::new();
    for (class, pending) in classes.into_iter().zip(per_class) {
        let at_risk = class_at_risk_now(conn, class, rules, now, threshold)?;
        parts.push(ClassPart {
            class_name: at_risk.class_name,
            pending,
            at_risk: at_risk
                .students
                .into_iter()
                .map(|s| AtRiskLine {
                    name: s.name,
                    attendance_rate: s.attendance_rate,
                })
                .collect(),
        });
    }
    parts.retain(|p| p.pending > 0 || !p.at_risk.is_empty());
    Ok(Digest {
        day: rules.local_day(now),
        display_name: user.display_name.clone(),
        school_wide: who.is_admin(),
        pending,
        classes: parts,
        threshold,
    })
}

/// For each of `classes`, the pending records captured during one of its sessions.
fn pending_by_class(
    conn: &dyn Sql,
    classes: &[Class],
    rules: &Rules,
) -> Result<Vec<usize>, ApiError> {
    let all = timetable::all_slots(conn)?;
    // Per room, each class's slots there.
    let mut by_room: HashMap<String, Vec<(usize, Vec<Slot>)>> = HashMap::new();
    for (i, class) in classes.iter().enumerate() {
        for slot in all.iter().filter(|s| s.class_id == class.id) {
            let in_room = by_room.entry(slot.room.clone()).or_default();
            match in_room.iter_mut().find(|(j, _)| *j == i) {
                Some((_, slots)) => slots.push(slot.clone()),
                None => in_room.push((i, vec![slot.clone()])),
            }
        }
    }
    let mut counts = vec![0; classes.len()];
    let mut seen = 0;
    records::each_key(conn, Some(Status::Pending), |key| {
        for (i, slots) in by_room.get(key.room.as_str()).into_iter().flatten() {
            if in_some_session(&key.room, key.captured_at, slots, rules) {
                counts[*i] += 1;
            }
        }
        seen += 1;
        match seen < COUNT_LIMIT {
            true => ControlFlow::Continue(()),
            false => ControlFlow::Break(()),
        }
    })?;
    Ok(counts)
}

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
        "would_send": !digest.is_empty() && user.email.is_some() && !user.disabled,
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
