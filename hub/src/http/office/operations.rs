//! What the hub does unattended, for admins to check: webhook deliveries
//! (`GET /webhooks/deliveries`, with their failures and retries) and scheduled backups
//! (`GET /backups`: the last, the next, their sizes). E-mail digests are `digest::list`.

use serde_json::json;

use crate::backup;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use crate::notify;
use rollcall_school::principal::Principal;

/// The newest webhook deliveries, `?limit` of them (100 unless said, 1000 at most).
pub async fn deliveries(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let limit = req.query::<u32>("limit")?.unwrap_or(100).min(1000);
    let receivers = hub.config.webhooks.len();
    let listed = hub.read(move |c| notify::recent(c, limit)).await?;
    Reply::ok(json!({"receivers": receivers, "deliveries": listed}))
}

/// The scheduled backups: where, how often, how many are kept, each with its size, and when
/// the next is due. With PostgreSQL the database server's own backups apply instead.
pub async fn backups(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let config = hub.config.backup.clone();
    let postgres = hub.config.store.url.is_some();
    let Some(dir) = config.dir.clone().filter(|_| !postgres) else {
        return Reply::ok(json!({
            "configured": false,
            "engine": if postgres { "postgres" } else { "sqlite" },
            "every_hours": config.every_hours,
            "keep": config.keep,
            "backups": [],
        }));
    };
    let now = hub.now();
    let listed = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || backup::listed(&dir)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("listing backups: {e}")))?
    .map_err(|e| ApiError::Internal(format!("listing backups: {e}")))?;
    let next = backup::next_due(&listed, &config, now);
    // The hub looks every 10 minutes: a backup 15 minutes past due was not taken.
    let overdue = now.0 > next.0 + 15 * 60_000;
    Reply::ok(json!({
        "configured": true,
        "engine": "sqlite",
        "dir": dir,
        "every_hours": config.every_hours,
        "keep": config.keep,
        "last_at": listed.first().map(|b| b.at),
        "next_at": next,
        "overdue": overdue,
        "total_bytes": listed.iter().map(|b| b.bytes).sum::<u64>(),
        "backups": listed,
    }))
}
