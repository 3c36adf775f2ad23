//! Liveness and the API description: `/health` (database reachable, broker connected, the
//! hubs this one counts as live and whether it runs the scheduled work, ingest counters) and `/openapi.json` (hand-written, embedded at build time).

use serde_json::json;
use warp::http::StatusCode;

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::http_state::Hub;

/// The ingest counters.
pub async fn metrics(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    Reply::ok(hub.metrics.snapshot())
}

/// The OpenAPI 3 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn health(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    let db_ok = hub
        .read(|sql| Ok::<_, ApiError>(rollcall_store::health::answers(sql)))
        .await
        .unwrap_or(false);
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let cluster = hub.cluster.borrow().clone();
    let body = json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "site": hub.config.site.as_str(),
        "database": db_ok,
        "cluster": {
            "hub": &*cluster.me,
            "hubs": cluster.live.len(),
            "leader": cluster.leader,
        },
        "metrics": hub.metrics.snapshot(),
    });
    Ok(Reply::Json(status, body))
}

pub async fn openapi(_hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    let doc: serde_json::Value =
        serde_json::from_str(OPENAPI).map_err(|e| ApiError::Internal(e.to_string()))?;
    Reply::ok(doc)
}
