//! `[reports]`: what the school-wide reports flag. Only the setting and its check; the
//! reports are `crate::reports`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::invalid;

/// What the school-wide reports flag.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// A student whose attendance rate is below this fraction is at risk. England's
    /// persistent absence is attendance below 90 %, hence the default.
    pub at_risk_below: f64,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self { at_risk_below: 0.9 }
    }
}

impl ReportsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at_risk = self.at_risk_below;
        if !(at_risk > 0.0 && at_risk <= 1.0) {
            return invalid(
                "reports.at_risk_below must be a fraction above 0 and at most 1 (0.9 is 90 %)",
            );
        }
        Ok(())
    }
}
