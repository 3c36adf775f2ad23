//! Sessions and marks, as pure functions of the timetable, the calendar, accepted records and
//! teachers' overrides. No I/O: the HTTP layer loads the inputs and `reports` formats results.
//!
//! A session is one timetable slot on one date. A student's mark is, in order: the teacher's
//! override; else Present (or Late, `late_after_minutes` after the start) from their first
//! accepted record inside the session window; else Absent once the session has ended; else
//! nothing yet. A student there who then leaves the site through a door facing out, and is not
//! seen again before the end, left early ([`RosterRow::left_at`]).

use chrono::{Datelike, NaiveDate};
use rollcall_shared::{SiteZone, StudentId, UnixMillis};
use serde::Serialize;

pub mod preview;

use rollcall_store::marks::{Mark, Override, Source};
use rollcall_store::sightings::Movement;
use rollcall_store::timetable::{Holiday, Slot, Term};

/// What sessions and marks are computed with: the school's time zone and the attendance
/// settings (`rollcall_hub::config::Config::rules`).
#[derive(Clone, Debug)]
pub struct Rules {
    pub zone: SiteZone,
    pub late_after_minutes: u32,
    pub early_minutes: u32,
}

/// One slot on one date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub slot: Slot,
    pub day: NaiveDate,
}

impl Session {
    /// When the session starts.
    pub fn starts_at(&self, rules: &Rules) -> UnixMillis {
        rules.instant(self.day, self.slot.start_minute)
    }

    pub fn ends_at(&self, rules: &Rules) -> UnixMillis {
        rules.instant(self.day, self.slot.end_minute)
    }

    /// Records captured within `[from, to)` count for this session.
    pub fn window(&self, rules: &Rules) -> (UnixMillis, UnixMillis) {
        let early = i64::from(rules.early_minutes) * 60_000;
        (
            UnixMillis(self.starts_at(rules).0 - early),
            self.ends_at(rules),
        )
    }
}

/// `day` as the tz database's calendar sees it (dates outside years -9999..=9999, which input
/// validation keeps out, become the epoch).
fn civil(day: NaiveDate) -> jiff::civil::Date {
    let (y, m, d) = (day.year(), day.month(), day.day());
    i16::try_from(y)
        .ok()
        .and_then(|y| jiff::civil::Date::new(y, m as i8, d as i8).ok())
        .unwrap_or_default()
}

impl Rules {
    /// The instant at which the school's wall clock reads `minute` after midnight on `day`
    /// (see [`SiteZone::instant`] for the skipped and repeated hours).
    pub fn instant(&self, day: NaiveDate, minute: u16) -> UnixMillis {
        UnixMillis(self.zone.instant(civil(day), minute).unwrap_or_default())
    }

    /// The school's local date at the instant `at`.
    pub fn local_day(&self, at: UnixMillis) -> NaiveDate {
        let d = self.zone.local(at.0).date;
        NaiveDate::from_ymd_opt(i32::from(d.year()), d.month() as u32, d.day() as u32)
            .unwrap_or_default()
    }
}

/// Terms and holidays: which dates have sessions.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    pub terms: Vec<Term>,
    pub holidays: Vec<Holiday>,
}

impl Calendar {
    /// A school day is inside a term (or any day when no term is defined) and not a holiday.
    pub fn is_school_day(&self, day: NaiveDate) -> bool {
        let in_term = self.terms.is_empty()
            || self
                .terms
                .iter()
                .any(|t| (t.first_day..=t.last_day).contains(&day));
        in_term && !self.holidays.iter().any(|h| h.day == day)
    }
}

/// The sessions of `slots` on `day`, by start time.
pub fn sessions_on(day: NaiveDate, slots: &[Slot], calendar: &Calendar) -> Vec<Session> {
    if !calendar.is_school_day(day) {
        return Vec::new();
    }
    let weekday = day.weekday().number_from_monday() as u8;
    let mut out: Vec<Session> = slots
        .iter()
        .filter(|s| s.weekday == weekday && s.runs_on(day))
        .map(|s| Session {
            slot: s.clone(),
            day,
        })
        .collect();
    out.sort_by_key(|s| (s.slot.start_minute, s.slot.room.clone()));
    out
}

