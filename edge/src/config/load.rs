//! Reading a config: serde defaults, then the TOML file, then `ROLLCALL_EDGE_*` variables.
//!
//! A variable names a key by its path with `__` between levels:
//! `ROLLCALL_EDGE_BROKER__URL=mqtts://hub:8883`, `ROLLCALL_EDGE_DATA_DIR=/tmp/edge`,
//! `ROLLCALL_EDGE_MATCHING__CONFIDENT=0.28`. The value is read as a TOML value when it is one
//! (numbers, booleans, quoted strings) and as a plain string otherwise.

use std::path::Path;

use toml::{Table, Value};

use super::{ConfigError, EdgeConfig};

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "ROLLCALL_EDGE_";

/// Reads `path`, applies the process environment and validates.
pub fn load(path: &Path) -> Result<EdgeConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_str(&text, &path.display().to_string(), std::env::vars())
}

/// Parses `text`, applies the `ROLLCALL_EDGE_*` entries of `env` and validates.
pub fn load_str(
    text: &str,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<EdgeConfig, ConfigError> {
    let mut table: Table = toml::from_str(text).map_err(|e| parse_error(origin, &e))?;
    for (name, value) in env {
        if let Some(key) = name.strip_prefix(ENV_PREFIX) {
            apply_env(&mut table, &name, key, &value)?;
        }
    }
    let config: EdgeConfig = Value::Table(table)
        .try_into()
        .map_err(|e| parse_error(&format!("{origin} (with environment)"), &e))?;
    config.validate()?;
    Ok(config)
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
    use super::*;

    #[test]
    fn env_values_are_typed_when_they_can_be() {
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(
            parse_value("mqtt://127.0.0.1:1883"),
            Value::String("mqtt://127.0.0.1:1883".into())
        );
    }

    #[test]
    fn env_creates_nested_keys() {
        let mut t = Table::new();
        apply_env(&mut t, "X", "BROKER__URL", "mqtt://localhost").unwrap();
        assert_eq!(t["broker"]["url"].as_str(), Some("mqtt://localhost"));
        assert!(apply_env(&mut t, "X", "BROKER____URL", "x").is_err());
    }
}
