//! Wall-clock time, injected: record timestamps and the timetable's local weekday and minute.

use chrono::{Datelike, Local, Timelike};
use rollcall_shared::UnixMillis;

use super::gallery::WeekTime;

/// The wall clock as the daemon sees it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixMillis;
    /// Local weekday and minute (the site's time zone is the device's).
    fn week_time(&self) -> WeekTime;
}

/// The system clock and local time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::now()
    }

    fn week_time(&self) -> WeekTime {
        let now = Local::now();
        WeekTime {
            weekday: now.weekday().number_from_monday() as u8,
            minute: (now.hour() * 60 + now.minute()) as u16,
        }
    }
}
