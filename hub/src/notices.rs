//! Families told the same morning (issue 57).

pub mod sms;
