//! What the hub's health and metrics ask of the database: whether it answers at all, and
//! what they count (the review queue, door units online and enabled, and those whose gallery
//! is behind).

use super::error::StoreError;
use super::sql::Sql;

const COUNTS: &str = "SELECT
    (SELECT COUNT(*) FROM records WHERE status = 'pending'),
    (SELECT COUNT(*) FROM devices WHERE enabled = 1 AND online = 1),
    (SELECT COUNT(*) FROM devices WHERE enabled = 1),
    (SELECT COUNT(*) FROM devices d JOIN device_galleries g ON g.device_id = d.id
        WHERE d.enabled = 1 AND d.online = 1
        AND COALESCE(d.gallery_version, 0) < g.version)";

/// Whether the database answers a query.
pub fn answers(sql: &dyn Sql) -> bool {
    sql.query_one("SELECT 1 AS ok", &[], "a row", |r| r.get::<i64>("ok"))
        .is_ok()
}

/// The counts, each as of one read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records waiting for a teacher.
    pub review_queue: i64,
    pub devices_online: i64,
    pub devices_enabled: i64,
    /// Door units online whose gallery is older than the hub's.
    pub galleries_behind: i64,
}

pub fn counts(sql: &dyn Sql) -> Result<Counts, StoreError> {
    sql.query_one(COUNTS, &[], "health counts", |r| {
        Ok(Counts {
            review_queue: r.get(0)?,
            devices_online: r.get(1)?,
            devices_enabled: r.get(2)?,
            galleries_behind: r.get(3)?,
        })
    })
}
