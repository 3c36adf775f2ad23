//! Sign-ins that can end: refresh-token rotation with reuse detection (RFC 9700, "refresh
//! token rotation"). A login starts a sign-in and hands out an opaque refresh token. Using it
//! spends it and hands out the next one in the same sign-in; using a spent one again means
//! it was copied, so the whole sign-in ends. A token lives `idle` since it was issued, and
//! no token outlives its sign-in's absolute end (`absolute` after the login).

use std::time::Duration;

use rollcall_shared::UnixMillis;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use rollcall_school::accounts::password::random_secret;
use rollcall_store::signins::{self, StoredToken};
use rollcall_store::{Sql, StoreError};

/// How long tokens and sign-ins live.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// A refresh token unused this long has expired.
    pub idle: Duration,
    /// A sign-in ends this long after its login, however it is refreshed.
    pub absolute: Duration,
}

impl Lifetimes {
    pub fn from_days(idle_days: u32, absolute_days: u32) -> Self {
        let days = |days: u32| Duration::from_secs(u64::from(days) * 86_400);
        Self {
            idle: days(idle_days),
            absolute: days(absolute_days),
        }
    }
}

/// A refresh token to hand out, with the sign-in it belongs to.
#[derive(Debug)]
pub struct Issued {
    pub signin: Uuid,
    pub user: Uuid,
    pub refresh_token: String,
}

/// What using a refresh token came to.
#[derive(Debug)]
pub enum Refreshed {
    /// The token was good: here is its successor.
    Rotated(Issued),
    /// The token was already spent: its sign-in has now ended.
    Reused { signin: Uuid, user: Uuid },
    /// Unknown, expired, or of a sign-in that ended: refused, nothing changed.
    Refused(&'static str),
}

/// Starts a sign-in for `user` (first deleting the user's ended ones).
pub fn start(
    conn: &dyn Sql,
    user: Uuid,
    life: Lifetimes,
    now: UnixMillis,
) -> Result<Issued, StoreError> {
    signins::prune(conn, user, now)?;
    let signin = Uuid::now_v7();
    signins::insert_signin(conn, signin, user, now, now.saturating_add(life.absolute))?;
    let ends = now.saturating_add(life.absolute);
    issue(conn, signin, user, now.saturating_add(life.idle).min(ends))
}

/// Spends `token` and issues its successor, or ends its sign-in when it was spent before.
pub fn rotate(
    conn: &dyn Sql,
    token: &str,
    life: Lifetimes,
    now: UnixMillis,
) -> Result<Refreshed, StoreError> {
    let sha = sha256(token);
    let Some(stored) = signins::token(conn, &sha)? else {
        return Ok(Refreshed::Refused("unknown refresh token"));
    };
    if let Some(why) = ended(&stored, now) {
        return Ok(Refreshed::Refused(why));
    }
    if stored.spent_at.is_some() || !signins::spend(conn, &sha, now)? {
        signins::revoke(conn, stored.signin, now)?;
        return Ok(Refreshed::Reused {
            signin: stored.signin,
            user: stored.user,
        });
    }
    let expires = now.saturating_add(life.idle).min(stored.signin_ends_at);
    Ok(Refreshed::Rotated(issue(
        conn,
        stored.signin,
        stored.user,
        expires,
    )?))
}

/// Ends the sign-in `token` belongs to (logout); `None` when the token is unknown.
pub fn end(
    conn: &dyn Sql,
    token: &str,
    now: UnixMillis,
) -> Result<Option<StoredToken>, StoreError> {
    let Some(stored) = signins::token(conn, &sha256(token))? else {
        return Ok(None);
    };
    signins::revoke(conn, stored.signin, now)?;
    Ok(Some(stored))
}

fn ended(stored: &StoredToken, now: UnixMillis) -> Option<&'static str> {
    if stored.revoked_at.is_some() {
        Some("this sign-in has ended; sign in again")
    } else if now >= stored.signin_ends_at {
        Some("this sign-in has reached its longest lifetime; sign in again")
    } else if now >= stored.expires_at {
        Some("the refresh token has expired; sign in again")
    } else {
        None
    }
}

fn issue(
    conn: &dyn Sql,
    signin: Uuid,
    user: Uuid,
    expires: UnixMillis,
) -> Result<Issued, StoreError> {
    let refresh_token = random_secret();
    signins::insert_token(conn, &sha256(&refresh_token), signin, expires)?;
    Ok(Issued {
        signin,
        user,
        refresh_token,
    })
}

fn sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
