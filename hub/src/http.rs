//! The JSON API under `/api/v1`. warp only reads the request and writes the reply; `router`
//! dispatches on method and path to plain async handlers, and `error` maps every failure to
//! one JSON shape. The pages the API serves to browsers are `web` (the files of `hub/web/`).
//!
//! The files beside this one are the machinery every request goes through (`router`,
//! `dispatch`, `request`, `error`, `input`, …); the handlers live in a folder for each part of
//! the school's work: `accounts` (signing in, staff accounts), `people` (students, classes,
//! staff, faces, consent), `register` (taking it: today, sessions, the review queue),
//! `reports`, `site` (who is on site, roll call, visitors), `families`, `devices` (door units),
//! `office` (timetable, calendar, roster, audit) and `district`.

// The machinery every request goes through.
pub(crate) mod conn;
mod cors;
mod dispatch;
mod error;
mod health;
pub(crate) mod idempotency;
pub(crate) mod input;
mod multipart;
mod request;
mod router;
mod schools;
pub mod tls;
mod web;

// The routes' handlers, by what the school does with them.
mod accounts;
mod devices;
mod district;
mod families;
mod office;
mod people;
mod register;
mod reports;
mod site;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Buf;
use futures_util::{FutureExt, Stream, StreamExt};
use tracing::Instrument;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::uri::Authority;
use warp::http::{HeaderMap, Method, header};
use warp::path::Tail;
use warp::reply::{Reply as _, Response};

pub use error::ApiError;
pub use request::{Reply, Request};
pub use router::ROUTES;
pub use schools::Schools;

use dispatch::{BodyStream, Head};
use input::clip;

use crate::http_state::Hub;

/// The whole API of one school as one warp filter, with the client address from the
/// connection.
pub fn routes(hub: Arc<Hub>) -> BoxedFilter<(Response,)> {
    routes_from(Arc::new(Schools::one(hub)), None)
}

/// The whole API of every school served, each request answered by the school its host name
/// reaches ([`Schools`]); `remote` names the client when the connection is served outside
/// warp.
pub fn routes_from(schools: Arc<Schools>, remote: Option<SocketAddr>) -> BoxedFilter<(Response,)> {
    let remote_addr = match remote {
        Some(addr) => warp::any().map(move || Some(addr)).boxed(),
        None => warp::addr::remote().boxed(),
    };
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let hsts = schools.first().config.http.tls.is_some();
    let api = warp::path!("api" / "v1" / ..)
        .and(warp::host::optional())
        .and(warp::method())
        .and(warp::path::tail())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(remote_addr)
        .and(warp::body::stream())
        .then(
            move |host: Option<Authority>,
                  method: Method,
                  tail: Tail,
                  query: String,
                  headers: HeaderMap,
                  remote: Option<SocketAddr>,
                  body| {
                let host = host.as_ref().map(Authority::as_str);
                let school = schools.pick(host);
                let nowhere = host.map_or_else(|| "(none)".to_owned(), clip);
                let head = Head {
                    method,
                    path: format!("/{}", tail.as_str()),
                    query,
                    headers,
                    remote: remote.map(|a| a.ip()),
                };
                let body = boxed(body);
                let id = request_id(&head.headers);
                let span = tracing::info_span!("request", request_id = %id);
                let answer = async move {
                    let Some(hub) = school else {
                        let why = format!("no school of this hub answers at the host {nowhere}");
                        return respond(Err(ApiError::NotFound(why)));
                    };
                    let origin = cors::allowed(&hub.config.http.cors_origins, &head.headers);
                    if cors::is_preflight(&head.method, &head.headers) {
                        return cors::preflight(origin, &head.headers)
                            .unwrap_or_else(|refused| respond(Err(refused)));
                    }
                    let (started, method, remote) =
                        (Instant::now(), head.method.clone(), head.remote);
                    let (result, served) = dispatch::answer(&hub, head, body).await;
                    let response = respond(result);
                    access_log(&hub, &method, &served, response.status(), started, remote);
                    cors::expose(response, origin)
                };
                let answer = rollcall_runtime::request_id::scope(&id, answer).instrument(span);
                answer.map(move |response| with_request_id(response, &id))
            },
        );
    let fallback = warp::any().map(|| respond(Err(ApiError::NoRoute)));
    api.or(web::pages())
        .unify()
        .or(fallback)
        .unify()
        .map(move |response| with_hsts(response, hsts))
        .boxed()
}

