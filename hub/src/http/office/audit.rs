//! What the school holds, for the office (admins): the audit log, searched, and the whole
//! school's data as one export.

use serde_json::json;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::export;
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};

/// `GET /export`: the school's data as CSV and JSON in a zip (`rollcall_school::export`), audited.
pub async fn export(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let (site, zone) = (hub.config.site.clone(), hub.config.timezone.clone());
    let by = actor.clone();
    let (body, summary) = hub
        .read(move |conn| {
            let about = export::About {
                site: site.as_str(),
                timezone: zone.name(),
                exported_at: now.0,
                exported_by: &by,
                schema_version: rollcall_store::schema_version(),
            };
            let mut out = std::io::Cursor::new(Vec::new());
            let summary = export::write(conn, &about, &mut out)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok::<_, ApiError>((out.into_inner(), summary))
        })
        .await?;
    let rows = summary.to_string();
    hub.write(move |tx| {
        let change = Change {
            actor: &actor,
            action: "school.export",
            target: "school".into(),
            before: None,
            after: Some(json!({"rows": rows})),
            at: now,
        };
        audit::log(tx, change).map_err(ApiError::from)
    })
    .await?;
    let day = hub.today();
    let filename = format!("rollcall-export-{}-{day}.zip", hub.config.site);
    Ok(Reply::Zip { filename, body })
}

/// The newest audit entries, `?limit` of them (100 unless said, 1000 at most), kept by
/// `?actor=` (part of who), `?action=` (the start of what), `?target=` (part of what was
/// changed), `?from=` and `?to=` (school dates, inclusive) and `?before_id=` (the next page).
pub async fn audit(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let limit = req.query::<u32>("limit")?.unwrap_or(100).min(1000);
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        let value = req.query::<String>(name)?;
        let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        value
            .map(|v| input::text(name, &v, input::MAX_NAME).map(str::to_owned))
            .transpose()
    };
    let rules = hub.config.rules();
    let filter = audit::Filter {
        actor: text("actor")?,
        action: text("action")?,
        target: text("target")?,
        from: req.query_day("from")?.map(|d| rules.instant(d, 0)),
        to: req.query_day("to")?.map(|d| rules.instant(d, 24 * 60)),
        before_id: req.query::<i64>("before_id")?,
    };
    Reply::ok(hub.read(move |c| audit::search(c, &filter, limit)).await?)
}
