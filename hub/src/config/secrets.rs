//! `[secrets]`: credentials, kept apart from the tunables so that no `Debug` of the
//! configuration prints them.

use std::fmt;

use serde::Deserialize;

/// Credentials, kept apart from the tunables; `Debug` never prints them.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Secrets {
    pub mqtt_username: Option<String>,
    pub mqtt_password: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Secrets")
            .field("mqtt_username", &self.mqtt_username)
            .field("mqtt_password", &redact(&self.mqtt_password))
            .finish()
    }
}
