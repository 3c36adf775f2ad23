//! The district's view across the schools sharing one database: each schema that holds a
//! school's tables, and that school's size and last day. Read by `rollcall-hub schools` on a
//! connection of any schema, with names qualified by the school's schema (the one place the
//! hub names a schema in a statement: each name is checked as a [`Schema`] first).

use super::{Postgres, Schema};
use crate::error::{StoreError, chain};

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

/// A school a district admin added while the hubs ran (`POST /district/schools`), as the
/// district's table keeps it. Every hub of the district serves it as if `[[schools]]` listed
/// it: each reads the table when it starts and looks again while it runs. Read back as the
/// database holds it; whoever serves it checks each field first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddedSchool {
    pub site: String,
    pub schema: String,
    pub timezone: String,
    pub hosts: Vec<String>,
    /// When, in ms since the epoch, and by whom (`site/username` of a district admin).
    pub added_at: i64,
    pub added_by: String,
}

/// The schema of the district's own table, beside the schools' schemas (none of which it
/// looks like: it has no `rollcall_schema`); no school may have it.
pub const DISTRICT_SCHEMA: &str = "rollcall_district";

/// The district's table of added schools, made by the first school added.
const TABLE: &str = "rollcall_district.schools";

/// Held while the table is made and while a school is added, so that two district admins
/// adding schools at once on two hubs are checked one after the other ("district").
const ADDING: i64 = 0x6469_7374_7269_6374;

impl Postgres {
    /// The schools district admins added, oldest first; none before the first.
    pub fn added_schools(&self) -> Result<Vec<AddedSchool>, StoreError> {
        let mut conn = self.pool.get()?;
        read_added(&mut conn.client)
    }

    /// Records `school` in the district's table when `fits` accepts it beside the schools
    /// already there ([`StoreError::Conflict`] with its reason when not).
    pub fn add_school(
        &self,
        school: &AddedSchool,
        fits: impl FnOnce(&[AddedSchool]) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.client.transaction()?;
        tx.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({ADDING});
             CREATE SCHEMA IF NOT EXISTS {DISTRICT_SCHEMA};
             CREATE TABLE IF NOT EXISTS {TABLE} (
                 site text PRIMARY KEY,
                 schema_name text NOT NULL UNIQUE,
                 timezone text NOT NULL,
                 hosts text[] NOT NULL,
                 added_at bigint NOT NULL,
                 added_by text NOT NULL
             )"
        ))?;
        let present = read_added(&mut tx)?;
        fits(&present).map_err(StoreError::Conflict)?;
        tx.execute(
            &format!(
                "INSERT INTO {TABLE} (site, schema_name, timezone, hosts, added_at, added_by)
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            &[
                &school.site,
                &school.schema,
                &school.timezone,
                &school.hosts,
                &school.added_at,
                &school.added_by,
            ],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, "a school of that site or schema"))?;
        tx.commit()?;
        Ok(())
    }
}

/// The district's table's rows through `client` (a connection or a transaction).
fn read_added(client: &mut impl postgres::GenericClient) -> Result<Vec<AddedSchool>, StoreError> {
    let made: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&TABLE])?
        .get(0);
    if !made {
        return Ok(Vec::new());
    }
    let rows = client.query(
        &format!(
            "SELECT site, schema_name, timezone, hosts, added_at, added_by FROM {TABLE}
             ORDER BY added_at, site"
        ),
        &[],
    )?;
    let school = |row: &postgres::Row| -> Result<AddedSchool, postgres::Error> {
        Ok(AddedSchool {
            site: row.try_get(0)?,
            schema: row.try_get(1)?,
            timezone: row.try_get(2)?,
            hosts: row.try_get(3)?,
            added_at: row.try_get(4)?,
            added_by: row.try_get(5)?,
        })
    };
    Ok(rows.iter().map(school).collect::<Result<_, _>>()?)
}
