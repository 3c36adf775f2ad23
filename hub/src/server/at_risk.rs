//! After sessions close: which students of their classes crossed below `[reports]
//! at_risk_below`, by the same rule and range as `GET /reports/school/at-risk`
//! (`reports`). A crossing is queued as a `student.at_risk` webhook once, in the
//! closing's transaction, and remembered (`store::digests`) until the student's rate is back
//! at the threshold. Owns no rule of its own: counting is the reports', crossing is
//! [`notify::crossings`].

use std::collections::BTreeSet;

use rollcall_shared::{ClassId, UnixMillis};
use serde_json::json;

use crate::notify::{self, Event, Hooks};
use rollcall_school::attendance::Rules;
use rollcall_school::register::Closed;
use rollcall_school::reports::{ClassAtRisk, class_at_risk_now};
use rollcall_store::{Sql, StoreError, digests, school};

/// Queues a `student.at_risk` event for each student of the closed sessions' classes that fell
/// below `threshold`; returns how many fell.
pub fn after_closing(
    conn: &dyn Sql,
    hooks: &Hooks,
    closed: &[Closed],
    rules: &Rules,
    (threshold, now): (f64, UnixMillis),
) -> Result<usize, StoreError> {
    let classes: BTreeSet<ClassId> = closed.iter().map(|c| c.class_id).collect();
    let mut fell = 0;
    for class in classes {
        let class = school::class(conn, class)?;
        let at_risk = class_at_risk_now(conn, class, rules, now, threshold)?;
        fell += watch_class(conn, hooks, &at_risk, (threshold, now))?;
    }
    Ok(fell)
}

fn watch_class(
    conn: &dyn Sql,
    hooks: &Hooks,
    class: &ClassAtRisk,
    (threshold, now): (f64, UnixMillis),
) -> Result<usize, StoreError> {
    let remembered = digests::at_risk(conn, class.class_id)?;
    let below: Vec<_> = class.students.iter().map(|s| s.student).collect();
    let (fell, rose) = notify::crossings(&remembered, &below);
    for student in &rose {
        digests::set_at_risk(conn, class.class_id, *student, false, now)?;
    }
    for s in class.students.iter().filter(|s| fell.contains(&s.student)) {
        digests::set_at_risk(conn, class.class_id, s.student, true, now)?;
        let payload = json!({
            "student": s.student,
            "name": s.name,
            "class_id": class.class_id,
            "class_name": class.class_name,
            "attendance_rate": s.attendance_rate,
            "threshold": threshold,
        });
        hooks.enqueue(conn, Event::StudentAtRisk, &payload, now)?;
    }
    Ok(fell.len())
}
