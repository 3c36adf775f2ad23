//! Enrolment embeddings across a change of face model: those of one model read, and each
//! replaced by the new model's, relabelled in place. Which change may be made, and how an
//! embedding becomes the new model's, is the school's rule (`rollcall_school::enrol::upgrade`).

use rollcall_shared::Embedding;

use crate::columns::{open_embedding, seal_embedding};
use crate::error::StoreError;
use crate::sql::{Sql, params};

const OF_MODEL: &str = "SELECT id, embedding FROM embeddings WHERE model = ?1";
const RELABEL: &str = "UPDATE embeddings SET model = ?2, embedding = ?3 WHERE id = ?1";

/// Every enrolment embedding of `model`, by the embedding's id; one that does not open to one
/// descriptor is an error naming it.
pub fn embeddings_of_model(
    sql: &dyn Sql,
    model: &str,
) -> Result<Vec<(String, Embedding)>, StoreError> {
    let rows: Vec<(String, Vec<u8>)> = sql
        .query_map(OF_MODEL, params![model], |r| {
            Ok((r.get("id")?, r.get("embedding")?))
        })?
        .into_iter()
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(id, blob)| {
            let embedding = open_embedding(sql, &blob, &format!("enrolment {id}"))?;
            Ok((id, embedding))
        })
        .collect()
}

/// Replaces embedding `id` with `embedding` of `model`.
pub fn relabel_embedding(
    sql: &dyn Sql,
    id: &str,
    model: &str,
    embedding: &[f32],
) -> Result<(), StoreError> {
    let sealed = seal_embedding(sql, embedding);
    sql.execute(RELABEL, params![id, model, sealed])?;
    Ok(())
}
