//! The gallery learns from what teachers confirm and from the door units' surest captures
//! (the rules are [`rollcall_models::learning`]'s): such a face becomes one of its student's templates, marked
//! with where it came from, audited, and sent to the door units with the next gallery push.
//! Only a student whose consent is given is learned from; withdrawing it, or erasing the
//! student, erases what was learned with the rest of their gallery.

use rollcall_models::learning::{CONFIDENT, Evidence, REVIEWED, good_enough, judge, surplus};
use rollcall_models::quality::QualityGate;
use rollcall_shared::{FaceQuality, StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::consent;
use crate::enrol::{MAX_THUMBNAIL_BYTES, check_record};
use crate::store::audit::{self, Change};
use crate::store::records::{self, RecordView};
use crate::store::school::{self, NewEnrolment, Source};
use crate::store::{Sql, StoreError};

/// Why a face was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// A teacher approved or reassigned the record.
    Reviewed,
    /// The door unit was Confident and nobody needed to look.
    Confident,
}

/// What learning needs from the hub's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Learner<'a> {
    /// The gallery's model: faces of another model are not learned.
    pub model: &'a str,
    /// The quality a face must meet (the enrolment gate, on the figures a record carries).
    pub gate: &'a QualityGate,
}

impl Learner<'_> {
    /// Learns `record`'s face as a template of `student` when the rules allow; returns the new
    /// template's id, or `None` (with the reason logged) when it is not learned.
    pub fn learn(
        &self,
        tx: &dyn Sql,
        record: &RecordView,
        student: StudentId,
        how: How,
        actor: &str,
        now: UnixMillis,
    ) -> Result<Option<Uuid>, StoreError> {
        if record.model != self.model {
            return Ok(None);
        }
        if !consent::allows(tx, student)? {
            tracing::debug!(record = %record.id, %student, "not learned: no consent given");
            return Ok(None);
        }
        let quality: Option<FaceQuality> = serde_json::from_value(record.quality.clone()).ok();
        if let Some(issue) = quality.and_then(|q| check_record(self.gate, &q).err()) {
            tracing::debug!(record = %record.id, "not learned: {issue}");
            return Ok(None);
        }
        if let Some(q) = quality.filter(|q| !good_enough(q.sharpness, q.detector_score)) {
            tracing::debug!(
                record = %record.id,
                sharpness = q.sharpness,
                score = q.detector_score,
                "not learned: a weak face (blurred or a doubtful detection)"
            );
            return Ok(None);
        }
        let embedding = records::embedding(tx, record.id)?;
        let held = school::enrolments(tx, student)?;
        let own = held
            .iter()
            .filter(|t| t.model == self.model)
            .map(|t| rollcall_shared::embedding::distance(&t.embedding, &embedding))
            .min_by(f32::total_cmp);
        let learned = school::learned(tx, student, self.model)?;
        let evidence = Evidence {
            own,
            other: record
                .candidates
                .iter()
                .filter(|c| c.student != student)
                .map(|c| c.distance)
                .min_by(f32::total_cmp),
            last_learned_at: learned.last().map(|(_, at)| at.0),
            now: now.0,
        };
        let rules = match how {
            How::Reviewed => REVIEWED,
            How::Confident => CONFIDENT,
        };
        if let Err(skip) = judge(&evidence, &rules) {
            tracing::debug!(record = %record.id, %student, "not learned: {skip}");
            return Ok(None);
        }
        for (old, _) in &learned[..surplus(learned.len())] {
            school::delete_enrolment(tx, *old)?;
        }
        let thumbnail =
            records::thumbnail(tx, record.id)?.filter(|t| t.len() <= MAX_THUMBNAIL_BYTES);
        let source = match how {
            How::Reviewed => Source::Review,
            How::Confident => Source::Door,
        };
        let new = NewEnrolment {
            student,
            model: self.model,
            embedding: &embedding,
            quality: quality.map(|q| f64::from(q.detector_score)),
            thumbnail: thumbnail.as_deref(),
            figures: Some(record.quality.to_string()),
            source,
            record: Some(record.id),
            at: now,
        };
        let template = school::insert_enrolment(tx, &new)?;
        let change = Change {
            actor,
            action: "gallery.learn",
            target: format!("student:{student}"),
            before: None,
            after: Some(json!({
                "embedding": template, "record": record.id, "source": source,
                "distance": own, "dropped": surplus(learned.len()),
            })),
            at: now,
        };
        audit::log(tx, change)?;
        Ok(Some(template))
    }
}
