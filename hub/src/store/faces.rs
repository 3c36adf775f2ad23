//! Enrolment faces as an admin sees them: each embedding of a student with its quality figures
//! and thumbnail. Inserting goes through `school::insert_enrolment`; this module lists, reads
//! thumbnails and deletes.

use rollcall_shared::{StudentId, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{StoreError, id_col};

const LIST: &str = "SELECT id, model, quality, figures, thumbnail IS NOT NULL AS has_thumbnail,
    created_at,
    source, record_id FROM embeddings WHERE student_id = ?1 ORDER BY created_at, id";
const THUMBNAIL: &str = "SELECT thumbnail FROM embeddings WHERE student_id = ?1 AND id = ?2";
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
}

/// Every enrolment embedding of `student`, oldest first.
pub fn list(conn: &Connection, student: StudentId) -> Result<Vec<FaceRow>, StoreError> {
    let mut stmt = conn.prepare_cached(LIST)?;
    let rows = stmt.query_map([student.to_string()], |r| {
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
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The thumbnail of one of `student`'s faces.
pub fn thumbnail(conn: &Connection, student: StudentId, face: Uuid) -> Result<Vec<u8>, StoreError> {
    let row: Option<Option<Vec<u8>>> = conn
        .query_row(
            THUMBNAIL,
            params![student.to_string(), face.to_string()],
            |r| r.get("thumbnail"),
        )
        .optional()?;
    row.flatten().ok_or(StoreError::NotFound("face thumbnail"))
}

/// Deletes one of `student`'s faces.
pub fn delete(conn: &Connection, student: StudentId, face: Uuid) -> Result<(), StoreError> {
    match conn.execute(DELETE, params![student.to_string(), face.to_string()])? {
        0 => Err(StoreError::NotFound("face")),
        _ => Ok(()),
    }
}
