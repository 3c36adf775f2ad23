//! Who each face of a class photo is: the faces of one photo against the lesson's class,
//! named jointly (`rollcall_models::matching::name_jointly`: a student is one face of a
//! photo, and a face the assignment is not sure of is asked about), with the class photo's
//! own band ([`Rule::CLASS_PHOTO`]). Pure.

use rollcall_models::matching::{Gallery, Match, MatchMode, PhotoFace, Thresholds, name_jointly};
use rollcall_models::quality::Grade;
use rollcall_shared::record::MAX_CANDIDATES;
use rollcall_shared::{Candidate, Decision, Embedding, StudentId};

/// How a class photo's faces are judged: thresholds and how a student's distance is measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    pub thresholds: Thresholds,
    pub mode: MatchMode,
}

impl Rule {
    /// The door's shipped calibration ([`Thresholds::DOOR`] in centroid mode).
    pub const DOOR: Rule = Rule {
        thresholds: Thresholds::DOOR,
        mode: MatchMode::Centroid,
    };

    /// A class photo's calibration, in centroid mode: the search is within the lesson's class
    /// and a student appears once, so the band is wider than the door's. Chosen on the
    /// calibration half of `models/examples/class_photo_sim` (docs/ACCURACY.md, "Class
    /// photos"): the widest good band (the weak one 0.01 stricter, as at the door) at which
    /// the class photos named nobody wrongly and the photos judged against other classes named
    /// at most 1 face in 1,000. The margin and `uncertain` are the door's.
    pub const CLASS_PHOTO: Rule = Rule {
        thresholds: Thresholds {
            confident: CLASS_PHOTO_GOOD,
            confident_weak: CLASS_PHOTO_WEAK,
            uncertain: Thresholds::DOOR.uncertain,
            min_margin: Thresholds::DOOR.min_margin,
        },
        mode: MatchMode::Centroid,
    };
}

const CLASS_PHOTO_GOOD: f32 = 0.33;
const CLASS_PHOTO_WEAK: f32 = 0.32;

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
    /// At most [`MAX_CANDIDATES`] distinct students of the class: the student the photo's
    /// assignment names the face as first (it may not be the nearest, when the nearest is
    /// another face's), then the others nearest first.
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
/// Each face is measured against every student of the class, then the faces are named
/// together (`name_jointly`, with the band of each face's grade): no student is named by two
/// faces, and faces that could as well be named the other way round are asked about.
pub fn judge(
    faces: &[Evidence<'_>],
    gallery: &Gallery<StudentId>,
    rule: &Rule,
) -> Vec<Option<Judgement>> {
    let searched: Vec<Option<Vec<Match<StudentId>>>> = faces
        .iter()
        .map(|face| {
            let embedding = face.embedding.filter(|_| face.grade != Grade::Out)?;
            gallery.search(embedding, gallery.len(), rule.mode).ok()
        })
        .collect();
    let judged: Vec<PhotoFace<'_, StudentId>> = faces
        .iter()
        .zip(&searched)
        .filter_map(|(face, matches)| {
            Some(PhotoFace {
                grade: face.grade,
                matches: matches.as_deref()?,
            })
        })
        .collect();
    let mut named = name_jointly(&judged, &rule.thresholds).into_iter();
    searched
        .iter()
        .map(|matches| {
            let matches = matches.as_ref()?;
            let verdict = named.next()?;
            let mut ordered: Vec<&Match<StudentId>> = matches.iter().collect();
            if let Some(i) = ordered.iter().position(|m| Some(m.id) == verdict.student) {
                let assigned = ordered.remove(i);
                ordered.insert(0, assigned);
            }
            let candidates = ordered
                .into_iter()
                .take(MAX_CANDIDATES)
                .map(|m| Candidate {
                    student: m.id,
                    distance: m.distance,
                })
                .collect();
            Some(Judgement {
                decision: verdict.decision,
                candidates,
            })
        })
        .collect()
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

    /// The unit vector of `v` (the rest of the axes 0).
    fn unit(v: &[f32]) -> Embedding {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut e = [0.0f32; EMBEDDING_DIM];
        for (i, x) in v.iter().enumerate() {
            e[i] = x / norm;
        }
        Embedding(e)
    }

    #[test]
    fn a_face_whose_nearest_is_clearly_another_faces_is_named_its_next_shown_first() {
        // Student a and student b look alike (0.29 apart). One face is a beyond doubt; the
        // other is nearer a (0.14) than b (0.21), but a is the first face's, so it is b.
        let (a, b) = (StudentId::random(), StudentId::random());
        let gallery = Gallery::try_from_iter([(a, unit(&[1.0])), (b, unit(&[1.0, 0.3]))]).unwrap();
        let (first, second) = (unit(&[1.0, 0.0, 0.03]), unit(&[1.0, 0.1, 0.1]));
        let faces = [face(Grade::Good, &first), face(Grade::Good, &second)];
        let judgements = judge(&faces, &gallery, &Rule::DOOR);
        let v: Vec<&Judgement> = judgements.iter().flatten().collect();
        assert_eq!(v[0].named(), Some(a));
        assert_eq!(v[1].named(), Some(b));
        let shown: Vec<StudentId> = v[1].candidates.iter().map(|c| c.student).collect();
        assert_eq!(shown, [b, a], "the student it is named as first");
        assert!(v[1].candidates[0].distance > v[1].candidates[1].distance);
    }

    #[test]
    fn a_class_photo_names_a_face_the_door_would_ask_about() {
        // Just outside the door's band, inside the class photo's.
        let (students, gallery) = class();
        let d = (Rule::DOOR.thresholds.confident + Rule::CLASS_PHOTO.thresholds.confident) / 2.0;
        // near(i, t) is at the angle atan(t) from axis i: a chord of d is the angle
        // acos(1 - d²/2).
        let t = (1.0 - d * d / 2.0).acos().tan();
        let e = near(0, t);
        let distance = e.distance(&near(0, 0.0));
        assert!(distance > Rule::DOOR.thresholds.confident);
        assert!(distance < Rule::CLASS_PHOTO.thresholds.confident);
        let faces = [face(Grade::Good, &e)];
        let door = judge(&faces, &gallery, &Rule::DOOR);
        let photo = judge(&faces, &gallery, &Rule::CLASS_PHOTO);
        assert_eq!(door[0].as_ref().unwrap().decision, Decision::Uncertain);
        assert_eq!(photo[0].as_ref().unwrap().named(), Some(students[0]));
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
