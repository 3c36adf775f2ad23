//! `[store]`: where the hub keeps its data. Absent, or without `url`: SQLite in `data_dir`,
//! for one hub. With `url = "postgres://…"`: a PostgreSQL database that several hubs share,
//! and that several schools may share, each in a `schema` of its own.

use std::path::PathBuf;

use serde::Deserialize;

use rollcall_store::postgres::Schema;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database` (`?sslmode=require` to insist on TLS); none:
    /// SQLite in `data_dir`.
    pub url: Option<String>,
    /// A file holding the database user's password (never the URL).
    pub password_file: Option<PathBuf>,
    /// The CA certificate (PEM) that signed the server's; the system's CAs when absent.
    pub ca_file: Option<PathBuf>,
    /// Connections each hub keeps to the database at most.
    pub pool_size: u32,
    /// The PostgreSQL schema that holds this school's tables, made when missing; `public`
    /// when absent. Schools sharing one database each name their own.
    pub schema: Schema,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: None,
            password_file: None,
            ca_file: None,
            pool_size: 8,
            schema: Schema::public(),
        }
    }
}

impl StoreConfig {
    pub fn validate(&self) -> Result<(), String> {
        let Some(url) = &self.url else {
            if self.password_file.is_some() || self.ca_file.is_some() {
                return Err("store.password_file and store.ca_file go with store.url".into());
            }
            if !self.schema.is_public() {
                return Err(
                    "store.schema goes with store.url: on SQLite each school's data \
                            is in a data directory of its own"
                        .into(),
                );
            }
            return Ok(());
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(format!(
                "store.url must start with postgres:// (SQLite needs no url), not {url:?}"
            ));
        }
        let parsed: postgres::Config =
            url.parse().map_err(|e| format!("store.url {url:?}: {e}"))?;
        if parsed.get_password().is_some() {
            return Err(
                "store.url holds a password: put it in a file of its own, named by \
                 store.password_file, and leave it out of the URL"
                    .into(),
            );
        }
        if !(1..=256).contains(&self.pool_size) {
            return Err("store.pool_size must be 1 to 256".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(url: &str) -> StoreConfig {
        StoreConfig {
            url: Some(url.into()),
            ..StoreConfig::default()
        }
    }

    #[test]
    fn a_postgres_url_without_a_password_is_accepted() {
        assert_eq!(StoreConfig::default().validate(), Ok(()));
        assert_eq!(
            url("postgres://rollcall@db.school.example:5432/rollcall?sslmode=require").validate(),
            Ok(())
        );
    }

    #[test]
    fn a_password_in_the_url_other_schemes_and_stray_settings_are_refused() {
        let e = url("postgres://rollcall:hunter2@db/rollcall")
            .validate()
            .unwrap_err();
        assert!(e.contains("password_file"), "{e}");
        assert!(
            url("mysql://db/rollcall")
                .validate()
                .unwrap_err()
                .contains("postgres://")
        );
        let stray = StoreConfig {
            ca_file: Some("/etc/ca.pem".into()),
            ..StoreConfig::default()
        };
        assert!(stray.validate().unwrap_err().contains("store.url"));
        let pool = StoreConfig {
            pool_size: 0,
            ..url("postgres://db/rollcall")
        };
        assert!(pool.validate().unwrap_err().contains("pool_size"));
        let schema_on_sqlite = StoreConfig {
            schema: Schema::try_from("north".to_owned()).unwrap(),
            ..StoreConfig::default()
        };
        assert!(schema_on_sqlite.validate().unwrap_err().contains("schema"));
    }

    #[test]
    fn a_school_schema_is_read_from_the_file_and_a_bad_name_refused() {
        let read = |toml: &str| toml::from_str::<StoreConfig>(toml);
        let north = read("url = \"postgres://db/district\"\nschema = \"north\"").unwrap();
        assert_eq!((north.schema.as_str(), north.validate()), ("north", Ok(())));
        assert!(read("schema = \"North; DROP\"").is_err());
        assert!(read("").unwrap().schema.is_public());
    }
}
