//! What one user's digest says: the pending reviews and at-risk students of the classes they
//! see, read with the review queue's and the at-risk report's own functions, so the digest
//! never counts differently from the pages. Wording is `email::compose`, sending `email::smtp`.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rollcall_shared::UnixMillis;
use uuid::Uuid;

use crate::email::compose::{AtRiskLine, ClassPart, Digest};
use rollcall_school::access::{self, AccessError};
use rollcall_school::attendance::{Rules, in_some_session};
use rollcall_school::principal::Principal;
use rollcall_school::reports::class_at_risk_now;
use rollcall_school::review::visible_ids;
use rollcall_store::Sql;
use rollcall_store::records::{self, RecordFilter, Status};
use rollcall_store::school::Class;
use rollcall_store::timetable::{self, Slot};
use rollcall_store::users::User;

/// Pending records looked at to count (as the review queue's count).
const COUNT_LIMIT: usize = 10_000;

/// What `user`'s digest says at `now`: the pending reviews and at-risk students of the classes
/// they see (an admin: every class, and every pending record).
pub fn gather(
    conn: &dyn Sql,
    user: &User,
    rules: &Rules,
    (threshold, now): (f64, UnixMillis),
) -> Result<Digest, AccessError> {
    let who = Principal {
        user_id: user.id,
        username: user.username.clone(),
        role: user.role,
        student: user.student_id,
        signin: Uuid::nil(),
    };
    let classes = access::classes(conn, &who)?;
    let (_, pending) = visible_ids(
        conn,
        &who,
        rules,
        &RecordFilter::status(Status::Pending),
        0,
        COUNT_LIMIT,
    )?;
    let per_class = pending_by_class(conn, &classes, rules)?;
    let mut parts = Vec::new();
    for (class, pending) in classes.into_iter().zip(per_class) {
        let at_risk = class_at_risk_now(conn, class, rules, now, threshold)?;
        parts.push(ClassPart {
            class_name: at_risk.class_name,
            pending,
            at_risk: at_risk
                .students
                .into_iter()
                .map(|s| AtRiskLine {
                    name: s.name,
                    attendance_rate: s.attendance_rate,
                })
                .collect(),
        });
    }
    parts.retain(|p| p.pending > 0 || !p.at_risk.is_empty());
    Ok(Digest {
        day: rules.local_day(now),
        display_name: user.display_name.clone(),
        school_wide: who.is_admin(),
        pending,
        classes: parts,
        threshold,
    })
}

/// For each of `classes`, the pending records captured during one of its sessions.
fn pending_by_class(
    conn: &dyn Sql,
    classes: &[Class],
    rules: &Rules,
) -> Result<Vec<usize>, AccessError> {
    let all = timetable::all_slots(conn)?;
    // Per room, each class's slots there.
    let mut by_room: HashMap<String, Vec<(usize, Vec<Slot>)>> = HashMap::new();
    for (i, class) in classes.iter().enumerate() {
        for slot in all.iter().filter(|s| s.class_id == class.id) {
            let in_room = by_room.entry(slot.room.clone()).or_default();
            match in_room.iter_mut().find(|(j, _)| *j == i) {
                Some((_, slots)) => slots.push(slot.clone()),
                None => in_room.push((i, vec![slot.clone()])),
            }
        }
    }
    let mut counts = vec![0; classes.len()];
    let mut seen = 0;
    records::each_key(conn, &RecordFilter::status(Status::Pending), |key| {
        for (i, slots) in by_room.get(key.room.as_str()).into_iter().flatten() {
            if in_some_session(&key.room, key.captured_at, slots, rules) {
                counts[*i] += 1;
            }
        }
        seen += 1;
        match seen < COUNT_LIMIT {
            true => ControlFlow::Continue(()),
            false => ControlFlow::Break(()),
        }
    })?;
    Ok(counts)
}
