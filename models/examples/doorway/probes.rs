//! Every frame of every arrival under every condition, matched: the subject's face found in
//! it (or not), its quality, its gate verdict, its two nearest students of the class and its
//! distance to the right student. What the distance tables are made of, and what `--probes`
//! writes (one JSON line each) so thresholds can be calibrated without the networks.

use std::path::Path;

use rollcall_models::matching::{EMBEDDING_DIM, Embedding};
use serde::Serialize;

use rollcall_models::quality::Grade;

use crate::burst::Door;
use crate::faces_cache::SeenFace;
use crate::frames::FrameRecord;
use crate::school::{Arrival, School};

#[derive(Serialize, Clone)]
pub struct Probe {
    pub half: &'static str,
    pub person: String,
    /// "student" (enrolled) or "stranger".
    pub role: &'static str,
    pub photo: String,
    pub condition: String,
    pub frame: usize,
    pub seed: u64,
    /// Eye distance the frame was made with, px.
    pub eye_px_asked: f32,
    pub face_found: bool,
    /// The face's grade at the door's gate.
    pub grade: Option<Grade>,
    pub box_px: Option<f32>,
    pub inter_ocular_px: Option<f32>,
    pub detector_score: Option<f32>,
    pub sharpness: Option<f32>,
    pub chip_face_score: Option<f32>,
    pub best_distance: Option<f32>,
    pub second_distance: Option<f32>,
    pub best_id: Option<String>,
    pub right_id: Option<String>,
    pub right_distance: Option<f32>,
    pub error: Option<String>,
}

/// The subject's face in `r`: the detection whose centre is nearest where the photo's face was
/// put, within half that box's width.
pub fn subject_face(r: &FrameRecord) -> Option<&SeenFace> {
    let centre = |b: &[f32; 4]| [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
    let want = centre(&r.face_box);
    let reach = (r.face_box[2] - r.face_box[0]) / 2.0;
    let off = |f: &SeenFace| {
        let c = centre(&f.bbox);
        (c[0] - want[0]).hypot(c[1] - want[1])
    };
    r.faces
        .iter()
        .filter(|f| off(f) <= reach)
        .min_by(|a, b| off(a).total_cmp(&off(b)))
}

/// The probe of one frame of `a` (of `school`, half `half`).
pub fn probe(
    half: &'static str,
    school: &School,
    a: &Arrival,
    r: &FrameRecord,
    door: &Door,
) -> Probe {
    let face = subject_face(r);
    let embedding = face.and_then(|f| Embedding::try_from(f.embedding.get(..EMBEDDING_DIM)?).ok());
    let matches = embedding
        .map(|e| school.search(&e, a.class, door.mode))
        .unwrap_or_default();
    let name = |i: usize| school.names.get(i).cloned();
    let q = face.map(|f| f.quality);
    Probe {
        half,
        person: a.person.clone(),
        role: if a.student.is_some() {
            "student"
        } else {
            "stranger"
        },
        photo: display(&a.photo),
        condition: r.condition.clone(),
        frame: r.frame,
        seed: r.seed,
        eye_px_asked: r.degradation.eye_px,
        face_found: face.is_some(),
        grade: q.map(|q| door.gate.grade(&q)),
        box_px: q.map(|q| q.box_px),
        inter_ocular_px: q.map(|q| q.inter_ocular_px),
        detector_score: q.map(|q| q.detector_score),
        sharpness: q.map(|q| q.sharpness),
        chip_face_score: q.and_then(|q| q.chip_face_score),
        best_distance: matches.first().map(|m| m.distance),
        second_distance: matches.get(1).map(|m| m.distance),
        best_id: matches.first().and_then(|m| name(m.id)),
        right_id: a.student.and_then(name),
        right_distance: embedding
            .zip(a.student)
            .and_then(|(e, s)| school.distance_in(&e, s, door.mode)),
        error: r.error.clone(),
    }
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
