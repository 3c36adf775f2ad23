//! `[register]`: when sessions are written into the register, and locked. Only the settings
//! and their checks; closing sessions is `crate::register`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::invalid;

/// When sessions are written into the register, and locked.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// Minutes after a session ends before its register is written: records from a door unit
    /// that was briefly offline, and teachers' last marks, still count until then.
    pub close_after_minutes: u32,
    /// Seconds between looks for sessions to close.
    pub check_every_secs: u32,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            close_after_minutes: 30,
            check_every_secs: 60,
        }
    }
}

impl RegisterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.close_after_minutes > 24 * 60 {
            return invalid("register.close_after_minutes must be at most 1440 (a day)");
        }
        if !(1..=3600).contains(&self.check_every_secs) {
            return invalid("register.check_every_secs must be 1 to 3600");
        }
        Ok(())
    }
}
