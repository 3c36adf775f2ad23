//! Method and path to handler: the API's table of contents (kept in step with
//! `openapi.json`). Everything but health, metrics, the OpenAPI file and login needs a token.

use warp::http::Method;

use super::error::ApiError;
use super::request::{Reply, Request};
use super::{
    admin, auth, faces, health, records, reports, review, school, sessions, timetable, today,
};
use crate::auth::Principal;
use crate::state::Hub;

pub async fn route(hub: &Hub, req: Request) -> Result<Reply, ApiError> {
    let path: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match (req.method.clone(), path.as_slice()) {
        (Method::GET, ["health"]) => health::health(hub).await,
        (Method::GET, ["metrics"]) => Reply::ok(hub.metrics.snapshot()),
        (Method::GET, ["openapi.json"]) => health::openapi(),
        (Method::POST, ["auth", "login"]) => auth::login(hub, &req).await,
        (Method::POST, ["auth", "refresh"]) => auth::refresh(hub, &req).await,
        _ => {
            let who = auth::authenticate(hub, &req).await?;
            signed_in(hub, &req, &who, &path).await
        }
    }
}

async fn signed_in(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    path: &[&str],
) -> Result<Reply, ApiError> {
    match (req.method.clone(), path) {
        (Method::GET, ["auth", "me"]) => Reply::ok(who),
        (_, ["users", ..] | ["devices", ..] | ["audit"]) => admin::route(hub, req, who, path).await,
        (_, ["students", _, "faces", ..]) => faces::route(hub, req, who, path).await,
        (_, ["classes", ..] | ["students", ..]) => school::route(hub, req, who, path).await,
        (_, ["timetable", ..] | ["calendar", ..]) => timetable::route(hub, req, who, path).await,
        (_, ["records", ..]) => records::route(hub, req, who, path).await,
        (_, ["review"]) => review::route(hub, req, who, path).await,
        (_, ["today"]) => today::route(hub, req, who, path).await,
        (_, ["sessions", ..]) => sessions::route(hub, req, who, path).await,
        (_, ["reports", ..]) => reports::route(hub, req, who, path).await,
        _ => Err(ApiError::NoRoute),
    }
}
