//! Reports read from the register. Here, the school-wide ones: the daily trend, the students
//! at risk by class, and a class's register over a term. Below: a session's roster, a class's
//! matrix and a student's marks (`registers`), attendance month by month (`analytics`), and a
//! student's history (`history`).
//!
//! Admins see the whole school; a teacher sees the same reports over their own classes only
//! (so a teacher's trend is their classes' trend). Each is JSON, or CSV with `?format=csv`. The
//! counting rules live in [`rollcall_school::reports`]; these modules read the rosters (closed
//! sessions from the register) and shape the answers.

pub(super) mod analytics;
pub(super) mod history;
pub(super) mod registers;

use chrono::NaiveDate;
use std::collections::HashMap;

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use registers::{amendments_text, checked_range, mark_text, source_text};
use rollcall_school::access;
use rollcall_school::attendance::Rules;
use rollcall_school::csv;
use rollcall_school::principal::Principal;
use rollcall_school::reports::{ClassAtRisk, Counts, Day, class_at_risk, default_range, trend};
use rollcall_school::session_rosters::{self, SessionRoster};
use rollcall_school::statutory::{self, PupilRegister, SessionMark};
use rollcall_store::{Sql, timetable};

/// `GET /reports/school/trend?from&to`: per school day, the classes `who` sees.
pub async fn school_trend(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (from, to) =
        given_range(req)?.ok_or_else(|| ApiError::bad("?from and ?to are required"))?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let read = move |c: &dyn Sql| visible_rosters(c, &w, (from, to), &rules, now);
    let days = trend(&hub.read(read).await?);
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("trend-{from}-{to}.csv"),
            trend_csv(&days),
        )),
        false => Reply::ok(json!({"from": from, "to": to, "days": days})),
    }
}

/// `GET /reports/school/at-risk?from&to`: below the threshold, by class. Without a range:
/// the current term if today is in one, else the last 28 days.
pub async fn school_at_risk(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let given = given_range(req)?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let threshold = hub.config.reports.at_risk_below;
    let read = move |c: &dyn Sql| {
        let (from, to) = match given {
            Some(r) => r,
            None => default_range(c, rules.local_day(now))?,
        };
        Ok::<_, ApiError>((
            (from, to),
            classes_at_risk(c, &w, (from, to), &rules, now, threshold)?,
        ))
    };
    let ((from, to), classes) = hub.read(read).await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("at-risk-{from}-{to}.csv"),
            at_risk_csv(&classes),
        )),
        false => Reply::ok(json!({
            "from": from, "to": to, "threshold": threshold, "classes": classes,
        })),
    }
}

/// `GET /reports/classes/{class}/register?term=ID` (or `?from&to`): one row per student per
/// session, with codes and amendments; the CSV gives beside each row the pupil's statutory
/// marks of that day (`am`, `pm`: `[register.statutory]`'s, as the MIS gets them).
pub async fn class_register(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (term, given) = (req.query::<Uuid>("term")?, given_range(req)?);
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let rule =
        (hub.config.register.statutory.rule()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let read = move |c: &dyn Sql| {
        access::class(c, &w, class)?;
        let (from, to) = match (term, given) {
            (Some(id), None) => term_range(c, id)?,
            (None, Some(r)) => r,
            _ => return Err(ApiError::bad("give either ?term or ?from and ?to")),
        };
        let slots = timetable::slots_of_class(c, class)?;
        let rosters =
            session_rosters::rosters_between(c, (&[class], &slots), from, to, &rules, now)?;
        let sessions = statutory::of_class(c, class, (from, to), (&rules, &rule), now)?;
        Ok(((from, to), rosters, sessions))
    };
    let ((from, to), rosters, sessions) = hub.read(read).await?;
    match req.wants_csv() {
        true => Ok(Reply::csv(
            format!("register-{from}-{to}.csv"),
            register_csv(&rosters, &sessions),
        )),
        false => Reply::ok(json!({"from": from, "to": to, "sessions": rosters})),
    }
}

/// `?from&to` if both are given (checked), `None` if neither; one alone is an error.
pub(in crate::http) fn given_range(
    req: &Request,
) -> Result<Option<(NaiveDate, NaiveDate)>, ApiError> {
    match (req.query_day("from")?, req.query_day("to")?) {
        (Some(from), Some(to)) => checked_range(from, to).map(Some),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad("give both ?from and ?to, or neither")),
    }
}

