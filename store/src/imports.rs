//! What a roster import reads and writes: students, classes and teachers by the school
//! information system's ids (`external_ref`, migration 17), and the memberships of imported
//! classes. The rules are in `crate::roster_import`.

use std::collections::HashMap;

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{Sql, params};

/// An imported row as the hub holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held<Id> {
    pub id: Id,
    pub name: String,
    /// Classes: the teacher's user id. Teachers: their e-mail address.
    pub detail: Option<String>,
    /// Classes: their code.
    pub code: Option<String>,
    /// Students: left. Teachers: the account is disabled.
    pub gone: bool,
}

/// Students with an `external_ref`, by it (the first, when two share one).
pub fn students(sql: &dyn Sql) -> Result<HashMap<String, Held<StudentId>>, StoreError> {
    let query = "SELECT id, name, external_ref, left_at FROM students
        WHERE external_ref IS NOT NULL ORDER BY created_at DESC";
    let rows = sql.query_map(query, &[], |r| {
        let left: Option<i64> = r.get("left_at")?;
        Ok((
            r.get::<String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("name")?,
                detail: None,
                code: None,
                gone: left.is_some(),
            },
        ))
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Classes with an `external_ref`, by it.
pub fn classes(sql: &dyn Sql) -> Result<HashMap<String, Held<ClassId>>, StoreError> {
    let query = "SELECT id, name, external_ref, teacher_id, code FROM classes
        WHERE external_ref IS NOT NULL";
    let rows = sql.query_map(query, &[], |r| {
        Ok((
            r.get::<String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("name")?,
                detail: r.get("teacher_id")?,
                code: r.get("code")?,
                gone: false,
            },
        ))
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Teachers with an `external_ref`, by it.
pub fn teachers(sql: &dyn Sql) -> Result<HashMap<String, Held<Uuid>>, StoreError> {
    let query = "SELECT id, display_name, email, disabled, external_ref FROM users
        WHERE external_ref IS NOT NULL";
    let rows = sql.query_map(query, &[], |r| {
        Ok((
            r.get::<String>("external_ref")?,
            Held {
                id: id_col(r, "id")?,
                name: r.get("display_name")?,
                detail: r.get("email")?,
                code: None,
                gone: r.get::<i64>("disabled")? != 0,
            },
        ))
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// The (class, student) memberships of imported classes, by their external refs.
pub fn members(sql: &dyn Sql) -> Result<Vec<(String, String)>, StoreError> {
    let query = "SELECT c.external_ref AS class_ref, s.external_ref AS student_ref
        FROM class_members m JOIN classes c ON c.id = m.class_id
        JOIN students s ON s.id = m.student_id
        WHERE c.external_ref IS NOT NULL AND s.external_ref IS NOT NULL";
    let rows = sql.query_map(query, &[], |r| {
        Ok((r.get("class_ref")?, r.get("student_ref")?))
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// How many classes each imported student is in (imported classes or not), by external ref.
pub fn class_counts(sql: &dyn Sql) -> Result<HashMap<String, usize>, StoreError> {
    let query = "SELECT s.external_ref AS student_ref, COUNT(m.class_id) AS classes
        FROM students s LEFT JOIN class_members m ON m.student_id = s.id
        WHERE s.external_ref IS NOT NULL GROUP BY s.external_ref";
    let rows = sql.query_map(query, &[], |r| {
        Ok((r.get("student_ref")?, r.get::<i64>("classes")?))
    })?;
    let rows: Vec<(String, i64)> = rows.into_iter().collect::<Result<_, _>>()?;
    Ok((rows.into_iter())
        .map(|(s, n)| (s, usize::try_from(n).unwrap_or(0)))
        .collect())
}

/// The school's students who have not left, imported or not.
pub fn students_in_school(sql: &dyn Sql) -> Result<usize, StoreError> {
    let n: i64 = sql.query_one(
        "SELECT COUNT(*) AS n FROM students WHERE left_at IS NULL",
        &[],
        "the number of students",
        |r| r.get("n"),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

pub fn insert_student(
    sql: &dyn Sql,
    source: &str,
    name: &str,
    now: UnixMillis,
) -> Result<StudentId, StoreError> {
    let id = StudentId::random();
    let insert =
        "INSERT INTO students (id, name, external_ref, created_at) VALUES (?1, ?2, ?3, ?4)";
    sql.execute(insert, params![id.to_string(), name, source, now])?;
    Ok(id)
}

pub fn rename_student(sql: &dyn Sql, id: StudentId, name: &str) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE students SET name = ?2 WHERE id = ?1",
        params![id.to_string(), name],
    )?;
    Ok(())
}

/// Takes a student out of every class (a leaver; `note_leavers` then marks them left).
pub fn leave_all_classes(sql: &dyn Sql, id: StudentId) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM class_members WHERE student_id = ?1",
        params![id.to_string()],
    )?;
    Ok(())
}

/// An imported class; the caller has checked that no other class has its `code`.
pub fn insert_class(
    sql: &dyn Sql,
    source: &str,
    name: &str,
    teacher: Option<Uuid>,
    code: Option<&str>,
    now: UnixMillis,
) -> Result<ClassId, StoreError> {
    let id = ClassId::random();
    let insert = "INSERT INTO classes (id, name, teacher_id, created_at, external_ref, code)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    let teacher = teacher.map(|t| t.to_string());
    sql.execute(
        insert,
        params![id.to_string(), name, teacher, now, source, code],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(id)
}

/// An imported class's name and teacher, and its code unless `code` is `None`.
pub fn update_class(
    sql: &dyn Sql,
    id: ClassId,
    name: &str,
    teacher: Option<Uuid>,
    code: Option<&str>,
) -> Result<(), StoreError> {
    let update =
        "UPDATE classes SET name = ?2, teacher_id = ?3, code = COALESCE(?4, code) WHERE id = ?1";
    let teacher = teacher.map(|t| t.to_string());
    sql.execute(update, params![id.to_string(), name, teacher, code])
        .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(())
}

/// A teacher account made by an import: no password (no one can sign in as it until an admin
/// sets one).
pub fn insert_teacher(
    sql: &dyn Sql,
    source: &str,
    username: &str,
    name: &str,
    email: Option<&str>,
    now: UnixMillis,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let insert = "INSERT INTO users
        (id, username, display_name, role, password_hash, created_at, email, external_ref)
        VALUES (?1, ?2, ?3, 'teacher', '!no password', ?4, ?5, ?6)";
    sql.execute(
        insert,
        params![id.to_string(), username, name, now, email, source],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "user name"))?;
    Ok(id)
}

pub fn update_teacher(
    sql: &dyn Sql,
    id: Uuid,
    name: &str,
    email: Option<&str>,
) -> Result<(), StoreError> {
    let update = "UPDATE users SET display_name = ?2, email = ?3 WHERE id = ?1";
    sql.execute(update, params![id.to_string(), name, email])?;
    Ok(())
}

/// A teacher the school's system deleted: no one signs in as them any more.
pub fn disable_teacher(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE users SET disabled = 1 WHERE id = ?1",
        params![id.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};

    #[test]
    fn imported_rows_are_held_by_their_external_refs() {
        each(|db| {
            let now = UnixMillis(1);
            let (ada, bea, class, teacher) = write(db, |sql| {
                let ada = insert_student(sql, "s1", "Ada", now)?;
                let bea = insert_student(sql, "s2", "Bea", now)?;
                let teacher = insert_teacher(sql, "t1", "cy", "Cy", Some("cy@x.example"), now)?;
                let class = insert_class(sql, "c1", "7B", Some(teacher), None, now)?;
                sql.execute(
                    "INSERT INTO class_members (class_id, student_id) VALUES (?1, ?2), (?1, ?3)",
                    params![class.to_string(), ada.to_string(), bea.to_string()],
                )?;
                Ok((ada, bea, class, teacher))
            })
            .unwrap();
            let e = write(db, |sql| insert_class(sql, "c2", "7B", None, None, now)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            let e = write(db, |sql| insert_teacher(sql, "t2", "cy", "Cy", None, now)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");

            let students = read(db, students);
            assert_eq!(
                (students["s1"].id, students["s1"].name.as_str()),
                (ada, "Ada")
            );
            assert_eq!((students["s2"].id, students["s2"].gone), (bea, false));
            let held = Held {
                id: class,
                name: "7B".into(),
                detail: Some(teacher.to_string()),
                code: None,
                gone: false,
            };
            assert_eq!(read(db, classes), HashMap::from([("c1".into(), held)]));
            let held = Held {
                id: teacher,
                name: "Cy".into(),
                detail: Some("cy@x.example".into()),
                code: None,
                gone: false,
            };
            assert_eq!(read(db, teachers), HashMap::from([("t1".into(), held)]));
            let mut members = read(db, members);
            members.sort();
            assert_eq!(
                members,
                [("c1".into(), "s1".into()), ("c1".into(), "s2".into())]
            );
        });
    }

    #[test]
    fn imported_rows_are_renamed_and_leavers_leave_their_classes() {
        each(|db| {
            let now = UnixMillis(1);
            let (ada, class, teacher) = write(db, |sql| {
                let ada = insert_student(sql, "s1", "Ada", now)?;
                let teacher = insert_teacher(sql, "t1", "cy", "Cy", None, now)?;
                let class = insert_class(sql, "c1", "7B", None, Some("7B/Ma"), now)?;
                insert_class(sql, "c2", "8C", None, None, now)?;
                sql.execute(
                    "INSERT INTO class_members (class_id, student_id) VALUES (?1, ?2)",
                    params![class.to_string(), ada.to_string()],
                )?;
                Ok((ada, class, teacher))
            })
            .unwrap();
            write(db, |sql| {
                rename_student(sql, ada, "Ada L")?;
                update_class(sql, class, "7C", Some(teacher), None)?;
                update_teacher(sql, teacher, "Cy D", Some("cy@x.example"))?;
                leave_all_classes(sql, ada)
            })
            .unwrap();
            let e = write(db, |sql| update_class(sql, class, "8C", None, None)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            assert_eq!(read(db, students)["s1"].name, "Ada L");
            let class = &read(db, classes)["c1"];
            assert_eq!(
                (class.name.as_str(), class.detail.clone()),
                ("7C", Some(teacher.to_string()))
            );
            assert_eq!(
                class.code.as_deref(),
                Some("7B/Ma"),
                "a file without codes keeps them"
            );
            let teacher = &read(db, teachers)["t1"];
            assert_eq!(teacher.name, "Cy D");
            assert_eq!(teacher.detail.as_deref(), Some("cy@x.example"));
            assert!(read(db, members).is_empty());
            assert_eq!(read(db, class_counts)["s1"], 0);
            assert_eq!(read(db, students_in_school), 1);
            write(db, |sql| disable_teacher(sql, teacher.id)).unwrap();
            assert!(read(db, teachers)["t1"].gone);
        });
    }
}
