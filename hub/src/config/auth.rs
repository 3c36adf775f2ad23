//! `[auth]`: how long sign-ins last, how failed logins are limited, how much password
//! hashing may run at once, whether passwords are taken at all, and `[auth.oidc]`, the
//! school's own accounts (Microsoft Entra ID, Google Workspace, any OpenID provider). Only the
//! settings and their checks; signing in is `crate::auth`.

use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::web_url::https_or_loopback;

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
    /// Whether users may sign in with a Rollcall password; off, only the school's accounts
    /// (`[auth.oidc]`) sign in.
    pub passwords: bool,
    /// An invitation's link works this many hours after it is made.
    pub invitation_hours: u32,
    /// Signing in with the school's accounts; none when absent.
    pub oidc: Option<OidcConfig>,
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
            passwords: true,
            invitation_hours: 72,
            oidc: None,
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
        within("hashing_max_wait_ms", self.hashing_max_wait_ms, 0..=60_000)?;
        within("invitation_hours", self.invitation_hours, 1..=720)?;
        if let Some(oidc) = &self.oidc {
            oidc.validate().map_err(ConfigError::invalid)?;
        } else if !self.passwords {
            return Err(ConfigError::invalid(
                "auth.passwords = false needs [auth.oidc]: without the school's accounts nobody \
                 could sign in",
            ));
        }
        Ok(())
    }
}

/// `[auth.oidc]`: the school's OpenID provider, and Rollcall registered with it as a web
/// application whose redirect address is `{hub_url}/api/v1/auth/oidc/callback`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer, exactly as its discovery document names it:
    /// `https://login.microsoftonline.com/<tenant id>/v2.0` (Entra ID) or
    /// `https://accounts.google.com` (Google Workspace).
    pub issuer: String,
    /// The application (client) id the provider gave Rollcall.
    pub client_id: String,
    /// A file holding the client secret, read at start; none for a public client (PKCE alone).
    pub client_secret_file: Option<PathBuf>,
    /// The hub's pages as browsers reach them, e.g. `https://rollcall.school.example:8443`.
    pub hub_url: String,
    /// The sign-in button says "Sign in with {name}".
    #[serde(default = "OidcConfig::default_name")]
    pub name: String,
    /// The ID token's claim holding the user's e-mail address, matched to a Rollcall user's:
    /// `email` (Google; Entra ID when the optional claim is set up) or `preferred_username`
    /// (Entra ID's sign-in name).
    #[serde(default = "OidcConfig::default_email_claim")]
    pub email_claim: String,
}

/// Where the provider sends the browser back, under `hub_url`.
pub const OIDC_CALLBACK: &str = "/api/v1/auth/oidc/callback";

impl OidcConfig {
    fn default_name() -> String {
        "the school's account".into()
    }

    fn default_email_claim() -> String {
        "email".into()
    }

    /// `hub_url` without a trailing `/`.
    pub fn pages(&self) -> &str {
        self.hub_url.trim_end_matches('/')
    }

    /// The redirect address registered with the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}{OIDC_CALLBACK}", self.pages())
    }

    pub fn validate(&self) -> Result<(), String> {
        https_or_loopback("auth.oidc.issuer", &self.issuer)?;
        let pages = https_or_loopback("auth.oidc.hub_url", &self.hub_url)?;
        if pages.query().is_some() || pages.fragment().is_some() {
            return Err(format!(
                "auth.oidc.hub_url {:?}: give the pages' address alone, without ? or #",
                self.hub_url
            ));
        }
        let text = |field: &str, value: &str, max: usize| {
            if value.trim().is_empty() || value.chars().count() > max {
                Err(format!("auth.oidc.{field}: must be 1 to {max} characters"))
            } else {
                Ok(())
            }
        };
        text("client_id", &self.client_id, 256)?;
        text("name", &self.name, 40)?;
        text("email_claim", &self.email_claim, 64)
    }
}
