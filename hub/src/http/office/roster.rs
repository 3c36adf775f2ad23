//! `POST /roster/import` (admin): the school information system's roster, as a plain CSV
//! (`?format=csv`, the body) or a OneRoster 1.1 or 1.2 CSV package (`?format=oneroster`, a zip of
//! its files); `?dry_run=true` says what would change without changing it, `?confirm_leavers=N`
//! lets an import make N leavers past the school's limit, and `?terms=true` adds the terms the
//! calendar lacks. The rules are in `rollcall_school::roster_import`.

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_school::roster_import::{self, ImportError, Options, plain};

pub async fn import(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let format = req
        .query::<String>("format")?
        .unwrap_or_else(|| "csv".into());
    let options = Options {
        dry_run: req.query::<bool>("dry_run")?.unwrap_or(false),
        confirm_leavers: req.query::<usize>("confirm_leavers")?,
        add_terms: req.query::<bool>("terms")?.unwrap_or(false),
        max_leavers_percent: hub.config.roster.max_leavers_percent,
        today: hub.today(),
    };
    let parsed = match format.as_str() {
        "csv" => plain::read(&req.body),
        "oneroster" => roster_import::read_zip(&req.body),
        _ => return Err(ApiError::bad("format: csv or oneroster")),
    };
    let roster = parsed.map_err(ApiError::BadRows)?;
    let (actor, now) = (who.actor(), hub.now());
    let plan = hub
        .write(move |tx| roster_import::import(tx, &roster, options, &actor, now))
        .await?;
    if !options.dry_run && plan.changes() {
        hub.gallery_changed();
    }
    Reply::ok(plan)
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Rows(rows) => ApiError::BadRows(rows),
            ImportError::Leavers(gate) => ApiError::Leavers(gate),
            ImportError::Store(e) => e.into(),
        }
    }
}
