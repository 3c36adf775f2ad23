//! Typed settings, read the one way both daemons read them: serde defaults, then the TOML
//! file, then environment variables, then [`Settings::validate`]. Settings types use
//! `#[serde(deny_unknown_fields)]`, so a misspelt key is an error rather than a silent default.
//!
//! A variable names a key by its path below the daemon's prefix, with `__` between levels:
//! `ROLLCALL_EDGE_BROKER__URL=mqtts://hub:8883`, `ROLLCALL_HUB_DATA_DIR=/srv/rollcall`,
//! `ROLLCALL_HUB_MQTT__EMBEDDED__LISTEN=0.0.0.0:8883`. The value is read as a TOML value when it
//! is one (numbers, booleans, quoted strings) and as a plain string otherwise.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// A daemon's settings type.
pub trait Settings: DeserializeOwned {
    /// Prefix of the environment variables that override the file, e.g. `ROLLCALL_HUB_`.
    const ENV_PREFIX: &'static str;

    /// Variables from before the `SECTION__KEY` scheme, still read: (full name, key path).
    const ENV_ALIASES: &'static [(&'static str, &'static str)] = &[];

    /// The rules beyond the types; every broken one reported ([`ConfigError::Invalid`]).
    fn validate(&self) -> Result<(), ConfigError>;
}

/// Why a configuration cannot be used. Each variant names the file, variable or rule to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl ConfigError {
    /// One broken rule.
    pub fn invalid(problem: impl Into<String>) -> Self {
        ConfigError::Invalid(vec![problem.into()])
    }
}

/// Reads `path`, applies the process environment and validates.
pub fn load<S: Settings>(path: &Path) -> Result<S, ConfigError> {
    let text = read(path)?;
    load_str(&text, &path.display().to_string(), std::env::vars())
}

/// Parses `text` (from `origin`, for messages), applies the entries of `env` that carry the
/// prefix, and validates.
pub fn load_str<S: Settings>(
    text: &str,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<S, ConfigError> {
    let mut table: Table = toml::from_str(text).map_err(|e| parse_error(origin, &e))?;
    let mut overridden = false;
    for (name, value) in env {
        let alias = S::ENV_ALIASES.iter().find(|(old, _)| *old == name);
        if let Some(key) = alias
            .map(|(_, key)| *key)
            .or(name.strip_prefix(S::ENV_PREFIX))
        {
            apply_env(&mut table, &name, key, &value)?;
            overridden = true;
        }
    }
    let origin = match overridden {
        true => format!("{origin} with the {}* environment variables", S::ENV_PREFIX),
        false => origin.to_owned(),
    };
    let settings: S = Value::Table(table)
        .try_into()
        .map_err(|e| parse_error(&origin, &e))?;
    settings.validate()?;
    Ok(settings)
}

/// Parses `text` alone: no environment, no validation (a secrets file, a test's snippet).
pub fn parse<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| parse_error(origin, &e))
}

/// The text of `path`, or an error naming it.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse_error(origin: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        origin: origin.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    }
}

/// Sets the key named by `key` (`SECTION__FIELD`) in `table`.
fn apply_env(table: &mut Table, name: &str, key: &str, value: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
    if path.iter().any(String::is_empty) {
        return Err(ConfigError::Env {
            name: name.to_owned(),
            message: "empty key segment".into(),
        });
    }
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut node = table;
    for part in parents {
        let entry = node
            .entry(part.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        node = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
            name: name.to_owned(),
            message: format!("{part} is not a section"),
        })?;
    }
    node.insert(last.clone(), parse_value(value));
    Ok(())
}

/// `value` as a TOML value if it reads as one, else as a string.
fn parse_value(value: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Example {
        #[serde(default)]
        port: u16,
        #[serde(default)]
        broker: Broker,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Broker {
        url: Option<String>,
    }

    impl Settings for Example {
        const ENV_PREFIX: &'static str = "EXAMPLE_";
        const ENV_ALIASES: &'static [(&'static str, &'static str)] =
            &[("EXAMPLE_URL", "BROKER__URL")];

        fn validate(&self) -> Result<(), ConfigError> {
            match self.port {
                0 => Err(ConfigError::invalid("port must not be 0")),
                _ => Ok(()),
            }
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let owned = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        owned.collect()
    }

    #[test]
    fn the_environment_overrides_the_file_and_rules_are_checked_last() {
        let e: Example = load_str("port = 1", "f", env(&[("EXAMPLE_PORT", "2")])).unwrap();
        assert_eq!(e.port, 2);
        let nested = env(&[("EXAMPLE_BROKER__URL", "mqtt://hub:1883"), ("OTHER_X", "1")]);
        let e: Example = load_str("port = 1", "f", nested).unwrap();
        assert_eq!(e.broker.url.as_deref(), Some("mqtt://hub:1883"));
        let old = env(&[("EXAMPLE_URL", "mqtt://old:1883")]);
        let e: Example = load_str("port = 1", "f", old).unwrap();
        assert_eq!(
            e.broker.url.as_deref(),
            Some("mqtt://old:1883"),
            "an alias still works"
        );
        let invalid = load_str::<Example>("", "f", env(&[])).unwrap_err();
        assert!(
            invalid.to_string().contains("port must not be 0"),
            "{invalid}"
        );
    }

    #[test]
    fn a_misspelt_key_in_the_file_or_the_environment_is_refused() {
        let typo = load_str::<Example>("prot = 1", "f.toml", env(&[])).unwrap_err();
        assert!(typo.to_string().starts_with("f.toml: "), "{typo}");
        let var = env(&[("EXAMPLE_PROT", "1")]);
        let typo = load_str::<Example>("port = 1", "f.toml", var).unwrap_err();
        assert!(
            typo.to_string().contains("with the EXAMPLE_* environment"),
            "{typo}"
        );
        let empty = env(&[("EXAMPLE_BROKER____URL", "x")]);
        let empty = load_str::<Example>("port = 1", "f", empty).unwrap_err();
        assert!(matches!(empty, ConfigError::Env { .. }), "{empty}");
    }

    #[test]
    fn env_values_are_typed_when_they_can_be() {
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("mqtt://127.0.0.1:1883"),
            Value::String("mqtt://127.0.0.1:1883".into())
        );
    }
}
