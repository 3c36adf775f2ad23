//! Reading a day back from the ODS: its events folded into one [`DayRead`] a pupil, for the
//! nightly comparison.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::{Covers, ymd};
use crate::mis::connector::DayRead;

/// One [`DayRead`] a pupil from `day`'s events. An event's `attendanceEventReason` says its
/// sessions; an event without one (not Rollcall's) fills the sessions still empty, both if
/// it lasts the day (`eventDuration` 1 or none), else the first.
pub(super) fn fold(events: &[Value], day: NaiveDate) -> Vec<DayRead> {
    let date = ymd(day);
    let mut days: BTreeMap<&str, DayRead> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for event in events
        .iter()
        .filter(|e| e["eventDate"].as_str() == Some(&date))
    {
        let pupil = event["studentReference"]["studentUniqueId"].as_str();
        let descriptor = event["attendanceEventCategoryDescriptor"].as_str();
        let (Some(pupil), Some(descriptor)) = (pupil, descriptor) else {
            continue;
        };
        let read = days.entry(pupil).or_insert_with(|| DayRead {
            pupil: pupil.to_owned(),
            aliases: Vec::new(),
            day,
            am: None,
            pm: None,
        });
        let reason = event["attendanceEventReason"].as_str().unwrap_or_default();
        match Covers::from_reason(reason) {
            Some(covers) => place(read, descriptor, covers),
            None => unplaced.push((pupil, descriptor, event["eventDuration"].as_f64())),
        }
    }
    for (pupil, descriptor, duration) in unplaced {
        let read = days.get_mut(pupil).expect("every pupil was entered");
        let sessions = if duration.is_none_or(|d| d >= 1.0) {
            2
        } else {
            1
        };
        let empty = [&mut read.am, &mut read.pm]
            .into_iter()
            .filter(|s| s.is_none());
        for session in empty.take(sessions) {
            *session = Some(descriptor.to_owned());
        }
    }
    days.into_values().collect()
}

fn place(read: &mut DayRead, descriptor: &str, covers: Covers) {
    if covers != Covers::Pm {
        read.am = Some(descriptor.to_owned());
    }
    if covers != Covers::Am {
        read.pm = Some(descriptor.to_owned());
    }
}
