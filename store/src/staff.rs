//! Staff (migration 34): the people who work at the school, by their personnel code, and the
//! log of their comings and goings (signed at reception, or a door unit at a gate). Plain
//! reads and writes; what a field may hold and who may sign is `rollcall_school::staff`.

use rollcall_shared::{DeviceId, Direction, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO staff (id, code, name, department, position, email, phone,
    active, external_ref, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const UPDATE: &str = "UPDATE staff SET code = ?2, name = ?3, department = ?4, position = ?5,
    email = ?6, phone = ?7, active = ?8, external_ref = ?9 WHERE id = ?1";
const SELECT: &str = "SELECT id, code, name, department, position, email, phone, active,
    external_ref, created_at FROM staff";
const DELETE: &str = "DELETE FROM staff WHERE id = ?1";
const INSERT_ENTRY: &str = "INSERT INTO staff_log (id, staff_id, at, direction, source,
    device_id, confidence, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT (id) DO NOTHING";
const SELECT_ENTRY: &str = "SELECT l.id, l.staff_id, s.name, s.code, l.at, l.direction,
    l.source, l.device_id, l.confidence, l.recorded_by
    FROM staff_log l JOIN staff s ON s.id = l.staff_id";
/// Each member's newest entry: the one that says where they are.
const LATEST: &str = "l.id = (SELECT x.id FROM staff_log x WHERE x.staff_id = l.staff_id
    ORDER BY x.at DESC, x.id DESC LIMIT 1)";
const PURGE: &str = "DELETE FROM staff_log WHERE at < ?1";

/// A member of staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: Uuid,
    /// The school's personnel code for them, unique in the school.
    pub code: String,
    pub name: String,
    pub department: Option<String>,
    pub position: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// An inactive member (left, on leave) stays with their log but cannot be signed in.
    pub active: bool,
    /// The school information system's id for them (OneRoster's `sourcedId`), when a roster
    /// import made or matched them.
    pub external_ref: Option<String>,
    pub created_at: UnixMillis,
}

/// Where an entry of the log came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Signed in or out by hand at reception.
    Reception,
    /// Recognised by a door unit at a gate.
    Door,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Reception => "reception",
            Source::Door => "door",
        }
    }
}

/// One coming or going.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub id: Uuid,
    pub staff: Uuid,
    pub name: String,
    pub code: String,
    pub at: UnixMillis,
    /// `In` or `Out`, never `Both`.
    pub direction: Direction,
    pub source: Source,
    /// The door unit, for a recognition.
    pub device: Option<DeviceId>,
    /// The recognition's confidence (0–1), for a door's entry.
    pub confidence: Option<f64>,
    /// Who signed them, for reception's.
    pub recorded_by: Option<String>,
}

/// Stores a new member; a personnel code another member has is [`StoreError::Conflict`].
pub fn insert(sql: &dyn Sql, m: &StaffMember) -> Result<(), StoreError> {
    let row = params![
        m.id.to_string(),
        m.code,
        m.name,
        m.department,
        m.position,
        m.email,
        m.phone,
        m.active,
        m.external_ref,
        m.created_at
    ];
    sql.execute(INSERT, row)
        .map_err(|e| StoreError::conflict_on_unique(e, "a member of staff with this code"))?;
    Ok(())
}

/// Stores what may change of a member (everything but their id and when they were added).
pub fn update(sql: &dyn Sql, m: &StaffMember) -> Result<(), StoreError> {
    let row = params![
        m.id.to_string(),
        m.code,
        m.name,
        m.department,
        m.position,
        m.email,
        m.phone,
        m.active,
        m.external_ref
    ];
    let changed = sql
        .execute(UPDATE, row)
        .map_err(|e| StoreError::conflict_on_unique(e, "a member of staff with this code"))?;
    match changed {
        0 => Err(StoreError::NotFound("member of staff")),
        _ => Ok(()),
    }
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<StaffMember, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "member of staff", member)
}

pub fn by_code(sql: &dyn Sql, code: &str) -> Result<Option<StaffMember>, StoreError> {
    let query = format!("{SELECT} WHERE code = ?1");
    sql.query_opt(&query, params![code], member)
}

/// Every member, by name.
pub fn list(sql: &dyn Sql) -> Result<Vec<StaffMember>, StoreError> {
    let query = format!("{SELECT} ORDER BY name, id");
    readable(sql.query_map(&query, &[], member)?, "member of staff")
}

/// Deletes a member and their log.
pub fn delete(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    match sql.execute(DELETE, params![id.to_string()])? {
        0 => Err(StoreError::NotFound("member of staff")),
        _ => Ok(()),
    }
}

/// What is stored of a new entry.
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub staff: Uuid,
    pub at: UnixMillis,
    pub direction: Direction,
    pub source: Source,
    pub device: Option<DeviceId>,
    pub confidence: Option<f64>,
    pub recorded_by: Option<&'a str>,
}

/// Appends an entry to the log; returns its id.
pub fn log(sql: &dyn Sql, e: &NewEntry<'_>) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    log_once(sql, id, e)?;
    Ok(id)
}

