//! Reports: a session's roster, a class's matrix over a date range, a student's history and
//! class statistics (attendance rate, lateness, who is below the school's at-risk threshold,
//! `[reports] at_risk_below`), and the class's pupils' morning and afternoon sessions
//! (`statutory`). Each is JSON, or CSV with `?format=csv`. The school-wide reports and the
//! register export are in the parent module, `http::reports`.

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde_json::json;

use crate::http::error::ApiError;
use crate::http::register::sessions::roster_of;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::attendance::Rules;
use rollcall_school::csv;
use rollcall_school::principal::Principal;
use rollcall_school::reports::at_risk;
use rollcall_school::session_rosters::{self, SessionRoster, StudentStats, hhmm};
use rollcall_school::statutory::{self, PupilRegister, SessionMark};
use rollcall_store::marks::Mark;
use rollcall_store::register::Amendment;
use rollcall_store::{Sql, school, timetable};

/// One session's roster (`?format=csv` for a file).
pub async fn session(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    let r = hub
        .read(move |c| roster_of(c, &w, slot, day, &rules, now))
        .await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(format!("session-{day}.csv"), session_csv(&r))),
        false => Reply::ok(r),
    }
}

/// A class's marks over `?from..?to`: sessions by students.
pub async fn class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (from, to) = range(req)?;
    let rosters = class_rosters_of(hub, req, who, (from, to)).await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("class-{from}-{to}.csv"),
            matrix_csv(&rosters),
        )),
        false => Reply::ok(matrix_json(&rosters)),
    }
}

/// A class's attendance figures per student over `?from..?to`.
pub async fn class_stats(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (from, to) = range(req)?;
    let stats = session_rosters::stats(&class_rosters_of(hub, req, who, (from, to)).await?);
    let threshold = hub.config.reports.at_risk_below;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("stats-{from}-{to}.csv"),
            stats_csv(&stats, threshold),
        )),
        false => Reply::ok(stats_json(&stats, threshold)),
    }
}

async fn class_rosters_of(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    days: (NaiveDate, NaiveDate),
) -> Result<Vec<SessionRoster>, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let class: ClassId = req.id("class", "class")?;
    let read = move |c: &dyn Sql| class_rosters(c, &w, class, days, &rules, now);
    hub.read(read).await
}

/// One student's marks over `?from..?to`, in the classes `who` may see.
pub async fn student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let student: StudentId = req.id("student", "student")?;
    let (from, to) = range(req)?;
    let read = move |c: &dyn Sql| student_history(c, &w, student, (from, to), &rules, now);
    let rows = hub.read(read).await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("student-{from}-{to}.csv"),
            history_csv(&rows),
        )),
        false => Reply::ok(rows),
    }
}

/// `GET /reports/classes/{class}/statutory?from&to`: the morning and afternoon sessions of the
/// class's pupils, day by day, as `[register.statutory]` makes them from the lessons
/// (`rollcall_school::statutory`): JSON, or CSV with `?format=csv`, one line per pupil and day.
pub async fn statutory(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (from, to) = range(req)?;
    let rule =
        (hub.config.register.statutory.rule()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let pupils = hub
        .read(move |c| {
            access::class(c, &w, class)?;
            Ok::<_, ApiError>(statutory::of_class(
                c,
                class,
                (from, to),
                (&rules, &rule),
                now,
            )?)
        })
        .await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("sessions-{from}-{to}.csv"),
            statutory_csv(&pupils),
        )),
        false => Reply::ok(json!({
            "from": from,
            "to": to,
            "afternoon_from": hhmm(rule.afternoon_from),
            "students": pupils,
        })),
    }
}

