//! The sections of `hub.toml` the school's rules read: `[attendance]`, `[register]`,
//! `[reports]`, `[retention]`, `[privacy]` and `[roster]`, each with its defaults and the
//! checks that concern it alone. The file as a whole (the other sections, the environment,
//! the rules that tie sections together) is the hub's `config`, which embeds these as they are.

mod attendance;
mod privacy;
mod register;
mod reports;
mod retention;
mod roster;

use rollcall_runtime::ConfigError;

pub use attendance::AttendanceConfig;
pub use privacy::PrivacyConfig;
pub use register::{RegisterConfig, StatutoryConfig};
pub use reports::ReportsConfig;
pub use retention::RetentionConfig;
pub use roster::RosterConfig;

/// The error for a setting that breaks a rule.
fn invalid(problem: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::invalid(problem))
}
