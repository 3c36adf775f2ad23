//! Secrets kept apart from tunables: the broker password, read from its own file (mode 0600,
//! owned by the service user) and never printed.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use rollcall_runtime::ConfigError;

/// What the secrets file holds: `password = "..."`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    pub password: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.password.as_ref().map(|_| "<redacted>");
        f.debug_struct("Secrets").field("password", &shown).finish()
    }
}

impl Secrets {
    /// Reads the secrets file, or nothing when there is none.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = rollcall_runtime::config::read(path)?;
        rollcall_runtime::config::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let s: Secrets = toml::from_str("password = \"hunter2\"").unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("redacted"),
            "{shown}"
        );
    }
}
