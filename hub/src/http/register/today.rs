//! The Today page's data in one call: the signed-in user's sessions on the hub's today (or
//! `?date=`), each with its live roster, which students have a record waiting for review in
//! that session, which are registered by hand (no consent to recognise their face), and how
//! many the door marked with nobody reviewing, and how many families of the user's students
//! were told of an absence today (and replied). Read-only; marks are changed through
//! `sessions`.

use chrono::NaiveDate;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::attendance::Rules;
use rollcall_school::attendance::Session;
use rollcall_school::principal::Principal;
use rollcall_school::session_rosters;
use rollcall_store::Sql;
use rollcall_store::consent::{self, State};
use rollcall_store::records::{self, Status};
use rollcall_store::sightings;

/// The Today page's data for `?date` (the hub's today unless said).
pub async fn today(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let day = match req.query_day("date")? {
        Some(d) => d,
        None => rules.local_day(now),
    };
    Reply::ok(hub.read(move |c| of_day(c, &w, day, &rules, now)).await?)
}

fn of_day(
    conn: &dyn Sql,
    who: &Principal,
    day: NaiveDate,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Value, ApiError> {
    let slots = access::slots(conn, who)?;
    let classes = access::class_ids(conn, who)?;
    let sessions: Result<Vec<Value>, ApiError> =
        session_rosters::sessions_between(conn, (&classes, &slots), day, day)?
            .iter()
            .map(|s| with_waiting(conn, s, rules, now))
            .collect();
    let told = rollcall_store::notices::of_day(conn, day)?
        .into_iter()
        .filter(|n| access::student(conn, who, n.student).is_ok());
    let (mut families_told, mut families_replied) = (0, 0);
    for notice in told {
        families_told += 1;
        families_replied += usize::from(notice.reply.is_some());
    }
    Ok(json!({
        "date": day,
        "now": now,
        "sessions": sessions?,
        "families_told": families_told,
        "families_replied": families_replied,
    }))
}

/// The session's roster; each line says whether a pending record in the session names the
/// student as its best candidate.
fn with_waiting(
    conn: &dyn Sql,
    session: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Value, ApiError> {
    let roster = session_rosters::session_roster(conn, session, rules, now)?;
    let (from, to) = session.window(rules);
    let here = records::in_room(conn, Status::Pending, &session.slot.room, from, to)?;
    let named = sightings::named_by_door(conn, &session.slot.room, from, to)?;
    let consent = consent::in_class(conn, session.slot.class_id)?;
    let by_door = roster
        .rows
        .iter()
        .filter(|l| named.contains(&l.student))
        .count();
    let rows: Vec<Value> = roster
        .rows
        .iter()
        .map(|line| {
            let waiting = here.iter().any(|r| {
                r.candidates
                    .first()
                    .is_some_and(|c| c.student == line.student)
            });
            let mut row = json!(line);
            row["waiting"] = json!(waiting);
            // No consent given: the door does not know them, so a teacher marks them.
            let by_hand = consent.get(&line.student) != Some(&State::Given);
            row["register_by_hand"] = json!(by_hand);
            row
        })
        .collect();
    Ok(json!({
        "session": roster.session, "pending": here.len(), "by_door": by_door, "rows": rows,
    }))
}