/// Appends an entry under `id` (a door's record id) unless the log has it already; whether
/// it was new. A door unit resending a record whose ack was lost logs nothing twice.
pub fn log_once(sql: &dyn Sql, id: Uuid, e: &NewEntry<'_>) -> Result<bool, StoreError> {
    let row = params![
        id.to_string(),
        e.staff.to_string(),
        e.at,
        e.direction.as_str(),
        e.source.as_str(),
        e.device.map(|d| d.to_string()),
        e.confidence,
        e.recorded_by
    ];
    Ok(sql.execute(INSERT_ENTRY, row)? == 1)
}

/// The entries within `[from, to)`, oldest first.
pub fn entries(sql: &dyn Sql, from: UnixMillis, to: UnixMillis) -> Result<Vec<Entry>, StoreError> {
    let query = format!("{SELECT_ENTRY} WHERE l.at >= ?1 AND l.at < ?2 ORDER BY l.at, l.id");
    readable(
        sql.query_map(&query, params![from, to], entry)?,
        "staff log entry",
    )
}

/// Each member's newest entry, whatever its day: where the log last put them.
pub fn latest(sql: &dyn Sql) -> Result<Vec<Entry>, StoreError> {
    let query = format!("{SELECT_ENTRY} WHERE {LATEST} ORDER BY s.name, s.id");
    readable(sql.query_map(&query, &[], entry)?, "staff log entry")
}

/// Deletes the entries older than `before`. Returns how many.
pub fn purge(sql: &dyn Sql, before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before])
}

fn member(r: &Row) -> ReadResult<StaffMember> {
    Ok(StaffMember {
        id: id_col(r, "id")?,
        code: r.get("code")?,
        name: r.get("name")?,
        department: r.get("department")?,
        position: r.get("position")?,
        email: r.get("email")?,
        phone: r.get("phone")?,
        active: r.get("active")?,
        external_ref: r.get("external_ref")?,
        created_at: r.get("created_at")?,
    })
}

fn entry(r: &Row) -> ReadResult<Entry> {
    let direction: String = r.get("direction")?;
    let source: String = r.get("source")?;
    Ok(Entry {
        id: id_col(r, "id")?,
        staff: id_col(r, "staff_id")?,
        name: r.get("name")?,
        code: r.get("code")?,
        at: r.get("at")?,
        direction: match direction.as_str() {
            "out" => Direction::Out,
            _ => Direction::In,
        },
        source: match source.as_str() {
            "door" => Source::Door,
            _ => Source::Reception,
        },
        device: match r.get::<Option<String>>("device_id")? {
            Some(_) => Some(id_col(r, "device_id")?),
            None => None,
        },
        confidence: r.get("confidence")?,
        recorded_by: r.get("recorded_by")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};

    fn someone(code: &str, name: &str) -> StaffMember {
        StaffMember {
            id: Uuid::now_v7(),
            code: code.into(),
            name: name.into(),
            department: Some("Science".into()),
            position: None,
            email: None,
            phone: None,
            active: true,
            external_ref: None,
            created_at: UnixMillis(1),
        }
    }

    fn signed(staff: Uuid, at: i64, direction: Direction) -> NewEntry<'static> {
        NewEntry {
            staff,
            at: UnixMillis(at),
            direction,
            source: Source::Reception,
            device: None,
            confidence: None,
            recorded_by: Some("user:reception"),
        }
    }

    #[test]
    fn staff_are_kept_by_code_and_their_log_says_where_they_last_were() {
        each(|db| {
            let (ann, bob) = (someone("T001", "Ann Able"), someone("T002", "Bob Baker"));
            write(db, |sql| insert(sql, &ann)).unwrap();
            write(db, |sql| insert(sql, &bob)).unwrap();
            let twin = someone("T001", "Another");
            let e = write(db, |sql| insert(sql, &twin)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            let moved = StaffMember {
                code: "T002".into(),
                ..ann.clone()
            };
            let e = write(db, |sql| update(sql, &moved)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            assert_eq!(read(db, |sql| by_code(sql, "T002")).unwrap().id, bob.id);

            write(db, |sql| log(sql, &signed(ann.id, 10, Direction::In))).unwrap();
            write(db, |sql| log(sql, &signed(bob.id, 11, Direction::In))).unwrap();
            write(db, |sql| log(sql, &signed(ann.id, 20, Direction::Out))).unwrap();
            let gate = DeviceId::random();
            let door = NewEntry {
                device: Some(gate),
                confidence: Some(0.9),
                source: Source::Door,
                recorded_by: None,
                ..signed(ann.id, 30, Direction::In)
            };
            write(db, |sql| log(sql, &door)).unwrap();
            let latest = read(db, latest);
            let shown: Vec<_> = latest
                .iter()
                .map(|e| (e.name.as_str(), e.at.0, e.direction, e.source))
                .collect();
            assert_eq!(
                shown,
                [
                    ("Ann Able", 30, Direction::In, Source::Door),
                    ("Bob Baker", 11, Direction::In, Source::Reception)
                ]
            );
            assert_eq!(latest[0].device, Some(gate));
            let day = read(db, |sql| entries(sql, UnixMillis(11), UnixMillis(30)));
            assert_eq!(day.iter().map(|e| e.at.0).collect::<Vec<_>>(), [11, 20]);

            assert_eq!(write(db, |sql| purge(sql, UnixMillis(20))).unwrap(), 2);
            write(db, |sql| delete(sql, ann.id)).unwrap();
            assert_eq!(
                read(db, |sql| entries(sql, UnixMillis(0), UnixMillis(99))).len(),
                0
            );
            assert_eq!(read(db, list).len(), 1);
        });
    }
}
