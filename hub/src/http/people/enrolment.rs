//! `POST /enrolment/photos`: photos of many students (and staff) at once, as the Students page
//! sends a photographer's folder a photo at a time, or a zip of one (a part whose file name ends
//! in `.zip`, read by [`rollcall_school::enrol::zipped`]: a zip bomb, more than 10,000 photos or
//! something that is not a zip is refused whole before any photo is enrolled). Each photo is of
//! the one its file name names (a student's reference, `S0042.jpg`, `S0042-2.jpg`, else a
//! member of staff's personnel code, `T042.jpg`), or `?reference=` for every photo of the
//! request; the answer is each photo's line of the outcome table. The rules are
//! [`rollcall_school::enrol::folder`]'s, the same as `rollcall-hub enrol`'s.

use rollcall_school::enrol::folder::{Outcome, Run};
use rollcall_school::enrol::zipped::Zipped;
use rollcall_school::principal::Principal;
use rollcall_store::StoreError;

use super::faces::photos;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;

pub async fn photos_at_once(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let enroller = hub.faces.clone().ok_or_else(|| {
        ApiError::Unavailable("photo enrolment is off on this hub (faces.enabled = false)".into())
    })?;
    let reference = req.query::<String>("reference")?;
    let parts = photos(req)?;
    let max_bytes = enroller.limits().max_bytes;
    for part in parts.iter().filter(|p| is_zip(p)) {
        let name = part.filename.as_deref().unwrap_or("the zip");
        Zipped::open(&part.data, max_bytes).map_err(|e| ApiError::bad(format!("{name}: {e}")))?;
    }
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
        let mut lines = Vec::new();
        for (i, part) in parts.into_iter().enumerate() {
            if is_zip(&part) {
                let zipped = Zipped::open(&part.data, max_bytes).ok().into_iter();
                for (name, bytes) in zipped.flat_map(Zipped::photos) {
                    lines.push(run.line(&students, name, bytes, reference.as_deref())?);
                }
                continue;
            }
            let name = (part.filename).unwrap_or_else(|| format!("photo {}", i + 1));
            let bytes = Ok(part.data.to_vec());
            lines.push(run.line(&students, name, bytes, reference.as_deref())?);
        }
        Ok::<_, StoreError>(lines)
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

/// Whether an uploaded part is a zip of photos, by its file name.
fn is_zip(part: &crate::http::multipart::Part) -> bool {
    let name = part.filename.as_deref().unwrap_or_default();
    name.rsplit_once('.')
        .is_some_and(|(_, ending)| ending.eq_ignore_ascii_case("zip"))
}
