//! The JSON API under `/api/v1`. warp only reads the request and writes the reply; `router`
//! dispatches on method and path to plain async handlers, and `error` maps every failure to
//! one JSON shape.

mod access;
mod admin;
mod auth;
mod error;
mod health;
mod records;
mod reports;
mod request;
mod router;
mod school;
mod sessions;
mod timetable;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpListener;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{Method, header};
use warp::path::Tail;
use warp::reply::{Reply as _, Response};

pub use error::ApiError;
pub use request::{Reply, Request};

use crate::state::Hub;

/// Largest request body accepted.
const MAX_BODY: u64 = 1024 * 1024;

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    hub: Arc<Hub>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(routes(hub))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}

/// The whole API as one warp filter.
pub fn routes(hub: Arc<Hub>) -> BoxedFilter<(Response,)> {
    let body = warp::body::content_length_limit(MAX_BODY)
        .and(warp::body::bytes())
        .or(warp::any().map(Bytes::new))
        .unify();
    let query = warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify();
    let api = warp::path!("api" / "v1" / ..)
        .and(warp::method())
        .and(warp::path::tail())
        .and(query)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::addr::remote())
        .and(body)
        .and_then(
            move |method: Method,
                  tail: Tail,
                  query: HashMap<String, String>,
                  authorization: Option<String>,
                  remote: Option<SocketAddr>,
                  body: Bytes| {
                let hub = hub.clone();
                async move {
                    let req = request(method, tail, query, authorization, remote, body);
                    Ok::<_, Infallible>(respond(router::route(&hub, req).await))
                }
            },
        );
    let fallback = warp::any().map(|| respond(Err(ApiError::NoRoute)));
    api.or(fallback).unify().boxed()
}

fn request(
    method: Method,
    tail: Tail,
    query: HashMap<String, String>,
    authorization: Option<String>,
    remote: Option<SocketAddr>,
    body: Bytes,
) -> Request {
    let segments = tail
        .as_str()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Request {
        method,
        segments,
        query,
        authorization,
        remote: remote.map(|a| a.ip()),
        body,
    }
}

fn respond(result: Result<Reply, ApiError>) -> Response {
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
