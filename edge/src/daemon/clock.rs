//! Where an instant falls in the school's week: the timetable's local weekday and minute in the
//! school's zone (which the hub sends); and whether the clock is synchronised, as last found
//! ([`ClockState`]). The clock itself is [`rollcall_runtime::Clock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rollcall_shared::{ClockSync, SiteZone, UnixMillis};

use super::decide::gallery::WeekTime;

/// Where `at` falls in the school's week, on the wall clock of `zone`.
pub fn week_time(zone: &SiteZone, at: UnixMillis) -> WeekTime {
    let local = zone.local(at.0);
    WeekTime {
        weekday: local.weekday,
        minute: local.minute,
    }
}

/// Whether the clock is synchronised, as the status light's thread last found it; read by
/// the pipeline (stamped on each record) and the link (sent in each heartbeat).
#[derive(Clone, Debug, Default)]
pub struct ClockState(Arc<AtomicU8>);

impl ClockState {
    pub fn set(&self, state: ClockSync) {
        let code = match state {
            ClockSync::Unknown => 0,
            ClockSync::Synchronised => 1,
            ClockSync::Unsynchronised => 2,
        };
        self.0.store(code, Ordering::Relaxed);
    }

    pub fn get(&self) -> ClockSync {
        match self.0.load(Ordering::Relaxed) {
            1 => ClockSync::Synchronised,
            2 => ClockSync::Unsynchronised,
            _ => ClockSync::Unknown,
        }
    }
}
