//! What the door unit makes of one arrival's frames, mimicking `edge/src/daemon/burst.rs` and
//! `combine.rs` (the models crate cannot import the edge's; keep the two in step):
//!
//! 1. Gate (the door's `[quality]` defaults): a face failing only pose or sharpness is kept as
//!    *unclear*; any other failure (size, score, landmarks) drops it.
//! 2. Combine across frames: faces taken clear first, best weight (detector score × eye
//!    distance) first; each joins the closest person with no face from its frame whose
//!    quality-weighted mean is within `same_in_burst` (× 1.25 when the boxes overlap, IoU ≥
//!    0.3), else starts a new person. A person's embedding: the weighted mean of their clear
//!    faces (of all, when none is clear), scaled to unit length.
//! 3. Decide (`decide_matches`); a person seen in no clear frame is Uncertain at most; a
//!    Confident person whose clear frames' own nearest students are not all the same student
//!    is Uncertain.
//!
//! Only the subject's face of each frame is looked at (the face nearest where the photo's
//! face was put); bystanders in the photos are not part of the arrival.

use rollcall_models::matching::{Decision, EMBEDDING_DIM, Embedding, Thresholds, decide_matches};
use rollcall_models::pipeline::unit_length;
use rollcall_models::quality::{FaceQuality, QualityGate, QualityIssue};

use crate::faces_cache::SeenFace;
use crate::school::School;

/// The door's gate (`edge/src/config/default.toml`: the library's defaults and a detector
/// score of at least 0.9).
pub fn door_gate() -> QualityGate {
    QualityGate {
        min_detector_score: 0.9,
        ..QualityGate::default()
    }
}

/// What the gate says of a face.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    Clear,
    /// Turned or blurred: still a person at the door.
    Unclear,
    /// Too small, low score, bad landmarks: left out.
    Out,
}

pub fn gate(q: &FaceQuality, gate: &QualityGate) -> Gate {
    let issues = gate.issues(q);
    let unclear = |i: &QualityIssue| {
        matches!(
            i,
            QualityIssue::TurnedAway { .. } | QualityIssue::Blurry { .. }
        )
    };
    match issues.as_slice() {
        [] => Gate::Clear,
        all if all.iter().all(unclear) => Gate::Unclear,
        _ => Gate::Out,
    }
}

/// One kept face of the burst.
pub struct Obs {
    pub clear: bool,
    pub frame: usize,
    pub bbox: [f32; 4],
    pub weight: f32,
    pub embedding: Embedding,
}

impl Obs {
    /// The face as the door keeps it, or `None` when the gate leaves it out.
    pub fn of(face: &SeenFace, frame: usize, g: &QualityGate) -> Option<Obs> {
        let verdict = gate(&face.quality, g);
        let embedding = Embedding::try_from(face.embedding.get(..EMBEDDING_DIM)?).ok()?;
        let q = &face.quality;
        (verdict != Gate::Out).then(|| Obs {
            clear: verdict == Gate::Clear,
            frame,
            bbox: face.bbox,
            weight: (q.detector_score.clamp(0.0, 1.0) * q.inter_ocular_px).max(1e-3),
            embedding,
        })
    }
}

struct Person {
    members: Vec<usize>,
    sum: [f32; EMBEDDING_DIM],
    total: f32,
    embedding: Embedding,
    clear: bool,
}

impl Person {
    fn new(i: usize, o: &Obs) -> Person {
        let mut p = Person {
            members: Vec::new(),
            sum: [0.0; EMBEDDING_DIM],
            total: 0.0,
            embedding: o.embedding,
            clear: o.clear,
        };
        p.add(i, o);
        p
    }

    fn add(&mut self, i: usize, o: &Obs) {
        self.members.push(i);
        if self.clear && !o.clear {
            return;
        }
        let w = o.weight.max(1e-6);
        for (s, v) in self.sum.iter_mut().zip(o.embedding) {
            *s += w * v;
        }
        self.total += w;
        let t = self.total;
        self.embedding = Embedding(self.sum.map(|s| s / t));
    }
}

fn combine(faces: &[Obs], join: f32) -> Vec<Person> {
    let mut order: Vec<usize> = (0..faces.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&faces[a], &faces[b]);
        fb.clear
            .cmp(&fa.clear)
            .then(fb.weight.total_cmp(&fa.weight))
    });
    let mut people: Vec<Person> = Vec::new();
    for i in order {
        let o = &faces[i];
        let fits = |p: &Person| {
            if p.members.iter().any(|&m| faces[m].frame == o.frame) {
                return None;
            }
            let near = p
                .members
                .iter()
                .any(|&m| iou(&faces[m].bbox, &o.bbox) >= 0.3);
            let bound = if near { join * 1.25 } else { join };
            let d = p.embedding.distance(&o.embedding);
            (d <= bound).then_some(d)
        };
        let best = people
            .iter()
            .enumerate()
            .filter_map(|(k, p)| fits(p).map(|d| (k, d)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((k, _)) => people[k].add(i, o),
            None => people.push(Person::new(i, o)),
        }
    }
    people
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - w * h;
    if union > 0.0 { w * h / union } else { 0.0 }
}

/// One record the door would make: its decision, the student it names (if any) and the
/// combined face's distance to the nearest student.
pub type Record = (Decision, Option<usize>, f32);

/// The records the door makes of `faces` (the subject's kept faces of one burst), searching
/// `class` of `school`.
pub fn records(
    faces: &[Obs],
    school: &School,
    class: usize,
    t: &Thresholds,
    join: f32,
) -> Vec<Record> {
    combine(faces, join)
        .iter()
        .map(|p| {
            let matches = school.search(&unit_length(&p.embedding), class);
            let mut decision = decide_matches(&matches, t);
            if !p.clear && decision == Decision::Confident {
                decision = Decision::Uncertain;
            }
            if decision == Decision::Confident {
                let top = |m: &usize| {
                    school
                        .search(&faces[*m].embedding, class)
                        .first()
                        .map(|f| f.id)
                };
                let clear = p.members.iter().filter(|&&m| faces[m].clear);
                if !clear.map(top).all(|id| id == Some(matches[0].id)) {
                    decision = Decision::Uncertain;
                }
            }
            let named = (decision != Decision::Unknown).then(|| matches.first().map(|m| m.id));
            let distance = matches.first().map_or(f32::INFINITY, |m| m.distance);
            (decision, named.flatten(), distance)
        })
        .collect()
}
