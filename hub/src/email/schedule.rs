//! When a digest is due and how a failed one is retried: pure, on the hub's clock and the
//! school's zone.

use chrono::{Datelike, NaiveDate, Weekday};
use rollcall_shared::UnixMillis;

use rollcall_school::attendance::Rules;
use rollcall_store::digests::{DigestState, DigestStatus};

/// Tries per user and day before giving up on that day's digest.
pub const MAX_ATTEMPTS: u32 = 5;
/// Wait after a failed try, times the number of tries so far.
pub const RETRY_MS: i64 = 5 * 60_000;

/// The school day whose digest is due at `now`: today (local), once the clock has passed `at`
/// (minutes after local midnight) on one of `days`. A hub started after `at` still sends
/// today's; a day it was down for entirely is not sent late.
pub fn due_day(rules: &Rules, now: UnixMillis, at: u16, days: &[Weekday]) -> Option<NaiveDate> {
    let today = rules.local_day(now);
    (days.contains(&today.weekday()) && now >= rules.instant(today, at)).then_some(today)
}

/// Whether a user's digest for the day should be (re)tried now, given what is remembered.
pub fn should_try(state: Option<&DigestState>, now: UnixMillis) -> bool {
    match state {
        None => true,
        Some(s) => s.status == DigestStatus::Retrying && now >= s.next_at,
    }
}

/// What to remember after a try: sent, nothing to say, or failed (retried a few times).
pub fn after_try(
    previous: Option<&DigestState>,
    outcome: Result<bool, String>,
    now: UnixMillis,
) -> DigestState {
    let attempts = previous.map_or(0, |p| p.attempts) + 1;
    let (status, last_error) = match outcome {
        Ok(true) => (DigestStatus::Sent, None),
        Ok(false) => (DigestStatus::Empty, None),
        Err(e) if attempts >= MAX_ATTEMPTS => (DigestStatus::Failed, Some(e)),
        Err(e) => (DigestStatus::Retrying, Some(e)),
    };
    DigestState {
        status,
        attempts,
        next_at: UnixMillis(now.0 + RETRY_MS * i64::from(attempts)),
        last_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            zone: rollcall_shared::SiteZone::named("Europe/Paris").unwrap(),
            late_after_minutes: 0,
            early_minutes: 0,
        }
    }

    #[test]
    fn the_digest_is_due_from_its_local_time_on_its_days() {
        let r = rules();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let days = [Weekday::Mon];
        let at = 7 * 60 + 30;
        assert_eq!(due_day(&r, r.instant(monday, at - 1), at, &days), None);
        assert_eq!(due_day(&r, r.instant(monday, at), at, &days), Some(monday));
        assert_eq!(
            due_day(&r, r.instant(monday, 9 * 60), at, &days),
            Some(monday),
            "a hub started late still sends the day's"
        );
        let tuesday = monday.succ_opt().unwrap();
        assert_eq!(due_day(&r, r.instant(tuesday, 9 * 60), at, &days), None);
    }

    #[test]
    fn a_day_is_tried_once_unless_it_failed_and_then_a_few_times() {
        let ms = UnixMillis;
        assert!(should_try(None, ms(0)));
        let sent = after_try(None, Ok(true), ms(0));
        assert!(!should_try(Some(&sent), ms(i64::MAX)));
        let empty = after_try(None, Ok(false), ms(0));
        assert_eq!(empty.status, DigestStatus::Empty);
        assert!(!should_try(Some(&empty), ms(i64::MAX)));
        let mut s = after_try(None, Err("refused".into()), ms(0));
        assert!(!should_try(Some(&s), ms(RETRY_MS - 1)));
        assert!(should_try(Some(&s), ms(RETRY_MS)));
        for _ in 1..MAX_ATTEMPTS {
            s = after_try(Some(&s), Err("refused".into()), ms(0));
        }
        assert_eq!(s.status, DigestStatus::Failed);
        assert!(!should_try(Some(&s), ms(i64::MAX)));
    }
}
