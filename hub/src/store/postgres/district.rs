//! The district's view across the schools sharing one database: each schema that holds a
//! school's tables, and that school's size and last day. Read by `rollcall-hub schools` on a
//! connection of any schema, with names qualified by the school's schema (the one place the
//! hub names a schema in a statement: each name is checked as a [`Schema`] first).

use super::{Postgres, Schema};
use crate::store::error::{StoreError, chain};

/// One school of the district, as its tables say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolSummary {
    pub schema: Schema,
    /// Its tables' schema version (0 when its version table is empty).
    pub version: i64,
    /// Students on the roll (leavers not counted).
    pub students: i64,
    /// Door units enabled, and of those online.
    pub devices: i64,
    pub online: i64,
    /// Records received since the time given.
    pub records: i64,
    /// Records waiting for a teacher's review.
    pub pending: i64,
}

/// A schema holding a `rollcall_schema` table that is not listed as a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub name: String,
    pub why: String,
}

impl Postgres {
    /// Every school in the database, by schema name, with its records received since `since`
    /// (ms since the epoch); and the schemas left out, each with why: a name the hub would
    /// not use, or tables that cannot be read as a school's. One such schema does not keep
    /// the others from the list.
    pub fn schools(&self, since: i64) -> Result<(Vec<SchoolSummary>, Vec<SetAside>), StoreError> {
        let mut conn = self.pool.get()?;
        let client = &mut conn.client;
        let names = client.query(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid
             WHERE c.relname = 'rollcall_schema' AND c.relkind = 'r' ORDER BY n.nspname",
            &[],
        )?;
        let (mut schools, mut odd) = (Vec::new(), Vec::new());
        for row in names {
            let name: String = row.get(0);
            let schema = match Schema::try_from(name.clone()) {
                Ok(schema) => schema,
                Err(why) => {
                    odd.push(SetAside { name, why });
                    continue;
                }
            };
            let read = client.query_one(
                &format!(
                    "SELECT (SELECT coalesce(max(version), 0) FROM {s}.rollcall_schema),
                            (SELECT count(*) FROM {s}.students WHERE left_at IS NULL),
                            (SELECT count(*) FROM {s}.devices WHERE enabled = 1),
                            (SELECT count(*) FROM {s}.devices WHERE enabled = 1 AND online = 1),
                            (SELECT count(*) FROM {s}.records WHERE received_at >= $1),
                            (SELECT count(*) FROM {s}.records WHERE status = 'pending')",
                    s = schema
                ),
                &[&since],
            );
            let row = match read {
                Ok(row) => row,
                Err(e) => {
                    let why = format!("not readable as a school's tables: {}", chain(&e));
                    odd.push(SetAside { name, why });
                    continue;
                }
            };
            schools.push(SchoolSummary {
                schema,
                version: row.get(0),
                students: row.get(1),
                devices: row.get(2),
                online: row.get(3),
                records: row.get(4),
                pending: row.get(5),
            });
        }
        Ok((schools, odd))
    }
}
