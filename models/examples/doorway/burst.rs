//! What the door unit makes of one arrival's frames: `rollcall_models::burst`, the rule the
//! door daemon runs, with the door's settings ([`Door`]: `edge/src/config/default.toml`'s
//! unless the command line says otherwise).
//!
//! Only the subject's face of each frame is looked at (the face nearest where the photo's
//! face was put); bystanders in the photos are not part of the arrival.

use rollcall_models::burst::follow::Follow;
use rollcall_models::burst::{Observation, combine, decide, weight};
use rollcall_models::matching::{Decision, EMBEDDING_DIM, Embedding, Match, MatchMode, Thresholds};
use rollcall_models::pipeline::unit_length;
use rollcall_models::quality::{FaceQuality, Grade, QualityGate};

use crate::faces_cache::SeenFace;
use crate::school::School;

/// The door's settings: its gate, how it measures a face against a student, its thresholds,
/// how close two faces of a burst must be to be one person, how many frames a burst has, and
/// how it follows a walk-in past the burst.
#[derive(Debug, Clone, Copy)]
pub struct Door {
    pub gate: QualityGate,
    pub mode: MatchMode,
    pub thresholds: Thresholds,
    pub same_in_burst: f32,
    pub frames: usize,
    /// The walk-in followed: at most `walk.most` frames while the person is in view, the best
    /// `walk.keep` decided from (`walk.first` is `frames`).
    pub walk: Follow,
}

/// The door unit's shipped configuration: what the benchmark measures unless told otherwise.
const SHIPPED: &str = include_str!("../../../edge/src/config/default.toml");

/// The matching mode and thresholds of `[matching]` (the rest of that table is the daemon's).
#[derive(serde::Deserialize)]
struct ShippedMatching {
    mode: MatchMode,
    confident: f32,
    confident_weak: f32,
    uncertain: f32,
    min_margin: f32,
}

impl Door {
    /// The door as `edge/src/config/default.toml` sets it up (`same_in_burst`: `uncertain`).
    pub fn shipped() -> Result<Door, crate::faces_cache::Error> {
        #[derive(serde::Deserialize)]
        struct Burst {
            frames: usize,
            spacing: String,
            follow: String,
            keep: usize,
        }
        #[derive(serde::Deserialize)]
        struct File {
            burst: Burst,
            quality: QualityGate,
            matching: ShippedMatching,
        }
        let File {
            burst,
            quality,
            matching,
        } = toml::from_str(SHIPPED)?;
        let thresholds = Thresholds {
            confident: matching.confident,
            confident_weak: matching.confident_weak,
            uncertain: matching.uncertain,
            min_margin: matching.min_margin,
        };
        let duration = |text: &str| humantime::parse_duration(text);
        let (spacing, follow) = (duration(&burst.spacing)?, duration(&burst.follow)?);
        let most = (follow.as_millis() / spacing.as_millis().max(1)) as usize;
        Ok(Door {
            gate: quality,
            mode: matching.mode,
            thresholds,
            same_in_burst: thresholds.uncertain,
            frames: burst.frames,
            walk: Follow {
                first: burst.frames,
                most: most.max(burst.frames),
                keep: burst.keep,
            },
        })
    }

    /// Whether the door follows walk-ins past its burst.
    pub fn follows(&self) -> bool {
        self.walk.most > self.frames
    }

    /// How the door takes a walk-in, in words for the tables.
    pub fn describe(&self) -> String {
        match self.follows() {
            true => format!(
                "walk-ins followed up to {} frames, the best {} kept",
                self.walk.most, self.walk.keep
            ),
            false => format!("{}-frame walk-ins", self.frames),
        }
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

/// One record the door would make.
pub struct Record {
    pub decision: Decision,
    /// The student it names (not for Unknown).
    pub named: Option<usize>,
    /// The person's embedding (unit length): what the record carries and the hub learns.
    pub embedding: Embedding,
    /// The nearest students of the class, closest first.
    pub matches: Vec<Match<usize>>,
    /// The grade of the person's best face.
    pub grade: Grade,
    /// The quality of the person's best face: what the record tells the hub.
    pub quality: FaceQuality,
}

impl Record {
    /// Distance to the nearest student.
    pub fn distance(&self) -> f32 {
        self.matches.first().map_or(f32::INFINITY, |m| m.distance)
    }
}

/// The records the door makes of `faces` (the subject's kept faces of one burst, of
/// `qualities`), searching `class` of `school`.
pub fn records(
    faces: &[Observation],
    qualities: &[FaceQuality],
    school: &School,
    class: usize,
    door: &Door,
) -> Vec<Record> {
    combine(faces, door.same_in_burst)
        .iter()
        .map(|p| {
            let embedding = unit_length(&p.embedding);
            let matches = school.search(&embedding, class, door.mode);
            let nearest = |e: &Embedding| {
                let found = school.search(e, class, door.mode);
                found.first().map(|m| m.id)
            };
            let decision = decide(p, faces, &matches, &door.thresholds, nearest).decision;
            let named = matches
                .first()
                .filter(|_| decision != Decision::Unknown)
                .map(|m| m.id);
            Record {
                decision,
                named,
                embedding,
                matches,
                grade: p.grade(),
                quality: qualities[p.best()],
            }
        })
        .collect()
}
