//! A family's reply: the link signed for one student's absence on one day ([`ReplyKey`]),
//! looked up ([`look_up`]) and answered once ([`reply`]) before that day's midnight. A
//! forged, used or expired link says so and changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;
use sha2::Sha256;

use super::reasons::family_reason;
use crate::attendance::Rules;
use rollcall_store::audit::{self, Change};
use rollcall_store::notices::{self as stored, Notice};
use rollcall_store::{Sql, StoreError};

/// The key reply links are signed with.
#[derive(Clone)]
pub struct ReplyKey([u8; 32]);

impl std::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyKey(<redacted>)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature a link carries (128 bits).
const MAC_BYTES: usize = 16;

impl ReplyKey {
    /// The key derived from the hub's own secret, for this purpose only.
    pub fn derive(secret: &[u8]) -> ReplyKey {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(b"rollcall family reply link v1");
        ReplyKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, student: StudentId, day: i32) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(student.0.as_bytes());
        mac.update(&day.to_be_bytes());
        mac
    }

    /// The link's token for `student`'s absence on `day`: their id, the day and a signature,
    /// 48 URL-safe characters.
    pub fn token(&self, student: StudentId, day: NaiveDate) -> String {
        let days = day.num_days_from_ce();
        let signature = self.mac(student, days).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(16 + 4 + MAC_BYTES);
        bytes.extend_from_slice(student.0.as_bytes());
        bytes.extend_from_slice(&days.to_be_bytes());
        bytes.extend_from_slice(&signature[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The student and day a token was made for, if this key signed it.
    pub fn open(&self, token: &str) -> Option<(StudentId, NaiveDate)> {
        if token.len() > 64 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != 16 + 4 + MAC_BYTES {
            return None;
        }
        let student = StudentId(uuid::Uuid::from_slice(&bytes[..16]).ok()?);
        let days = i32::from_be_bytes(bytes[16..20].try_into().ok()?);
        self.mac(student, days)
            .verify_truncated_left(&bytes[20..])
            .ok()?;
        Some((student, NaiveDate::from_num_days_from_ce_opt(days)?))
    }
}

/// Why a reply link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("this link is not one the school sent: check it was copied whole")]
    Unknown,
    #[error("this link has been used already: the school has your answer")]
    Used,
    #[error("this link was for {0} and has expired: please telephone the school")]
    Expired(NaiveDate),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The notice a link is for, if it can still be answered at `now`.
pub fn look_up(
    conn: &dyn Sql,
    key: &ReplyKey,
    token: &str,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, ReplyError> {
    let (student, day) = key.open(token).ok_or(ReplyError::Unknown)?;
    let notice = stored::get(conn, student, day)?.ok_or(ReplyError::Unknown)?;
    let midnight = day.succ_opt().map(|next| rules.instant(next, 0));
    if midnight.is_none_or(|end| now >= end) {
        return Err(ReplyError::Expired(day));
    }
    if notice.reply.is_some() {
        return Err(ReplyError::Used);
    }
    Ok(notice)
}

/// Records the family's answer given through `token` (see the module docs, point 5).
pub fn reply(
    tx: &dyn Sql,
    key: &ReplyKey,
    token: &str,
    (reason, note): (&str, Option<&str>),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, ReplyError> {
    let notice = look_up(tx, key, token, rules, now)?;
    let answer = family_reason(reason, note, now).map_err(ReplyError::Invalid)?;
    if !stored::reply(tx, notice.student, notice.day, &answer)? {
        return Err(ReplyError::Used);
    }
    audit::log(
        tx,
        Change {
            actor: "family",
            action: "notice.reply",
            target: format!("notice:{}:{}", notice.student, notice.day),
            before: None,
            after: Some(json!({"reason": answer.reason})),
            at: now,
        },
    )?;
    Ok(Notice {
        reply: Some(answer),
        ..notice
    })
}
