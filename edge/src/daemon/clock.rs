//! Where an instant falls in the school's week: the timetable's local weekday and minute in the
//! school's zone (which the hub sends). The clock itself is [`rollcall_runtime::Clock`].

use rollcall_shared::{SiteZone, UnixMillis};

use super::gallery::WeekTime;

/// Where `at` falls in the school's week, on the wall clock of `zone`.
pub fn week_time(zone: &SiteZone, at: UnixMillis) -> WeekTime {
    let local = zone.local(at.0);
    WeekTime {
        weekday: local.weekday,
        minute: local.minute,
    }
}
