//! The JSON API under `/api/v1`. warp only reads the request and writes the reply; `router`
//! dispatches on method and path to plain async handlers, and `error` maps every failure to
//! one JSON shape.

mod access;
mod admin;
mod auth;
mod error;
mod faces;
mod health;
mod multipart;
mod records;
mod reports;
mod request;
mod review;
mod router;
mod school;
mod sessions;
mod timetable;
pub mod tls;
mod today;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{Method, header};
use warp::path::Tail;
use warp::reply::{Reply as _, Response};

pub use error::ApiError;
pub use request::{Reply, Request};

use crate::state::Hub;

/// Largest JSON request body accepted.
const MAX_BODY: u64 = 1024 * 1024;
/// Largest upload (multipart photos) accepted.
const MAX_UPLOAD: u64 = 25 * 1024 * 1024;

/// Serves the API on `listener` (HTTPS when `tls` is given) until `stop` turns true.
pub async fn serve(
    hub: Arc<Hub>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    if let Some(acceptor) = tls {
        return tls::serve(hub, listener, acceptor, stop).await;
    }
    let stopped = async move {
        let _ = stop.changed().await;
    };
    warp::serve(routes(hub))
        .incoming(listener)
        .graceful(stopped)
        .run()
        .await;
}

/// The whole API as one warp filter, with the client address from the connection.
pub fn routes(hub: Arc<Hub>) -> BoxedFilter<(Response,)> {
    routes_from(hub, None)
}

/// The whole API; `remote` names the client when the connection is served outside warp.
pub fn routes_from(hub: Arc<Hub>, remote: Option<SocketAddr>) -> BoxedFilter<(Response,)> {
    let remote_addr = match remote {
        Some(addr) => warp::any().map(move || Some(addr)).boxed(),
        None => warp::addr::remote().boxed(),
    };
    let body = warp::body::content_length_limit(MAX_UPLOAD)
        .and(warp::body::bytes())
        .map(Ok::<Bytes, ApiError>)
        .or(warp::header::optional::<u64>("content-length").map(too_large))
        .unify();
    let query = warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify();
    let api = warp::path!("api" / "v1" / ..)
        .and(warp::method())
        .and(warp::path::tail())
        .and(query)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("content-type"))
        .and(remote_addr)
        .and(body)
        .and_then(
            move |method: Method,
                  tail: Tail,
                  query: HashMap<String, String>,
                  authorization: Option<String>,
                  content_type: Option<String>,
                  remote: Option<SocketAddr>,
                  body: Result<Bytes, ApiError>| {
                let hub = hub.clone();
                let headers = Headers {
                    authorization,
                    content_type,
                };
                async move {
                    let reply = match request(method, tail, query, headers, remote, body) {
                        Ok(req) => router::route(&hub, req).await,
                        Err(e) => Err(e),
                    };
                    Ok::<_, Infallible>(respond(reply))
                }
            },
        );
    let fallback = warp::any().map(|| respond(Err(ApiError::NoRoute)));
    api.or(crate::web::pages())
        .unify()
        .or(fallback)
        .unify()
        .boxed()
}

/// The request headers handlers read.
struct Headers {
    authorization: Option<String>,
    content_type: Option<String>,
}

/// The body was refused unread: its declared length is over every limit.
fn too_large(length: Option<u64>) -> Result<Bytes, ApiError> {
    match length {
        Some(bytes) if bytes > MAX_UPLOAD => Err(ApiError::TooLarge {
            bytes,
            max: MAX_UPLOAD,
        }),
        _ => Ok(Bytes::new()),
    }
}

fn request(
    method: Method,
    tail: Tail,
    query: HashMap<String, String>,
    headers: Headers,
    remote: Option<SocketAddr>,
    body: Result<Bytes, ApiError>,
) -> Result<Request, ApiError> {
    let body = body?;
    let multipart = headers
        .content_type
        .as_deref()
        .is_some_and(|t| multipart::boundary(t).is_some());
    if !multipart && body.len() as u64 > MAX_BODY {
        let (bytes, max) = (body.len() as u64, MAX_BODY);
        return Err(ApiError::TooLarge { bytes, max });
    }
    let segments = tail
        .as_str()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Request {
        method,
        segments,
        query,
        authorization: headers.authorization,
        content_type: headers.content_type,
        remote: remote.map(|a| a.ip()),
        body,
    })
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
        Ok(Reply::Jpeg(bytes)) => {
            warp::reply::with_header(bytes, header::CONTENT_TYPE, "image/jpeg").into_response()
        }
        Ok(Reply::NoContent) => warp::http::StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

fn error_response(e: &ApiError) -> Response {
    let mut response =
        warp::reply::with_status(warp::reply::json(&e.body()), e.status()).into_response();
    let headers = response.headers_mut();
    if let ApiError::TooManyAttempts { retry_after } = e {
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
    }
    if let ApiError::Unauthorized(_) = e {
        headers.insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
