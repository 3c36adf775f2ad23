//! The district's view across the schools sharing one database: each schema that holds a
//! school's tables, and that school's size and last day. Read by `rollcall-hub schools` on a
//! connection of any schema, with names qualified by the school's schema (the one place the
//! hub names a schema in a statement: each name is checked as a [`Schema`] first).

use super::{Postgres, Schema};
use crate::store::error::StoreError;

/// One school of the district, as its tables say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolSummary {
    pub schema: Schema,
    /// Its tables' schema version.
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

impl Postgres {
    /// Every school in the database, by schema name, with its records received since `since`
    /// (ms since the epoch); and the schemas whose names the hub would not use, left out.
    pub fn schools(&self, since: i64) -> Result<(Vec<SchoolSummary>, Vec<String>), StoreError> {
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
            let Ok(schema) = Schema::try_from(name.clone()) else {
                odd.push(name);
                continue;
            };
            let row = client.query_one(
                &format!(
                    "SELECT (SELECT version FROM {s}.rollcall_schema),
                            (SELECT count(*) FROM {s}.students WHERE left_at IS NULL),
                            (SELECT count(*) FROM {s}.devices WHERE enabled = 1),
                            (SELECT count(*) FROM {s}.devices WHERE enabled = 1 AND online = 1),
                            (SELECT count(*) FROM {s}.records WHERE received_at >= $1),
                            (SELECT count(*) FROM {s}.records WHERE status = 'pending')",
                    s = schema
                ),
                &[&since],
            )?;
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
