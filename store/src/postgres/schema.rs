//! The PostgreSQL schema one school's tables live in (`[store] schema`). Several schools
//! share one database, each in a schema of its own: a hub's connections see that schema
//! alone (their `search_path` names nothing else), so no query of one school can read or
//! change another's rows, whatever it says; and a school's writers take a lock of their own,
//! so one school's writes never wait for another's. Without a name, the tables are in
//! `public`, as before schools shared databases.

use serde::Deserialize;

/// A schema name the hub accepts: 1 to 63 lower-case ASCII letters, digits and `_`, starting
/// with a letter, and none of PostgreSQL's own (`pg_…`, `information_schema`). Such a name
/// needs no quoting in SQL, which is why it may be written into `search_path` and
/// `CREATE SCHEMA`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Schema(String);

impl Schema {
    /// Where a school's tables are when no schema is named.
    pub fn public() -> Self {
        Self("public".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_public(&self) -> bool {
        self.0 == "public"
    }
}

impl TryFrom<String> for Schema {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        let well_formed = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(format!(
                "store.schema {name:?}: 1 to 63 lower-case letters, digits and _, starting \
                 with a letter"
            ));
        }
        if name.starts_with("pg_") || name == "information_schema" {
            return Err(format!("store.schema {name:?} is PostgreSQL's own"));
        }
        Ok(Self(name))
    }
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lower_case_names_that_are_not_postgres_own_are_schemas() {
        for good in ["north", "school_17", "a", &"x".repeat(63)] {
            assert_eq!(Schema::try_from(good.to_owned()).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "North",
            "17th",
            "_north",
            "north-east",
            "north; DROP TABLE records",
            "nörth",
            &"x".repeat(64),
            "pg_catalog",
            "information_schema",
        ] {
            assert!(Schema::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
        assert!(Schema::public().is_public());
    }
}
