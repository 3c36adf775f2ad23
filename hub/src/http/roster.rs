//! `POST /roster/import` (admin): the school information system's roster, as a plain CSV
//! (`?format=csv`, the body) or OneRoster 1.2 bulk CSV (`?format=oneroster`, a zip of its
//! files); `?dry_run=true` says what would change without changing it. The rules are in
//! `crate::roster_import`.

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::auth::Principal;
use crate::roster_import::{self, parse};
use crate::state::Hub;

pub async fn import(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let format = req
        .query::<String>("format")?
        .unwrap_or_else(|| "csv".into());
    let dry_run = req.query::<bool>("dry_run")?.unwrap_or(false);
    let parsed = match format.as_str() {
        "csv" => parse::plain(&req.body),
        "oneroster" => parse::oneroster_zip(&req.body),
        _ => return Err(ApiError::bad("format: csv or oneroster")),
    };
    let roster = parsed.map_err(ApiError::BadRows)?;
    let (actor, now) = (who.actor(), hub.now());
    let plan = hub
        .write(move |tx| {
            roster_import::import(tx, &roster, dry_run, &actor, now).map_err(ApiError::from)
        })
        .await?;
    if !dry_run && plan.changes() {
        hub.gallery_changed();
    }
    Reply::ok(plan)
}
