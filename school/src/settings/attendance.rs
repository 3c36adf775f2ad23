//! `[attendance]`: when an arrival is late or early, and whether a lesson's cards are named
//! together. Only the settings and their checks; the
//! rules they feed are `crate::attendance`.

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
        Ok(())
    }
}
