//! Whether a record a door unit sent can be believed: captured within the window around the
//! hub's clock, naming only students on the roster. Pure; the hub's ingest reads what it needs
//! (its clock, the roster) and quarantines a record that fails. The room is not judged here: a
//! record is stored under the room its door unit is registered in (`super::judge`).

use rollcall_shared::{AttendanceRecord, StudentId};

const MINUTE_MS: i64 = 60_000;

/// How far a record's `captured_at` may lie from the hub's clock when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Behind: how long a record may have waited in a door unit's outbox.
    pub max_age_ms: i64,
    /// Ahead: how far a door unit's clock may run before the hub's.
    pub max_skew_ms: i64,
}

impl Window {
    /// The window `max_age_hours` behind the hub's clock and `max_skew_minutes` ahead of it.
    pub fn new(max_age_hours: u32, max_skew_minutes: u32) -> Self {
        Window {
            max_age_ms: i64::from(max_age_hours) * 60 * MINUTE_MS,
            max_skew_ms: i64::from(max_skew_minutes) * MINUTE_MS,
        }
    }
}

/// Why a record is not believed. It is acknowledged, kept in quarantine for an admin, and
/// never becomes a mark.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum Doubt {
    #[error(
        "captured {} before the hub received it; records older than {} are not counted \
         (the door unit was offline that long, or its clock is behind)",
        span(*.age_ms), span(*.limit_ms)
    )]
    TooOld { age_ms: i64, limit_ms: i64 },
    #[error(
        "captured {} after the hub received it: the door unit's clock is ahead \
         (at most {} is allowed)",
        span(*.ahead_ms), span(*.limit_ms)
    )]
    ClockAhead { ahead_ms: i64, limit_ms: i64 },
    #[error("names student {0}, who is not on the roster")]
    UnknownStudent(StudentId),
}

impl Doubt {
    /// A stable machine-readable code, stored and served beside the sentence.
    pub fn code(&self) -> &'static str {
        match self {
            Doubt::TooOld { .. } => "too_old",
            Doubt::ClockAhead { .. } => "clock_ahead",
            Doubt::UnknownStudent(_) => "unknown_student",
        }
    }
}

/// Checks `record`, received at `now` (hub clock, Unix ms), against the time window and the
/// roster. `on_roster` answers whether a student exists.
pub fn vet(
    record: &AttendanceRecord,
    now: i64,
    window: Window,
    mut on_roster: impl FnMut(StudentId) -> bool,
) -> Result<(), Doubt> {
    // Saturating: `captured_at` is whatever the device sent, `now` is the hub's.
    let age_ms = now.saturating_sub(record.captured_at.0);
    if age_ms > window.max_age_ms {
        return Err(Doubt::TooOld {
            age_ms,
            limit_ms: window.max_age_ms,
        });
    }
    if age_ms < -window.max_skew_ms {
        return Err(Doubt::ClockAhead {
            ahead_ms: age_ms.saturating_neg(),
            limit_ms: window.max_skew_ms,
        });
    }
    match record.candidates.iter().find(|c| !on_roster(c.student)) {
        Some(stranger) => Err(Doubt::UnknownStudent(stranger.student)),
        None => Ok(()),
    }
}

/// A duration in the largest unit that keeps it readable: "45 s", "12 min", "3 h 5 min",
/// "9 days", or "a very long time" past a thousand years.
fn span(ms: i64) -> String {
    let minutes = ms / MINUTE_MS;
    match minutes {
        m if m > 1_000 * 366 * 24 * 60 => "a very long time".to_owned(),
        m if m >= 2 * 24 * 60 => format!("{} days", m / (24 * 60)),
        m if m >= 60 => match m % 60 {
            0 => format!("{} h", m / 60),
            rest => format!("{} h {rest} min", m / 60),
        },
        m if m >= 1 => format!("{m} min"),
        _ => format!("{} s", ms / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_shared::*;

    const NOW: i64 = 1_790_000_000_000;
    const WINDOW: Window = Window {
        max_age_ms: 168 * 60 * MINUTE_MS,
        max_skew_ms: 10 * MINUTE_MS,
    };

    fn record(captured_at: i64, students: &[StudentId]) -> AttendanceRecord {
        rollcall_store::sample_record(Decision::Confident, captured_at, students)
    }

    #[test]
    fn a_record_inside_the_window_naming_known_students_passes() {
        let ada = StudentId::random();
        for at in [NOW, NOW - WINDOW.max_age_ms, NOW + WINDOW.max_skew_ms] {
            assert_eq!(vet(&record(at, &[ada]), NOW, WINDOW, |_| true), Ok(()));
        }
    }

    #[test]
    fn too_old_and_clock_ahead_say_by_how_much() {
        let old = vet(&record(NOW - 9 * 24 * 3_600_000, &[]), NOW, WINDOW, |_| {
            true
        });
        let old = old.unwrap_err();
        assert_eq!(old.code(), "too_old");
        assert!(
            old.to_string().starts_with("captured 9 days before"),
            "{old}"
        );
        assert!(old.to_string().contains("older than 7 days"), "{old}");
        let ahead = vet(&record(NOW + 11 * MINUTE_MS, &[]), NOW, WINDOW, |_| true);
        let ahead = ahead.unwrap_err();
        assert_eq!(ahead.code(), "clock_ahead");
        assert!(ahead.to_string().contains("11 min after"), "{ahead}");
    }

    #[test]
    fn absurd_times_are_doubted_without_overflow() {
        // The captured_at a hostile door unit sent in the finding, and both extremes.
        for at in [8_210_266_833_600_000, i64::MAX, i64::MIN, 0] {
            let doubt = vet(&record(at, &[]), NOW, WINDOW, |_| true).unwrap_err();
            assert!(matches!(
                doubt,
                Doubt::TooOld { .. } | Doubt::ClockAhead { .. }
            ));
            assert!(!doubt.to_string().is_empty());
        }
    }

    #[test]
    fn every_candidate_must_be_on_the_roster() {
        let (ada, ghost) = (StudentId::random(), StudentId::random());
        let doubt = vet(&record(NOW, &[ada, ghost]), NOW, WINDOW, |s| s == ada);
        assert_eq!(doubt, Err(Doubt::UnknownStudent(ghost)));
    }

    #[test]
    fn spans_read_like_a_person_would_say_them() {
        assert_eq!(span(45_000), "45 s");
        assert_eq!(span(12 * MINUTE_MS), "12 min");
        assert_eq!(span(185 * MINUTE_MS), "3 h 5 min");
        assert_eq!(span(120 * MINUTE_MS), "2 h");
        assert_eq!(span(9 * 24 * 60 * MINUTE_MS), "9 days");
        assert_eq!(span(i64::MAX), "a very long time");
    }
}
