//! `[attendance]`: when an arrival is late or early, whether a lesson's cards are named
//! together, and when a pupil not in a lesson is missing. Only the settings and their checks;
//! the rules they feed are `crate::attendance` and `crate::missing`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::invalid;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AttendanceConfig {
    pub late_after_minutes: u32,
    pub early_minutes: u32,
    /// Whether a lesson's cards are named together against its students not yet marked
    /// (`crate::closed_set`) as records arrive and before its register is written.
    pub name_lessons_jointly: bool,
    /// How long after a lesson starts a pupil in school and not marked in it is missing, and
    /// its register not taken (`crate::missing`).
    pub missing_after_minutes: u32,
    /// Gone: the fixed offset could not follow daylight saving. Read only to say so.
    #[serde(rename = "utc_offset_minutes")]
    pub retired_utc_offset: Option<i32>,
}

impl Default for AttendanceConfig {
    fn default() -> Self {
        Self {
            late_after_minutes: 10,
            early_minutes: 10,
            name_lessons_jointly: true,
            missing_after_minutes: 10,
            retired_utc_offset: None,
        }
    }
}

impl AttendanceConfig {
    /// The retired fixed offset is refused, saying what replaced it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retired_utc_offset.is_some() {
            return invalid(
                "attendance.utc_offset_minutes is no longer read (a fixed offset cannot follow \
                 daylight saving): delete it and set timezone = \"Area/City\" at the top of \
                 the file, e.g. timezone = \"Europe/London\"",
            );
        }
        if !(1..=120).contains(&self.missing_after_minutes) {
            return invalid(
                "attendance.missing_after_minutes must be 1 to 120: the minutes after a lesson \
                 starts when a pupil in school and not in it is missing",
            );
        }
        Ok(())
    }
}
