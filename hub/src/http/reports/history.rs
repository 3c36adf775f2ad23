//! `GET /reports/students/{student}/history` (and a student's own, `GET /me/history`):
//! everything the register and the live rosters
//! say about one student, for their history page: every session newest first (mark, code,
//! source, first seen, the evidence record ids of a closed session, amendments) and, for each
//! term overlapping the range, the counts by mark and the attendance rate
//! (`session_rosters::stats`, the class report's arithmetic), and each day's comings and goings
//! through the doors facing in or out, newest day first.
//!
//! The range is `?from..?to`, at most a year apart like every report; without them it is the
//! 365 days up to today in the school's zone (a school year, whenever in it one asks), and
//! without `?from` it is the 365 days up to `?to`.

use chrono::{Duration, NaiveDate};
use rollcall_shared::{Direction, StudentId, UnixMillis};
use serde_json::{Value, json};

use super::registers::{history_row, student_rosters};
use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::attendance::Rules;
use rollcall_school::principal::Principal;
use rollcall_school::review::ACCEPTED;
use rollcall_school::session_rosters::{self, SessionRoster, StudentStats};
use rollcall_store::sightings::{self, Movement};
use rollcall_store::timetable::{self, Term};
use rollcall_store::{Sql, school};

/// Days before `?to` the history starts when `?from` is not given.
const DEFAULT_DAYS: i64 = 365;
/// The longest range asked for, as for the other reports.
const MAX_DAYS: i64 = 366;

pub async fn history(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    of(hub, req, who, student).await
}

/// `GET /me/history`: a student's own, as their teachers see it.
pub async fn mine(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    of(hub, req, who, crate::http::accounts::me::own_student(who)?).await
}

pub(in crate::http) async fn of(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    student: StudentId,
) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let days = range(req, rules.local_day(now))?;
    Reply::ok(
        hub.read(move |c| answer(c, &w, student, days, &rules, now))
            .await?,
    )
}

/// `?from..?to`, defaulted from `today` (see the module's note), in order and bounded.
fn range(req: &Request, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = req.query_day("to")?.unwrap_or(today);
    let from = match req.query_day("from")? {
        Some(d) => d,
        None => input::in_range("from", to - Duration::days(DEFAULT_DAYS))?,
    };
    if to < from || (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::bad(
            "?from..?to must be in order and at most a year apart",
        ));
    }
    Ok((from, to))
}

pub(in crate::http) fn answer(
    c: &dyn Sql,
    who: &Principal,
    student: StudentId,
    days: (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Value, ApiError> {
    let rosters = student_rosters(c, who, student, days, rules, now)?;
    let name = school::student(c, student)?.name;
    let terms = by_term(&timetable::terms(c)?, days, &rosters);
    let (from, to) = (rules.instant(days.0, 0), rules.instant(days.1, 24 * 60));
    let moves = sightings::movements_of(c, ACCEPTED, student, from, to)?;
    let mut sessions: Vec<Value> = rosters.iter().filter_map(history_row).collect();
    sessions.sort_by_key(|r| std::cmp::Reverse(r["session"]["starts_at"].as_i64()));
    Ok(json!({
        "student": {"id": student, "name": name},
        "from": days.0,
        "to": days.1,
        "overall": counts(session_rosters::stats(&rosters).first()),
        "terms": terms,
        "sessions": sessions,
        "days": comings_and_goings(&moves, rules),
    }))
}

/// The records of doors facing in or out, grouped by the school's day, newest day first.
fn comings_and_goings(moves: &[Movement], rules: &Rules) -> Vec<Value> {
    let mut days: Vec<(NaiveDate, Vec<Value>)> = Vec::new();
    let through_doors = moves
        .iter()
        .filter(|m| matches!(m.direction, Some(Direction::In | Direction::Out)));
    for m in through_doors {
        let day = rules.local_day(m.at);
        let moved = json!({"at": m.at, "direction": m.direction, "room": m.room});
        match days.last_mut() {
            Some((d, list)) if *d == day => list.push(moved),
            _ => days.push((day, vec![moved])),
        }
    }
    days.into_iter()
        .rev()
        .map(|(day, movements)| json!({"day": day, "movements": movements}))
        .collect()
}

/// Each term overlapping `from..=to`, with the counts of `rosters` (one student's) inside it.
fn by_term(
    terms: &[Term],
    (from, to): (NaiveDate, NaiveDate),
    rosters: &[SessionRoster],
) -> Vec<Value> {
    terms
        .iter()
        .filter(|t| t.first_day <= to && t.last_day >= from)
        .map(|t| {
            let inside: Vec<SessionRoster> = rosters
                .iter()
                .filter(|r| (t.first_day..=t.last_day).contains(&r.session.day))
                .cloned()
                .collect();
            json!({"term": t, "counts": counts(session_rosters::stats(&inside).first())})
        })
        .collect()
}

/// The counts by mark and the attendance rate, zeros (and no rate) without a session.
fn counts(s: Option<&StudentStats>) -> Value {
    let n = |f: fn(&StudentStats) -> u32| s.map_or(0, f);
    json!({
        "present": n(|s| s.present),
        "late": n(|s| s.late),
        "absent": n(|s| s.absent),
        "excused": n(|s| s.excused),
        "not_required": n(|s| s.not_required),
        "attendance_rate": s.and_then(|s| s.attendance_rate),
    })
}
