//! Fixtures for the store's tests and the hub's (compiled for tests, and for the hub's tests
//! through the `fixtures` feature): an in-memory SQLite database migrated to the current
//! schema, a registered door unit, and a well-formed record to store as ingest would.

use rusqlite::Connection;

use super::devices;
use super::migrations;
use super::records::{Standing, Status};
use super::sql::Sql;

/// Registers door unit `id` in "Lab 3", for unit tests that store its records.
pub fn register_device(conn: &Connection, id: rollcall_shared::DeviceId) {
    let device = devices::Device::new(id, &id.to_string(), "Lab 3", rollcall_shared::UnixMillis(0));
    devices::insert(conn, &device, "hash").unwrap();
}

/// [`register_device`] on either engine: door unit `id` in "Lab 3", named by its id.
pub fn register_device_in(sql: &dyn Sql, id: rollcall_shared::DeviceId) {
    sql.execute(
        "INSERT INTO devices (id, name, room, credential_hash, created_at)
         VALUES (?1, ?1, 'Lab 3', 'hash', 0)",
        rusqlite::params![id.to_string()],
    )
    .unwrap();
}

/// A well-formed record from a random door unit in "Lab 3", naming `students` at distance 0.3,
/// for unit tests of what the hub does with records.
pub fn sample_record(
    decision: rollcall_shared::Decision,
    captured_at: i64,
    students: &[rollcall_shared::StudentId],
) -> rollcall_shared::AttendanceRecord {
    use rollcall_shared::*;
    AttendanceRecord {
        id: RecordId::now_v7(),
        device: DeviceId::random(),
        room: "Lab 3".into(),
        captured_at: UnixMillis(captured_at),
        model: ModelId::new("m").unwrap(),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.5; EMBEDDING_DIM]),
        candidates: students
            .iter()
            .map(|&student| Candidate {
                student,
                distance: 0.3,
            })
            .collect(),
        decision,
        thumbnail: None,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.9,
            yaw_deg: 0.0,
            frames: 2,
        },
        clock: rollcall_shared::ClockSync::Unknown,
        direction: Some(rollcall_shared::Direction::Both),
        liveness: None,
        staff: None,
    }
}

/// An in-memory SQLite database, foreign keys on, migrated to the current schema.
pub fn memory() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    migrations::migrate(&mut conn).unwrap();
    conn
}

/// Where ingest stands `record` when it stores it: Confident records count for their best
/// candidate, the others wait in review. The rule is the hub's (`ingest::arrival`); the
/// store's tests only need records stored as it stores them.
pub fn standing(record: &rollcall_shared::AttendanceRecord) -> Standing {
    use rollcall_shared::Decision;
    match record.decision {
        Decision::Confident => Standing {
            status: Status::Approved,
            final_student: record.candidates.first().map(|c| c.student),
        },
        Decision::Uncertain | Decision::Unknown => Standing {
            status: Status::Pending,
            final_student: None,
        },
    }
}

/// The review outcomes that count a record for its final student (the hub's
/// `review::ACCEPTED`), for the queries that take them.
pub const ACCEPTED: [Status; 2] = [Status::Approved, Status::Reassigned];
