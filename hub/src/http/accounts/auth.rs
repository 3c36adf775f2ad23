//! Login, token refresh, logout and turning an `Authorization: Bearer` header into a
//! [`Principal`]. User names over 64 characters and passwords over 1024 are refused before
//! they reach the limiter, argon2 or a log; failed logins are limited per address and per
//! user name (`auth::limiter`), and a line locking is audited. Refresh tokens rotate
//! (`auth::signin`); an access token is good only while its sign-in is.

use rollcall_shared::UnixMillis;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::limiter::Lockout;
use crate::auth::signin::{self, Refreshed};
use crate::auth::tokens::Kind;
use crate::http::error::ApiError;
use crate::http::input::clip;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::accounts::MAX_USERNAME;
use rollcall_school::accounts::password::{self, MAX_PASSWORD_LEN};
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::users::{self, User};
use rollcall_store::{StoreError, signins};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

pub async fn login(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    if !hub.config.auth.passwords {
        let with = hub
            .oidc
            .as_ref()
            .map_or("the school's account", |o| &o.config().name);
        return Err(ApiError::Forbidden(format!(
            "passwords are switched off on this hub: sign in with {with}"
        )));
    }
    let body: Login = req.json()?;
    bounded("username", &body.username, MAX_USERNAME)?;
    bounded("password", &body.password, MAX_PASSWORD_LEN)?;
    let now = hub.now();
    hub.limiter
        .check(&body.username, req.remote, now.0)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;
    let Some(user) = verify(hub, &body).await? else {
        return Err(failed(hub, &body.username, req, now).await);
    };
    hub.limiter.succeeded(&body.username);
    let (id, life) = (user.id, hub.signins);
    let issued = hub
        .write(move |tx| signin::start(tx, id, life, now))
        .await?;
    Reply::ok(
        hub.tokens
            .issue(&user, issued.signin, issued.refresh_token, now.0),
    )
}

/// A 400 naming `field` when `value` is empty or longer than `max` characters.
fn bounded(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::bad(format!(
            "{field}: must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// The enabled user the login names, when the password matches; argon2 runs through the
/// hub's gate, and against a decoy hash when there is no such user.
async fn verify(hub: &Hub, body: &Login) -> Result<Option<User>, ApiError> {
    let name = body.username.clone();
    let user = hub
        .read(move |conn| users::by_username(conn, &name))
        .await?;
    let (user, password) = (user.filter(|u| !u.disabled), body.password.clone());
    let verified = hub
        .hashing
        .run(move || {
            let hash = user
                .as_ref()
                .map_or(password::decoy_hash(), |u| u.password_hash.as_str());
            let ok = password::verify(&password, hash);
            user.filter(|_| ok)
        })
        .await?;
    Ok(verified)
}

/// Counts the failure, audits any line it locked, and answers 401.
async fn failed(hub: &Hub, username: &str, req: &Request, now: UnixMillis) -> ApiError {
    let locked = hub.limiter.failed(username, req.remote, now.0);
    tracing::warn!(user = ?clip(username), remote = ?req.remote, "failed login");
    if !locked.is_empty() {
        let targets: Vec<String> = locked.iter().map(lockout_target).collect();
        tracing::warn!(?targets, "login locked for a minute");
        let logged = hub
            .write(move |tx| {
                for target in targets {
                    audit::log(tx, lockout_change(target, now))?;
                }
                Ok::<_, ApiError>(())
            })
            .await;
        if let Err(e) = logged {
            tracing::error!("cannot audit a login lockout: {e}");
        }
    }
    ApiError::Unauthorized("wrong user name or password".into())
}

fn lockout_target(lockout: &Lockout) -> String {
    match lockout {
        Lockout::Address(ip) => format!("address:{ip}"),
        Lockout::User(name) => format!("user:{}", clip(name)),
    }
}

fn lockout_change(target: String, now: UnixMillis) -> Change<'static> {
    Change {
        actor: "hub",
        action: "auth.lockout",
        target,
        before: None,
        after: Some(json!({"minutes": 1})),
        at: now,
    }
}

/// Spends the refresh token for a new pair; a spent one ends its whole sign-in.
pub async fn refresh(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: Refresh = req.json()?;
    bounded("refresh_token", &body.refresh_token, 128)?;
    let (now, life) = (hub.now(), hub.signins);
    let token = body.refresh_token;
    let outcome = hub
        .write(move |tx| {
            let outcome = signin::rotate(tx, &token, life, now)?;
            if let Refreshed::Reused { signin, user } = &outcome {
                audit::log(tx, reuse_change(*signin, *user, now))?;
            }
            Ok::<_, ApiError>(outcome)
        })
        .await?;
    match outcome {
        Refreshed::Rotated(issued) => {
            let user = active_user(hub, issued.user).await?;
            Reply::ok(
                hub.tokens
                    .issue(&user, issued.signin, issued.refresh_token, now.0),
            )
        }
        Refreshed::Reused { signin, .. } => {
            tracing::warn!(%signin, "a spent refresh token was used again; sign-in ended");
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the sign-in has ended".into(),
            ))
        }
        Refreshed::Refused(why) => Err(ApiError::Unauthorized(why.into())),
    }
}

