//! Attendance records received from devices, and their review: plain reads and writes.
//! Inserting is idempotent on the record id, so a device that resends after a lost ack changes
//! nothing. What a record starts as, who may change it how, and which statuses count, is
//! decided by the callers (`ingest::arrival`, `review`, `retention`), never here; the SQL takes
//! such rules as parameters.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{
    AttendanceRecord, Candidate, Decision, DeviceId, Direction, Embedding, LivenessCheck, RecordId,
    StudentId, UnixMillis,
};
use serde::{Deserialize, Serialize};

use super::columns::{id_col, open_embedding, readable, seal, seal_embedding, unseal};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

mod scan;
pub use scan::{RecordFilter, RecordKey, by_status, each_key};

/// The earliest `captured_at`/`received_at` the table holds: 2000-01-01T00:00Z, Unix ms (a
/// CHECK of migration 4, the first day the API accepts).
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// The latest: 2199-12-31T23:59:59.999Z, the end of the last day the API accepts.
pub const LATEST_MS: i64 = 7_258_118_399_999;

// A resent record is ignored; a row breaking a CHECK is an error, not silently dropped.
const INSERT: &str = "INSERT INTO records (id, device_id, room, captured_at,
    received_at, model, gallery_version, embedding, candidates, decision, thumbnail, quality,
    status, final_student, clock_synchronised, direction, live, live_score)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
    ON CONFLICT (id) DO NOTHING";
