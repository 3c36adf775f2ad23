//! School-wide reports: the daily trend, the students at risk by class, and a class's register
//! over a term. Admins see the whole school; a teacher sees the same reports over their own
//! classes only (so a teacher's trend is their classes' trend). Each is JSON, or CSV with
//! `?format=csv`. The counting rules are pure and live in [`trend`] and [`at_risk_of`]; this
//! module reads the rosters (closed sessions from the register) and shapes the answers.

use chrono::{Duration, NaiveDate};
use rollcall_shared::ClassId;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::access;
use super::error::ApiError;
use super::reports::{
    amendments_text, at_risk, checked_range, csv_line, csv_reply, mark_text, source_text,
};
use super::request::{Reply, Request};
use crate::attendance::Rules;
use crate::auth::Principal;
use crate::roster::{self, SessionRoster, StudentStats};
use crate::state::Hub;
use crate::store::marks::Mark;
use crate::store::school::Class;
use crate::store::{StoreError, timetable};

/// Days looked back when no range is given and today is in no term.
const DEFAULT_DAYS: i64 = 28;

/// One school day's student-sessions by outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Day {
    pub day: NaiveDate,
    /// Student-sessions the day held, not-required ones aside.
    pub expected: u32,
    pub present: u32,
    pub late: u32,
    /// Authorised absence.
    pub excused: u32,
    /// Unauthorised absence.
    pub absent: u32,
    pub not_required: u32,
    /// Not yet marked (a session still to come or in progress).
    pub unmarked: u32,
    /// (present + late) / (present + late + absent), as for a student.
    pub attendance_rate: Option<f64>,
}

/// The days of `rosters` in order, each with its counts; days without sessions are absent.
pub fn trend(rosters: &[SessionRoster]) -> Vec<Day> {
    let mut days: Vec<Day> = Vec::new();
    for r in rosters {
        let day = r.session.day;
        if days.last().is_none_or(|d| d.day != day) {
            days.push(Day {
                day,
                ..Day::default()
            });
        }
        let Some(d) = days.iter_mut().rev().find(|d| d.day == day) else {
            continue;
        };
        r.rows.iter().for_each(|l| count(d, l.mark));
    }
    for d in &mut days {
        let attended = f64::from(d.present + d.late);
        let counted = attended + f64::from(d.absent);
        d.attendance_rate = (counted > 0.0).then(|| attended / counted);
    }
    days
}

fn count(d: &mut Day, mark: Option<Mark>) {
    if mark != Some(Mark::NotRequired) {
        d.expected += 1;
    }
    match mark {
        Some(Mark::Present) => d.present += 1,
        Some(Mark::Late) => d.late += 1,
        Some(Mark::Excused) => d.excused += 1,
        Some(Mark::Absent) => d.absent += 1,
        Some(Mark::NotRequired) => d.not_required += 1,
        None => d.unmarked += 1,
    }
}

/// One class's students below `threshold` over a range.
#[derive(Clone, Debug, Serialize)]
pub struct ClassAtRisk {
    pub class_id: ClassId,
    pub class_name: String,
    pub students: Vec<StudentStats>,
}

/// The students of `rosters` (one class's) whose rate is below `threshold`, lowest first.
pub fn at_risk_of(rosters: &[SessionRoster], threshold: f64) -> Vec<StudentStats> {
    let mut out: Vec<StudentStats> = roster::stats(rosters)
        .into_iter()
        .filter(|s| at_risk(s, threshold))
        .collect();
    let key = |s: &StudentStats| s.attendance_rate.unwrap_or(f64::MAX);
    out.sort_by(|a, b| key(a).total_cmp(&key(b)));
    out
}

