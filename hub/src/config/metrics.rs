//! `[metrics]`: where Prometheus metrics are served. Only the settings and their checks;
//! serving is `crate::prometheus`.

use std::net::SocketAddr;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::invalid;

/// Prometheus metrics on a listener of their own (`crate::prometheus`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served (plain HTTP); unset: nowhere.
    pub listen: Option<SocketAddr>,
    /// Serve it on a non-loopback address (firewall it to the Prometheus server).
    pub allow_remote: bool,
}

impl MetricsConfig {
    /// Metrics have no password: off loopback only with consent.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(listen) = self.listen
            && !listen.ip().is_loopback()
            && !self.allow_remote
        {
            return invalid(
                "metrics.listen is not a loopback address: metrics are served without a password, \
                 so set metrics.allow_remote = true only where a firewall lets the Prometheus server \
                 alone reach it",
            );
        }
        Ok(())
    }
}
