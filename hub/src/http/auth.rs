//! Login, token refresh and turning an `Authorization: Bearer` header into a [`Principal`].
//! Failed logins are limited per user name and client address.

use serde::Deserialize;
use uuid::Uuid;

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::auth::Principal;
use crate::auth::password;
use crate::auth::tokens::Kind;
use crate::state::Hub;
use crate::store::users::{self, User};

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
    let body: Login = req.json()?;
    let now = hub.now();
    hub.limiter
        .check(&body.username, req.remote, now)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;
    let name = body.username.clone();
    let user = hub
        .read(move |conn| users::by_username(conn, &name))
        .await?;
    let (user, password) = (user.filter(|u| !u.disabled), body.password);
    let verified = tokio::task::spawn_blocking(move || {
        let hash = user
            .as_ref()
            .map_or(password::decoy_hash(), |u| u.password_hash.as_str());
        let ok = password::verify(&password, hash);
        user.filter(|_| ok)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(user) = verified else {
        hub.limiter.failed(&body.username, req.remote, now);
        tracing::warn!(user = %body.username, remote = ?req.remote, "failed login");
        return Err(ApiError::Unauthorized("wrong user name or password".into()));
    };
    hub.limiter.succeeded(&body.username, req.remote);
    Reply::ok(hub.tokens.issue(&user, now))
}

pub async fn refresh(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: Refresh = req.json()?;
    let now = hub.now();
    let claims = hub.tokens.verify(&body.refresh_token, Kind::Refresh, now)?;
    let user = active_user(hub, claims.sub).await?;
    Reply::ok(hub.tokens.issue(&user, now))
}

/// The signed-in caller.
pub async fn me(_hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(who)
}

/// The caller named by the `Authorization` header's access token, of a user who still exists
/// and is enabled.
pub async fn authenticate(hub: &Hub, authorization: Option<&str>) -> Result<Principal, ApiError> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("an access token is required".into()))?;
    let claims = hub.tokens.verify(token.trim(), Kind::Access, hub.now())?;
    let user = active_user(hub, claims.sub).await?;
    Ok(Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
    })
}

async fn active_user(hub: &Hub, id: Uuid) -> Result<User, ApiError> {
    let user = hub.read(move |conn| users::by_id(conn, id)).await;
    match user {
        Ok(u) if !u.disabled => Ok(u),
        _ => Err(ApiError::Unauthorized(
            "the token's user no longer exists".into(),
        )),
    }
}
