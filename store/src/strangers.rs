//! Faces nobody knew, as the strangers' cards need them (the pending Unknown records with a
//! crop, embedding included), and the strangers who were dismissed (the centre of their
//! faces, who dismissed them and when). Which faces are one person is not stored: it is
//! worked out on every read (`strangers::rules`), so the records stay the one source of truth.

use rollcall_shared::{Embedding, RecordId, StudentId, UnixMillis};
use uuid::Uuid;

use super::columns::{embedding_col, id_col, open_embedding, readable, seal_embedding};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

// Walks the partial index of migration 7, newest first.
const PENDING_UNKNOWN: &str = "SELECT id, room, captured_at, model, embedding, quality
    FROM records WHERE status = 'pending' AND decision = 'unknown' AND thumbnail IS NOT NULL
    ORDER BY captured_at DESC, id DESC LIMIT ?1";
const INSERT_DISMISSED: &str = "INSERT INTO dismissed_strangers
    (id, model, centroid, faces, dismissed_by, dismissed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const DISMISSED: &str = "SELECT id, centroid FROM dismissed_strangers WHERE model = ?1";
const PURGE: &str = "DELETE FROM dismissed_strangers WHERE dismissed_at < ?1";
const TEMPLATES: &str = "SELECT id, student_id, embedding FROM embeddings WHERE model = ?1";

/// One face nobody knew.
#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    pub id: RecordId,
    pub room: String,
    pub captured_at: UnixMillis,
    pub model: String,
    pub embedding: Embedding,
    /// The record's quality figures (JSON), to pick the best crops.
    pub quality: serde_json::Value,
}

fn face(sql: &dyn Sql, r: &Row) -> ReadResult<Face> {
    let id: RecordId = id_col(r, "id")?;
    let embedding = embedding_col(sql, r, "embedding", &format!("record {id}"))?;
    let quality: String = r.get("quality")?;
    Ok(Face {
        id,
        room: r.get("room")?,
        captured_at: r.get("captured_at")?,
        model: r.get("model")?,
        embedding,
        quality: serde_json::from_str(&quality).unwrap_or_default(),
    })
}

/// The newest `limit` pending Unknown records that have a crop, newest first.
pub fn pending_unknown(sql: &dyn Sql, limit: usize) -> Result<Vec<Face>, StoreError> {
    let rows = sql.query_map(PENDING_UNKNOWN, params![limit as i64], |r| face(sql, r))?;
    readable(rows, "unknown face")
}

/// A stranger being dismissed.
#[derive(Clone, Copy, Debug)]
pub struct Dismissal<'a> {
    pub model: &'a str,
    pub centroid: &'a Embedding,
    /// How many faces were dismissed.
    pub faces: usize,
    pub by: &'a str,
    pub at: UnixMillis,
}

/// Remembers a dismissed stranger; returns the dismissal's id.
pub fn dismiss(sql: &dyn Sql, d: &Dismissal<'_>) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sql.execute(
        INSERT_DISMISSED,
        params![
            id.to_string(),
            d.model,
            seal_embedding(sql, d.centroid),
            d.faces as i64,
            d.by,
            d.at
        ],
    )?;
    Ok(id)
}

/// The centres of the strangers dismissed under `model`.
pub fn dismissed(sql: &dyn Sql, model: &str) -> Result<Vec<Embedding>, StoreError> {
    let rows = sql.query_map(DISMISSED, params![model], |r| {
        Ok((r.get::<String>("id")?, r.get::<Vec<u8>>("centroid")?))
    })?;
    let mut out = Vec::new();
    for (id, blob) in readable(rows, "dismissed stranger")? {
        out.push(open_embedding(
            sql,
            &blob,
            &format!("dismissed stranger {id}"),
        )?);
    }
    Ok(out)
}

/// Forgets the strangers dismissed before `before` (the crops' retention). Returns how many.
pub fn purge(sql: &dyn Sql, before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before])
}

