//! What the reports count: student-sessions by outcome ([`Counts`], by school day in
//! [`trend`], by class and month in `crate::analytics`), the
//! students below the attendance threshold ([`at_risk_of`], [`class_at_risk_now`]) and the
//! range a report covers when none is given. Pure where it can be; reads rosters where it
//! must. The hub's routes (`http/reports.rs`, `http/school_reports.rs`), its e-mail digest and
//! its `student.at_risk` webhook (`server/at_risk.rs`) all count the same way through here.

use chrono::{Duration, NaiveDate};
use rollcall_shared::{ClassId, UnixMillis};
use serde::Serialize;

use crate::attendance::Rules;
use crate::session_rosters::{self, SessionRoster, StudentStats};
use rollcall_store::marks::Mark;
use rollcall_store::school::Class;
use rollcall_store::{Sql, StoreError, timetable};

/// Days looked back when no range is given and today is in no term.
const DEFAULT_DAYS: i64 = 28;

/// Student-sessions by outcome: of a school day, a class's month, a whole range.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Student-sessions held, not-required ones aside.
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
    /// (present + late) / (present + late + absent), as for a student; `None` before any
    /// counted session.
    pub attendance_rate: Option<f64>,
}

impl Counts {
    /// Counts one student-session marked `mark` (`None`: not yet).
    pub fn add(&mut self, mark: Option<Mark>) {
        if mark != Some(Mark::NotRequired) {
            self.expected += 1;
        }
        match mark {
            Some(Mark::Present) => self.present += 1,
            Some(Mark::Late) => self.late += 1,
            Some(Mark::Excused) => self.excused += 1,
            Some(Mark::Absent) => self.absent += 1,
            Some(Mark::NotRequired) => self.not_required += 1,
            None => self.unmarked += 1,
        }
        self.rate_again();
    }

    /// `attendance_rate` from the counts.
    fn rate_again(&mut self) {
        let attended = f64::from(self.present + self.late);
        let counted = attended + f64::from(self.absent);
        self.attendance_rate = (counted > 0.0).then(|| attended / counted);
    }

    /// Counts every line of `roster`.
    pub fn add_roster(&mut self, roster: &SessionRoster) {
        roster.rows.iter().for_each(|l| self.add(l.mark));
    }
}

impl Counts {
    /// `self` and `other` together.
    pub fn merge(&mut self, other: &Counts) {
        self.expected += other.expected;
        self.present += other.present;
        self.late += other.late;
        self.excused += other.excused;
        self.absent += other.absent;
        self.not_required += other.not_required;
        self.unmarked += other.unmarked;
        self.rate_again();
    }
}

/// The whole school's student-sessions from `from` to `to`: every class's (a district's
/// figure for the school).
pub fn school_counts(
    conn: &dyn Sql,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Counts, StoreError> {
    let classes: Vec<ClassId> = rollcall_store::school::classes(conn)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let slots = timetable::all_slots(conn)?;
    let rosters = session_rosters::rosters_between(conn, (&classes, &slots), from, to, rules, now)?;
    let mut counts = Counts::default();
    rosters.iter().for_each(|r| counts.add_roster(r));
    Ok(counts)
}

/// One school day's student-sessions by outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Day {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
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
        if let Some(d) = days.iter_mut().rev().find(|d| d.day == day) {
            d.counts.add_roster(r);
        }
    }
    days
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
    let mut out: Vec<StudentStats> = session_rosters::stats(rosters)
        .into_iter()
        .filter(|s| at_risk(s, threshold))
        .collect();
    let key = |s: &StudentStats| s.attendance_rate.unwrap_or(f64::MAX);
    out.sort_by(|a, b| key(a).total_cmp(&key(b)));
    out
}

/// Whether `s` attended less than `threshold` of their counted sessions.
pub fn at_risk(s: &StudentStats, threshold: f64) -> bool {
    s.attendance_rate.is_some_and(|r| r < threshold)
}

/// The term holding `today` (up to today), else the `DEFAULT_DAYS` ending today.
pub fn default_range(
    conn: &dyn Sql,
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

/// `class`'s students below `threshold` over `from..=to`.
pub fn class_at_risk(
    conn: &dyn Sql,
    class: Class,
    (from, to): (NaiveDate, NaiveDate),
    rules: &Rules,
    now: UnixMillis,
    threshold: f64,
) -> Result<ClassAtRisk, StoreError> {
    let slots = timetable::slots_of_class(conn, class.id)?;
    let rosters =
        session_rosters::rosters_between(conn, (&[class.id], &slots), from, to, rules, now)?;
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
    conn: &dyn Sql,
    class: Class,
    rules: &Rules,
    now: UnixMillis,
    threshold: f64,
) -> Result<ClassAtRisk, StoreError> {
    let range = default_range(conn, rules.local_day(now))?;
    class_at_risk(conn, class, range, rules, now, threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_rosters::sample_roster;

    fn roster(day: u32, marks: &[Option<Mark>]) -> SessionRoster {
        let day = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        sample_roster(ClassId::random(), "7A", day, marks)
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
        let d = &days[0].counts;
        assert_eq!(
            (d.expected, d.present, d.late, d.absent, d.excused),
            (5, 1, 1, 1, 1)
        );
        assert_eq!((d.not_required, d.unmarked), (1, 1));
        assert!((d.attendance_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(days[1].counts.attendance_rate, Some(1.0));
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
