//! The office's set-up and records (admins): the timetable and calendar, the roster import,
//! the audit log and export, what runs unattended, write-back to the MIS, the privacy
//! schedule.

pub(super) mod audit;
pub(super) mod calendar;
pub(super) mod mis;
pub(super) mod operations;
pub(super) mod privacy;
pub(super) mod roster;
pub(super) mod timetable;