// A class photo's face: no device, no gallery version (0), the user who took it.
const INSERT_PHOTO_FACE: &str = "INSERT INTO records (id, source, taken_by, room, captured_at,
    received_at, model, gallery_version, embedding, candidates, decision, thumbnail, quality,
    status, final_student)
    VALUES (?1, 'class_photo', ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const SELECT: &str = "SELECT id, device_id, room, captured_at, received_at, model, candidates,
    decision, thumbnail IS NOT NULL AS has_thumbnail, quality, status, final_student,
    reviewed_by, reviewed_at, review_note, clock_synchronised, source, taken_by, direction, live,
    live_score FROM records";
// Door records judged not live since ?1, per unit.
const NOT_LIVE_BY_DEVICE: &str = "SELECT device_id, COUNT(*) AS n FROM records
    WHERE live = 0 AND captured_at >= ?1 AND device_id IS NOT NULL GROUP BY device_id";
const REVIEW: &str = "UPDATE records SET status = ?2, final_student = ?3, reviewed_by = ?4,
    reviewed_at = ?5, review_note = ?6 WHERE id = ?1";
// The same, only while the record waits for a review: a rule of the hub never overwrites a
// teacher who decided meanwhile.
const SETTLE_PENDING: &str = "UPDATE records SET status = ?2, final_student = ?3,
    reviewed_by = ?4, reviewed_at = ?5, review_note = ?6 WHERE id = ?1 AND status = 'pending'";
// A review taken back: the record waits again (?2, pending), as the door sent it.
const REOPEN: &str = "UPDATE records SET status = ?2, final_student = NULL, reviewed_by = NULL,
    reviewed_at = NULL, review_note = NULL WHERE id = ?1 AND status != ?2";
const DELETE: &str = "DELETE FROM records WHERE id = ?1";
const IN_ROOM: &str = "WHERE status = ?1 AND room = ?2 AND captured_at >= ?3 AND captured_at < ?4
    ORDER BY captured_at DESC, id DESC";
const EXISTS: &str = "SELECT 1 FROM records WHERE id = ?1";
const THUMBNAIL: &str = "SELECT thumbnail FROM records WHERE id = ?1";
const EMBEDDING: &str = "SELECT embedding FROM records WHERE id = ?1";
const PURGE_RECORDS: &str = "DELETE FROM records WHERE captured_at < ?1";
// Biometric data of a decided record (a Confident one is decided when it arrives): its crop
// and its embedding (emptied: ?3, no bytes). The record itself (who, where, when, the
// decision) stays as evidence until `records_before`. ?2 is the pending status: every other
// one is decided.
const PURGE_FACES: &str = "UPDATE records SET thumbnail = NULL, embedding = ?3
    WHERE status != ?2 AND coalesce(reviewed_at, received_at) < ?1
    AND (thumbnail IS NOT NULL OR length(embedding) > 0)";
// A face nobody decided about in time (?5, pending) is set aside as the caller says (?4), its
// crop and embedding gone (?6, no bytes).
const EXPIRE_UNDECIDED: &str = "UPDATE records SET thumbnail = NULL, embedding = ?6,
    status = ?4, reviewed_by = ?3, reviewed_at = ?2
    WHERE status = ?5 AND captured_at < ?1";
// Erasure: the faces of one student, confirmed or waiting (?2, pending) with them as a
// candidate.
const ERASE_FACES: &str = "DELETE FROM records WHERE final_student = ?1
    OR (status = ?2 AND instr(candidates, ?1) > 0)";

/// Where a record stands in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a teacher (Uncertain and Unknown records).
    Pending,
    /// Counts for the student named by `final_student` (Confident records start here).
    Approved,
    /// Counts for nobody.
    Rejected,
    /// A teacher named another student.
    Reassigned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Reassigned => "reassigned",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Approved,
            Status::Rejected,
            Status::Reassigned,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A door unit's burst (`device_id` names the unit).
    Door,
    /// A face in a teacher's class photo (`taken_by` names the user; `crate::class_photo`).
    ClassPhoto,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Door => "door",
            Source::ClassPhoto => "class_photo",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [Source::Door, Source::ClassPhoto]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A record as the review queue shows it (no embedding, thumbnail served apart).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordView {
    pub id: RecordId,
    pub source: Source,
    /// The door unit, for a door's record.
    pub device_id: Option<DeviceId>,
    /// The user who took the class photo, for a class photo's record.
    pub taken_by: Option<String>,
    pub room: String,
    /// Which way the door unit faces, for a door's record.
    pub direction: Option<Direction>,
    pub captured_at: UnixMillis,
    pub received_at: UnixMillis,
    pub model: String,
    pub candidates: Vec<Candidate>,
    pub decision: Decision,
    pub has_thumbnail: bool,
    pub quality: serde_json::Value,
    pub status: Status,
    pub final_student: Option<StudentId>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<UnixMillis>,
    /// What the reviewer wrote when deciding, if anything.
    pub review_note: Option<String>,
    /// Whether the door unit's clock was synchronised when it captured this (`None`: it could
    /// not tell): when `false`, `captured_at` may be wrong.
    pub clock_synchronised: Option<bool>,
    /// The door unit's liveness check of the face (`None`: not checked). `live: false` is a
    /// possible photo or screen.
    pub liveness: Option<LivenessCheck>,
}

fn from_row(r: &Row) -> ReadResult<RecordView> {
    let candidates: String = r.get("candidates")?;
    let quality: String = r.get("quality")?;
    let status: String = r.get("status")?;
    let final_student: Option<String> = r.get("final_student")?;
    let source: String = r.get("source")?;
    // A class photo's record has no device; a door's whose id does not read is left out.
    let device = match r.get::<Option<String>>("device_id")? {
        Some(_) => Some(id_col(r, "device_id")?),
        None => None,
    };
    Ok(RecordView {
        id: id_col(r, "id")?,
        source: Source::parse(&source).unwrap_or(Source::Door),
        device_id: device,
        taken_by: r.get("taken_by")?,
        room: r.get("room")?,
        direction: r
            .get::<Option<String>>("direction")?
            .and_then(|d| d.parse().ok()),
        captured_at: r.get("captured_at")?,
        received_at: r.get("received_at")?,
        model: r.get("model")?,
        candidates: serde_json::from_str(&candidates).unwrap_or_default(),
        decision: id_col(r, "decision")?,
        has_thumbnail: r.get("has_thumbnail")?,
        quality: serde_json::from_str(&quality).unwrap_or_default(),
        status: Status::parse(&status).unwrap_or(Status::Pending),
        final_student: final_student.and_then(|s| s.parse().ok()),
        reviewed_by: r.get("reviewed_by")?,
        reviewed_at: r.get("reviewed_at")?,
        review_note: r.get("review_note")?,
        clock_synchronised: r.get("clock_synchronised")?,
        liveness: liveness(r.get("live")?, r.get("live_score")?),
    })
}

/// The check a row holds: both columns, or none.
fn liveness(live: Option<bool>, score: Option<f64>) -> Option<LivenessCheck> {
    Some(LivenessCheck {
        live: live?,
        real_score: score? as f32,
    })
}

/// How many door records each unit sent since `since` whose face was judged not live.
pub fn not_live_by_device(
    sql: &dyn Sql,
    since: UnixMillis,
) -> Result<std::collections::HashMap<DeviceId, u64>, StoreError> {
    let rows = sql.rows(NOT_LIVE_BY_DEVICE, params![since])?;
    let mut counts = std::collections::HashMap::new();
    for r in &rows {
        let device: DeviceId = id_col(r, "device_id")?;
        counts.insert(device, r.get::<i64>("n")?.max(0) as u64);
    }
    Ok(counts)
}

/// The candidates of `record` as stored (JSON).
pub(crate) fn candidates_json(record: &AttendanceRecord) -> String {
    serde_json::to_string(&record.candidates).unwrap_or_else(|_| "[]".into())
}

/// Whether a record with `id` is stored.
pub fn exists(sql: &dyn Sql, id: RecordId) -> Result<bool, StoreError> {
    Ok(!sql.rows(EXISTS, params![id.to_string()])?.is_empty())
}

/// Where a record stands in review when it is stored (the rule is `ingest::arrival`'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub status: Status,
    pub final_student: Option<StudentId>,
}