/// One line per API request (target `rollcall_hub::access`): method, the route's template
/// (`/students/{student}`, never the path with its ids, nor the query, a token or the body),
/// status, duration and the signed-in user's id, inside the request's span (its `request_id`).
/// Under systemd it goes to the journal with the rest:
/// `journalctl -u rollcall-hub | grep rollcall_hub::access`.
fn access_log(
    hub: &Hub,
    method: &warp::http::Method,
    served: &dispatch::Served,
    status: warp::http::StatusCode,
    started: Instant,
    remote: Option<std::net::IpAddr>,
) {
    let route = served.route.unwrap_or("(no route)");
    let took = started.elapsed();
    hub.metrics
        .timings
        .request(method.as_str(), route, status.as_u16(), took);
    // To a tenth of a millisecond: a number in JSON, `1.6` in text.
    let duration_ms = (took.as_secs_f64() * 10_000.0).round() / 10.0;
    let user = served
        .user
        .map_or_else(|| "-".to_owned(), |u| u.to_string());
    let remote = remote.map_or_else(|| "-".to_owned(), |r| r.to_string());
    tracing::info!(
        target: "rollcall_hub::access",
        %method,
        route,
        status = status.as_u16(),
        duration_ms,
        %user,
        %remote,
    );
}

/// The request's id: the caller's `X-Request-Id` when it is sane (a proxy's or a client's
/// own, so its logs and ours meet), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    let sent = headers.get(X_REQUEST_ID).and_then(|v| v.to_str().ok());
    match sent.filter(|id| rollcall_runtime::request_id::is_sane(id)) {
        Some(id) => id.to_owned(),
        None => rollcall_runtime::request_id::new(),
    }
}

/// The response, saying which request it answers.
fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(id) = header::HeaderValue::from_str(id) {
        response.headers_mut().insert(X_REQUEST_ID, id);
    }
    response
}

const X_REQUEST_ID: &str = "x-request-id";

/// warp's body stream as chunks of [`Bytes`](bytes::Bytes).
fn boxed<B: Buf>(body: impl Stream<Item = Result<B, warp::Error>> + Send + 'static) -> BodyStream {
    Box::pin(body.map(|chunk| chunk.map(|mut buf| buf.copy_to_bytes(buf.remaining()))))
}

/// Browsers that once reached the hub over HTTPS never try it in plain text again.
fn with_hsts(mut response: Response, tls: bool) -> Response {
    if tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// The HTTP response for a handler's result. Nothing the API answers may be cached: it is about
/// children (names, marks, face crops).
fn respond(result: Result<Reply, ApiError>) -> Response {
    let mut response = reply(result);
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

fn reply(result: Result<Reply, ApiError>) -> Response {
    match result {
        Ok(Reply::Json(status, value)) => {
            warp::reply::with_status(warp::reply::json(&value), status).into_response()
        }
        Ok(Reply::Csv { filename, body }) => {
            let disposition = format!("attachment; filename=\"{filename}\"");
            let reply =
                warp::reply::with_header(body, header::CONTENT_TYPE, "text/csv; charset=utf-8");
            warp::reply::with_header(reply, header::CONTENT_DISPOSITION, disposition)
                .into_response()
        }
        Ok(Reply::Zip { filename, body }) => {
            let disposition = format!("attachment; filename=\"{filename}\"");
            let reply = warp::reply::with_header(body, header::CONTENT_TYPE, "application/zip");
            warp::reply::with_header(reply, header::CONTENT_DISPOSITION, disposition)
                .into_response()
        }
        Ok(Reply::Jpeg(bytes)) => {
            warp::reply::with_header(bytes, header::CONTENT_TYPE, "image/jpeg").into_response()
        }
        Ok(Reply::NoContent) => warp::http::StatusCode::NO_CONTENT.into_response(),
        Ok(Reply::Redirect { location, cookie }) => redirect(&location, cookie.as_deref()),
        Err(e) => error_response(&e),
    }
}

/// 303 See Other to `location`, with `Set-Cookie: cookie` when given.
fn redirect(location: &str, cookie: Option<&str>) -> Response {
    let (Ok(location), Ok(cookie)) = (
        header::HeaderValue::from_str(location),
        cookie.map(header::HeaderValue::from_str).transpose(),
    ) else {
        return error_response(&ApiError::Internal(format!(
            "a redirect to {:?} cannot be a header",
            input::clip(location)
        )));
    };
    let mut response = warp::http::StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    if let Some(cookie) = cookie {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

fn error_response(e: &ApiError) -> Response {
    let mut response =
        warp::reply::with_status(warp::reply::json(&e.body()), e.status()).into_response();
    let headers = response.headers_mut();
    if let Some(retry_after) = e.retry_after() {
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    }
    if let ApiError::MethodNotAllowed { allow } = e
        && let Ok(allow) = header::HeaderValue::from_str(allow)
    {
        headers.insert(header::ALLOW, allow);
    }
    if let ApiError::Unauthorized(_) = e {
        headers.insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
