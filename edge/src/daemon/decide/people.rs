//! The people of one walk-in, start to finish, synchronously on the pipeline thread: the
//! frames kept ([`Walk`], their faces found as they were taken) → faces graded by the quality gate → one embedding batch → people (combined across frames) →
//! match → decide (the band of the person's grade; Confident only when every frame of that
//! grade agrees) → liveness (a face the door would mark, judged on its best frame; one judged
//! not live, a photo or a screen, is Uncertain and flagged) → staff named only when Confident
//! (a gate's) → cooldown → records. No I/O
//! besides the recognizer and the liveness judge.
//! The rule of combining and deciding is `rollcall_models::burst`'s, the one the doorway
//! benchmark measures.
//!
//! A face the gate turns away only for its pose or blur is still a person at the door: a
//! person seen in no clear frame gives a record for a teacher to look at (Uncertain at most,
//! "seen, face not clear"), never a Confident one, so nobody vanishes for turning their head.
//! Faces the gate doubts are human (score, landmarks) or finds too small are left out.

use image::RgbImage;
use rollcall_models::burst::{Judgement, Observation, Person, combine, decide, weight};
use rollcall_models::matching::{Match, MatchMode, Thresholds};
use rollcall_models::pipeline::{Face, unit_length};
use rollcall_models::quality::{Grade, QualityGate};
use rollcall_shared::{
    AttendanceRecord, ClockSync, Decision, Embedding, LivenessCheck, RecordId, UnixMillis,
};
use tokio::time::Instant;

use super::cooldown::Cooldown;
use super::gallery::{Enrolled, MatchGallery, WeekTime};
use super::liveness::Judge;
use super::recognizer::{RecognizeError, Recognizer};
use super::record::{Decided, RecordOrigin, build};
use super::walk::Walk;

/// How many candidates a search returns (the record carries up to 3).
const CANDIDATES: usize = 3;

/// The settings of recognition, fixed for the daemon's life.
#[derive(Debug, Clone)]
pub struct Settings {
    pub origin: RecordOrigin,
    pub gate: QualityGate,
    pub thresholds: Thresholds,
    /// Faces of different frames at most this far apart are one person (`[matching]
    /// same_in_burst`).
    pub same_in_burst: f32,
    pub mode: MatchMode,
    pub thumbnails: bool,
}

/// When the burst happened, by the clocks that matter.
#[derive(Debug, Clone, Copy)]
pub struct BurstTime {
    pub captured_at: UnixMillis,
    /// Whether the clock that gave `captured_at` was synchronised.
    pub clock: ClockSync,
    pub local: WeekTime,
    pub now: Instant,
}

/// What a burst produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub records: Vec<AttendanceRecord>,
    pub faces: usize,
    pub gated_out: usize,
    pub people: usize,
    pub cooled_down: usize,
    /// People the door would have named but whose frames pointed at different students:
    /// asked as Uncertain instead.
    pub disagreed: usize,
    /// People seen only in frames the gate turned away (turned, blurred): Uncertain at most.
    pub unclear: usize,
    /// People the door would have named whose face was judged not live (a photo, a screen):
    /// asked as Uncertain, flagged.
    pub not_live: usize,
}

/// Runs recognition on `frames` (see the module docs); `liveness` judges the faces the door
/// would mark (none: they are not judged).
pub fn process(
    walk: Walk,
    recognizer: &dyn Recognizer,
    liveness: Option<&dyn Judge>,
    gallery: &MatchGallery,
    settings: &Settings,
    cooldown: &mut Cooldown,
    time: BurstTime,
) -> Result<Outcome, RecognizeError> {
    let mut outcome = Outcome::default();
    let Walk { frames, faces, .. } = walk;
    let (faces, seen) = graded_faces(faces, &settings.gate, &mut outcome);
    let embeddings = recognizer.embed(&faces)?;
    let observations = observe(&faces, &embeddings, seen);
    let people = combine(&observations, settings.same_in_burst);
    outcome.people = people.len();
    let burst = Burst {
        frames: &frames,
        liveness,
        faces: &faces,
        observations: &observations,
        gallery,
        settings,
        time,
    };
    for person in &people {
        // The person's record id, from the start: a record's life is one grep of it.
        let id = RecordId::now_v7();
        let _record = tracing::info_span!("record", %id).entered();
        if let Some(record) = burst.record(id, person, cooldown, &mut outcome)? {
            outcome.records.push(record);
        }
    }
    Ok(outcome)
}

/// Every kept face as an observation of the burst: where and how well it was seen, and its
/// embedding.
fn observe(faces: &[Face], embeddings: &[Embedding], seen: Vec<Seen>) -> Vec<Observation> {
    faces
        .iter()
        .zip(embeddings)
        .zip(seen)
        .map(|((f, e), Seen { frame, grade })| Observation {
            grade,
            frame,
            bbox: f.detection.bbox,
            weight: weight(f.quality.detector_score, f.quality.inter_ocular_px),
            embedding: *e,
        })
        .collect()
}

/// One burst's faces and what its people are judged by.
struct Burst<'a> {
    frames: &'a [RgbImage],
    liveness: Option<&'a dyn Judge>,
    faces: &'a [Face],
    observations: &'a [Observation],
    gallery: &'a MatchGallery,
    settings: &'a Settings,
    time: BurstTime,
}

