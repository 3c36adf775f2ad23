//! User endpoints: list and create (admin), change display name, role, disabled and the
//! pastoral permission (admin),
//! set a password (an admin for anyone, a user for themselves with their old password), and
//! delete (admin). The rules (last admin, ending sign-ins, audit) are in
//! `accounts::manage`; this module parses and checks requests and runs argon2 through the
//! hub's gate.

use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::accounts::manage::{self, UserPatch};
use rollcall_school::accounts::password::{self, MAX_PASSWORD_LEN};
use rollcall_school::accounts::{self, AccountError, Hashed, NewUser};
use rollcall_school::principal::Principal;
use rollcall_store::users::{self, Role};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    username: String,
    display_name: Option<String>,
    role: Role,
    /// Optional when the hub has the school's sign-in: without one, the user signs in only
    /// with their school account.
    password: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    display_name: Option<String>,
    role: Option<Role>,
    disabled: Option<bool>,
    pastoral: Option<bool>,
    /// Absent: unchanged; `null`: cleared.
    #[serde(default, deserialize_with = "input::present")]
    email: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
    old_password: Option<String>,
}

pub async fn list(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(hub.read(|c| users::list(c)).await?)
}

pub async fn create(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: UserBody = req.json()?;
    let display_name = match &body.display_name {
        Some(name) => input::name("display_name", name)?,
        None => body.username.clone(),
    };
    let address = body.email.as_deref().map(input::email).transpose()?;
    let (actor, now) = (who.actor(), hub.now());
    let password = match body.password {
        Some(typed) => new_password(hub, typed).await?,
        None if hub.oidc.is_some() && address.is_some() => {
            hashed(hub, || Hashed::password(&password::random_secret())).await?
        }
        None => {
            return Err(ApiError::bad(if hub.oidc.is_some() {
                "password: required for a user without an e-mail address (the school's sign-in \
                 finds users by it)"
            } else {
                "password: required (this hub has no school sign-in)"
            }));
        }
    };
    let user = hub
        .write(move |tx| {
            let new = NewUser {
                username: &body.username,
                display_name: &display_name,
                role: body.role,
                password: &password,
                email: address.as_deref(),
            };
            accounts::create_user(tx, &new, &actor, now).map_err(ApiError::from)
        })
        .await?;
    Reply::created(user)
}

pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("user", "user")?;
    let body: PatchBody = req.json()?;
    let patch = UserPatch {
        display_name: body
            .display_name
            .map(|n| input::name("display_name", &n))
            .transpose()?,
        role: body.role,
        disabled: body.disabled,
        pastoral: body.pastoral,
        email: match body.email {
            Some(Some(text)) => Some(Some(input::email(&text)?)),
            other => other,
        },
    };
    if id == who.user_id && (patch.disabled == Some(true) || patch.role == Some(Role::Teacher)) {
        return Err(own_account("disable or demote"));
    }
    let (actor, now) = (who.actor(), hub.now());
    let user = hub
        .write(move |tx| manage::update(tx, id, patch, &actor, now).map_err(ApiError::from))
        .await?;
    Reply::ok(user)
}

/// An admin sets anyone's password; anyone else only their own, giving the old one.
pub async fn set_password(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("user", "user")?;
    let body: PasswordBody = req.json()?;
    if !who.is_admin() {
        if id != who.user_id {
            return Err(ApiError::AdminOnly);
        }
        let old = body
            .old_password
            .ok_or_else(|| ApiError::bad("old_password: required to change your own password"))?;
        check_old_password(hub, req, who, old).await?;
    }
    let password = new_password(hub, body.password).await?;
    let (actor, now) = (who.actor(), hub.now());
    hub.write(move |tx| {
        manage::set_password(tx, id, &password, &actor, now).map_err(ApiError::from)
    })
    .await?;
    Ok(Reply::NoContent)
}

pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("user", "user")?;
    if id == who.user_id {
        return Err(own_account("delete"));
    }
    let (actor, now) = (who.actor(), hub.now());
    hub.write(move |tx| manage::delete(tx, id, &actor, now).map_err(ApiError::from))
        .await?;
    Ok(Reply::NoContent)
}

/// An admin cannot lock themself out by mistake: another admin does it.
fn own_account(what: &str) -> ApiError {
    ApiError::Conflict(format!(
        "you cannot {what} your own account: ask another admin"
    ))
}

/// The caller's own password, checked like a login: wrong guesses count towards the same
/// per-user and per-address limits, so a stolen access token cannot be used to guess it.
async fn check_old_password(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    old: String,
) -> Result<(), ApiError> {
    let now = hub.now();
    hub.limiter
        .check(&who.username, req.remote, now.0)
        .map_err(|retry_after| ApiError::TooManyAttempts { retry_after })?;
    let id = who.user_id;
    let user = hub.read(move |c| users::by_id(c, id)).await?;
    let hash = user.password_hash;
    let fits = old.chars().count() <= MAX_PASSWORD_LEN;
    let ok = fits
        && hub
            .hashing
            .run(move || password::verify(&old, &hash))
            .await?;
    if !ok {
        hub.limiter.failed(&who.username, req.remote, now.0);
        return Err(ApiError::Forbidden("old_password: does not match".into()));
    }
    Ok(())
}

/// Checks the password rule and hashes it through the hub's argon2 gate.
pub(in crate::http) async fn new_password(hub: &Hub, typed: String) -> Result<Hashed, ApiError> {
    password::check_rule(&typed).map_err(|m| ApiError::bad(format!("password: {m}")))?;
    hashed(hub, move || Hashed::password(&typed)).await
}

/// Runs a hashing step through the gate, away from the executor and the database's writer.
pub(in crate::http) async fn hashed(
    hub: &Hub,
    hash: impl FnOnce() -> Result<Hashed, AccountError> + Send + 'static,
) -> Result<Hashed, ApiError> {
    hub.hashing.run(hash).await?.map_err(ApiError::from)
}
