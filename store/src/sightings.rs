//! Who was seen where and when: the reads the register, the on-site list and a student's days
//! are made of. Only accepted records count; which statuses those are is the caller's rule
//! (`review::ACCEPTED`), bound as parameters.
//!
//! A record from a door unit facing out (`Direction::Out`) says the student left: it is a
//! movement, never a sighting in a room, so it marks nobody present.

use rollcall_shared::{ClassId, Decision, Direction, RecordId, StudentId, UnixMillis};
use serde::Serialize;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::records::Status;
use super::sql::{ReadResult, Row, Sql, params};

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
// A class's members' records in a session's window (a short range of the status index). No
// index by student: every record inserted would pay for it, and ingest is the hot path.
const MOVEMENTS_OF_CLASS: &str = "SELECT r.final_student AS final_student,
    r.captured_at AS captured_at, r.room AS room, r.direction AS direction
    FROM records r JOIN class_members m ON m.student_id = r.final_student
    WHERE m.class_id = ?1
    AND r.captured_at >= ?2 AND r.captured_at < ?3
    AND r.status IN (?4, ?5)
    ORDER BY r.captured_at, r.id";
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

fn movement(r: &Row) -> ReadResult<Movement> {
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

/// The accepted records of `class`'s members within `[from, to)`, oldest first: what a
/// session's roster needs to know who left early, read by student, not the whole site's.
pub fn movements_of_class(
    sql: &dyn Sql,
    accepted: [Status; 2],
    class: ClassId,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<Movement>, StoreError> {
    let [a, b] = accepted.map(Status::as_str);
    let p = params![class.to_string(), from, to, a, b];
    let rows = sql.query_map(MOVEMENTS_OF_CLASS, p, movement)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::school::{self, Class, Student};
    use crate::{consent, records};

    #[test]
    fn a_class_s_movements_are_its_members_accepted_records_anywhere() {
        each(|db| {
            let (member, other) = (StudentId::random(), StudentId::random());
            let class = ClassId::random();
            let device = rollcall_shared::DeviceId::random();
            write(db, |sql| {
                crate::fixtures::register_device_in(sql, device);
                let c = Class {
                    id: class,
                    name: "7B".into(),
                    teacher_id: None,
                    created_at: UnixMillis(0),
                    code: None,
                };
                school::insert_class(sql, &c)?;
                for id in [member, other] {
                    let s = Student {
                        id,
                        name: "A".into(),
                        external_ref: None,
                        created_at: UnixMillis(0),
                        consent: consent::State::Given,
                        profile: Default::default(),
                    };
                    school::insert_student(sql, &s)?;
                }
                school::add_member(sql, class, member, None)?;
                for (student, direction) in [(member, Direction::Out), (other, Direction::In)] {
                    let mut r = crate::fixtures::sample_record(
                        Decision::Confident,
                        records::EARLIEST_MS + 5,
                        &[student],
                    );
                    (r.device, r.direction) = (device, Some(direction));
                    let standing = crate::fixtures::standing(&r);
                    records::insert(sql, &r, UnixMillis(r.captured_at.0), standing)?;
                }
                Ok(())
            })
            .unwrap();
            let window = (
                UnixMillis(records::EARLIEST_MS),
                UnixMillis(records::EARLIEST_MS + 9),
            );
            let moved = read(db, |sql| {
                movements_of_class(sql, crate::fixtures::ACCEPTED, class, window.0, window.1)
            });
            assert_eq!(moved.len(), 1, "{moved:?}");
            assert_eq!(
                (moved[0].student, moved[0].direction),
                (member, Some(Direction::Out))
            );
            assert!(moved[0].leaves());
        });
    }
}
