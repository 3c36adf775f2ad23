//! `[http.limits]`: how fast one caller may call the API. Only the settings and their checks;
//! the limiting is `crate::auth::pace`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::within;

/// A token bucket per signed-in account, and one per address for the routes open to anyone
/// (signing in, health, a door unit's provisioning code). Door units' MQTT is not limited here.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub account: Bucket,
    pub address: Bucket,
}

/// Up to `burst` requests at once, refilled at `per_minute`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub burst: u32,
    pub per_minute: u32,
}

impl Default for LimitsConfig {
    /// The busiest page asks for a dozen things at once and the roll call polls every few
    /// seconds, far inside 240 at once and 20 a second; a script in a loop is not. An address
    /// gets as much: a school's staff may reach the hub through one NAT address and sign in
    /// together at the bell, and a monitor polls the health check.
    fn default() -> Self {
        let bucket = Bucket {
            burst: 240,
            per_minute: 1200,
        };
        Self {
            account: bucket,
            address: bucket,
        }
    }
}

impl LimitsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, bucket) in [("account", self.account), ("address", self.address)] {
            let setting = |field| format!("http.limits.{name}.{field}");
            within(&setting("burst"), bucket.burst.into(), 1, 1_000_000)?;
            within(
                &setting("per_minute"),
                bucket.per_minute.into(),
                1,
                60_000_000,
            )?;
        }
        Ok(())
    }
}