fn term_range(conn: &dyn Sql, id: Uuid) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let term = timetable::term(conn, id)?;
    checked_range(term.first_day, term.last_day)
}

pub(in crate::http) fn visible_rosters(
    conn: &dyn Sql,
    who: &Principal,
    days: (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<SessionRoster>, ApiError> {
    let (classes, slots) = (access::class_ids(conn, who)?, access::slots(conn, who)?);
    Ok(session_rosters::rosters_between(
        conn,
        (&classes, &slots),
        days.0,
        days.1,
        rules,
        now,
    )?)
}

fn classes_at_risk(
    conn: &dyn Sql,
    who: &Principal,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
    threshold: f64,
) -> Result<Vec<ClassAtRisk>, ApiError> {
    let mut out = Vec::new();
    for class in access::classes(conn, who)? {
        out.push(class_at_risk(
            conn,
            class,
            (from, to),
            rules,
            now,
            threshold,
        )?);
    }
    Ok(out)
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.3}")).unwrap_or_default()
}

/// The CSV columns of a [`Counts`], in the order [`counts_fields`] writes them.
pub(in crate::http) const COUNTS_HEADER: [&str; 8] = [
    "expected",
    "present",
    "late",
    "excused",
    "absent",
    "not_required",
    "unmarked",
    "attendance_rate",
];

/// `c` as CSV fields: the counts, then the rate (empty before any counted session).
pub(in crate::http) fn counts_fields(c: &Counts) -> Vec<String> {
    [
        c.expected,
        c.present,
        c.late,
        c.excused,
        c.absent,
        c.not_required,
        c.unmarked,
    ]
    .iter()
    .map(u32::to_string)
    .chain([rate_text(c.attendance_rate)])
    .collect()
}

fn trend_csv(days: &[Day]) -> String {
    let mut out = csv::line(&[["day"].as_slice(), &COUNTS_HEADER].concat());
    for d in days {
        let fields: Vec<String> = [d.day.to_string()]
            .into_iter()
            .chain(counts_fields(&d.counts))
            .collect();
        out += &csv::line(&fields.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

fn at_risk_csv(classes: &[ClassAtRisk]) -> String {
    let mut out = csv::line(&[
        "class",
        "student_id",
        "name",
        "sessions",
        "attendance_rate",
        "present",
        "late",
        "absent",
        "excused",
    ]);
    for c in classes {
        for s in &c.students {
            let counted = s.present + s.late + s.absent;
            let n = [counted, s.present, s.late, s.absent, s.excused].map(|v| v.to_string());
            let (id, rate) = (s.student.to_string(), rate_text(s.attendance_rate));
            out += &csv::line(&[
                &c.class_name,
                &id,
                &s.name,
                &n[0],
                &rate,
                &n[1],
                &n[2],
                &n[3],
                &n[4],
            ]);
        }
    }
    out
}

/// The legal register's layout: a row per student per session, the code in force, the mark it
/// means, where it came from, what the register first said and every amendment since.
/// A statutory mark's code; empty when there is none yet.
fn code_of(mark: &Option<SessionMark>) -> &str {
    mark.as_ref().map_or("", |m| m.code.as_str())
}

fn register_csv(rosters: &[SessionRoster], sessions: &[PupilRegister]) -> String {
    let statutory: HashMap<(StudentId, NaiveDate), (&str, &str)> = (sessions.iter())
        .flat_map(|p| {
            (p.days.iter()).map(|d| ((p.student, d.day), (code_of(&d.am), code_of(&d.pm))))
        })
        .collect();
    let mut out = csv::line(&[
        "date",
        "start",
        "room",
        "student_id",
        "student",
        "code",
        "mark",
        "source",
        "original_code",
        "amendments",
        "am",
        "pm",
    ]);
    for r in rosters {
        let (day, s) = (r.session.day.to_string(), &r.session);
        for l in &r.rows {
            let id = l.student.to_string();
            let (am, pm) = (statutory.get(&(l.student, r.session.day)))
                .copied()
                .unwrap_or_default();
            out += &csv::line(&[
                &day,
                &s.start,
                &s.room,
                &id,
                &l.name,
                l.code.as_deref().unwrap_or(""),
                mark_text(l.mark),
                &source_text(l.source),
                l.original_code.as_deref().unwrap_or(""),
                &amendments_text(&l.amendments),
                am,
                pm,
            ]);
        }
    }
    out
}
