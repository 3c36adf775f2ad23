//! What a calendar change would do to the sessions still to come, before it is saved: the
//! calendar as it is and as it would be, compared date by date with the same rule
//! ([`Calendar::is_school_day`], [`sessions_on`]) the hub uses to run the day, so the page
//! that previews a change and the hub that applies it cannot disagree. Pure: the HTTP layer
//! loads the calendar and the slots and names the classes.

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use super::{Calendar, Session, sessions_on};
use rollcall_store::timetable::{Holiday, Term};

/// The most days one preview compares: a term can span years, but a year ahead is as far as
/// anyone plans a timetable, and it bounds the work a request can ask for.
pub const HORIZON_DAYS: i64 = 366;

/// One proposed change to the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new holiday, or a new name for one.
    AddHoliday(Holiday),
    RemoveHoliday(NaiveDate),
    /// A new term, or new days for the term with this id.
    PutTerm(Term),
    RemoveTerm(Uuid),
}

impl Change {
    /// `before` with the change made.
    pub fn apply(&self, before: &Calendar) -> Calendar {
        let mut after = before.clone();
        match self {
            Change::AddHoliday(h) => {
                after.holidays.retain(|x| x.day != h.day);
                after.holidays.push(h.clone());
            }
            Change::RemoveHoliday(day) => after.holidays.retain(|x| x.day != *day),
            Change::PutTerm(t) => {
                after.terms.retain(|x| x.id != t.id);
                after.terms.push(t.clone());
            }
            Change::RemoveTerm(id) => after.terms.retain(|x| x.id != *id),
        }
        after
    }

    /// The first and last dates whose sessions the change can alter; `None` when it can alter
    /// any date (the first term added or the last removed decides whether terms limit the
    /// school days at all).
    pub fn reach(&self, before: &Calendar) -> Option<(NaiveDate, NaiveDate)> {
        let after = self.apply(before);
        if before.terms.is_empty() != after.terms.is_empty() {
            return None;
        }
        let span = |t: &Term| (t.first_day, t.last_day);
        let old_term = |id: Uuid| before.terms.iter().find(|t| t.id == id).map(span);
        let (a, b) = match self {
            Change::AddHoliday(h) => ((h.day, h.day), None),
            Change::RemoveHoliday(day) => ((*day, *day), None),
            Change::PutTerm(t) => (span(t), old_term(t.id)),
            Change::RemoveTerm(id) => (old_term(*id)?, None),
        };
        Some(b.map_or(a, |b| (a.0.min(b.0), a.1.max(b.1))))
    }
}

/// The days a preview compares: the change's reach from `today` on, at most
/// [`HORIZON_DAYS`] of them; `None` when the change reaches only past dates.
pub fn window(
    reach: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let horizon = today + Duration::days(HORIZON_DAYS - 1);
    let (first, last) = reach.unwrap_or((today, horizon));
    let from = first.max(today);
    let to = last.min(from + Duration::days(HORIZON_DAYS - 1));
    (from <= to).then_some((from, to))
}

/// The sessions a change adds and removes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<Session>,
    pub removed: Vec<Session>,
}

