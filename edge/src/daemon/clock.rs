//! Wall-clock time, injected: record timestamps, and from them the timetable's local weekday
//! and minute in the school's zone (which the hub sends; see [`week_time`]).

use rollcall_shared::{SiteZone, UnixMillis};

use super::gallery::WeekTime;

/// The wall clock as the daemon sees it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixMillis;
}

/// Where `at` falls in the school's week, on the wall clock of `zone`.
pub fn week_time(zone: &SiteZone, at: UnixMillis) -> WeekTime {
    let local = zone.local(at.0);
    WeekTime {
        weekday: local.weekday,
        minute: local.minute,
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::now()
    }
}
