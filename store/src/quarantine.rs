//! Records the hub does not believe: acknowledged to their door unit, kept here with the reason
//! for an admin to see, never a mark. Keyed by record id, so a door unit that resends changes
//! nothing. Embeddings are not kept; thumbnails are, under the records' retention.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{AttendanceRecord, Candidate, DeviceId, RecordId, StudentId, UnixMillis};
use serde::Serialize;

use super::columns::{id_col, readable, seal, unseal};
use super::error::StoreError;
use super::records::candidates_json;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO quarantine (record_id, device_id, room, captured_at,
    received_at, decision, candidates, thumbnail, reason, detail)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (record_id) DO NOTHING";
const SELECT: &str = "SELECT record_id, device_id, room, captured_at, received_at, decision,
    candidates, thumbnail IS NOT NULL AS has_thumbnail, reason, detail FROM quarantine";
const NEWEST: &str = "ORDER BY received_at DESC, record_id DESC LIMIT ?1";
const COUNT: &str = "SELECT count(*) AS held FROM quarantine";
const DELETE: &str = "DELETE FROM quarantine WHERE record_id = ?1";
const THUMBNAIL: &str = "SELECT thumbnail FROM quarantine WHERE record_id = ?1";
const PURGE: &str = "DELETE FROM quarantine WHERE received_at < ?1";
const ERASE: &str = "DELETE FROM quarantine WHERE instr(candidates, ?1) > 0";

/// Why a record is held: a stable code and a sentence for people.
#[derive(Clone, Copy, Debug)]
pub struct Reason<'a> {
    pub code: &'a str,
    pub detail: &'a str,
}

/// A held record as an admin sees it: what the door unit claimed, and why it is held.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quarantined {
    pub record_id: RecordId,
    pub device_id: DeviceId,
    /// The room the door unit claimed.
    pub room: String,
    /// The door unit's clock when it captured the face (may be absurd: that can be the reason).
    pub captured_at: UnixMillis,
    pub received_at: UnixMillis,
    pub decision: String,
    pub candidates: Vec<Candidate>,
    pub has_thumbnail: bool,
    pub reason: String,
    pub detail: String,
}

fn from_row(r: &Row) -> ReadResult<Quarantined> {
    let candidates: String = r.get("candidates")?;
    Ok(Quarantined {
        record_id: id_col(r, "record_id")?,
        device_id: id_col(r, "device_id")?,
        room: r.get("room")?,
        captured_at: r.get("captured_at")?,
        received_at: r.get("received_at")?,
        decision: r.get("decision")?,
        candidates: serde_json::from_str(&candidates).unwrap_or_default(),
        has_thumbnail: r.get("has_thumbnail")?,
        reason: r.get("reason")?,
        detail: r.get("detail")?,
    })
}

/// Holds `record` unless it is held already. Returns whether a row was added.
pub fn insert(
    sql: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
    reason: Reason<'_>,
) -> Result<bool, StoreError> {
    let added = sql.execute(
        INSERT,
        params![
            record.id.to_string(),
            record.device.to_string(),
            record.room,
            record.captured_at,
            received_at,
            record.decision.as_str(),
            candidates_json(record),
            record
                .thumbnail
                .as_ref()
                .map(|t| seal(sql, Purpose::Crop, &t.0)),
            reason.code,
            reason.detail,
        ],
    )?;
    Ok(added == 1)
}

/// The newest held records, at most `limit`.
pub fn newest(sql: &dyn Sql, limit: u32) -> Result<Vec<Quarantined>, StoreError> {
    let query = format!("{SELECT} {NEWEST}");
    let rows = sql.query_map(&query, params![limit], from_row)?;
    readable(rows, "quarantined record")
}

pub fn get(sql: &dyn Sql, id: RecordId) -> Result<Quarantined, StoreError> {
    let one = format!("{SELECT} WHERE record_id = ?1");
    sql.query_one(
        &one,
        params![id.to_string()],
        "quarantined record",
        from_row,
    )
}

