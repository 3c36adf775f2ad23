//! `[devices]`: when a silent door unit is flagged. Only the setting and its check.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::invalid;

/// Looking after door units.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DevicesConfig {
    /// A door unit not heard from for this many minutes is flagged on the Devices page (it
    /// sends a heartbeat every 30 s).
    pub silent_after_minutes: u32,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        Self {
            silent_after_minutes: 10,
        }
    }
}

impl DevicesConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=7 * 24 * 60).contains(&self.silent_after_minutes) {
            return invalid("devices.silent_after_minutes must be 1 to 10080 (a week)");
        }
        Ok(())
    }
}