/// Every enrolled template of `model` with its student: whom a stranger looks most like.
pub fn templates(sql: &dyn Sql, model: &str) -> Result<Vec<(StudentId, Embedding)>, StoreError> {
    let rows = sql.query_map(TEMPLATES, params![model], |r| {
        let id: String = r.get("id")?;
        Ok((id, id_col(r, "student_id")?, r.get::<Vec<u8>>("embedding")?))
    })?;
    let mut out = Vec::new();
    for (id, student, blob) in readable(rows, "template")? {
        out.push((
            student,
            open_embedding(sql, &blob, &format!("enrolment {id}"))?,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::each;
    use rollcall_shared::{Decision, EMBEDDING_DIM, Embedding, Thumbnail};

    const T: i64 = 1_790_000_000_000;

    #[test]
    fn only_pending_unknown_faces_with_a_crop_newest_first() {
        each(|db| {
            let ids = db
                .write_blocking(|sql| {
                    let mut ids = Vec::new();
                    for (at, decision, crop) in [
                        (1, Decision::Unknown, true),
                        (3, Decision::Unknown, true),
                        (2, Decision::Uncertain, true),
                        (4, Decision::Unknown, false),
                    ] {
                        let named = match decision {
                            Decision::Unknown => vec![],
                            _ => vec![StudentId::random()],
                        };
                        let mut r = crate::fixtures::sample_record(decision, T + at, &named);
                        r.embedding = Embedding([at as f32; EMBEDDING_DIM]);
                        r.thumbnail = crop.then(|| Thumbnail(vec![0xFF, 0xD8]));
                        crate::fixtures::register_device_in(sql, r.device);
                        let standing = crate::fixtures::standing(&r);
                        crate::records::insert(sql, &r, UnixMillis(T), standing)?;
                        ids.push(r.id);
                    }
                    Ok::<_, StoreError>(ids)
                })
                .unwrap();
            db.read_blocking(|sql| {
                let faces = pending_unknown(sql, 10)?;
                assert_eq!(
                    faces.iter().map(|f| f.id).collect::<Vec<_>>(),
                    [ids[1], ids[0]]
                );
                assert_eq!(faces[0].embedding, Embedding([3.0; EMBEDDING_DIM]));
                assert_eq!(faces[0].room, "Lab 3");
                assert_eq!(pending_unknown(sql, 1)?.len(), 1);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    #[test]
    fn dismissed_strangers_are_kept_by_model_until_purged() {
        each(|db| {
            let centre = Embedding([0.5; EMBEDDING_DIM]);
            let d = Dismissal {
                model: "m",
                centroid: &centre,
                faces: 2,
                by: "user:tess",
                at: UnixMillis(T),
            };
            db.write_blocking(|sql| {
                dismiss(sql, &d)?;
                assert_eq!(dismissed(sql, "m")?, [centre]);
                assert!(dismissed(sql, "other")?.is_empty());
                assert_eq!(purge(sql, UnixMillis(T))?, 0);
                assert_eq!(purge(sql, UnixMillis(T + 1))?, 1);
                assert!(dismissed(sql, "m")?.is_empty());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    #[test]
    fn templates_are_the_enrolled_faces_of_a_model_with_their_students() {
        each(|db| {
            let student = StudentId::random();
            let face = Embedding([0.25; EMBEDDING_DIM]);
            db.write_blocking(|sql| {
                sql.execute(
                    "INSERT INTO students (id, name, created_at) VALUES (?1, 'Ada', 0)",
                    params![student.to_string()],
                )?;
                for (id, model) in [("e1", "m"), ("e2", "other")] {
                    sql.execute(
                        "INSERT INTO embeddings (id, student_id, model, embedding, created_at)
                         VALUES (?1, ?2, ?3, ?4, 0)",
                        params![id, student.to_string(), model, seal_embedding(sql, &face)],
                    )?;
                }
                assert_eq!(templates(sql, "m")?, [(student, face)]);
                assert!(templates(sql, "none")?.is_empty());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
