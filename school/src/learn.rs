//! The gallery learns from what teachers confirm and from the door units' surest captures
//! (the rules are [`rollcall_models::learning`]'s): such a face becomes one of its student's templates, marked
//! with where it came from, audited, and sent to the door units with the next gallery push.
//! Only a student whose consent is given is learned from; withdrawing it, or erasing the
//! student, erases what was learned with the rest of their gallery.

use rollcall_models::learning::{CONFIDENT, Evidence, REVIEWED, good_enough, judge, surplus};
use rollcall_models::quality::QualityGate;
use rollcall_shared::{Embedding, FaceQuality, StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::consent;
use crate::enrol::{MAX_THUMBNAIL_BYTES, check_record};
use rollcall_store::audit::{self, Change};
use rollcall_store::records::{self, RecordView};
use rollcall_store::school::{self, NewEnrolment, Source};
use rollcall_store::{Sql, StoreError};

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
    /// Learns the face `offered` as a template of its student when the rules allow; returns
    /// the new template's id, or `None` (with the reason logged) when it is not learned.
    ///
    /// The face is admitted (the gallery's model, consent given, a face the gate takes and a
    /// strong one), weighed against what the gallery holds of the student, judged by the
    /// rules of `how` it was seen, and enrolled: the student's surplus learned templates
    /// dropped, the new one inserted and audited.
    pub fn learn(&self, tx: &dyn Sql, face: &Offered<'_>) -> Result<Option<Uuid>, StoreError> {
        let Some(admitted) = self.admit(tx, face)? else {
            return Ok(None);
        };
        let held = self.held(tx, face)?;
        let rules = match face.how {
            How::Reviewed => REVIEWED,
            How::Confident => CONFIDENT,
        };
        if let Err(skip) = judge(&held.evidence, &rules) {
            tracing::debug!(record = %face.record.id, student = %face.student, "not learned: {skip}");
            return Ok(None);
        }
        self.enrol(tx, face, admitted, &held).map(Some)
    }

    /// Whether the face may be learned at all: of the gallery's model, its student's consent
    /// given, not judged not live by the door (a possible photo or screen: a teacher may mark
    /// the student, but a picture of a picture is no template), a face the gate takes and not
    /// a weak one. `None` (with the reason logged) when not.
    fn admit(&self, tx: &dyn Sql, face: &Offered<'_>) -> Result<Option<Admitted>, StoreError> {
        let (record, student) = (face.record, face.student);
        if record.model != self.model {
            return Ok(None);
        }
        if !consent::allows(tx, student)? {
            tracing::debug!(record = %record.id, %student, "not learned: no consent given");
            return Ok(None);
        }
        if record.liveness.is_some_and(|l| l.suspects_spoof()) {
            tracing::debug!(record = %record.id, "not learned: judged not live by the door");
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
        Ok(Some(Admitted { quality }))
    }

    /// The face's embedding, the student's learned templates, and the evidence the rules
    /// judge: how far the face is from the student's own templates and from the nearest other
    /// student, and when the student last learned one.
    fn held(&self, tx: &dyn Sql, face: &Offered<'_>) -> Result<Held, StoreError> {
        let (record, student, embedding) = (face.record, face.student, *face.embedding);
        let templates = school::enrolments(tx, student)?;
        let own = templates
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
            now: face.now.0,
        };
        Ok(Held {
            embedding,
            learned,
            evidence,
        })
    }

    /// Makes the face one of the student's templates: the surplus of their learned ones
    /// dropped, the new one inserted with its thumbnail and figures, and the change audited.
    fn enrol(
        &self,
        tx: &dyn Sql,
        face: &Offered<'_>,
        admitted: Admitted,
        held: &Held,
    ) -> Result<Uuid, StoreError> {
        let (record, learned) = (face.record, &held.learned);
        for (old, _) in &learned[..surplus(learned.len())] {
            school::delete_enrolment(tx, *old)?;
        }
        let thumbnail =
            records::thumbnail(tx, record.id)?.filter(|t| t.len() <= MAX_THUMBNAIL_BYTES);
        let source = match face.how {
            How::Reviewed => Source::Review,
            How::Confident => Source::Door,
        };
        let new = NewEnrolment {
            student: face.student,
            model: self.model,
            embedding: &held.embedding,
            quality: admitted.quality.map(|q| f64::from(q.detector_score)),
            thumbnail: thumbnail.as_deref(),
            figures: Some(record.quality.to_string()),
            source,
            record: Some(record.id),
            at: face.now,
        };
        let template = school::insert_enrolment(tx, &new)?;
        let change = Change {
            actor: face.actor,
            action: "gallery.learn",
            target: format!("student:{}", face.student),
            before: None,
            after: Some(json!({
                "embedding": template, "record": record.id, "source": source,
                "distance": held.evidence.own, "dropped": surplus(learned.len()),
            })),
            at: face.now,
        };
        audit::log(tx, change)?;
        Ok(template)
    }
}

/// A face offered to the gallery: its record and embedding, the student it would be learned
/// for, how it was seen, who says so and when.
#[derive(Clone, Copy, Debug)]
pub struct Offered<'a> {
    pub record: &'a RecordView,
    /// The record's face, which the caller has in hand (ingest the record it just stored,
    /// review the one it read): the learner does not read it back.
    pub embedding: &'a Embedding,
    pub student: StudentId,
    pub how: How,
    /// Who the audit log names: a teacher, or `device:ID`.
    pub actor: &'a str,
    pub now: UnixMillis,
}

/// A face the checks let through, with the figures its record carries (when they can be
/// read).
struct Admitted {
    quality: Option<FaceQuality>,
}

/// What the gallery holds that bears on learning a face.
struct Held {
    /// The face's embedding, from its record.
    embedding: Embedding,
    /// The student's learned templates, oldest first, and when each was learned.
    learned: Vec<(Uuid, UnixMillis)>,
    evidence: Evidence,
}
