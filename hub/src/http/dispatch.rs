//! One request's life, in order: match the route (404, 405), check the caller (401; 403 for a
//! student's account anywhere but its own routes, or a role the route does not admit), count
//! it against the caller's pace (429, `crate::auth::pace`), read
//! the body up to the route's limit (413), parse the query (400), run the handler (a change
//! sent with an `Idempotency-Key` at most once: `super::idempotency`). Each step
//! costs the client more than the one before it costs the hub. The whole of it runs contained
//! (see `rollcall_runtime::contain`): a handler that panics is answered 500 and logged, and the
//! hub serves on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use rollcall_runtime::contain;
use warp::http::{HeaderMap, Method, header};

use super::accounts::auth::authenticate;
use super::error::ApiError;
use super::idempotency;
use super::input::{self, clip};
use super::request::{Reply, Request};
use super::router::{self, Guard};
use crate::auth::pace::{self, Caller};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_store::users::Role;
use uuid::Uuid;

/// A request body as it arrives, in chunks (fixed length or chunked alike).
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, warp::Error>> + Send>>;

/// Everything about a request but its body.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    /// The path after `/api/v1`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: HeaderMap,
    pub remote: Option<IpAddr>,
}

/// What the access log says of a request besides its status: the route's template (never the
/// path itself, which holds ids) and who asked.
#[derive(Debug, Default)]
pub struct Served {
    pub route: Option<&'static str>,
    pub user: Option<uuid::Uuid>,
}

/// Answers one API request; never panics, never fails to answer.
pub async fn answer(hub: &Hub, head: Head, body: BodyStream) -> (Result<Reply, ApiError>, Served) {
    let what = format!("{} /api/v1{}", head.method, clip(&head.path));
    let mut served = Served::default();
    let result = match contain::future(dispatch(hub, head, body, &mut served)).await {
        Ok(reply) => reply,
        Err(panicked) => Err(ApiError::Internal(format!("{what}: {panicked}"))),
    };
    (result, served)
}

async fn dispatch(
    hub: &Hub,
    head: Head,
    body: BodyStream,
    served: &mut Served,
) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = head.path.split('/').filter(|s| !s.is_empty()).collect();
    let (route, params) = router::find(&head.method, &segments)?;
    served.route = Some(route.path);
    let bearer = head
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let who = match route.guard {
        Guard::Anyone(_) => None,
        Guard::Own(_) | Guard::User(_) | Guard::Admin(_) | Guard::District(_) => {
            Some(authenticate(hub, bearer).await?)
        }
    };
    served.user = who.as_ref().map(|w| w.user_id);
    keep_pace(hub, who.as_ref().map(|w| w.user_id), head.remote)?;
    match (route.guard, &who) {
        (Guard::Anyone(_) | Guard::Own(_), _) => {}
        (_, Some(who)) if !who.is_staff() => {
            return Err(ApiError::Forbidden(
                match who.role {
                    Role::Guardian => {
                        "a guardian's account sees only their own children's attendance"
                    }
                    _ => "a student's account sees only its own attendance",
                }
                .into(),
            ));
        }
        (Guard::Admin(_), Some(who)) if !who.is_admin() => return Err(ApiError::AdminOnly),
        (Guard::District(_), Some(who)) if !is_district_admin(hub, who) => {
            return Err(ApiError::Forbidden(
                "this needs a district admin (named in the hub's [district] admins)".into(),
            ));
        }
        _ => {}
    }
    let request = Request {
        params,
        query: parse_query(&head.query)?,
        content_type: text_header(&head.headers, header::CONTENT_TYPE),
        host: text_header(&head.headers, header::HOST).filter(|h| input::is_host(h)),
        remote: head.remote,
        cookie: text_header(&head.headers, header::COOKIE),
        body: read_body(&head.headers, body, route.body_limit).await?,
    };
    let user = who.as_ref().map(|w| w.user_id);
    let sent = idempotency::sent(
        &head.headers,
        &head.method,
        user,
        (&head.path, &head.query, &request.body),
    )?;
    let handled = handle(hub, route.guard, &request, who.as_ref());
    match sent {
        None => handled.await,
        Some(sent) => match idempotency::before(hub, &sent).await? {
            Some(answered) => Ok(answered),
            None => idempotency::answer(hub, sent, handled).await,
        },
    }
}

