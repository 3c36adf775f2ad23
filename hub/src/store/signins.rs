//! Sign-ins and their refresh tokens (migration 5). A sign-in is one login's family of
//! refresh tokens; a token is stored only as the SHA-256 of its text. The rotation rules
//! themselves live in `auth::signin`; this module only reads and writes rows.

use rollcall_shared::UnixMillis;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{StoreError, id_col};

const INSERT_SIGNIN: &str =
    "INSERT INTO signins (id, user_id, created_at, ends_at) VALUES (?1, ?2, ?3, ?4)";
const INSERT_TOKEN: &str =
    "INSERT INTO refresh_tokens (token_sha256, signin_id, expires_at) VALUES (?1, ?2, ?3)";
const SELECT_TOKEN: &str = "SELECT t.signin_id AS signin_id, s.user_id AS user_id,
    t.expires_at AS expires_at, t.spent_at AS spent_at, s.ends_at AS signin_ends_at,
    s.revoked_at AS revoked_at
    FROM refresh_tokens t JOIN signins s ON s.id = t.signin_id WHERE t.token_sha256 = ?1";
const SPEND_TOKEN: &str =
    "UPDATE refresh_tokens SET spent_at = ?2 WHERE token_sha256 = ?1 AND spent_at IS NULL";
const REVOKE: &str = "UPDATE signins SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
const REVOKE_USER: &str =
    "UPDATE signins SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL";
const LIVE: &str = "SELECT COUNT(*) AS live FROM signins
    WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND ends_at > ?3";
const PRUNE_TOKENS: &str = "DELETE FROM refresh_tokens WHERE signin_id IN
    (SELECT id FROM signins WHERE user_id = ?1 AND (ends_at <= ?2 OR revoked_at IS NOT NULL))";
const PRUNE_SIGNINS: &str =
    "DELETE FROM signins WHERE user_id = ?1 AND (ends_at <= ?2 OR revoked_at IS NOT NULL)";

/// A stored refresh token with its sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    pub signin: Uuid,
    pub user: Uuid,
    pub expires_at: UnixMillis,
    pub spent_at: Option<UnixMillis>,
    pub signin_ends_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
}

pub fn insert_signin(
    conn: &Connection,
    id: Uuid,
    user: Uuid,
    now: UnixMillis,
    ends_at: UnixMillis,
) -> Result<(), StoreError> {
    let row = params![id.to_string(), user.to_string(), now, ends_at];
    conn.execute(INSERT_SIGNIN, row)?;
    Ok(())
}

pub fn insert_token(
    conn: &Connection,
    sha256: &str,
    signin: Uuid,
    expires_at: UnixMillis,
) -> Result<(), StoreError> {
    conn.execute(
        INSERT_TOKEN,
        params![sha256, signin.to_string(), expires_at],
    )?;
    Ok(())
}

pub fn token(conn: &Connection, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
    let row = conn
        .query_row(SELECT_TOKEN, [sha256], |r| {
            Ok(StoredToken {
                signin: id_col(r, "signin_id")?,
                user: id_col(r, "user_id")?,
                expires_at: r.get("expires_at")?,
                spent_at: r.get("spent_at")?,
                signin_ends_at: r.get("signin_ends_at")?,
                revoked_at: r.get("revoked_at")?,
            })
        })
        .optional()?;
    Ok(row)
}

/// Marks the token spent; false when it already was.
pub fn spend(conn: &Connection, sha256: &str, now: UnixMillis) -> Result<bool, StoreError> {
    Ok(conn.execute(SPEND_TOKEN, params![sha256, now])? == 1)
}

/// Ends one sign-in; false when it had already ended.
pub fn revoke(conn: &Connection, signin: Uuid, now: UnixMillis) -> Result<bool, StoreError> {
    Ok(conn.execute(REVOKE, params![signin.to_string(), now])? == 1)
}

/// Ends every sign-in of `user`; returns how many were live.
pub fn revoke_user(conn: &Connection, user: Uuid, now: UnixMillis) -> Result<usize, StoreError> {
    Ok(conn.execute(REVOKE_USER, params![user.to_string(), now])?)
}

/// Whether `signin` is `user`'s and has neither been ended nor run out.
pub fn is_live(
    conn: &Connection,
    signin: Uuid,
    user: Uuid,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let row = params![signin.to_string(), user.to_string(), now];
    let n: i64 = conn.query_row(LIVE, row, |r| r.get("live"))?;
    Ok(n == 1)
}

/// Deletes `user`'s ended sign-ins and their tokens (called at each login, so a user's rows
/// do not pile up).
pub fn prune(conn: &Connection, user: Uuid, now: UnixMillis) -> Result<(), StoreError> {
    conn.execute(PRUNE_TOKENS, params![user.to_string(), now])?;
    conn.execute(PRUNE_SIGNINS, params![user.to_string(), now])?;
    Ok(())
}
