//! `[roster]`: how roster imports from the school information system are guarded.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RosterConfig {
    /// The share of the school's students (percent) an import may make leavers without a
    /// person confirming the number; more is refused until confirmed.
    pub max_leavers_percent: u32,
}

impl Default for RosterConfig {
    fn default() -> Self {
        Self {
            max_leavers_percent: 10,
        }
    }
}

impl RosterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_leavers_percent > 100 {
            return Err(ConfigError::invalid(
                "roster.max_leavers_percent must be 0 to 100",
            ));
        }
        Ok(())
    }
}