fn reuse_change(signin: Uuid, user: Uuid, now: UnixMillis) -> Change<'static> {
    Change {
        actor: "hub",
        action: "auth.refresh_reuse",
        target: format!("user:{user}"),
        before: None,
        after: Some(json!({"signin": signin, "ended": true})),
        at: now,
    }
}

/// Ends the sign-in the refresh token belongs to. Answers 204 whether or not the token was
/// known, so it tells a caller nothing.
pub async fn logout(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: Refresh = req.json()?;
    bounded("refresh_token", &body.refresh_token, 128)?;
    let now = hub.now();
    hub.write(move |tx| {
        if let Some(ended) = signin::end(tx, &body.refresh_token, now)? {
            let change = Change {
                actor: "hub",
                action: "auth.logout",
                target: format!("user:{}", ended.user),
                before: None,
                after: Some(json!({"signin": ended.signin})),
                at: now,
            };
            audit::log(tx, change)?;
        }
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// The signed-in caller.
/// The caller, and the school's time zone: the pages show every time in it, whatever the
/// browser's own zone.
pub async fn me(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    #[derive(serde::Serialize)]
    struct Me<'a> {
        #[serde(flatten)]
        who: &'a Principal,
        timezone: &'a str,
        email: Option<String>,
        /// The class their pages open on (`PATCH /account`).
        default_class: Option<rollcall_shared::ClassId>,
    }
    let id = who.user_id;
    let user = hub
        .read(move |c| rollcall_store::users::by_id(c, id))
        .await?;
    Reply::ok(Me {
        who,
        timezone: hub.config.timezone.name(),
        email: user.email,
        default_class: user.choices.default_class,
    })
}

/// The caller named by the `Authorization` header's access token, of a user who still exists
/// and is enabled, in a sign-in that has not ended.
pub async fn authenticate(hub: &Hub, authorization: Option<&str>) -> Result<Principal, ApiError> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("an access token is required".into()))?;
    let now = hub.now();
    let claims = hub.tokens.verify(token.trim(), Kind::Access, now.0)?;
    let (id, sid) = (claims.sub, claims.sid);
    let (live, user) = hub
        .read(move |conn| {
            let live = signins::is_live(conn, sid, id, now)?;
            Ok::<_, StoreError>((live, users::by_id(conn, id).ok()))
        })
        .await?;
    let Some(user) = user.filter(|u| live && !u.disabled) else {
        return Err(ApiError::Unauthorized(
            "this sign-in has ended, or its user is disabled or gone; sign in again".into(),
        ));
    };
    Ok(Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
        student: user.student_id,
        signin: sid,
    })
}

async fn active_user(hub: &Hub, id: Uuid) -> Result<User, ApiError> {
    let user = hub.read(move |conn| users::by_id(conn, id)).await;
    match user {
        Ok(u) if !u.disabled => Ok(u),
        _ => Err(ApiError::Unauthorized(
            "the token's user no longer exists or is disabled".into(),
        )),
    }
}