/// The sessions of `slots` from `from` to `to` inclusive, in order (at most 366 days).
pub fn sessions_between(
    from: NaiveDate,
    to: NaiveDate,
    slots: &[Slot],
    calendar: &Calendar,
) -> Vec<Session> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .take(366)
        .flat_map(|d| sessions_on(d, slots, calendar))
        .collect()
}

/// One student's line in a session roster.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterRow {
    pub student: StudentId,
    pub mark: Option<Mark>,
    pub source: Source,
    pub first_seen_at: Option<UnixMillis>,
    /// When a student who was there left the site before the session ended.
    pub left_at: Option<UnixMillis>,
    pub reason: Option<String>,
    /// The attendance code a mark by hand stands for, when not its mark's default.
    pub code: Option<String>,
}

/// What a roster is computed from.
#[derive(Debug)]
pub struct Evidence<'a> {
    pub members: &'a [StudentId],
    /// Accepted `(student, captured_at)` inside the session window.
    pub sightings: &'a [(StudentId, UnixMillis)],
    /// The members' accepted records anywhere on site inside the session window, oldest first.
    pub movements: &'a [Movement],
    pub overrides: &'a [Override],
}

/// The roster of `session` at `now`.
pub fn roster(
    session: &Session,
    rules: &Rules,
    evidence: &Evidence<'_>,
    now: UnixMillis,
) -> Vec<RosterRow> {
    let late_after = i64::from(rules.late_after_minutes) * 60_000;
    let late_from = UnixMillis(session.starts_at(rules).0 + late_after);
    let closed = now >= session.ends_at(rules);
    evidence
        .members
        .iter()
        .map(|&student| {
            let seen = first_sighting(evidence.sightings, student);
            let over = evidence.overrides.iter().find(|o| o.student == student);
            let (mark, source) = match (over, seen) {
                (Some(o), _) => (Some(o.mark), Source::Override),
                (None, Some(t)) if t >= late_from => (Some(Mark::Late), Source::Record),
                (None, Some(_)) => (Some(Mark::Present), Source::Record),
                (None, None) if closed => (Some(Mark::Absent), Source::Closed),
                (None, None) => (None, Source::Open),
            };
            let there = matches!(mark, Some(Mark::Present | Mark::Late));
            let ends_at = session.ends_at(rules);
            RosterRow {
                student,
                mark,
                source,
                first_seen_at: seen,
                left_at: there
                    .then(|| left_at(evidence.movements, student, seen, ends_at))
                    .flatten(),
                reason: over.map(|o| o.reason.clone()),
                code: over.and_then(|o| o.code.clone()),
            }
        })
        .collect()
}

/// When `student` left before `ends_at`: their last movement before it (after their first
/// sighting, when there is one) leaves the site.
fn left_at(
    movements: &[Movement],
    student: StudentId,
    seen: Option<UnixMillis>,
    ends_at: UnixMillis,
) -> Option<UnixMillis> {
    let last = movements
        .iter()
        .filter(|m| m.student == student && m.at < ends_at)
        .filter(|m| seen.is_none_or(|t| m.at >= t))
        .max_by_key(|m| m.at)?;
    last.leaves().then_some(last.at)
}

fn first_sighting(sightings: &[(StudentId, UnixMillis)], student: StudentId) -> Option<UnixMillis> {
    sightings
        .iter()
        .filter(|(s, _)| *s == student)
        .map(|&(_, t)| t)
        .min()
}

/// Whether a record captured at `captured_at` in `room` falls in a session of `slots`.
pub fn in_some_session(room: &str, captured_at: UnixMillis, slots: &[Slot], rules: &Rules) -> bool {
    let day = rules.local_day(captured_at);
    [day.pred_opt(), Some(day), day.succ_opt()]
        .into_iter()
        .flatten()
        .flat_map(|d| sessions_on(d, slots, &Calendar::default()))
        .filter(|s| s.slot.room == room)
        .any(|s| {
            let (from, to) = s.window(rules);
            (from..to).contains(&captured_at)
        })
}

#[cfg(test)]
mod tests;
