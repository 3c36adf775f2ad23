//! What the door unit makes of one arrival's frames: `rollcall_models::burst`, the rule the
//! door daemon runs, with the door's settings ([`Door`]: `edge/src/config/default.toml`'s
//! unless the command line says otherwise).
//!
//! Only the subject's face of each frame is looked at (the face nearest where the photo's
//! face was put); bystanders in the photos are not part of the arrival.

use rollcall_models::burst::{Observation, combine, decide, weight};
use rollcall_models::matching::{Decision, EMBEDDING_DIM, Embedding, Thresholds};
use rollcall_models::pipeline::unit_length;
use rollcall_models::quality::{Grade, QualityGate};

use crate::faces_cache::SeenFace;
use crate::school::School;

/// The door's settings: its gate, its thresholds, and how close two faces of a burst must be
/// to be one person.
#[derive(Debug, Clone, Copy)]
pub struct Door {
    pub gate: QualityGate,
    pub thresholds: Thresholds,
    pub same_in_burst: f32,
}

/// The door's gate as `edge/src/config/default.toml` sets it: the library's defaults, a
/// detector score of at least 0.9, and its weak-face limits.
pub fn door_gate() -> QualityGate {
    QualityGate {
        min_detector_score: 0.9,
        weak_below_sharpness: 15.0,
        weak_below_score: 0.99,
        ..QualityGate::default()
    }
}

/// The face as the door keeps it, or `None` when the gate leaves it out.
pub fn observe(face: &SeenFace, frame: usize, gate: &QualityGate) -> Option<Observation> {
    let grade = gate.grade(&face.quality);
    let embedding = Embedding::try_from(face.embedding.get(..EMBEDDING_DIM)?).ok()?;
    let q = &face.quality;
    (grade != Grade::Out).then(|| Observation {
        grade,
        frame,
        bbox: face.bbox,
        weight: weight(q.detector_score, q.inter_ocular_px),
        embedding,
    })
}

/// One record the door would make: its decision, the student it names (if any), the combined
/// face's distance to the nearest student and the person's grade.
pub type Record = (Decision, Option<usize>, f32, Grade);

/// The records the door makes of `faces` (the subject's kept faces of one burst), searching
/// `class` of `school`.
pub fn records(faces: &[Observation], school: &School, class: usize, door: &Door) -> Vec<Record> {
    combine(faces, door.same_in_burst)
        .iter()
        .map(|p| {
            let matches = school.search(&unit_length(&p.embedding), class);
            let nearest = |e: &Embedding| school.search(e, class).first().map(|m| m.id);
            let decision = decide(p, faces, &matches, &door.thresholds, nearest).decision;
            let named = matches
                .first()
                .filter(|_| decision != Decision::Unknown)
                .map(|m| m.id);
            let distance = matches.first().map_or(f32::INFINITY, |m| m.distance);
            (decision, named, distance, p.grade())
        })
        .collect()
}