/// Runs the route's handler.
async fn handle(
    hub: &Hub,
    guard: Guard,
    request: &Request,
    who: Option<&Principal>,
) -> Result<Reply, ApiError> {
    match (guard, who) {
        (Guard::Anyone(handler), _) => handler(hub, request).await,
        (
            Guard::Own(handler)
            | Guard::User(handler)
            | Guard::Admin(handler)
            | Guard::District(handler),
            Some(who),
        ) => handler(hub, request, who).await,
        (Guard::Own(_) | Guard::User(_) | Guard::Admin(_) | Guard::District(_), None) => {
            Err(ApiError::Unauthorized("an access token is required".into()))
        }
    }
}

/// Counts the request against its caller's bucket (`[http.limits]`): the account signed in,
/// else the address; refused with the wait when the bucket is empty.
fn keep_pace(hub: &Hub, account: Option<Uuid>, remote: Option<IpAddr>) -> Result<(), ApiError> {
    let caller = match (account, remote) {
        (Some(account), _) => Caller::Account(account),
        (None, Some(address)) => Caller::Address(address),
        // Served outside a socket (the hub's own tests of its handlers): nobody to count.
        (None, None) => return Ok(()),
    };
    hub.pace.admit(caller).map_err(|wait| {
        hub.metrics.timings.limited(caller.kind());
        ApiError::TooFast {
            by: caller.kind(),
            retry_after: pace::retry_after(wait),
        }
    })
}

/// Whether `who`, signed in at this hub's school, is one of its district's admins.
fn is_district_admin(hub: &Hub, who: &rollcall_school::principal::Principal) -> bool {
    let district = hub.district.as_deref();
    district.is_some_and(|d| d.admits(&hub.config.site, who))
}

fn text_header(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The query string's pairs; a key given twice is refused rather than guessed at.
fn parse_query(raw: &str) -> Result<HashMap<String, String>, ApiError> {
    let mut query = HashMap::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        if query.insert(key.to_string(), value.into_owned()).is_some() {
            return Err(ApiError::bad(format!("?{}: given twice", clip(&key))));
        }
    }
    Ok(query)
}

/// The whole body, refused as soon as it is known to be over `limit`: from its declared
/// length before a byte is read, else while it streams in.
async fn read_body(
    headers: &HeaderMap,
    mut body: BodyStream,
    limit: u64,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(bytes) = declared.filter(|&n| n > limit) {
        return Err(ApiError::TooLarge { bytes, max: limit });
    }
    const FIRST_CAPACITY: u64 = 64 * 1024;
    let capacity = declared.unwrap_or(0).min(FIRST_CAPACITY) as usize;
    let mut read = BytesMut::with_capacity(capacity);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad(format!("reading the body: {e}")))?;
        let total = (read.len() + chunk.len()) as u64;
        if total > limit {
            return Err(ApiError::TooLarge {
                bytes: total,
                max: limit,
            });
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(chunks: &[&'static [u8]]) -> BodyStream {
        let items: Vec<Result<Bytes, warp::Error>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Box::pin(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn bodies_are_read_whole_up_to_the_limit_with_or_without_a_length() {
        let none = HeaderMap::new();
        let read = read_body(&none, stream(&[b"ab", b"cd"]), 4).await.unwrap();
        assert_eq!(&read[..], b"abcd", "a chunked body is read whole");
        let over = read_body(&none, stream(&[b"ab", b"cde"]), 4).await;
        assert!(matches!(over, Err(ApiError::TooLarge { bytes: 5, max: 4 })));
        let mut long = HeaderMap::new();
        long.insert(header::CONTENT_LENGTH, "1000000000".parse().unwrap());
        let refused = read_body(&long, stream(&[]), 4).await;
        assert!(matches!(refused, Err(ApiError::TooLarge { max: 4, .. })));
    }

    #[test]
    fn queries_decode_and_refuse_repeated_keys() {
        let q = parse_query("date=2026-11-23&q=ann%20b").unwrap();
        assert_eq!(q["date"], "2026-11-23");
        assert_eq!(q["q"], "ann b");
        assert!(parse_query("limit=1&limit=2").is_err());
        assert!(parse_query("").unwrap().is_empty());
    }
}
