//! `[ingest]`: which records from door units are believed, by their capture time. Only the
//! settings and their checks; ingesting is `crate::ingest`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::invalid;

/// Which records from door units are believed; the rest go to quarantine.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// A record captured longer ago than this when it arrives is quarantined.
    pub max_record_age_hours: u32,
    /// A record captured further ahead of the hub's clock than this is quarantined.
    pub max_clock_skew_minutes: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_record_age_hours: 7 * 24,
            max_clock_skew_minutes: 10,
        }
    }
}

impl IngestConfig {
    /// The window around the hub's clock a record's capture time must fall in.
    pub fn window(&self) -> rollcall_school::arrival::Window {
        rollcall_school::arrival::Window::new(
            self.max_record_age_hours,
            self.max_clock_skew_minutes,
        )
    }

    /// The clock skew allowed is at most a day. (How the record age fits `[retention]` is
    /// checked by `Config`.)
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_clock_skew_minutes > 24 * 60 {
            return invalid("ingest.max_clock_skew_minutes must be at most 1440 (a day)");
        }
        Ok(())
    }
}