/// The sessions of `slots` from `from` to `to` inclusive that exist under `after` but not
/// `before` (added) and under `before` but not `after` (removed), in date and time order
/// (at most [`HORIZON_DAYS`] days are compared).
pub fn diff(
    (from, to): (NaiveDate, NaiveDate),
    slots: &[rollcall_store::timetable::Slot],
    before: &Calendar,
    after: &Calendar,
) -> Diff {
    let mut out = Diff::default();
    let days = from.iter_days().take_while(|d| *d <= to);
    for day in days.take(HORIZON_DAYS as usize) {
        match (before.is_school_day(day), after.is_school_day(day)) {
            (true, false) => out.removed.extend(sessions_on(day, slots, before)),
            (false, true) => out.added.extend(sessions_on(day, slots, after)),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_store::timetable::Slot;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Monday 09:00–10:00.
    fn monday_slot() -> Slot {
        Slot {
            id: Uuid::now_v7(),
            class_id: rollcall_shared::ClassId::random(),
            room: "Lab 3".into(),
            weekday: 1,
            start_minute: 540,
            end_minute: 600,
            valid_from: None,
            valid_until: None,
        }
    }

    fn term(first: NaiveDate, last: NaiveDate) -> Term {
        Term {
            id: Uuid::now_v7(),
            name: "Autumn".into(),
            first_day: first,
            last_day: last,
        }
    }

    fn days(sessions: &[Session]) -> Vec<NaiveDate> {
        sessions.iter().map(|s| s.day).collect()
    }

    fn preview(change: &Change, before: &Calendar, today: NaiveDate) -> Diff {
        let after = change.apply(before);
        match window(change.reach(before), today) {
            Some(w) => diff(w, &[monday_slot()], before, &after),
            None => Diff::default(),
        }
    }

    #[test]
    fn a_holiday_on_a_monday_removes_that_mondays_session_and_removing_it_adds_it_back() {
        let today = ymd(2026, 11, 23);
        let day = ymd(2026, 11, 30);
        let add = Change::AddHoliday(Holiday {
            day,
            name: "Snow".into(),
        });
        let d = preview(&add, &Calendar::default(), today);
        assert_eq!((days(&d.removed), d.added.len()), (vec![day], 0));
        let with = add.apply(&Calendar::default());
        let d = preview(&Change::RemoveHoliday(day), &with, today);
        assert_eq!((days(&d.added), d.removed.len()), (vec![day], 0));
    }

    #[test]
    fn a_holiday_on_a_day_without_slots_or_in_the_past_changes_nothing() {
        let today = ymd(2026, 11, 23);
        for day in [ymd(2026, 12, 1), ymd(2026, 11, 16)] {
            let add = Change::AddHoliday(Holiday {
                day,
                name: "x".into(),
            });
            assert_eq!(preview(&add, &Calendar::default(), today), Diff::default());
        }
    }

    #[test]
    fn shortening_a_term_removes_only_the_future_mondays_it_gives_up() {
        let today = ymd(2026, 11, 23);
        let autumn = term(ymd(2026, 9, 1), ymd(2026, 12, 18));
        let before = Calendar {
            terms: vec![autumn.clone()],
            holidays: vec![],
        };
        let shorter = Term {
            last_day: ymd(2026, 12, 4),
            ..autumn
        };
        let d = preview(&Change::PutTerm(shorter), &before, today);
        assert_eq!(days(&d.removed), [ymd(2026, 12, 7), ymd(2026, 12, 14)]);
        assert!(d.added.is_empty());
    }

    #[test]
    fn the_first_term_limits_every_day_within_the_horizon() {
        let today = ymd(2026, 11, 23);
        let first = term(ymd(2026, 11, 23), ymd(2026, 11, 30));
        let d = preview(&Change::PutTerm(first.clone()), &Calendar::default(), today);
        assert!(d.added.is_empty());
        assert_eq!(d.removed.first().map(|s| s.day), Some(ymd(2026, 12, 7)));
        assert!(
            d.removed
                .iter()
                .all(|s| s.day < today + Duration::days(HORIZON_DAYS))
        );
        let with = Change::PutTerm(first.clone()).apply(&Calendar::default());
        let back = preview(&Change::RemoveTerm(first.id), &with, today);
        assert_eq!(days(&back.added), days(&d.removed));
    }

    #[test]
    fn a_term_far_ahead_is_compared_for_at_most_the_horizon() {
        let today = ymd(2026, 11, 23);
        let long = term(ymd(2030, 1, 1), ymd(2040, 1, 1));
        let before = Calendar {
            terms: vec![term(ymd(2026, 9, 1), ymd(2026, 12, 18))],
            holidays: vec![],
        };
        let (from, to) = window(Change::PutTerm(long.clone()).reach(&before), today).unwrap();
        assert_eq!(
            (from, (to - from).num_days()),
            (ymd(2030, 1, 1), HORIZON_DAYS - 1)
        );
        let unknown = Change::RemoveTerm(Uuid::now_v7());
        assert_eq!(preview(&unknown, &before, today), Diff::default());
    }
}
