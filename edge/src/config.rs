//! The daemon's typed configuration: defaults → TOML file → `ROLLCALL_EDGE_*` environment
//! (`ROLLCALL_EDGE_BROKER__URL=…`), then the rules in `validate.rs`; read the way both daemons
//! read theirs ([`rollcall_runtime::config`]).
//!
//! Owns the shape of `edge.toml` (`schema.rs`), the commented example ([`DEFAULT_CONFIG`]) and
//! the rules a config must obey. Secrets (the broker password) live apart in [`Secrets`], read
//! from their own file and never printed. This module must not open sockets, databases or cameras.

mod from_hub;
mod schema;
mod secrets;
mod url;
mod validate;

use std::path::Path;

use rollcall_runtime::ConfigError;

pub use from_hub::with_hub_settings;
pub use schema::{
    BrokerConfig, BurstConfig, CameraConfig, DeviceConfig, Edge, EdgeConfig, Exposure, GpioConfig,
    IndicatorConfig, LIVENESS_BY_DEFAULT, LivenessConfig, MatchingConfig, OutboxConfig, Pull,
    RpicamConfig, SAME_STRANGER, StatusConfig, TriggerConfig,
};
pub use secrets::Secrets;
pub use url::{BrokerUrl, UrlError};

/// The fully commented example printed by `--print-default-config`. It parses and validates.
pub const DEFAULT_CONFIG: &str = include_str!("config/default.toml");

/// Reads `path`, applies the process environment and validates.
pub fn load(path: &Path) -> Result<EdgeConfig, ConfigError> {
    rollcall_runtime::config::load(path)
}

/// Parses `text`, applies the `ROLLCALL_EDGE_*` entries of `env` and validates.
pub fn load_str(
    text: &str,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<EdgeConfig, ConfigError> {
    rollcall_runtime::config::load_str(text, origin, env)
}

#[cfg(test)]
mod tests;
