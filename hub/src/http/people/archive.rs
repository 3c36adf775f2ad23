//! `GET /students/{student}/archive`: everything the hub holds about one student, as one zip for
//! them or their family (`rollcall_school::subject_access`). Admins only; each download is audited
//! with what it held.

use rollcall_shared::StudentId;
use serde_json::json;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::export::ExportError;
use rollcall_school::principal::Principal;
use rollcall_school::subject_access;
use rollcall_store::audit::{self, Change};
use rollcall_store::school;

pub async fn student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (actor, now) = (who.actor(), hub.now());
    let by = actor.clone();
    let (name, body, held) = hub
        .read(move |conn| {
            let name = school::student(conn, student)?.name;
            let mut out = std::io::Cursor::new(Vec::new());
            let held =
                subject_access::write(conn, student, &by, now.0, &mut out).map_err(
                    |e| match e {
                        ExportError::Store(e) => ApiError::from(e),
                        other => ApiError::Internal(other.to_string()),
                    },
                )?;
            Ok::<_, ApiError>((name, out.into_inner(), held))
        })
        .await?;
    let summary = subject_access::summary(&held);
    hub.write(move |tx| {
        let change = Change {
            actor: &actor,
            action: "student.archive",
            target: format!("student:{student}"),
            before: None,
            after: Some(json!({"held": summary})),
            at: now,
        };
        audit::log(tx, change).map_err(ApiError::from)
    })
    .await?;
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let filename = format!("rollcall-{safe}-{}.zip", hub.today());
    Ok(Reply::Zip { filename, body })
}
