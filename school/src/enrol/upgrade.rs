//! Carrying enrolments over a change of face model, where the new model's embeddings can be
//! computed from the old ones: `…align-2` → `…align-3` is a scaling to unit length. The hub
//! keeps no enrolment photos, so without this every student would have to be photographed
//! again after the upgrade.

use rollcall_models::pipeline::{model_id, previous_model_id, unit_length};
use rollcall_shared::UnixMillis;
use serde_json::json;

use rollcall_store::audit::{self, Change};
use rollcall_store::school::{embeddings_of_model, relabel_embedding};
use rollcall_store::{Sql, StoreError};

/// Turns every stored enrolment embedding of [`previous_model_id`] into a [`model_id`] one, in
/// place, in the caller's transaction, and audits how many. Returns that number; running it
/// again finds nothing to do. A blob that is not one descriptor long is an error (and the
/// caller's transaction, rolled back, changes nothing).
pub fn upgrade_enrolments(sql: &dyn Sql, now: UnixMillis) -> Result<usize, StoreError> {
    let (current, previous) = (model_id(), previous_model_id());
    let old = embeddings_of_model(sql, previous.as_str())?;
    for (id, embedding) in &old {
        relabel_embedding(sql, id, current.as_str(), &unit_length(embedding))?;
    }
    if !old.is_empty() {
        audit::log(
            sql,
            Change {
                actor: "system",
                action: "gallery.upgrade_model",
                target: format!("model:{current}"),
                before: Some(json!({"model": previous, "embeddings": old.len()})),
                after: Some(json!({"model": current, "embeddings": old.len()})),
                at: now,
            },
        )?;
    }
    Ok(old.len())
}

#[cfg(test)]
mod tests {
    use rollcall_shared::StudentId;
    use rusqlite::Connection;

    use super::*;
    use rollcall_shared::Embedding;
    use rollcall_store::school::{self, NewEnrolment, Source, Student};
    use rollcall_store::seal_embedding;
    use rollcall_store::sql::params;
    use rollcall_store::{audit, memory};

    /// Enrols `values` (stored as they are, even when not one descriptor long).
    fn enrol(conn: &dyn Sql, student: StudentId, model: &str, values: &[f32]) {
        let new = NewEnrolment {
            student,
            model,
            embedding: &Embedding::try_from(values).unwrap_or_default(),
            quality: Some(0.99),
            thumbnail: None,
            figures: None,
            source: Source::Photo,
            record: None,
            at: UnixMillis(1),
        };
        let id = school::insert_enrolment(conn, &new).unwrap();
        let sql = "UPDATE embeddings SET embedding = ?2 WHERE id = ?1";
        let blob = seal_embedding(conn, values);
        conn.execute(sql, params![id.to_string(), blob]).unwrap();
    }

    /// The upgrade in a transaction of its own, as the hub runs it.
    fn upgrade(conn: &mut Connection, now: UnixMillis) -> Result<usize, StoreError> {
        let tx = rollcall_runtime::sqlite::write_transaction(conn)?;
        let n = upgrade_enrolments(&tx, now)?;
        tx.commit()?;
        Ok(n)
    }

    /// A database with one student, Ada.
    fn with_student() -> (Connection, StudentId) {
        let conn = memory();
        let ada = StudentId(uuid::Uuid::from_bytes([1; 16]));
        let student = Student {
            id: ada,
            name: "Ada".into(),
            external_ref: None,
            created_at: UnixMillis(1),
            consent: rollcall_store::consent::State::Given,
            profile: Default::default(),
        };
        school::insert_student(&conn, &student).unwrap();
        (conn, ada)
    }

    #[test]
    fn previous_model_embeddings_become_unit_length_current_ones_once() {
        let (mut conn, ada) = with_student();
        let old: Vec<f32> = (0..128).map(|i| (i as f32 - 60.0) / 50.0).collect();
        enrol(&conn, ada, previous_model_id().as_str(), &old);
        enrol(&conn, ada, "someone-elses-model", &old);

        assert_eq!(upgrade(&mut conn, UnixMillis(5)).unwrap(), 1);
        let stored = school::enrolments(&conn, ada).unwrap();
        let current: Vec<_> = stored
            .iter()
            .filter(|e| e.model == model_id().as_str())
            .collect();
        assert_eq!(current.len(), 1);
        let norm = current[0]
            .embedding
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        let old_norm = old.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((current[0].embedding[0] - old[0] / old_norm).abs() < 1e-6);
        let other = stored.iter().find(|e| e.model == "someone-elses-model");
        assert_eq!(
            other.map(|e| &e.embedding[..]),
            Some(&old[..]),
            "other models untouched"
        );

        let log = audit::recent(&conn, 10).unwrap();
        assert_eq!(log[0].action, "gallery.upgrade_model");
        assert_eq!(
            upgrade(&mut conn, UnixMillis(6)).unwrap(),
            0,
            "nothing left to do"
        );
        assert_eq!(audit::recent(&conn, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_corrupt_blob_stops_the_upgrade_and_changes_nothing() {
        let (mut conn, ada) = with_student();
        enrol(&conn, ada, previous_model_id().as_str(), &[0.5; 128]);
        enrol(&conn, ada, previous_model_id().as_str(), &[0.5; 3]);
        let err = upgrade(&mut conn, UnixMillis(5)).unwrap_err();
        assert!(err.to_string().contains("3 values"), "{err}");
        let stored = school::enrolments(&conn, ada).unwrap();
        assert!(
            stored
                .iter()
                .all(|e| e.model == previous_model_id().as_str())
        );
        assert!(audit::recent(&conn, 10).unwrap().is_empty());
    }
}