/// How many records are held.
pub fn count(sql: &dyn Sql) -> Result<u64, StoreError> {
    sql.query_one(COUNT, &[], "count", |r| r.get("held"))
}

/// Lets go of a held record (an admin has seen it).
pub fn remove(sql: &dyn Sql, id: RecordId) -> Result<(), StoreError> {
    match sql.execute(DELETE, params![id.to_string()])? {
        0 => Err(StoreError::NotFound("quarantined record")),
        _ => Ok(()),
    }
}

pub fn thumbnail(sql: &dyn Sql, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    let stored: Option<Vec<u8>> = sql.query_one(
        THUMBNAIL,
        params![id.to_string()],
        "quarantined record",
        |r| r.get("thumbnail"),
    )?;
    stored.map(|t| unseal(sql, Purpose::Crop, &t)).transpose()
}

/// Drops every held record naming `student` as a candidate (erasure). Returns how many.
pub fn erase_faces_of(sql: &dyn Sql, student: StudentId) -> Result<usize, StoreError> {
    sql.execute(ERASE, params![student.to_string()])
}

/// Drops what arrived before `received_before` (the records' retention). Returns how many.
pub fn purge(sql: &dyn Sql, received_before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![received_before])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_shared::*;

    fn record(captured_at: i64) -> AttendanceRecord {
        let mut r = crate::fixtures::sample_record(
            Decision::Uncertain,
            captured_at,
            &[StudentId::random()],
        );
        r.thumbnail = Some(Thumbnail(vec![0xFF, 0xD8, 1]));
        r
    }

    const WHY: Reason<'static> = Reason {
        code: "too_old",
        detail: "captured 9 days before the hub received it",
    };

    #[test]
    fn a_held_record_is_kept_once_listed_newest_first_and_can_be_let_go() {
        crate::engines::each(|db| {
            let (first, absurd) = (record(1_000), record(8_210_266_833_600_000));
            db.write_blocking(|sql| {
                assert!(insert(sql, &first, UnixMillis(10), WHY)?);
                assert!(insert(sql, &absurd, UnixMillis(20), WHY)?);
                assert!(!insert(sql, &absurd, UnixMillis(30), WHY)?);
                let held = newest(sql, 10)?;
                let ids: Vec<_> = held.iter().map(|q| q.record_id).collect();
                assert_eq!(ids, [absurd.id, first.id]);
                assert_eq!(newest(sql, 1)?.len(), 1);
                assert_eq!(held[0].captured_at, UnixMillis(8_210_266_833_600_000));
                assert_eq!(
                    (held[0].reason.as_str(), held[0].received_at),
                    ("too_old", UnixMillis(20))
                );
                assert_eq!(held[0].candidates[0].student, absurd.candidates[0].student);
                assert!(held[0].has_thumbnail);
                assert_eq!(get(sql, first.id)?, held[1]);
                assert_eq!(thumbnail(sql, first.id)?.unwrap(), [0xFF, 0xD8, 1]);
                assert_eq!(count(sql)?, 2);
                remove(sql, first.id)?;
                assert!(matches!(
                    remove(sql, first.id),
                    Err(StoreError::NotFound(_))
                ));
                assert!(matches!(get(sql, first.id), Err(StoreError::NotFound(_))));
                assert!(matches!(
                    thumbnail(sql, first.id),
                    Err(StoreError::NotFound(_))
                ));
                assert_eq!(purge(sql, UnixMillis(21))?, 1);
                assert_eq!(count(sql)?, 0);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    #[test]
    fn erasure_drops_the_held_records_naming_a_student() {
        crate::engines::each(|db| {
            let (named, other) = (record(1_000), record(2_000));
            db.write_blocking(|sql| {
                insert(sql, &named, UnixMillis(10), WHY)?;
                insert(sql, &other, UnixMillis(10), WHY)?;
                assert_eq!(erase_faces_of(sql, named.candidates[0].student)?, 1);
                let left: Vec<_> = newest(sql, 10)?.iter().map(|q| q.record_id).collect();
                assert_eq!(left, [other.id]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
