//! Who each face of a class photo is: the door's decision rule, face by face, against the
//! lesson's class, and one rule of its own: a student is one face of a photo. Pure.

use std::collections::HashMap;

use rollcall_models::matching::{Gallery, MatchMode, Thresholds, decide_matches};
use rollcall_models::quality::Grade;
use rollcall_shared::record::MAX_CANDIDATES;
use rollcall_shared::{Candidate, Decision, Embedding, StudentId};

/// How a class photo's faces are judged: the door's shipped calibration
/// ([`Thresholds::DOOR`] in centroid mode), so a face counts on a photo exactly when it would
/// at the door.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    pub thresholds: Thresholds,
    pub mode: MatchMode,
}

impl Rule {
    pub const DOOR: Rule = Rule {
        thresholds: Thresholds::DOOR,
        mode: MatchMode::Centroid,
    };
}

/// A face to judge: its grade and, unless it is [`Grade::Out`], its embedding.
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'a> {
    pub grade: Grade,
    pub embedding: Option<&'a Embedding>,
}

/// What a face was judged to be.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub decision: Decision,
    /// Best first, at most [`MAX_CANDIDATES`], distinct students of the class.
    pub candidates: Vec<Candidate>,
}

impl Judgement {
    /// The student a Confident face names.
    pub fn named(&self) -> Option<StudentId> {
        match self.decision {
            Decision::Confident => self.candidates.first().map(|c| c.student),
            Decision::Uncertain | Decision::Unknown => None,
        }
    }
}

/// The judgement of each face of one photo, in order; `None` for a face too poor to judge
/// ([`Grade::Out`], or no embedding).
///
/// Each face is decided as the door decides a person (`decide_matches` with its grade's
/// band: a weak face needs a closer match, an unclear one is never Confident). Then, because
/// nobody appears twice in one photo, a student named Confident by two faces is named by
/// neither: both become Uncertain, for a teacher to tell apart.
pub fn judge(
    faces: &[Evidence<'_>],
    gallery: &Gallery<StudentId>,
    rule: &Rule,
) -> Vec<Option<Judgement>> {
    let mut judgements: Vec<Option<Judgement>> = faces
        .iter()
        .map(|face| {
            let embedding = face.embedding.filter(|_| face.grade != Grade::Out)?;
            let matches = gallery.search(embedding, MAX_CANDIDATES, rule.mode).ok()?;
            let decision = decide_matches(&matches, &rule.thresholds.at(face.grade));
            let candidates = matches
                .iter()
                .map(|m| Candidate {
                    student: m.id,
                    distance: m.distance,
                })
                .collect();
            Some(Judgement {
                decision,
                candidates,
            })
        })
        .collect();
    let mut named: HashMap<StudentId, usize> = HashMap::new();
    for student in judgements.iter().flatten().filter_map(Judgement::named) {
        *named.entry(student).or_default() += 1;
    }
    for judgement in judgements.iter_mut().flatten() {
        if judgement.named().is_some_and(|s| named[&s] > 1) {
            judgement.decision = Decision::Uncertain;
        }
    }
    judgements
}

#[cfg(test)]
mod tests {
    use rollcall_shared::EMBEDDING_DIM;

    use super::*;

    /// A unit vector along axis `i`, turned towards axis `i + 1` by `t` (distance ≈ t).
    fn near(i: usize, t: f32) -> Embedding {
        let mut v = [0.0f32; EMBEDDING_DIM];
        v[i] = 1.0;
        v[i + 1] = t;
        let norm = (1.0 + t * t).sqrt();
        Embedding(v.map(|x| x / norm))
    }

    fn class() -> (Vec<StudentId>, Gallery<StudentId>) {
        let students: Vec<StudentId> = (0..3).map(|_| StudentId::random()).collect();
        let pairs = students
            .iter()
            .enumerate()
            .map(|(k, s)| (*s, near(k * 10, 0.0)));
        (students.clone(), Gallery::try_from_iter(pairs).unwrap())
    }

    fn face(grade: Grade, embedding: &Embedding) -> Evidence<'_> {
        Evidence {
            grade,
            embedding: Some(embedding),
        }
    }

    #[test]
    fn each_face_is_decided_as_the_door_decides_by_its_grade() {
        let (students, gallery) = class();
        let (close, middling, far) = (near(0, 0.1), near(10, 0.35), near(60, 0.0));
        let halfway = near(20, 0.2995);
        let faces = [
            face(Grade::Good, &close),
            face(Grade::Good, &middling),
            face(Grade::Good, &far),
            face(Grade::Weak, &halfway),
            face(Grade::Unclear, &close),
            face(Grade::Out, &close),
        ];
        let judgements = judge(&faces, &gallery, &Rule::DOOR);
        let decisions: Vec<Option<Decision>> = judgements
            .iter()
            .map(|v| v.as_ref().map(|v| v.decision))
            .collect();
        assert_eq!(
            decisions,
            [
                Some(Decision::Confident),
                Some(Decision::Uncertain),
                Some(Decision::Unknown),
                // 0.290 away: inside a good face's band (0.295), outside a weak one's (0.285).
                Some(Decision::Uncertain),
                // Somebody is there, but an unclear face never names them by itself.
                Some(Decision::Uncertain),
                None,
            ]
        );
        let first = judgements[0].as_ref().unwrap();
        assert_eq!(first.named(), Some(students[0]));
        assert_eq!(first.candidates.len(), 3, "the whole class is a candidate");
        assert!(
            first
                .candidates
                .windows(2)
                .all(|w| w[0].distance <= w[1].distance)
        );
        assert_eq!(
            judgements[1].as_ref().unwrap().candidates[0].student,
            students[1]
        );
    }

    #[test]
    fn a_student_named_by_two_faces_of_one_photo_is_named_by_neither() {
        let (students, gallery) = class();
        let (a, b, other) = (near(0, 0.05), near(0, 0.1), near(10, 0.05));
        let faces = [
            face(Grade::Good, &a),
            face(Grade::Good, &b),
            face(Grade::Good, &other),
        ];
        let judgements = judge(&faces, &gallery, &Rule::DOOR);
        let v: Vec<&Judgement> = judgements.iter().flatten().collect();
        assert_eq!(v[0].decision, Decision::Uncertain);
        assert_eq!(v[1].decision, Decision::Uncertain);
        assert_eq!(
            v[0].candidates[0].student, students[0],
            "still the best candidate"
        );
        assert_eq!(v[2].named(), Some(students[1]), "the others are untouched");
    }

    #[test]
    fn an_empty_class_knows_nobody() {
        let gallery = Gallery::new();
        let e = near(0, 0.0);
        let judgements = judge(&[face(Grade::Good, &e)], &gallery, &Rule::DOOR);
        assert_eq!(judgements[0].as_ref().unwrap().decision, Decision::Unknown);
        assert!(judgements[0].as_ref().unwrap().candidates.is_empty());
    }
}
