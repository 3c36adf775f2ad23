//! Who was seen where and when: the reads the register, the on-site list and a student's days
//! are made of. Only accepted records count; which statuses those are is the caller's rule
//! (`review::ACCEPTED`), bound as parameters.
//!
//! A record from a door unit facing out (`Direction::Out`) says the student left: it is a
//! movement, never a sighting in a room, so it marks nobody present.

use rollcall_shared::{Decision, Direction, RecordId, StudentId, UnixMillis};
use rusqlite::params;
use serde::Serialize;

use super::records::Status;
use super::{Row, Sql, StoreError, id_col, readable};

// ?4 and ?5: the statuses that count. A record facing out is not a sighting.
const IN_ROOM: &str = "SELECT final_student, captured_at, id FROM records
    WHERE room = ?1 AND captured_at >= ?2 AND captured_at < ?3
    AND status IN (?4, ?5) AND final_student IS NOT NULL
    AND coalesce(direction, 'both') != 'out'
    ORDER BY captured_at";
// ?4 a Confident decision, ?5 the approved status (spelled by `Decision` and `Status`).
const BY_DOOR: &str = "SELECT DISTINCT final_student FROM records
    WHERE room = ?1 AND captured_at >= ?2 AND captured_at < ?3
    AND decision = ?4 AND status = ?5 AND reviewed_by IS NULL
    AND final_student IS NOT NULL AND source = 'door'
    AND coalesce(direction, 'both') != 'out'";
// ?3 and ?4: the statuses that count.
const MOVEMENTS: &str = "SELECT final_student, captured_at, room, direction FROM records
    WHERE captured_at >= ?1 AND captured_at < ?2
    AND status IN (?3, ?4) AND final_student IS NOT NULL
    ORDER BY captured_at, id";
const MOVEMENTS_OF: &str = "SELECT final_student, captured_at, room, direction FROM records
    WHERE final_student = ?1 AND captured_at >= ?2 AND captured_at < ?3
    AND status IN (?4, ?5)
    ORDER BY captured_at, id";

/// One accepted record of a student, as where they were and which way they went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub student: StudentId,
    pub at: UnixMillis,
    pub room: String,
    /// The door unit's direction; `None` for a face in a class photo (the student was in the
    /// room).
    pub direction: Option<Direction>,
}

impl Movement {
    /// Whether it says the student left the site.
    pub fn leaves(&self) -> bool {
        self.direction == Some(Direction::Out)
    }
}

fn movement(r: &Row) -> rusqlite::Result<Movement> {
    let direction = match r.get::<Option<String>>("direction")? {
        Some(_) => Some(id_col(r, "direction")?),
        None => None,
    };
    Ok(Movement {
        student: id_col(r, "final_student")?,
        at: r.get("captured_at")?,
        room: r.get("room")?,
        direction,
    })
}

/// Accepted sightings `(student, captured_at, record)` in `room` within `[from, to)`, oldest
/// first: a session's evidence.
pub fn in_room(
    sql: &dyn Sql,
    accepted: [Status; 2],
    room: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<(StudentId, UnixMillis, RecordId)>, StoreError> {
    let [a, b] = accepted.map(Status::as_str);
    let rows = sql.query_map(IN_ROOM, params![room, from, to, a, b], |r| {
        let student = id_col(r, "final_student")?;
        Ok((student, r.get("captured_at")?, id_col(r, "id")?))
    })?;
    readable(rows, "accepted record")
}

/// The students a door unit named Confident in `room` within `[from, to)` that nobody had to
/// review: the roll-call ticks the door saved.
pub fn named_by_door(
    sql: &dyn Sql,
    room: &str,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<StudentId>, StoreError> {
    let (confident, approved) = (Decision::Confident.as_str(), Status::Approved.as_str());
    let p = params![room, from, to, confident, approved];
    let rows = sql.query_map(BY_DOOR, p, |r| id_col(r, "final_student"))?;
    readable(rows, "record")
}

/// Every accepted record within `[from, to)`, anywhere, oldest first.
pub fn movements(
    sql: &dyn Sql,
    accepted: [Status; 2],
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<Movement>, StoreError> {
    let [a, b] = accepted.map(Status::as_str);
    let rows = sql.query_map(MOVEMENTS, params![from, to, a, b], movement)?;
    readable(rows, "accepted record")
}

/// `student`'s accepted records within `[from, to)`, oldest first.
pub fn movements_of(
    sql: &dyn Sql,
    accepted: [Status; 2],
    student: StudentId,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<Movement>, StoreError> {
    let [a, b] = accepted.map(Status::as_str);
    let p = params![student.to_string(), from, to, a, b];
    let rows = sql.query_map(MOVEMENTS_OF, p, movement)?;
    readable(rows, "accepted record")
}
