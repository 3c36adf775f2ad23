//! Saving an accepted photo: the enrolment embedding with its thumbnail and quality figures,
//! and the audit entry. The one place enrolment photos are written, by the API and the demo.

use rollcall_models::pipeline::model_id;
use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use super::enroller::Accepted;
use rollcall_store::audit::{self, Change};
use rollcall_store::school::{self, NewEnrolment, Source};
use rollcall_store::{Sql, StoreError};

/// Stores `accepted` as an enrolment of `student` and audits it; returns the embedding's id.
/// Call inside a transaction; the caller tells the gallery pusher afterwards.
pub fn save(
    tx: &dyn Sql,
    actor: &str,
    student: StudentId,
    accepted: &Accepted,
    now: UnixMillis,
) -> Result<Uuid, StoreError> {
    let model = model_id();
    let new = NewEnrolment {
        student,
        model: model.as_str(),
        embedding: &accepted.embedding,
        quality: Some(f64::from(accepted.quality.detector_score)),
        thumbnail: Some(accepted.thumbnail.as_slice()),
        figures: serde_json::to_string(&accepted.quality).ok(),
        source: Source::Photo,
        record: None,
        at: now,
    };
    let face = school::insert_enrolment(tx, &new)?;
    school::set_photo(tx, face, &accepted.photo_sha256)?;
    let after = json!({"embedding": face, "model": model, "quality": accepted.quality});
    let change = Change {
        actor,
        action: "student.enrol_photo",
        target: format!("student:{student}"),
        before: None,
        after: Some(after),
        at: now,
    };
    audit::log(tx, change)?;
    Ok(face)
}