/// One line per pupil and day: the school's reference (the MIS's), the name, the day, and the
/// morning's and the afternoon's codes (empty: not yet, or no lesson).
fn statutory_csv(pupils: &[PupilRegister]) -> String {
    let mut out = csv::line(&["student", "reference", "name", "day", "am", "pm"]);
    for pupil in pupils {
        let (id, reference) = (pupil.student.to_string(), pupil.external_ref.as_deref());
        for day in &pupil.days {
            out.push_str(&csv::line(&[
                &id,
                reference.unwrap_or(""),
                &pupil.name,
                &day.day.to_string(),
                code_of(&day.am),
                code_of(&day.pm),
            ]));
        }
    }
    out
}

fn code_of(mark: &Option<SessionMark>) -> &str {
    mark.as_ref().map_or("", |m| m.code.as_str())
}

fn range(req: &Request) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let required = |key| {
        req.query_day(key)?
            .ok_or_else(|| ApiError::bad(format!("?{key} is required")))
    };
    checked_range(required("from")?, required("to")?)
}

/// `from..=to` if it is in order and at most a year long (a report's bound on work).
pub(in crate::http) fn checked_range(
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::bad(
            "?from..?to must be in order and at most a year apart",
        ));
    }
    Ok((from, to))
}

fn class_rosters(
    conn: &dyn Sql,
    who: &Principal,
    class: ClassId,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<SessionRoster>, ApiError> {
    access::class(conn, who, class)?;
    let slots = timetable::slots_of_class(conn, class)?;
    Ok(session_rosters::rosters_between(
        conn,
        (&[class], &slots),
        from,
        to,
        rules,
        now,
    )?)
}

fn student_history(
    conn: &dyn Sql,
    who: &Principal,
    student: StudentId,
    days: (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let rosters = student_rosters(conn, who, student, days, rules, now)?;
    let mut rows: Vec<serde_json::Value> = rosters.iter().filter_map(history_row).collect();
    rows.sort_by_key(|r| r["session"]["starts_at"].as_i64());
    Ok(rows)
}

/// One session of a student's history: the session and their line in it (the roster
/// narrowed to them, as [`student_rosters`] gives it).
pub(in crate::http) fn history_row(r: &SessionRoster) -> Option<serde_json::Value> {
    let line = r.rows.first()?;
    Some(json!({
        "session": r.session,
        "mark": line.mark,
        "code": line.code,
        "original_code": line.original_code,
        "source": line.source,
        "reason": line.reason,
        "first_seen_at": line.first_seen_at,
        "left_at": line.left_at,
        "evidence": line.evidence,
        "amendments": line.amendments,
    }))
}

/// The rosters over `from..=to` of the sessions of `student`'s classes that `who` may see,
/// each narrowed to the student's own line (sessions without one are left out).
pub(in crate::http) fn student_rosters(
    conn: &dyn Sql,
    who: &Principal,
    student: StudentId,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<SessionRoster>, ApiError> {
    access::student(conn, who, student)?;
    let mine = access::classes(conn, who)?;
    let (mut classes, mut slots) = (Vec::new(), Vec::new());
    for class in school::classes_of(conn, student)? {
        if mine.iter().any(|c| c.id == class) {
            classes.push(class);
            slots.extend(timetable::slots_of_class(conn, class)?);
        }
    }
    let rosters = session_rosters::rosters_between(conn, (&classes, &slots), from, to, rules, now)?;
    Ok(rosters
        .into_iter()
        .filter_map(|mut r| {
            r.rows.retain(|l| l.student == student);
            (!r.rows.is_empty()).then_some(r)
        })
        .collect())
}

fn matrix_json(rosters: &[SessionRoster]) -> serde_json::Value {
    let sessions: Vec<_> = rosters.iter().map(|r| &r.session).collect();
    let students: Vec<_> = session_rosters::stats(rosters)
        .into_iter()
        .map(|s| {
            let marks: Vec<Option<Mark>> = rosters.iter().map(|r| mark_of(r, s.student)).collect();
            json!({"student": s.student, "name": s.name, "marks": marks})
        })
        .collect();
    json!({"sessions": sessions, "students": students})
}

fn stats_json(stats: &[StudentStats], threshold: f64) -> serde_json::Value {
    let at_risk: Vec<_> = stats.iter().filter(|s| at_risk(s, threshold)).collect();
    json!({"students": stats, "at_risk": at_risk, "threshold": threshold})
}

fn mark_of(r: &SessionRoster, student: StudentId) -> Option<Mark> {
    r.rows
        .iter()
        .find(|l| l.student == student)
        .and_then(|l| l.mark)
}

pub(in crate::http) fn mark_text(m: Option<Mark>) -> &'static str {
    m.map_or("", Mark::as_str)
}

fn session_csv(r: &SessionRoster) -> String {
    let mut out = csv::line(&[
        "student_id",
        "name",
        "mark",
        "source",
        "first_seen_at",
        "reason",
        "code",
        "original_code",
        "amendments",
    ]);
    for l in &r.rows {
        let (id, seen) = (
            l.student.to_string(),
            l.first_seen_at.map(|t| t.to_string()).unwrap_or_default(),
        );
        let source = source_text(l.source);
        out += &csv::line(&[
            &id,
            &l.name,
            mark_text(l.mark),
            &source,
            &seen,
            l.reason.as_deref().unwrap_or(""),
            l.code.as_deref().unwrap_or(""),
            l.original_code.as_deref().unwrap_or(""),
            &amendments_text(&l.amendments),
        ]);
    }
    out
}

/// A roster line's source as its JSON name (`record`, `teacher`, …).
pub(in crate::http) fn source_text(source: rollcall_store::marks::Source) -> String {
    serde_json::to_value(source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every amendment of an entry in one field, oldest first:
/// `I at 1795431600000 by Tess Teacher (tess, teacher): mother phoned; …`.
pub(in crate::http) fn amendments_text(amendments: &[Amendment]) -> String {
    amendments
        .iter()
        .map(|a| {
            format!(
                "{} at {} by {} ({}, {}): {}",
                a.code, a.at, a.by_name, a.by_user, a.by_role, a.reason
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn matrix_csv(rosters: &[SessionRoster]) -> String {
    let heads: Vec<String> = rosters
        .iter()
        .map(|r| format!("{} {}", r.session.day, r.session.start))
        .collect();
    let mut header = vec!["student_id", "name"];
    header.extend(heads.iter().map(String::as_str));
    let mut out = csv::line(&header);
    for s in session_rosters::stats(rosters) {
        let id = s.student.to_string();
        let mut row = vec![id.as_str(), s.name.as_str()];
        row.extend(rosters.iter().map(|r| mark_text(mark_of(r, s.student))));
        out += &csv::line(&row);
    }
    out
}

fn stats_csv(stats: &[StudentStats], threshold: f64) -> String {
    let mut out = csv::line(&[
        "student_id",
        "name",
        "present",
        "late",
        "absent",
        "excused",
        "attendance_rate",
        "at_risk",
    ]);
    for s in stats {
        let n = [s.present, s.late, s.absent, s.excused].map(|v| v.to_string());
        let rate = s
            .attendance_rate
            .map(|r| format!("{r:.3}"))
            .unwrap_or_default();
        let id = s.student.to_string();
        let flag = if at_risk(s, threshold) { "yes" } else { "no" };
        out += &csv::line(&[&id, &s.name, &n[0], &n[1], &n[2], &n[3], &rate, flag]);
    }
    out
}

fn history_csv(rows: &[serde_json::Value]) -> String {
    let mut out = csv::line(&[
        "day", "start", "class", "room", "mark", "code", "source", "reason",
    ]);
    for r in rows {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
        let sess = &r["session"];
        out += &csv::line(&[
            &s(&sess["day"]),
            &s(&sess["start"]),
            &s(&sess["class_name"]),
            &s(&sess["room"]),
            &s(&r["mark"]),
            &s(&r["code"]),
            &s(&r["source"]),
            &s(&r["reason"]),
        ]);
    }
    out
}