/// Whether a record is stored with its face (crop and embedding) or without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    Kept,
    /// No crop, and an empty embedding (as an expired face leaves a record).
    Forgotten,
}

/// Stores `record` with its face, standing as `standing`, unless a record with its id exists.
/// Returns whether a row was added.
pub fn insert(
    sql: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
    standing: Standing,
) -> Result<bool, StoreError> {
    insert_with(sql, record, received_at, standing, Face::Kept)
}

/// [`insert`], its face kept or not as `face` says.
pub fn insert_with(
    sql: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
    standing: Standing,
    face: Face,
) -> Result<bool, StoreError> {
    let kept = face == Face::Kept;
    let q = &record.quality;
    let quality = serde_json::json!({
        "face_px": q.face_px, "sharpness": q.sharpness, "detector_score": q.detector_score,
        "yaw_deg": q.yaw_deg, "frames": q.frames,
    });
    let added = sql.execute(
        INSERT,
        params![
            record.id.to_string(),
            record.device.to_string(),
            record.room,
            record.captured_at,
            received_at,
            record.model.as_str(),
            record.gallery_version.0,
            match kept {
                true => seal_embedding(sql, &record.embedding.0),
                false => Vec::new(),
            },
            candidates_json(record),
            record.decision.as_str(),
            record
                .thumbnail
                .as_ref()
                .filter(|_| kept)
                .map(|t| seal(sql, Purpose::Crop, &t.0)),
            quality.to_string(),
            standing.status.as_str(),
            standing.final_student.map(|s| s.to_string()),
            record.clock.as_option(),
            record.direction.unwrap_or_default().as_str(),
            record.liveness.map(|l| l.live),
            record.liveness.map(|l| f64::from(l.real_score)),
        ],
    )?;
    Ok(added == 1)
}

/// A face found in a teacher's class photo, matched against the lesson's class.
#[derive(Clone, Debug)]
pub struct PhotoFace<'a> {
    pub id: RecordId,
    /// The user who took the photo.
    pub taken_by: &'a str,
    /// The lesson's room.
    pub room: &'a str,
    /// When the photo was taken.
    pub taken_at: UnixMillis,
    pub model: &'a str,
    pub embedding: &'a Embedding,
    pub candidates: &'a [Candidate],
    pub decision: Decision,
    /// The face's crop, kept for a face a teacher must look at.
    pub thumbnail: Option<&'a [u8]>,
    /// Its quality figures, as JSON.
    pub quality: &'a serde_json::Value,
}

/// Stores a class photo's face, standing as `standing`, received at `received_at`.
pub fn insert_photo_face(
    sql: &dyn Sql,
    face: &PhotoFace<'_>,
    received_at: UnixMillis,
    standing: Standing,
) -> Result<(), StoreError> {
    let candidates = serde_json::to_string(face.candidates).unwrap_or_else(|_| "[]".into());
    sql.execute(
        INSERT_PHOTO_FACE,
        params![
            face.id.to_string(),
            face.taken_by,
            face.room,
            face.taken_at,
            received_at,
            face.model,
            seal_embedding(sql, &face.embedding.0),
            candidates,
            face.decision.as_str(),
            face.thumbnail.map(|t| seal(sql, Purpose::Crop, t)),
            face.quality.to_string(),
            standing.status.as_str(),
            standing.final_student.map(|s| s.to_string()),
        ],
    )?;
    Ok(())
}

pub fn get(sql: &dyn Sql, id: RecordId) -> Result<RecordView, StoreError> {
    let one = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&one, params![id.to_string()], "record", from_row)
}

/// Deletes one record with its crop and embedding. Returns whether there was one.
pub fn delete(sql: &dyn Sql, id: RecordId) -> Result<bool, StoreError> {
    Ok(sql.execute(DELETE, params![id.to_string()])? == 1)
}

