//! `[auth]`: how long sign-ins last, how failed logins are limited, and how much password
//! hashing may run at once. Only the settings and their checks; signing in is `crate::auth`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub access_token_minutes: u32,
    /// A refresh token unused this many days has expired.
    pub refresh_token_days: u32,
    /// A sign-in ends this many days after its login, however often it is refreshed.
    pub signin_max_days: u32,
    /// Failed logins per user name (from any address) within a minute before 429.
    #[serde(alias = "failed_logins_per_minute")]
    pub failed_logins_per_user: u32,
    /// Failed logins per client address (for any user names) within a minute before 429.
    pub failed_logins_per_address: u32,
    /// Most user names, and most addresses, the login limiter remembers.
    pub limiter_max_tracked: u32,
    /// argon2 computations (logins, password and device-secret hashing, door-unit logins)
    /// running at once; each takes about 19 MiB.
    pub hashing_at_once: u32,
    /// How long a login waits for an argon2 slot before the answer is 503, in milliseconds.
    pub hashing_max_wait_ms: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: 15,
            refresh_token_days: 7,
            signin_max_days: 30,
            failed_logins_per_user: 10,
            failed_logins_per_address: 20,
            limiter_max_tracked: 10_000,
            hashing_at_once: 2,
            hashing_max_wait_ms: 2_000,
        }
    }
}

impl AuthConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let within = |name: &str, value: u32, range: std::ops::RangeInclusive<u32>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::invalid(format!(
                    "auth.{name} must be {} to {} (it is {value})",
                    range.start(),
                    range.end()
                )))
            }
        };
        within("access_token_minutes", self.access_token_minutes, 1..=1440)?;
        within("refresh_token_days", self.refresh_token_days, 1..=365)?;
        within("signin_max_days", self.signin_max_days, 1..=365)?;
        within(
            "failed_logins_per_user",
            self.failed_logins_per_user,
            1..=10_000,
        )?;
        within(
            "failed_logins_per_address",
            self.failed_logins_per_address,
            1..=10_000,
        )?;
        within(
            "limiter_max_tracked",
            self.limiter_max_tracked,
            1..=1_000_000,
        )?;
        within("hashing_at_once", self.hashing_at_once, 1..=64)?;
        within("hashing_max_wait_ms", self.hashing_max_wait_ms, 0..=60_000)
    }
}
