//! Enrolment photos as the door sees them (issue 58, point 5; `--enrol-copies`): each of a
//! student's enrolment photos is also filmed as a door camera would see it — small, blurred,
//! dimmed ([`COPIES`]), one frame each through the door's pipeline (`frames.rs`, cached like
//! every other frame) — and each face found is added to the student's enrolment faces, so the
//! mean the door measures against lies between how the student was photographed and how the
//! door sees them.

use rollcall_models::eval::doorway::{Conditions, Degradation};
use rollcall_models::matching::{EMBEDDING_DIM, Embedding};
use rollcall_models::quality::{Grade, QualityGate};

use crate::frames::{Frames, Walk};
use crate::probes::subject_face;
use crate::school::School;

/// The copies of each enrolment photo: the door's conditions one at a time, each harsh
/// enough to move the embedding (`eval::doorway::conditions` has the same kinds).
pub const COPIES: [(&str, Degradation); 3] = [
    (
        "enrol-door-sized",
        Degradation {
            eye_px: 20.0,
            ..Degradation::CLEAN
        },
    ),
    (
        "enrol-blurred",
        Degradation {
            blur_px: 9,
            ..Degradation::CLEAN
        },
    ),
    (
        "enrol-dimmed",
        Degradation {
            gain: 0.45,
            ..Degradation::CLEAN
        },
    ),
];

/// One walk-in of one frame per copy of every enrolment photo of `school`.
pub fn walks(school: &School) -> Vec<Walk<'_>> {
    school
        .enrolment
        .iter()
        .flatten()
        .flat_map(|(photo, subject)| {
            COPIES.iter().map(move |&(condition, d)| Walk {
                photo,
                subject: *subject,
                condition,
                conditions: Conditions::fixed(d),
            })
        })
        .collect()
}

/// `school` with every copy's face (where the door found one its `gate` grades good or weak)
/// among its students' enrolment faces; returns how many were added.
pub fn add(school: &mut School, frames: &Frames, gate: &QualityGate, seed: u64) -> usize {
    let mut faces = Vec::new();
    for (student, photos) in school.enrolment.iter().enumerate() {
        for (photo, _) in photos {
            for (condition, _) in COPIES {
                let embedding = frames
                    .get(photo, condition, 0, seed)
                    .and_then(subject_face)
                    .filter(|f| matches!(gate.grade(&f.quality), Grade::Good | Grade::Weak))
                    .and_then(|f| Embedding::try_from(f.embedding.get(..EMBEDDING_DIM)?).ok());
                faces.extend(embedding.map(|e| (student, e)));
            }
        }
    }
    let added = faces.len();
    for (student, face) in faces {
        school.enrol_face(student, face);
    }
    school.rebuild();
    added
}
