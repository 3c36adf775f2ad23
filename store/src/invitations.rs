//! Invitations to set one's own password (migration 32), kept by their link's SHA-256 only.
//! The rules (who may be invited, expiry, single use) live in
//! `rollcall_school::accounts::invite`; this module only reads and writes rows.

use rollcall_shared::UnixMillis;
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO invitations (id, digest, user_id, email, created_by,
    created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const SELECT: &str = "SELECT i.id, i.user_id, u.username, u.display_name, u.role, i.email,
    i.created_by, i.created_at, i.expires_at, i.used_at, i.sent_at, i.send_error
    FROM invitations i JOIN users u ON u.id = i.user_id";
/// Spends every open invitation of a user: the one used, and any older one still in an inbox.
const SPEND: &str = "UPDATE invitations SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL";
const SENT: &str = "UPDATE invitations SET sent_at = ?2, send_error = NULL WHERE id = ?1";
const NOT_SENT: &str = "UPDATE invitations SET send_error = ?2 WHERE id = ?1";

/// One invitation, as the office sees it (never its link).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// The invited account's role, as stored (`admin`, `teacher`, `student`).
    pub role: String,
    /// Where the link was sent.
    pub email: String,
    pub created_by: String,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
    pub used_at: Option<UnixMillis>,
    /// When the relay took the message; `None` with `send_error` when it would not.
    pub sent_at: Option<UnixMillis>,
    pub send_error: Option<String>,
}

/// What is stored of a new invitation.
#[derive(Debug)]
pub struct NewInvitation<'a> {
    pub id: Uuid,
    /// The SHA-256 of the link's token, in hex.
    pub digest: &'a str,
    pub user_id: Uuid,
    pub email: &'a str,
    pub created_by: &'a str,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

pub fn insert(sql: &dyn Sql, new: &NewInvitation<'_>) -> Result<(), StoreError> {
    let row = params![
        new.id.to_string(),
        new.digest,
        new.user_id.to_string(),
        new.email,
        new.created_by,
        new.created_at,
        new.expires_at
    ];
    sql.execute(INSERT, row)?;
    Ok(())
}

/// The invitation whose token hashes to `digest`, if any.
pub fn by_digest(sql: &dyn Sql, digest: &str) -> Result<Option<Invitation>, StoreError> {
    let query = format!("{SELECT} WHERE i.digest = ?1");
    sql.query_opt(&query, params![digest], invitation)
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<Invitation, StoreError> {
    let query = format!("{SELECT} WHERE i.id = ?1");
    sql.query_one(&query, params![id.to_string()], "invitation", invitation)
}

/// Every invitation, newest first.
pub fn list(sql: &dyn Sql) -> Result<Vec<Invitation>, StoreError> {
    let query = format!("{SELECT} ORDER BY i.created_at DESC, i.id DESC");
    readable(sql.query_map(&query, &[], invitation)?, "invitation")
}

/// Marks every open invitation of `user` used at `at`. Returns how many were open.
pub fn spend(sql: &dyn Sql, user: Uuid, at: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(SPEND, params![user.to_string(), at])
}

/// Records what the relay said of the invitation's message.
pub fn set_sent(
    sql: &dyn Sql,
    id: Uuid,
    outcome: Result<UnixMillis, &str>,
) -> Result<(), StoreError> {
    match outcome {
        Ok(at) => sql.execute(SENT, params![id.to_string(), at])?,
        Err(error) => sql.execute(NOT_SENT, params![id.to_string(), error])?,
    };
    Ok(())
}

fn invitation(r: &Row) -> ReadResult<Invitation> {
    Ok(Invitation {
        id: id_col(r, "id")?,
        user_id: id_col(r, "user_id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        role: r.get("role")?,
        email: r.get("email")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
        used_at: r.get("used_at")?,
        sent_at: r.get("sent_at")?,
        send_error: r.get("send_error")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::users::{Role, tests::add};

    #[test]
    fn invitations_are_found_by_digest_spent_together_and_go_with_their_user() {
        each(|db| {
            let bea = add(db, "bea", Role::Teacher).unwrap();
            let (a, b) = ("a".repeat(64), "b".repeat(64));
            let new = |digest, at: i64| NewInvitation {
                id: Uuid::now_v7(),
                digest,
                user_id: bea.id,
                email: "bea@school.example",
                created_by: "user:ada",
                created_at: UnixMillis(at),
                expires_at: UnixMillis(at + 100),
            };
            let (first, second) = (new(a.as_str(), 1), new(b.as_str(), 2));
            write(db, |sql| insert(sql, &first)).unwrap();
            write(db, |sql| insert(sql, &second)).unwrap();
            write(db, |sql| set_sent(sql, first.id, Ok(UnixMillis(5)))).unwrap();
            write(db, |sql| set_sent(sql, second.id, Err("relay down"))).unwrap();

            let found = read(db, |sql| by_digest(sql, &a)).unwrap();
            assert_eq!((found.id, found.role.as_str()), (first.id, "teacher"));
            assert_eq!(
                (found.sent_at, found.send_error),
                (Some(UnixMillis(5)), None)
            );
            let failed = read(db, |sql| get(sql, second.id));
            assert_eq!(failed.send_error.as_deref(), Some("relay down"));
            assert!(read(db, |sql| by_digest(sql, &"c".repeat(64))).is_none());
            let listed: Vec<Uuid> = read(db, list).iter().map(|i| i.id).collect();
            assert_eq!(listed, [second.id, first.id], "newest first");

            assert_eq!(
                write(db, |sql| spend(sql, bea.id, UnixMillis(9))).unwrap(),
                2
            );
            assert_eq!(
                write(db, |sql| spend(sql, bea.id, UnixMillis(10))).unwrap(),
                0
            );
            assert_eq!(
                read(db, |sql| get(sql, first.id)).used_at,
                Some(UnixMillis(9))
            );

            write(db, |sql| crate::users::delete(sql, bea.id)).unwrap();
            assert!(read(db, list).is_empty(), "gone with their user");
        });
    }
}
