//! A guardian's own account (`rollcall_school::family` has the rules): their children, each
//! with today's lessons and marks and the absences the school knows of ahead
//! (`GET /me/children`); a child's history, as the child's own account sees it
//! (`GET /me/children/{student}/history`); and a reason for a future absence
//! (`POST /me/children/{student}/absences`), which the office accepts or rejects on the
//! Families page like a reply to the morning's message.

use chrono::NaiveDate;
use rollcall_shared::StudentId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::reports::history;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::family;
use rollcall_school::notices::REASONS;
use rollcall_school::principal::Principal;
use rollcall_store::notices::{self, Notice};
use rollcall_store::school;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AbsenceBody {
    day: NaiveDate,
    reason: String,
    note: Option<String>,
}

/// `GET /me/children`.
pub async fn children(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let today = rules.local_day(now);
    let answer = hub
        .read(move |c| {
            let mut children = Vec::new();
            for id in family::children(c, &w)? {
                let student = school::student(c, id)?;
                let seen = family::as_child(&w, id);
                let lessons = history::answer(c, &seen, id, (today, today), &rules, now)?;
                children.push(json!({
                    "id": id,
                    "name": student.name,
                    "year_group": student.profile.year_group,
                    "form": student.profile.form,
                    "today": lessons["sessions"],
                    "absences": notices::of_student_from(c, id, today)?
                        .iter()
                        .map(for_family)
                        .collect::<Vec<_>>(),
                }));
            }
            Ok::<_, ApiError>(json!({
                "today": today,
                "report_until": family::report_until(today),
                "reasons": REASONS.map(|(reason, _)| reason),
                "children": children,
            }))
        })
        .await?;
    Reply::ok(answer)
}

/// A notice as the family sees it: what they said and what the school made of it, not which
/// member of staff decided.
fn for_family(n: &Notice) -> Value {
    json!({
        "student": n.student,
        "day": n.day,
        "reply": n.reply,
        "decision": n.decision.as_ref().map(|d| json!({
            "state": d.state,
            "at": d.at,
            "note": d.note,
        })),
        "arrived_at": n.arrived_at,
    })
}

/// `GET /me/children/{student}/history`: `?from..?to` as every history.
pub async fn history(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let w = who.clone();
    hub.read(move |c| family::child(c, &w, student)).await?;
    history::of(hub, req, &family::as_child(who, student), student).await
}

/// `POST /me/children/{student}/absences`.
pub async fn report_absence(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let w = who.clone();
    hub.read(move |c| family::child(c, &w, student)).await?;
    let body: AbsenceBody = req.json()?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let notice = hub
        .write(move |tx| {
            let reason = (body.reason.as_str(), body.note.as_deref());
            family::report_absence(tx, &w, (student, body.day), reason, &rules, now)
                .map_err(ApiError::from)
        })
        .await?;
    Reply::created(for_family(&notice))
}
