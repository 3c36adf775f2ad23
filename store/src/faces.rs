//! Enrolment faces as an admin sees them: each embedding of a student with its quality figures
//! and thumbnail. Inserting goes through `school::insert_enrolment`; this module lists, reads
//! thumbnails, switches one off or on, and deletes.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, unseal};
use super::error::StoreError;
use super::sql::{Sql, params};

const LIST: &str = "SELECT id, model, quality, figures, thumbnail IS NOT NULL AS has_thumbnail,
    created_at, source, record_id, active FROM embeddings WHERE student_id = ?1
    ORDER BY created_at, id";
const THUMBNAIL: &str = "SELECT thumbnail FROM embeddings WHERE student_id = ?1 AND id = ?2";
const SET_ACTIVE: &str = "UPDATE embeddings SET active = ?3 WHERE student_id = ?1 AND id = ?2";
const DELETE: &str = "DELETE FROM embeddings WHERE student_id = ?1 AND id = ?2";

/// One enrolment embedding, without the vector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaceRow {
    pub id: Uuid,
    pub model: String,
    pub quality: Option<f64>,
    pub figures: Option<serde_json::Value>,
    pub has_thumbnail: bool,
    pub created_at: UnixMillis,
    /// `photo`, `api`, or learned: `review` (a teacher confirmed it) or `door` (Confident).
    pub source: String,
    /// The record a learned face came from.
    pub record_id: Option<String>,
    /// Whether door units and class photos match against it (a bad photo is switched off,
    /// kept for when it is wanted again).
    pub active: bool,
}

/// Every enrolment embedding of `student`, oldest first.
pub fn list(sql: &dyn Sql, student: StudentId) -> Result<Vec<FaceRow>, StoreError> {
    let rows = sql.query_map(LIST, params![student.to_string()], |r| {
        let figures: Option<String> = r.get("figures")?;
        Ok(FaceRow {
            id: id_col(r, "id")?,
            model: r.get("model")?,
            quality: r.get("quality")?,
            figures: figures.and_then(|f| serde_json::from_str(&f).ok()),
            has_thumbnail: r.get("has_thumbnail")?,
            created_at: r.get("created_at")?,
            source: r.get("source")?,
            record_id: r.get("record_id")?,
            active: r.get::<i64>("active")? != 0,
        })
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// The thumbnail of one of `student`'s faces.
pub fn thumbnail(sql: &dyn Sql, student: StudentId, face: Uuid) -> Result<Vec<u8>, StoreError> {
    let p = params![student.to_string(), face.to_string()];
    let row: Option<Option<Vec<u8>>> = sql.query_opt(THUMBNAIL, p, |r| r.get("thumbnail"))?;
    let stored = row
        .flatten()
        .ok_or(StoreError::NotFound("face thumbnail"))?;
    unseal(sql, Purpose::Crop, &stored)
}

/// Switches one of `student`'s faces on or off.
pub fn set_active(
    sql: &dyn Sql,
    student: StudentId,
    face: Uuid,
    active: bool,
) -> Result<(), StoreError> {
    let p = params![student.to_string(), face.to_string(), i64::from(active)];
    match sql.execute(SET_ACTIVE, p)? {
        0 => Err(StoreError::NotFound("face")),
        _ => Ok(()),
    }
}

/// Deletes one of `student`'s faces.
pub fn delete(sql: &dyn Sql, student: StudentId, face: Uuid) -> Result<(), StoreError> {
    match sql.execute(DELETE, params![student.to_string(), face.to_string()])? {
        0 => Err(StoreError::NotFound("face")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_students_faces_are_listed_oldest_first_switched_off_and_deleted_one_by_one() {
        crate::engines::each(|db| {
            let (student, other) = (StudentId::random(), StudentId::random());
            let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
            db.write_blocking(|sql| {
                for s in [student, other] {
                    sql.execute(
                        "INSERT INTO students (id, name, created_at) VALUES (?1, 'Ada', 0)",
                        params![s.to_string()],
                    )?;
                }
                let insert = "INSERT INTO embeddings (id, student_id, model, embedding, quality,
                    thumbnail, created_at, figures, source, record_id)
                    VALUES (?1, ?2, 'm', ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
                sql.execute(
                    insert,
                    params![
                        second.to_string(),
                        student.to_string(),
                        vec![0_u8; 4],
                        None::<f64>,
                        None::<Vec<u8>>,
                        2,
                        None::<String>,
                        "door",
                        "r1"
                    ],
                )?;
                sql.execute(
                    insert,
                    params![
                        first.to_string(),
                        student.to_string(),
                        vec![0_u8; 4],
                        0.75,
                        vec![0xFF_u8, 0xD8],
                        1,
                        r#"{"sharpness":90}"#,
                        "photo",
                        None::<String>
                    ],
                )?;
                let listed = list(sql, student)?;
                assert_eq!(
                    listed.iter().map(|f| f.id).collect::<Vec<_>>(),
                    [first, second]
                );
                assert_eq!(
                    (listed[0].quality, listed[0].has_thumbnail),
                    (Some(0.75), true)
                );
                assert_eq!(
                    listed[0].figures,
                    Some(serde_json::json!({"sharpness": 90}))
                );
                assert_eq!(
                    (listed[1].source.as_str(), listed[1].record_id.as_deref()),
                    ("door", Some("r1"))
                );
                assert_eq!(listed[1].created_at, UnixMillis(2));
                assert_eq!(thumbnail(sql, student, first)?, [0xFF, 0xD8]);
                assert!(matches!(
                    thumbnail(sql, student, second),
                    Err(StoreError::NotFound(_))
                ));
                assert!(
                    listed.iter().all(|f| f.active),
                    "a face is in use when added"
                );
                set_active(sql, student, first, false)?;
                assert!(!list(sql, student)?[0].active);
                assert!(matches!(
                    set_active(sql, other, first, true),
                    Err(StoreError::NotFound(_))
                ));
                assert!(matches!(
                    delete(sql, other, first),
                    Err(StoreError::NotFound(_))
                ));
                delete(sql, student, first)?;
                assert_eq!(list(sql, student)?.len(), 1);
                assert!(list(sql, other)?.is_empty());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
