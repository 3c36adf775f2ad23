//! The `Idempotency-Key` of each change a client sent, per account, with the digest of the
//! request it came with and the answer it had: a phone sending its queued decisions again after
//! a lost answer has each done once (`rollcall_hub`'s `http::idempotency` holds the rules).
//! A key is claimed in the same transaction as the change it keys, so two sends of one key
//! cannot both change anything; its answer is written once the change is answered.

use rollcall_shared::UnixMillis;
use uuid::Uuid;

use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const CLAIM: &str = "INSERT INTO idempotency_keys (user_id, key, request_sha256, created_at)
    VALUES (?1, ?2, ?3, ?4)";
const ANSWER: &str = "INSERT INTO idempotency_keys
    (user_id, key, request_sha256, status, response, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (user_id, key) DO UPDATE SET status = excluded.status,
    response = excluded.response
    WHERE idempotency_keys.request_sha256 = excluded.request_sha256
    AND idempotency_keys.status IS NULL";
const GET: &str = "SELECT request_sha256, status, response FROM idempotency_keys
    WHERE user_id = ?1 AND key = ?2";
const PURGE: &str = "DELETE FROM idempotency_keys WHERE created_at < ?1";

/// A key as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub request_sha256: String,
    /// The answer's status and JSON body; `None` while the change is being answered (or if
    /// the hub stopped between the change and its answer).
    pub answer: Option<(u16, Option<String>)>,
}

fn kept(row: &Row) -> ReadResult<Kept> {
    let status: Option<i64> = row.get("status")?;
    let answer = match status {
        Some(s) => Some((
            u16::try_from(s).map_err(|_| row.malformed("status", s.to_string()))?,
            row.get("response")?,
        )),
        None => None,
    };
    Ok(Kept {
        request_sha256: row.get("request_sha256")?,
        answer,
    })
}

/// What `user` sent with `key` before, if anything.
pub fn get(sql: &dyn Sql, user: Uuid, key: &str) -> Result<Option<Kept>, StoreError> {
    sql.query_opt(GET, params![user.to_string(), key], kept)
}

/// Claims `key` for a request with digest `sha256`, inside the transaction of the change it
/// keys: a conflict if another send of it claimed it first.
pub fn claim(
    sql: &dyn Sql,
    user: Uuid,
    key: &str,
    sha256: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(CLAIM, params![user.to_string(), key, sha256, now])?;
    Ok(())
}

/// Keeps the answer of the request `key` was claimed for (or, for a request that changed
/// nothing, claims and answers it at once). A key claimed by another request, or answered
/// already, keeps what it has.
pub fn answer(
    sql: &dyn Sql,
    (user, key, sha256): (Uuid, &str, &str),
    status: u16,
    response: Option<&str>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let p = params![
        user.to_string(),
        key,
        sha256,
        i64::from(status),
        response,
        now
    ];
    sql.execute(ANSWER, p)?;
    Ok(())
}

/// Forgets the keys sent before `before`; how many.
pub fn purge(sql: &dyn Sql, before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};

    #[test]
    fn a_key_is_claimed_once_answered_once_and_forgotten_in_time() {
        each(|db| {
            let (tess, tom) = (Uuid::now_v7(), Uuid::now_v7());
            let now = UnixMillis(1_000);
            assert_eq!(read(db, |sql| get(sql, tess, "k1")), None);
            write(db, |sql| claim(sql, tess, "k1", "aa", now)).unwrap();
            assert!(
                write(db, |sql| claim(sql, tess, "k1", "aa", now)).is_err(),
                "claimed once"
            );
            write(db, |sql| claim(sql, tom, "k1", "bb", now)).unwrap();
            let kept = read(db, |sql| get(sql, tess, "k1")).unwrap();
            assert_eq!((kept.request_sha256.as_str(), kept.answer), ("aa", None));
            let body = Some(r#"{"ok":true}"#);
            write(db, |sql| answer(sql, (tess, "k1", "aa"), 200, body, now)).unwrap();
            write(db, |sql| answer(sql, (tess, "k1", "aa"), 500, None, now)).unwrap();
            write(db, |sql| answer(sql, (tess, "k1", "zz"), 201, None, now)).unwrap();
            let kept = read(db, |sql| get(sql, tess, "k1")).unwrap();
            assert_eq!(
                (kept.request_sha256.as_str(), kept.answer),
                ("aa", Some((200, body.map(str::to_owned)))),
                "the first answer stays"
            );
            write(db, |sql| answer(sql, (tess, "k2", "cc"), 409, None, now)).unwrap();
            let kept = read(db, |sql| get(sql, tess, "k2")).unwrap();
            assert_eq!(kept.answer, Some((409, None)));
            assert_eq!(write(db, |sql| purge(sql, UnixMillis(1_001))).unwrap(), 3);
        });
    }
}
