//! Invitations (`accounts::invite` has the rules and their order): an admin invites a person,
//! an existing account again, or a class's students; the hub e-mails each link through the
//! relay and records what the relay said; the person opens the link on the Welcome page
//! (`#/welcome/TOKEN`: the token stays in the address's fragment, which browsers never send)
//! and chooses a password.
//!
//! The office is shown each link too, so that a person without mail (or a hub without a
//! relay) can be given it by hand. The two open routes take the token in the body; a link is
//! 256 random bits, so there is nothing to guess, and the password is hashed only once the
//! link has been found good.

use rollcall_shared::{ClassId, StudentId};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::users::new_password;
use crate::email::invitation;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::accounts::invite::{self, ClassOutcome, Invitee, Issued};
use rollcall_school::principal::Principal;
use rollcall_store::invitations::{self, Invitation};
use rollcall_store::users::Role;

/// The longest token read: a link's is 64 hex characters.
const MAX_TOKEN: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    role: Role,
    student: Option<StudentId>,
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    token: String,
    password: String,
}

pub async fn list(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(hub.read(|c| invitations::list(c)).await?)
}

/// `POST /invitations`: a new account, and its invitation sent.
pub async fn create(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: InviteBody = req.json()?;
    let who_to = Invitee {
        role: body.role,
        student: body.student,
        username: body.username,
        display_name: body.display_name,
        email: body.email,
    };
    let (actor, now, lifetime) = (who.actor(), hub.now(), lifetime_ms(hub));
    let issued = hub
        .write(move |tx| invite::invite(tx, &who_to, &actor, now, lifetime).map_err(ApiError::from))
        .await?;
    Reply::created(send(hub, req, issued).await?)
}

/// `POST /users/{user}/invitation`: a fresh link for an existing account (a lost password, an
/// expired link).
pub async fn again(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("user", "user")?;
    let (actor, now, lifetime) = (who.actor(), hub.now(), lifetime_ms(hub));
    let issued = hub
        .write(move |tx| invite::reinvite(tx, id, &actor, now, lifetime).map_err(ApiError::from))
        .await?;
    Reply::created(send(hub, req, issued).await?)
}

/// `POST /classes/{class}/invitations`: every student of the class with an address and no
/// account, and why not for the others.
pub async fn class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (actor, now, lifetime) = (who.actor(), hub.now(), lifetime_ms(hub));
    let rows = hub
        .write(move |tx| {
            invite::invite_class(tx, class, &actor, now, lifetime).map_err(ApiError::from)
        })
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (outcome, sent) = match row.outcome {
            ClassOutcome::Invited(issued) => ("invited", Some(send(hub, req, issued).await?)),
            ClassOutcome::NoAddress => ("no_address", None),
            ClassOutcome::HasAccount => ("has_account", None),
            ClassOutcome::Inactive => ("inactive", None),
        };
        out.push(json!({
            "student": row.student,
            "name": row.name,
            "outcome": outcome,
            "invitation": sent,
        }));
    }
    let invited = out.iter().filter(|r| r["outcome"] == "invited").count();
    Reply::ok(json!({"invited": invited, "students": out}))
}

/// `POST /invitations/look-up`: whose invitation a link is, while it works.
pub async fn look_up(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: TokenBody = req.json()?;
    let token = token(&body.token)?;
    let now = hub.now();
    let found = hub
        .read(move |c| invite::look_up(c, &token, now).map_err(ApiError::from))
        .await?;
    Reply::ok(json!({
        "username": found.username,
        "display_name": found.display_name,
        "role": found.role,
        "expires_at": found.expires_at,
    }))
}

/// `POST /invitations/accept`: the link's account takes the password chosen.
pub async fn accept(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: AcceptBody = req.json()?;
    let token = token(&body.token)?;
    let now = hub.now();
    let checked = token.clone();
    hub.read(move |c| invite::look_up(c, &checked, now).map_err(ApiError::from))
        .await?;
    let password = new_password(hub, body.password).await?;
    let user = hub
        .write(move |tx| invite::accept(tx, &token, &password, now).map_err(ApiError::from))
        .await?;
    Reply::ok(json!({"username": user.username}))
}

fn token(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_TOKEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad(
            "token: the code from an invitation's link (hex digits)",
        ));
    }
    Ok(text.to_ascii_lowercase())
}

fn lifetime_ms(hub: &Hub) -> i64 {
    i64::from(hub.config.auth.invitation_hours) * 3_600_000
}

/// Mails `issued`'s link and records what the relay said; the office's answer carries the
/// invitation as stored then, and the link.
async fn send(hub: &Hub, req: &Request, issued: Issued) -> Result<Value, ApiError> {
    let link = format!("{}/#/welcome/{}", pages_base(hub, req), issued.token);
    let id = issued.invitation.id;
    let outcome = match &hub.mailer {
        None => Err(
            "this hub has no e-mail relay ([email] in its configuration): give the link by hand"
                .to_owned(),
        ),
        Some(mailer) => {
            let expires = hub.config.timezone.local(issued.invitation.expires_at.0);
            let body = invitation::text(&issued.invitation, &link, expires);
            let subject = invitation::subject(hub.config.site.as_str());
            let sent = mailer.send(&issued.invitation.email, &subject, body).await;
            if let Err(e) = &sent {
                tracing::warn!(invitation = %id, error = %e, "the relay refused an invitation");
            }
            sent
        }
    };
    let now = hub.now();
    let stored: Invitation = hub
        .write(move |tx| {
            invitations::set_sent(
                tx,
                id,
                outcome.as_ref().map(|_| now).map_err(String::as_str),
            )?;
            invitations::get(tx, id)
        })
        .await?;
    Ok(json!({"invitation": stored, "link": link}))
}

/// Where the pages are, as the person invited reaches them: `[email] pages_url`, else the
/// school sign-in's `hub_url`, else this request's own host.
fn pages_base(hub: &Hub, req: &Request) -> String {
    let configured = hub
        .mailer
        .as_ref()
        .and_then(|m| m.pages_url.clone())
        .or_else(|| hub.config.auth.oidc.as_ref().map(|o| o.hub_url.clone()));
    if let Some(url) = configured {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = match hub.config.http.tls {
        Some(_) => "https",
        None => "http",
    };
    let host = req.host.as_deref().unwrap_or("localhost");
    format!("{scheme}://{host}")
}
