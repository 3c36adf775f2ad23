//! What a roster import reads and writes: students, classes and teachers by the school
//! information system's ids (`external_ref`, migration 17), and the memberships of imported
//! classes. The rules are in `crate::roster_import`.

use std::collections::HashMap;

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{StoreError, id_col};

/// An imported row as the hub holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held<Id> {
    pub id: Id,
    pub name: String,
    /// Classes: the teacher's user id. Teachers: the user name.
    pub detail: Option<String>,
    /// Students: when they left. Teachers: their e-mail address.
    pub extra: Option<String>,
}

/// Students with an `external_ref`, by it (the first, when two share one).
pub fn students(conn: &Connection) -> Result<HashMap<String, Held<StudentId>>, StoreError> {
    let sql = "SELECT id, name, external_ref, left_at FROM students
        WHERE external_ref IS NOT NULL ORDER BY created_at DESC";
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        let left: Option<i64> = r.get("left_at")?;
        Ok((
            r.get::<_, String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("name")?,
                detail: None,
                extra: left.map(|t| t.to_string()),
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Classes with an `external_ref`, by it.
pub fn classes(conn: &Connection) -> Result<HashMap<String, Held<ClassId>>, StoreError> {
    let sql = "SELECT id, name, external_ref, teacher_id FROM classes
        WHERE external_ref IS NOT NULL";
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("name")?,
                detail: r.get("teacher_id")?,
                extra: None,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Teachers with an `external_ref`, by it.
pub fn teachers(conn: &Connection) -> Result<HashMap<String, Held<Uuid>>, StoreError> {
    let sql = "SELECT id, display_name, username, email, external_ref FROM users
        WHERE external_ref IS NOT NULL";
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("display_name")?,
                detail: r.get("username")?,
                extra: r.get("email")?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The (class, student) memberships of imported classes, by their external refs.
pub fn members(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let sql = "SELECT c.external_ref AS class_ref, s.external_ref AS student_ref
        FROM class_members m JOIN classes c ON c.id = m.class_id
        JOIN students s ON s.id = m.student_id
        WHERE c.external_ref IS NOT NULL AND s.external_ref IS NOT NULL";
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get("class_ref")?, r.get("student_ref")?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert_student(
    conn: &Connection,
    source: &str,
    name: &str,
    now: UnixMillis,
) -> Result<StudentId, StoreError> {
    let id = StudentId::random();
    let sql = "INSERT INTO students (id, name, external_ref, created_at) VALUES (?1, ?2, ?3, ?4)";
    conn.execute(sql, params![id.to_string(), name, source, now])?;
    Ok(id)
}

pub fn rename_student(conn: &Connection, id: StudentId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE students SET name = ?2 WHERE id = ?1",
        params![id.to_string(), name],
    )?;
    Ok(())
}

/// Takes a student out of every class (a leaver; `note_leavers` then marks them left).
pub fn leave_all_classes(conn: &Connection, id: StudentId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM class_members WHERE student_id = ?1",
        [id.to_string()],
    )?;
    Ok(())
}

pub fn insert_class(
    conn: &Connection,
    source: &str,
    name: &str,
    teacher: Option<Uuid>,
    now: UnixMillis,
) -> Result<ClassId, StoreError> {
    let id = ClassId::random();
    let sql = "INSERT INTO classes (id, name, teacher_id, created_at, external_ref)
        VALUES (?1, ?2, ?3, ?4, ?5)";
    let teacher = teacher.map(|t| t.to_string());
    conn.execute(sql, params![id.to_string(), name, teacher, now, source])
        .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(id)
}

pub fn update_class(
    conn: &Connection,
    id: ClassId,
    name: &str,
    teacher: Option<Uuid>,
) -> Result<(), StoreError> {
    let sql = "UPDATE classes SET name = ?2, teacher_id = ?3 WHERE id = ?1";
    let teacher = teacher.map(|t| t.to_string());
    conn.execute(sql, params![id.to_string(), name, teacher])
        .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(())
}

/// A teacher account made by an import: no password (no one can sign in as it until an admin
/// sets one).
pub fn insert_teacher(
    conn: &Connection,
    source: &str,
    username: &str,
    name: &str,
    email: Option<&str>,
    now: UnixMillis,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let sql = "INSERT INTO users
        (id, username, display_name, role, password_hash, created_at, email, external_ref)
        VALUES (?1, ?2, ?3, 'teacher', '!no password', ?4, ?5, ?6)";
    conn.execute(
        sql,
        params![id.to_string(), username, name, now, email, source],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "user name"))?;
    Ok(id)
}

pub fn update_teacher(
    conn: &Connection,
    id: Uuid,
    name: &str,
    email: Option<&str>,
) -> Result<(), StoreError> {
    let sql = "UPDATE users SET display_name = ?2, email = ?3 WHERE id = ?1";
    conn.execute(sql, params![id.to_string(), name, email])?;
    Ok(())
}