impl Burst<'_> {
    /// One person's way from match to record: matched, decided, let through the cooldown (or
    /// not: `None`) and made a record.
    fn record(
        &self,
        id: RecordId,
        person: &Person,
        cooldown: &mut Cooldown,
        outcome: &mut Outcome,
    ) -> Result<Option<AttendanceRecord>, RecognizeError> {
        // The quality-weighted mean of unit-length embeddings, scaled back to unit length like
        // every embedding of the model (as the mirror average is).
        let embedding = unit_length(&person.embedding);
        let matches = self
            .gallery
            .search(&embedding, CANDIDATES, self.settings.mode, self.time.local)
            .map_err(|e| RecognizeError::new(e.to_string()))?;
        let (decision, named) = self.decide(person, &matches, outcome);
        let (decision, liveness) = self.judge_liveness(person, decision, outcome);
        let (decision, named) = staff_only_when_confident(decision, named);
        if !cooldown.admit(named, decision, &embedding, self.time.now) {
            tracing::debug!("seen again within the cooldown: no record");
            outcome.cooled_down += 1;
            return Ok(None);
        }
        let decided = Decided {
            id,
            embedding: &embedding,
            matches: &matches,
            decision,
            face: &self.faces[person.best()],
            frames: person.members.len(),
            liveness,
        };
        Ok(Some(build(
            &self.settings.origin,
            self.gallery.version(),
            self.time.captured_at,
            self.time.clock,
            &decided,
            self.settings.thumbnails,
        )))
    }

    /// The person's decision, by `rollcall_models::burst`'s rule, and whom it names (none
    /// when Unknown); counted in `outcome` and logged.
    fn decide(
        &self,
        person: &Person,
        matches: &[Match<Enrolled>],
        outcome: &mut Outcome,
    ) -> (Decision, Option<Enrolled>) {
        let nearest = |face: &_| {
            let found = self
                .gallery
                .search(face, 1, self.settings.mode, self.time.local)
                .ok()?;
            found.first().map(|m| m.id)
        };
        // The bands of a search among this many students: a hall's door narrows them.
        let searched = self.gallery.searched(self.time.local);
        let thresholds = self.settings.thresholds.for_searched(searched);
        let Judgement {
            decision,
            disagreed,
        } = decide(person, self.observations, matches, &thresholds, nearest);
        outcome.unclear += usize::from(!person.seen_clearly());
        outcome.disagreed += usize::from(disagreed);
        let named = (decision != Decision::Unknown).then(|| matches[0].id);
        tracing::debug!(
            ?decision,
            ?named,
            distance = matches.first().map(|m| m.distance),
            grade = ?person.grade(),
            frames = person.members.len(),
            disagreed,
            "decided"
        );
        (decision, named)
    }

    /// A face the door would mark, judged on the person's best frame: one judged not live is
    /// Uncertain (counted, logged). Other decisions are not judged; a judge that fails leaves
    /// the decision as it was, unjudged, and says so.
    fn judge_liveness(
        &self,
        person: &Person,
        decision: Decision,
        outcome: &mut Outcome,
    ) -> (Decision, Option<LivenessCheck>) {
        let Some(judge) = self.liveness.filter(|_| decision == Decision::Confident) else {
            return (decision, None);
        };
        let best = person.best();
        let seen = self.observations.get(best).zip(self.faces.get(best));
        let Some((frame, face)) = seen.and_then(|(o, f)| Some((self.frames.get(o.frame)?, f)))
        else {
            return (decision, None);
        };
        match judge.judge(frame, face.detection.bbox) {
            Ok(check) if check.suspects_spoof() => {
                outcome.not_live += 1;
                tracing::info!(
                    real_score = check.real_score,
                    "judged not live (a photo or a screen?): sent for review, flagged"
                );
                (Decision::Uncertain, Some(check))
            }
            Ok(check) => (decision, Some(check)),
            Err(e) => {
                tracing::warn!("liveness not judged, the decision stands: {e}");
                (decision, None)
            }
        }
    }
}

/// A member of staff is named only when the door is Confident (and the face judged live):
/// anything less is Unknown, so a teacher's review never shows staff and a doubtful match at
/// a gate writes nothing in the staff log.
fn staff_only_when_confident(
    decision: Decision,
    named: Option<Enrolled>,
) -> (Decision, Option<Enrolled>) {
    match named {
        Some(Enrolled::Staff(_)) if decision != Decision::Confident => (Decision::Unknown, None),
        _ => (decision, named),
    }
}

/// Faces of every frame the gate does not leave out, each with its frame and grade.
fn graded_faces(
    found: Vec<Vec<Face>>,
    gate: &QualityGate,
    outcome: &mut Outcome,
) -> (Vec<Face>, Vec<Seen>) {
    let mut kept = Vec::new();
    let mut seen = Vec::new();
    for (i, faces) in found.into_iter().enumerate() {
        for face in faces {
            outcome.faces += 1;
            let grade = gate.grade(&face.quality);
            if grade >= Grade::Unclear {
                outcome.gated_out += 1;
                if let Some(issue) = gate.issues(&face.quality).first() {
                    tracing::debug!(frame = i, %issue, "face turned away by the gate");
                }
            }
            if grade == Grade::Out {
                continue;
            }
            seen.push(Seen { frame: i, grade });
            kept.push(face);
        }
    }
    (kept, seen)
}

/// Where a kept face was seen, and its grade.
struct Seen {
    frame: usize,
    grade: Grade,
}

#[cfg(test)]
pub(super) mod tests;
