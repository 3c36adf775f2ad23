//! What every section checks its settings with: the error for a broken rule, a range, and
//! the bound on connections the listeners share.

use rollcall_runtime::ConfigError;

/// Most connections one listener may be allowed (far above any open-file limit in use).
pub const MAX_CONNECTIONS: u32 = 1_000_000;

/// The error for a setting that breaks a rule.
pub(super) fn invalid(problem: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::invalid(problem))
}

/// `value` of setting `name` within `min..=max`, or an error naming both.
pub(super) fn within(name: &str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(ConfigError::invalid(format!(
        "{name} is {value}; it must be between {min} and {max}"
    )))
}
