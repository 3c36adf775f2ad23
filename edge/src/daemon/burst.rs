//! One trigger's work, start to finish, synchronously on the pipeline thread: frames → faces
//! → quality gate → one embedding batch → people (combined across frames) → match → decide
//! (Confident only when every clear frame of the person agrees) → cooldown → records. No I/O
//! besides the recognizer and the frame source.
//!
//! A face the gate turns away only for its pose or blur is still a person at the door: a
//! person seen in no clear frame gives a record for a teacher to look at (Uncertain at most,
//! "seen, face not clear"), never a Confident one, so nobody vanishes for turning their head.
//! Faces the gate doubts are human (score, landmarks) or finds too small are left out.

use image::RgbImage;
use rollcall_models::matching::{MatchMode, Thresholds, decide_matches};
use rollcall_models::pipeline::{Face, unit_length};
use rollcall_models::quality::{QualityGate, QualityIssue};
use rollcall_shared::{AttendanceRecord, ClockSync, Decision, StudentId, UnixMillis};
use tokio::time::Instant;

use super::combine::{Observation, combine};
use super::cooldown::Cooldown;
use super::gallery::{MatchGallery, WeekTime};
use super::recognizer::{RecognizeError, Recognizer};
use super::record::{RecordOrigin, Verdict, build};

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
}

/// Runs recognition on `frames` (see the module docs).
pub fn process(
    frames: &[RgbImage],
    recognizer: &dyn Recognizer,
    gallery: &MatchGallery,
    settings: &Settings,
    cooldown: &mut Cooldown,
    time: BurstTime,
) -> Result<Outcome, RecognizeError> {
    let mut outcome = Outcome::default();
    let (faces, seen) = gated_faces(frames, recognizer, &settings.gate, &mut outcome)?;
    let embeddings = recognizer.embed(&faces)?;
    let observations: Vec<Observation> = faces
        .iter()
        .zip(&embeddings)
        .zip(seen)
        .map(|((f, e), Seen { frame, clear })| Observation {
            clear,
            frame,
            bbox: f.detection.bbox,
            weight: weight(f),
            embedding: *e,
        })
        .collect();
    let people = combine(&observations, settings.same_in_burst);
    outcome.people = people.len();
    for person in &people {
        // The quality-weighted mean of unit-length embeddings, scaled back to unit length like
        // every embedding of the model (as the mirror average is).
        let embedding = unit_length(&person.embedding);
        let matches = gallery
            .search(&embedding, CANDIDATES, settings.mode, time.local)
            .map_err(|e| RecognizeError::new(e.to_string()))?;
        let mut decision = decide_matches(&matches, &settings.thresholds);
        if !person.seen_clearly() {
            outcome.unclear += 1;
            if decision == Decision::Confident {
                decision = Decision::Uncertain;
            }
        }
        if decision == Decision::Confident {
            let clear = person.members.iter().filter(|&&m| observations[m].clear);
            let tops = clear.map(|&m| {
                gallery
                    .search(&observations[m].embedding, 1, settings.mode, time.local)
                    .ok()
                    .and_then(|found| found.first().map(|f| f.id))
            });
            if !frames_agree(matches[0].id, tops) {
                outcome.disagreed += 1;
                decision = Decision::Uncertain;
            }
        }
        let student = (decision != Decision::Unknown).then(|| matches[0].id);
        if !cooldown.admit(student, decision, &embedding, time.now) {
            outcome.cooled_down += 1;
            continue;
        }
        let verdict = Verdict {
            embedding: &embedding,
            matches: &matches,
            decision,
            face: &faces[person.best()],
            frames: person.members.len(),
        };
        let record = build(
            &settings.origin,
            gallery.version(),
            time.captured_at,
            time.clock,
            &verdict,
            settings.thumbnails,
        );
        outcome.records.push(record);
    }
    Ok(outcome)
}

/// Whether every frame's own nearest student (`tops`, one per face of the person) is `best`,
/// the student the combined face matched. One frame naming someone else is enough doubt for
/// a teacher to look: a lookalike, or two people merged.
fn frames_agree(best: StudentId, mut tops: impl Iterator<Item = Option<StudentId>>) -> bool {
    tops.all(|top| top == Some(best))
}

/// Faces of every frame that pass the gate, and those it turns away only for their pose or
/// blur, each with its frame and whether it passed.
fn gated_faces(
    frames: &[RgbImage],
    recognizer: &dyn Recognizer,
    gate: &QualityGate,
    outcome: &mut Outcome,
) -> Result<(Vec<Face>, Vec<Seen>), RecognizeError> {
    let mut kept = Vec::new();
    let mut seen = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        for face in recognizer.faces(frame)? {
            outcome.faces += 1;
            let issues = gate.issues(&face.quality);
            if !issues.is_empty() {
                outcome.gated_out += 1;
                tracing::debug!(frame = i, issue = %issues[0], "face turned away by the gate");
                if !issues.iter().all(unclear_only) {
                    continue;
                }
            }
            seen.push(Seen {
                frame: i,
                clear: issues.is_empty(),
            });
            kept.push(face);
        }
    }
    Ok((kept, seen))
}

/// Where a kept face was seen, and whether the gate passed it.
struct Seen {
    frame: usize,
    clear: bool,
}

/// An issue that makes a face unclear but leaves no doubt a person is there.
fn unclear_only(issue: &QualityIssue) -> bool {
    matches!(
        issue,
        QualityIssue::TurnedAway { .. } | QualityIssue::Blurry { .. }
    )
}

/// Evidence weight of a face: detector confidence times eye distance (more pixels, more
/// detail for the embedder).
fn weight(face: &Face) -> f32 {
    let q = &face.quality;
    (q.detector_score.clamp(0.0, 1.0) * q.inter_ocular_px).max(1e-3)
}

#[cfg(test)]
#[path = "burst_tests.rs"]
mod tests;
