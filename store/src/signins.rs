//! Sign-ins and their refresh tokens (migration 5). A sign-in is one login's family of
//! refresh tokens; a token is stored only as the SHA-256 of its text. The rotation rules
//! themselves live in `auth::signin`; this module only reads and writes rows.

use rollcall_shared::UnixMillis;
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{Sql, params};

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
    sql: &dyn Sql,
    id: Uuid,
    user: Uuid,
    now: UnixMillis,
    ends_at: UnixMillis,
) -> Result<(), StoreError> {
    let row = params![id.to_string(), user.to_string(), now, ends_at];
    sql.execute(INSERT_SIGNIN, row)?;
    Ok(())
}

pub fn insert_token(
    sql: &dyn Sql,
    sha256: &str,
    signin: Uuid,
    expires_at: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(
        INSERT_TOKEN,
        params![sha256, signin.to_string(), expires_at],
    )?;
    Ok(())
}

pub fn token(sql: &dyn Sql, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
    sql.query_opt(SELECT_TOKEN, params![sha256], |r| {
        Ok(StoredToken {
            signin: id_col(r, "signin_id")?,
            user: id_col(r, "user_id")?,
            expires_at: r.get("expires_at")?,
            spent_at: r.get("spent_at")?,
            signin_ends_at: r.get("signin_ends_at")?,
            revoked_at: r.get("revoked_at")?,
        })
    })
}

/// Marks the token spent; false when it already was.
pub fn spend(sql: &dyn Sql, sha256: &str, now: UnixMillis) -> Result<bool, StoreError> {
    Ok(sql.execute(SPEND_TOKEN, params![sha256, now])? == 1)
}

/// Ends one sign-in; false when it had already ended.
pub fn revoke(sql: &dyn Sql, signin: Uuid, now: UnixMillis) -> Result<bool, StoreError> {
    Ok(sql.execute(REVOKE, params![signin.to_string(), now])? == 1)
}

/// Ends every sign-in of `user`; returns how many were live.
pub fn revoke_user(sql: &dyn Sql, user: Uuid, now: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(REVOKE_USER, params![user.to_string(), now])
}

/// Whether `signin` is `user`'s and has neither been ended nor run out.
pub fn is_live(
    sql: &dyn Sql,
    signin: Uuid,
    user: Uuid,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let row = params![signin.to_string(), user.to_string(), now];
    let n: i64 = sql.query_one(LIVE, row, "sign-in count", |r| r.get("live"))?;
    Ok(n == 1)
}

/// Deletes `user`'s ended sign-ins and their tokens (called at each login, so a user's rows
/// do not pile up).
pub fn prune(sql: &dyn Sql, user: Uuid, now: UnixMillis) -> Result<(), StoreError> {
    sql.execute(PRUNE_TOKENS, params![user.to_string(), now])?;
    sql.execute(PRUNE_SIGNINS, params![user.to_string(), now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::engines::each;
    use crate::sql::Sql;
    use crate::users::{self, Role};

    fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
        db.write_blocking(f).unwrap()
    }

    #[test]
    fn tokens_are_spent_once_and_sign_ins_end_and_are_pruned() {
        each(|db| {
            let user = users::tests::add(db, "ada", Role::Teacher).unwrap().id;
            let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
            write(db, |sql| {
                insert_signin(sql, first, user, UnixMillis(10), UnixMillis(100))?;
                insert_signin(sql, second, user, UnixMillis(10), UnixMillis(100))?;
                insert_token(sql, "t1", first, UnixMillis(50))?;
                insert_token(sql, "t2", second, UnixMillis(50))
            });
            let stored = db.read_blocking(|sql| token(sql, "t1")).unwrap();
            let expected = StoredToken {
                signin: first,
                user,
                expires_at: UnixMillis(50),
                spent_at: None,
                signin_ends_at: UnixMillis(100),
                revoked_at: None,
            };
            assert_eq!(stored, Some(expected));
            assert_eq!(write(db, |sql| token(sql, "none")), None);
            assert!(write(db, |sql| spend(sql, "t1", UnixMillis(20))));
            assert!(!write(db, |sql| spend(sql, "t1", UnixMillis(21))));
            let spent = write(db, |sql| token(sql, "t1")).unwrap();
            assert_eq!(spent.spent_at, Some(UnixMillis(20)));

            let live = |signin, now| write(db, |sql| is_live(sql, signin, user, UnixMillis(now)));
            assert!(live(first, 99));
            assert!(!live(first, 100));
            assert!(write(db, |sql| revoke(sql, first, UnixMillis(30))));
            assert!(!write(db, |sql| revoke(sql, first, UnixMillis(31))));
            assert!(!live(first, 40));
            assert_eq!(write(db, |sql| revoke_user(sql, user, UnixMillis(32))), 1);
            assert!(!live(second, 40));

            write(db, |sql| prune(sql, user, UnixMillis(40)));
            assert_eq!(write(db, |sql| token(sql, "t2")), None);
        });
    }
}
