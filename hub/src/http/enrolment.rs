//! `POST /enrolment/photos`: photos of many students at once, as the Students page sends a
//! photographer's folder a photo at a time. Each photo's student is the one its file name
//! names (`S0042.jpg`, `S0042-2.jpg`), or `?reference=` for every photo of the request; the
//! answer is each photo's line of the outcome table. The rules are
//! [`rollcall_school::enrol::folder`]'s, the same as `rollcall-hub enrol`'s.

use rollcall_school::enrol::folder::{Outcome, Run};
use rollcall_school::principal::Principal;
use rollcall_store::StoreError;

use super::error::ApiError;
use super::faces::photos;
use super::request::{Reply, Request};
use crate::http_state::Hub;

pub async fn photos_at_once(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let enroller = hub.faces.clone().ok_or_else(|| {
        ApiError::Unavailable("photo enrolment is off on this hub (faces.enabled = false)".into())
    })?;
    let reference = req.query::<String>("reference")?;
    let parts = photos(req)?;
    let (db, clock, actor) = (hub.db.clone(), hub.clock.clone(), who.actor());
    let enrol = move || {
        let now = || clock.now();
        let run = Run {
            db: &db,
            enroller: &enroller,
            mapping: None,
            actor: &actor,
            now: &now,
        };
        let students = run.students()?;
        let lines = parts.into_iter().enumerate().map(|(i, part)| {
            let name = (part.filename).unwrap_or_else(|| format!("photo {}", i + 1));
            run.line(
                &students,
                name,
                Ok(part.data.to_vec()),
                reference.as_deref(),
            )
        });
        lines.collect::<Result<Vec<_>, StoreError>>()
    };
    let lines = tokio::task::spawn_blocking(enrol)
        .await
        .map_err(|e| ApiError::Internal(format!("face pipeline task: {e}")))??;
    let enrolled = lines
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::Enrolled { .. }));
    if enrolled.count() > 0 {
        hub.gallery_changed();
    }
    Reply::ok(lines)
}
