//! Consent to face recognition, per student and in bulk, and its coverage per class. Admins record
//! changes; a teacher reads those of their own classes' students. The rules are
//! [`rollcall_school::consent`]'s; a change that erases faces pokes the gallery pusher so door
//! units drop them.

use rollcall_shared::StudentId;
use serde::Deserialize;
use serde_json::json;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::consent::{self, Recorded, Statement};
use rollcall_school::csv;
use rollcall_school::gallery;
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::consent::{self as stored, ClassCoverage, State};
use rollcall_store::school;

/// Most students one bulk change names.
const MAX_BULK: usize = 5000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bulk {
    students: Vec<StudentId>,
    consent: Statement,
}

/// `GET /students/{student}/consent`: the state, every change, how many templates the hub
/// holds, and the door units that may still hold their faces.
pub async fn get(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (w, model) = (who.clone(), hub.config.gallery.model.clone());
    let read = move |c: &dyn Sql| {
        access::student(c, &w, student)?;
        let s = school::student(c, student)?;
        let held = school::enrolments(c, student)?.len();
        Ok::<_, ApiError>(json!({
            "student": student,
            "state": s.consent,
            "register_by_hand": s.consent != State::Given,
            "history": stored::history(c, student)?,
            "templates_held": held,
            "door_units_holding": gallery::units_holding(c, student, &model)?,
        }))
    };
    Reply::ok(hub.read(read).await?)
}

/// `PUT /students/{student}/consent`: records a change (admins).
pub async fn set(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let statement = checked(hub, req.json()?)?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| consent::record(tx, student, &statement, &actor, now);
    let recorded = hub.write(write).await?;
    changed(hub, std::slice::from_ref(&recorded)).await;
    Reply::ok(recorded)
}

/// `POST /consent`: the same change for many students at once (admins), in one transaction:
/// a student that does not exist refuses the whole request.
pub async fn set_many(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let Bulk {
        mut students,
        consent,
    } = req.json()?;
    students.sort_unstable();
    students.dedup();
    if students.is_empty() || students.len() > MAX_BULK {
        return Err(ApiError::bad(format!(
            "students: name 1 to {MAX_BULK} students"
        )));
    }
    let statement = checked(hub, consent)?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let mut done = Vec::with_capacity(students.len());
        for student in students {
            let recorded = consent::record(tx, student, &statement, &actor, now);
            done.push(recorded.map_err(|e| match ApiError::from(e) {
                ApiError::NotFound(_) => ApiError::NotFound(format!("student {student}")),
                other => other,
            })?);
        }
        Ok::<_, ApiError>(done)
    };
    let recorded = hub.write(write).await?;
    changed(hub, &recorded).await;
    Reply::ok(json!({"changed": recorded.len(), "students": recorded}))
}

/// `GET /reports/consent`: per class, its students by consent state (teachers: their own
/// classes); `?format=csv`.
pub async fn coverage(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let w = who.clone();
    let read = move |c: &dyn Sql| {
        let mine = access::class_ids(c, &w)?;
        let all = stored::coverage(c)?;
        Ok::<_, ApiError>(match w.is_admin() {
            true => all,
            false => all
                .into_iter()
                .filter(|k| mine.contains(&k.class_id))
                .collect(),
        })
    };
    let classes = hub.read(read).await?;
    match req.wants_csv() {
        true => Ok(Reply::csv("consent.csv".into(), coverage_csv(&classes))),
        false => Reply::ok(json!({"states": State::ALL, "classes": classes})),
    }
}

/// `statement` if it says what its state needs, judged on the school's today.
fn checked(hub: &Hub, statement: Statement) -> Result<Statement, ApiError> {
    let today = hub.config.rules().local_day(hub.now());
    Ok(statement.checked(today)?)
}

/// Tells the gallery pusher when faces were erased or a student became recognisable, and
/// has the database forget what was erased.
async fn changed(hub: &Hub, recorded: &[Recorded]) {
    let moved = |r: &Recorded| (r.before == State::Given) != (r.state == State::Given);
    if recorded.iter().any(|r| moved(r) || r.erased.any()) {
        hub.gallery_changed();
    }
    if recorded.iter().any(|r| r.erased.any())
        && let Err(e) = hub.db.forget_deleted().await
    {
        tracing::warn!("after erasing faces: {e}");
    }
}

fn coverage_csv(classes: &[ClassCoverage]) -> String {
    let mut header = vec!["class", "students"];
    header.extend(State::ALL.map(State::as_str));
    header.push("faces_without_consent");
    let mut out = csv::line(&header);
    for c in classes {
        let mut row = vec![c.class_name.clone(), c.students.to_string()];
        row.extend(State::ALL.map(|s| c.by_state.get(&s).copied().unwrap_or(0).to_string()));
        row.push(c.faces_without_consent.to_string());
        out += &csv::line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}