/// `GET /reports/school/trend?from&to`: per school day, the classes `who` sees.
pub async fn school_trend(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (from, to) =
        given_range(req)?.ok_or_else(|| ApiError::bad("?from and ?to are required"))?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let read = move |c: &Connection| visible_rosters(c, &w, (from, to), &rules, now);
    let days = trend(&hub.read(read).await?);
    match req.wants_csv() {
        true => Ok(csv_reply(
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
    let read = move |c: &Connection| {
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
        true => Ok(csv_reply(
            format!("at-risk-{from}-{to}.csv"),
            at_risk_csv(&classes),
        )),
        false => Reply::ok(json!({
            "from": from, "to": to, "threshold": threshold, "classes": classes,
        })),
    }
}

/// `GET /reports/classes/{class}/register?term=ID` (or `?from&to`): one row per student per
/// session, with codes and amendments.
pub async fn class_register(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (term, given) = (req.query::<Uuid>("term")?, given_range(req)?);
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let read = move |c: &Connection| {
        access::class(c, &w, class)?;
        let (from, to) = match (term, given) {
            (Some(id), None) => term_range(c, id)?,
            (None, Some(r)) => r,
            _ => return Err(ApiError::bad("give either ?term or ?from and ?to")),
        };
        let slots = timetable::slots_of_class(c, class)?;
        let rosters = roster::rosters_between(c, (&[class], &slots), from, to, &rules, now)?;
        Ok(((from, to), rosters))
    };
    let ((from, to), rosters) = hub.read(read).await?;
    match req.wants_csv() {
        true => Ok(csv_reply(
            format!("register-{from}-{to}.csv"),
            register_csv(&rosters),
        )),
        false => Reply::ok(json!({"from": from, "to": to, "sessions": rosters})),
    }
}

/// `?from&to` if both are given (checked), `None` if neither; one alone is an error.
fn given_range(req: &Request) -> Result<Option<(NaiveDate, NaiveDate)>, ApiError> {
    match (req.query_day("from")?, req.query_day("to")?) {
        (Some(from), Some(to)) => checked_range(from, to).map(Some),
        (None, None) => Ok(None),
        _ => Err(ApiError::bad("give both ?from and ?to, or neither")),
    }
}

fn term_range(conn: &Connection, id: Uuid) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let term = timetable::term(conn, id)?;
    checked_range(term.first_day, term.last_day)
}

/// The term holding `today` (up to today), else the `DEFAULT_DAYS` ending today.
fn default_range(
    conn: &Connection,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), StoreError> {
    let term = timetable::terms(conn)?
        .into_iter()
        .find(|t| t.first_day <= today && today <= t.last_day);
    Ok(match term {
        Some(t) => (t.first_day, today),
        None => (today - Duration::days(DEFAULT_DAYS - 1), today),
    })
}

fn visible_rosters(
    conn: &Connection,
    who: &Principal,
    days: (NaiveDate, NaiveDate),
    rules: &Rules,
    now: i64,
) -> Result<Vec<SessionRoster>, ApiError> {
    let (classes, slots) = (access::class_ids(conn, who)?, access::slots(conn, who)?);
    Ok(roster::rosters_between(
        conn,
        (&classes, &slots),
        days.0,
        days.1,
        rules,
        now,
    )?)
}

fn classes_at_risk(
    conn: &Connection,
    who: &Principal,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: i64,
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

fn class_at_risk(
    conn: &Connection,
    class: Class,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: i64,
    threshold: f64,
) -> Result<ClassAtRisk, StoreError> {
    let slots = timetable::slots_of_class(conn, class.id)?;
    let rosters = roster::rosters_between(conn, (&[class.id], &slots), from, to, rules, now)?;
    Ok(ClassAtRisk {
        class_id: class.id,
        class_name: class.name,
        students: at_risk_of(&rosters, threshold),
    })
}

/// `class`'s students below `threshold` as `GET /reports/school/at-risk` shows them without a
/// range (the current term, else the last 28 days): what the digest lists and the
/// `student.at_risk` webhook watches.
pub fn class_at_risk_now(
    conn: &Connection,
    class: Class,
    rules: &Rules,
    now: i64,
    threshold: f64,
) -> Result<ClassAtRisk, StoreError> {
    let range = default_range(conn, rules.local_day(now))?;
    class_at_risk(conn, class, range, rules, now, threshold)
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.3}")).unwrap_or_default()
}

fn trend_csv(days: &[Day]) -> String {
    let mut out = csv_line(&[
        "day",
        "expected",
        "present",
        "late",
        "excused",
        "absent",
        "not_required",
        "unmarked",
        "attendance_rate",
    ]);
    for d in days {
        let n = [
            d.expected,
            d.present,
            d.late,
            d.excused,
            d.absent,
            d.not_required,
            d.unmarked,
        ]
        .map(|v| v.to_string());
        let (day, rate) = (d.day.to_string(), rate_text(d.attendance_rate));
        let mut row = vec![day.as_str()];
        row.extend(n.iter().map(String::as_str));
        row.push(&rate);
        out += &csv_line(&row);
    }
    out
}

fn at_risk_csv(classes: &[ClassAtRisk]) -> String {
    let mut out = csv_line(&[
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
            out += &csv_line(&[
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
fn register_csv(rosters: &[SessionRoster]) -> String {
    let mut out = csv_line(&[
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
    ]);
    for r in rosters {
        let (day, s) = (r.session.day.to_string(), &r.session);
        for l in &r.rows {
            let id = l.student.to_string();
            out += &csv_line(&[
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
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendance::Source;
    use crate::roster::{RosterLine, SessionView};
    use rollcall_shared::StudentId;

    fn roster(day: u32, marks: &[Option<Mark>]) -> SessionRoster {
        let day = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        SessionRoster {
            session: SessionView {
                slot_id: Uuid::nil(),
                class_id: ClassId::random(),
                class_name: "7A".into(),
                room: "r".into(),
                day,
                start: "09:00".into(),
                end: "10:00".into(),
                starts_at: 0,
                ends_at: 0,
                closed: true,
                locked: false,
            },
            rows: marks
                .iter()
                .map(|&mark| RosterLine {
                    student: StudentId::random(),
                    name: "A".into(),
                    mark,
                    source: Source::Record,
                    first_seen_at: None,
                    reason: None,
                    code: None,
                    original_code: None,
                    amendments: Vec::new(),
                    evidence: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_day_counts_every_session_and_rates_like_a_student() {
        use Mark::*;
        let days = trend(&[
            roster(2, &[Some(Present), Some(Late), Some(Absent)]),
            roster(2, &[Some(Excused), Some(NotRequired), None]),
            roster(3, &[Some(Present)]),
        ]);
        assert_eq!(days.len(), 2);
        let d = &days[0];
        assert_eq!(
            (d.expected, d.present, d.late, d.absent, d.excused),
            (5, 1, 1, 1, 1)
        );
        assert_eq!((d.not_required, d.unmarked), (1, 1));
        assert!((d.attendance_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(days[1].attendance_rate, Some(1.0));
    }

    #[test]
    fn at_risk_is_strictly_below_the_threshold() {
        let one = |marks: &[Option<Mark>]| {
            let r = roster(2, marks);
            at_risk_of(std::slice::from_ref(&r), 0.5)
        };
        let (p, a) = (Some(Mark::Present), Some(Mark::Absent));
        assert_eq!(one(&[a]).len(), 1);
        assert!(one(&[p]).is_empty());
        let r = [roster(2, &[p]), roster(3, &[a])];
        // Different students in each roster: each has one session.
        assert_eq!(at_risk_of(&r, 0.5).len(), 1);
        let excused_only = roster(2, &[Some(Mark::Excused)]);
        assert!(at_risk_of(&[excused_only], 1.0).is_empty());
    }
}