/// The records with `status` captured in `room` within `[from, to)`, newest first.
pub fn in_room(
    sql: &dyn Sql,
    status: Status,
    room: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<RecordView>, StoreError> {
    let query = format!("{SELECT} {IN_ROOM}");
    let rows = sql.query_map(&query, params![status.as_str(), room, from, to], from_row)?;
    readable(rows, "record")
}

/// The outcome of a review.
#[derive(Debug)]
pub struct Review<'a> {
    pub status: Status,
    pub final_student: Option<StudentId>,
    pub by: &'a str,
    pub at: UnixMillis,
    /// The reviewer's note (already checked: 1 to 500 characters).
    pub note: Option<&'a str>,
}

pub fn review(sql: &dyn Sql, id: RecordId, r: &Review<'_>) -> Result<(), StoreError> {
    match write_review(sql, REVIEW, id, r)? {
        0 => Err(StoreError::NotFound("record")),
        _ => Ok(()),
    }
}

/// [`review`], only if the record still waits for a review. Returns whether it did.
pub fn settle_pending(sql: &dyn Sql, id: RecordId, r: &Review<'_>) -> Result<bool, StoreError> {
    Ok(write_review(sql, SETTLE_PENDING, id, r)? == 1)
}

/// Puts a reviewed record back to waiting for a review (a review undone). Returns whether it
/// did (`false`: it was waiting already).
pub fn reopen(sql: &dyn Sql, id: RecordId) -> Result<bool, StoreError> {
    let changed = sql.execute(REOPEN, params![id.to_string(), Status::Pending.as_str()])?;
    Ok(changed == 1)
}

/// Runs `query` (`REVIEW` or `SETTLE_PENDING`) with `r`: the rows it changed.
fn write_review(
    sql: &dyn Sql,
    query: &str,
    id: RecordId,
    r: &Review<'_>,
) -> Result<usize, StoreError> {
    sql.execute(
        query,
        params![
            id.to_string(),
            r.status.as_str(),
            r.final_student.map(|s| s.to_string()),
            r.by,
            r.at,
            r.note
        ],
    )
}

pub fn thumbnail(sql: &dyn Sql, id: RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    let stored: Option<Vec<u8>> =
        sql.query_one(THUMBNAIL, params![id.to_string()], "record", |r| {
            r.get("thumbnail")
        })?;
    stored.map(|t| unseal(sql, Purpose::Crop, &t)).transpose()
}

/// The embedding a record carries; not found once retention has deleted it.
pub fn embedding(sql: &dyn Sql, id: RecordId) -> Result<Embedding, StoreError> {
    let blob: Vec<u8> = sql.query_one(EMBEDDING, params![id.to_string()], "record", |r| {
        r.get("embedding")
    })?;
    if blob.is_empty() {
        return Err(StoreError::NotFound(
            "the record's face (deleted by retention)",
        ));
    }
    open_embedding(sql, &blob, &format!("record {id}"))
}

/// Deletes the crop and embedding of every record decided before `reviewed_before`.
pub fn purge_faces(sql: &dyn Sql, reviewed_before: UnixMillis) -> Result<usize, StoreError> {
    let pending = Status::Pending.as_str();
    sql.execute(
        PURGE_FACES,
        params![reviewed_before, pending, Vec::<u8>::new()],
    )
}

/// Sets every record still pending that was captured before `captured_before` to `status`,
/// deleting its crop and embedding, as reviewed `by` at `now`.
pub fn expire_undecided(
    sql: &dyn Sql,
    captured_before: UnixMillis,
    status: Status,
    now: UnixMillis,
    by: &str,
) -> Result<usize, StoreError> {
    let p = params![
        captured_before,
        now,
        by,
        status.as_str(),
        Status::Pending.as_str(),
        Vec::<u8>::new()
    ];
    sql.execute(EXPIRE_UNDECIDED, p)
}

/// Deletes the records that are `student`'s face: confirmed as them, or waiting for review
/// with them as a candidate.
pub fn erase_faces_of(sql: &dyn Sql, student: StudentId) -> Result<usize, StoreError> {
    let pending = Status::Pending.as_str();
    sql.execute(ERASE_FACES, params![student.to_string(), pending])
}

/// Deletes the records captured before `records_before`. Returns how many.
pub fn purge(sql: &dyn Sql, records_before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE_RECORDS, params![records_before])
}

#[cfg(test)]
mod tests;
