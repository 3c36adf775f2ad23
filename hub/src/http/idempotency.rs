//! `Idempotency-Key` (the IETF HTTP APIs working group's draft): a change (POST, PUT, PATCH,
//! DELETE) sent with a key is done at most once per account, however often it is sent. A
//! teacher's phone queues the marks and review decisions made without a network, each with
//! its own key, and sends them when the network is back; an answer lost on the way makes it
//! send one again, and that must not decide a card twice.
//!
//! 1. Before the handler: a key this account sent before with the same request (method,
//!    path, query and body, by SHA-256) is answered as it was the first time, without running
//!    the handler. Sent before with another request, it is refused (422): a queue entry
//!    changed on the phone is not taken for the one it was. Sent before and not answered yet
//!    (the first send still running), 409: try again shortly.
//! 2. During it: the key is claimed inside the transaction of the handler's first write
//!    (`Hub::write`, `crate::http_state::sent`), so of two sends at once only one can change anything: the other's
//!    transaction fails on the key and changes nothing.
//! 3. After it: the answer is kept with the key, a refusal too (another teacher decided the
//!    card first, the register closed): sent again, the phone hears the same refusal and
//!    shows it. An answer that may be different next time (429, 5xx) is not kept.
//!
//! Keys are 1 to 64 letters, digits, `-` and `_` (a UUID is one), kept
//! `retention::SENT_KEY_DAYS` days.

use std::future::Future;
use std::sync::Arc;

use rollcall_store::{Sql, idempotency};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use warp::http::{HeaderMap, Method, StatusCode};

use super::error::ApiError;
use super::request::Reply;
use crate::http_state::Hub;
use crate::http_state::sent::{self as keyed, Sent};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Longest key, in characters.
pub const MAX_KEY: usize = 64;

/// The key of a change, if the request has one: `None` for a read, or a change without.
pub fn sent(
    headers: &HeaderMap,
    method: &Method,
    user: Option<Uuid>,
    request: (&str, &str, &[u8]),
) -> Result<Option<Sent>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let (Some(user), true) = (user, is_change(method)) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(|k| k.trim().trim_matches('"'))
        .filter(|k| is_key(k))
        .ok_or_else(|| {
            ApiError::bad(format!(
                "Idempotency-Key: 1 to {MAX_KEY} letters, digits, - and _ (a UUID)"
            ))
        })?;
    let (path, query, body) = request;
    let mut digest = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        path.as_bytes(),
        query.as_bytes(),
    ] {
        digest.update(part);
        digest.update([0]);
    }
    digest.update(body);
    let sha256 = hex::encode(digest.finalize());
    Ok(Some(Sent::new(user, key.to_owned(), sha256)))
}

/// The answer a key sent before had, if it was sent before (see the module docs).
pub async fn before(hub: &Hub, sent: &Sent) -> Result<Option<Reply>, ApiError> {
    let (user, key) = (sent.user, sent.key.clone());
    let kept = hub.read(move |c| idempotency::get(c, user, &key)).await?;
    match kept {
        None => Ok(None),
        Some(k) if k.request_sha256 != sent.sha256 => Err(ApiError::KeyReused(
            "Idempotency-Key: sent before with another request; a changed request needs a key of its own".into(),
        )),
        Some(k) => match k.answer {
            Some((status, body)) => Ok(Some(replayed(status, body))),
            None => Err(ApiError::Conflict(
                "a request with this Idempotency-Key is being answered: try again shortly".into(),
            )),
        },
    }
}

/// Runs `handler` with the key claimable by its first write, then keeps its answer.
pub async fn answer<F>(hub: &Hub, sent: Sent, handler: F) -> Result<Reply, ApiError>
where
    F: Future<Output = Result<Reply, ApiError>>,
{
    let sent = Arc::new(sent);
    let result = keyed::scope(sent.clone(), handler).await;
    if result.is_err() && !sent.is_claimed() {
        // Refused before writing: unless another send of the key got there first (whose
        // answer is the key's), the refusal is this key's answer.
        if let Some(theirs) = before(hub, &sent).await? {
            return Ok(theirs);
        }
    }
    let Some((status, body)) = kept_answer(&result) else {
        return result;
    };
    let (user, key, sha) = (sent.user, sent.key.clone(), sent.sha256.clone());
    let now = hub.now();
    let kept = hub
        .write(move |tx: &dyn Sql| {
            idempotency::answer(tx, (user, &key, &sha), status, body.as_deref(), now)
        })
        .await;
    if let Err(e) = kept {
        tracing::warn!("the answer of an Idempotency-Key was not kept: {e}");
    }
    result
}

fn is_change(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

fn is_key(k: &str) -> bool {
    (1..=MAX_KEY).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The status and JSON body kept of an answer, or `None` for one that may differ if sent
/// again (too fast, the hub failing or busy).
fn kept_answer(result: &Result<Reply, ApiError>) -> Option<(u16, Option<String>)> {
    let (status, body) = match result {
        Ok(Reply::Json(status, body)) => (*status, Some(body.to_string())),
        Ok(Reply::NoContent) => (StatusCode::NO_CONTENT, None),
        Ok(_) => (StatusCode::OK, None),
        Err(e) => (e.status(), Some(e.body().to_string())),
    };
    let lasting = status.is_success()
        || (status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS);
    lasting.then_some((status.as_u16(), body))
}

/// A kept answer, given again.
fn replayed(status: u16, body: Option<String>) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    match body.and_then(|b| serde_json::from_str(&b).ok()) {
        Some(body) => Reply::Json(status, body),
        None if status == StatusCode::NO_CONTENT => Reply::NoContent,
        None => Reply::Json(status, json!({"replayed": true})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_key(key: &str, body: &[u8]) -> Result<Option<Sent>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, key.parse().unwrap());
        super::sent(
            &headers,
            &Method::POST,
            Some(Uuid::nil()),
            ("/records/1/approve", "", body),
        )
    }

    #[test]
    fn a_key_is_a_short_token_and_its_request_is_told_apart_by_its_body() {
        let a = with_key("0191a0e8-0000-7000-8000-000000000001", b"{}").unwrap();
        let quoted = with_key("\"0191a0e8-0000-7000-8000-000000000001\"", b"{}").unwrap();
        assert_eq!(a.as_ref().unwrap().key, quoted.as_ref().unwrap().key);
        assert_eq!(a.as_ref().unwrap().sha256, quoted.unwrap().sha256);
        let other = with_key("0191a0e8-0000-7000-8000-000000000001", b"{\"note\":1}").unwrap();
        assert_ne!(a.unwrap().sha256, other.unwrap().sha256);
        for bad in ["", "a b", "é", &"k".repeat(65), "a;b"] {
            assert!(with_key(bad, b"{}").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_an_answer_that_would_be_the_same_again_is_kept() {
        let kept = |r| kept_answer(&r).map(|(s, _)| s);
        assert_eq!(kept(Ok(Reply::NoContent)), Some(204));
        assert_eq!(kept(Err(ApiError::Conflict("decided".into()))), Some(409));
        let too_fast = ApiError::TooFast {
            by: "account",
            retry_after: 1,
        };
        assert_eq!(kept(Err(too_fast)), None);
        assert_eq!(kept(Err(ApiError::Internal("disk".into()))), None);
        assert!(matches!(replayed(204, None), Reply::NoContent));
    }
}
