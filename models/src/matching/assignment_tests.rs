use super::*;

const T: Thresholds = Thresholds {
    confident: 0.35,
    confident_weak: 0.30,
    uncertain: 0.45,
    min_margin: 0.08,
};

/// A face's distances to students `0..`, given as (student, distance) in any order.
fn face(distances: &[(u8, f32)]) -> Vec<Match<u8>> {
    let mut m: Vec<Match<u8>> = distances
        .iter()
        .map(|&(id, distance)| Match { id, distance })
        .collect();
    m.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    m
}

fn judge(faces: &[Vec<Match<u8>>]) -> Vec<Named<u8>> {
    judge_graded(
        &faces
            .iter()
            .map(|f| (Grade::Good, f.clone()))
            .collect::<Vec<_>>(),
    )
}

fn judge_graded(faces: &[(Grade, Vec<Match<u8>>)]) -> Vec<Named<u8>> {
    let faces: Vec<PhotoFace<u8>> = faces
        .iter()
        .map(|(grade, matches)| PhotoFace {
            grade: *grade,
            matches,
        })
        .collect();
    name_jointly(&faces, &T)
}

fn confident(student: u8) -> Named<u8> {
    Named {
        decision: Decision::Confident,
        student: Some(student),
    }
}

fn asked(student: Option<u8>) -> Named<u8> {
    Named {
        decision: Decision::Uncertain,
        student,
    }
}

const UNKNOWN: Named<u8> = Named {
    decision: Decision::Unknown,
    student: None,
};

#[test]
fn a_face_alone_is_judged_by_the_band_and_the_margin() {
    let v = judge(&[
        face(&[(0, 0.20), (1, 0.60)]),
        face(&[(2, 0.34), (3, 0.70)]),
        face(&[(4, 0.36), (5, 0.70)]),
        face(&[(6, 0.20), (7, 0.25)]),
    ]);
    assert_eq!(v[0], confident(0));
    assert_eq!(v[1], confident(2), "0.34 is within the band of 0.35");
    assert_eq!(v[2], asked(None), "outside the band, within uncertain");
    assert_eq!(
        v[3].decision,
        Decision::Uncertain,
        "runner-up within the margin"
    );
    assert_eq!(v[3].student, Some(6));
}

#[test]
fn two_faces_near_one_student_are_both_asked() {
    // Both faces are nearest to student 0 and about as near (0.10 and 0.12): either may be
    // them. A third face, clear of both, is named.
    let v = judge(&[
        face(&[(0, 0.10), (1, 0.30)]),
        face(&[(0, 0.12), (2, 0.60)]),
        face(&[(3, 0.15), (0, 0.70)]),
    ]);
    assert_eq!(v[0].decision, Decision::Uncertain);
    assert_eq!(v[1].decision, Decision::Uncertain);
    assert_eq!(v[2], confident(3));
    let named: Vec<_> = v.iter().filter_map(|n| n.student).collect();
    let mut distinct = named.clone();
    distinct.dedup();
    assert_eq!(named.len(), distinct.len(), "a student is one face");
}

#[test]
fn a_face_whose_nearest_is_clearly_another_faces_takes_its_next() {
    // Face 1 is student 0 beyond doubt (0.05, nobody else near); face 0 is nearer to student
    // 0 (0.12) than to student 1 (0.22), but student 0 is taken and the swap would cost far
    // more than the margin.
    let v = judge(&[
        face(&[(0, 0.12), (1, 0.22), (2, 0.60)]),
        face(&[(0, 0.05), (2, 0.70)]),
    ]);
    assert_eq!(v[0], confident(1));
    assert_eq!(v[1], confident(0));
}

#[test]
fn a_swap_within_the_margin_asks_both_faces() {
    // The best assignment is 0→1, 1→0 (0.30 + 0.12 = 0.42); the other way round costs 0.10 +
    // unnamed face 1: within the margin of it.
    let v = judge(&[face(&[(0, 0.10), (1, 0.30)]), face(&[(0, 0.12)])]);
    assert_eq!(v[0].decision, Decision::Uncertain);
    assert_eq!(v[1].decision, Decision::Uncertain);
    assert_ne!(v[0].student, v[1].student);
}

#[test]
fn more_faces_than_students() {
    // Five faces, two students: each student once, the rest unnamed.
    let v = judge(&[
        face(&[(0, 0.10), (1, 0.60)]),
        face(&[(1, 0.12), (0, 0.60)]),
        face(&[(0, 0.50), (1, 0.55)]),
        face(&[(0, 0.80), (1, 0.90)]),
        face(&[(1, 0.41), (0, 0.90)]),
    ]);
    assert_eq!(v[..2], [confident(0), confident(1)]);
    assert_eq!(v[2], UNKNOWN);
    assert_eq!(v[3], UNKNOWN);
    assert_eq!(v[4], asked(None), "a stranger near somebody is asked about");
}

#[test]
fn a_stranger_near_a_named_student_makes_the_name_unclear() {
    // A stranger (0.38 from student 0, just outside the band) and student 0's own face (0.33):
    // the stranger explains student 0 within the margin, so neither face names them.
    let v = judge(&[face(&[(0, 0.33), (1, 0.80)]), face(&[(0, 0.38), (1, 0.90)])]);
    assert_eq!(v[0], asked(Some(0)));
    assert_eq!(v[1], asked(None));
    // Far enough apart, the student's face is named.
    let v = judge(&[face(&[(0, 0.20), (1, 0.80)]), face(&[(0, 0.40), (1, 0.90)])]);
    assert_eq!(v[0], confident(0));
    assert_eq!(v[1], asked(None));
}

#[test]
fn a_tie_is_never_guessed() {
    let v = judge(&[face(&[(0, 0.20)]), face(&[(0, 0.20)])]);
    assert_eq!(v[0].decision, Decision::Uncertain);
    assert_eq!(v[1].decision, Decision::Uncertain);
    assert_eq!(
        v.iter().filter(|n| n.student == Some(0)).count(),
        1,
        "one of them is the assignment's, for the page to show first"
    );
}

#[test]
fn grades_set_the_band() {
    let v = judge_graded(&[
        (Grade::Weak, face(&[(0, 0.32)])),
        (Grade::Weak, face(&[(1, 0.28)])),
        (Grade::Unclear, face(&[(2, 0.05)])),
    ]);
    assert_eq!(v[0], asked(None), "outside a weak face's band of 0.30");
    assert_eq!(v[1], confident(1));
    assert_eq!(v[2], asked(None), "an unclear face never names anybody");
}

#[test]
fn no_faces_and_faces_without_matches() {
    assert!(judge(&[]).is_empty());
    assert_eq!(judge(&[face(&[])]), [UNKNOWN]);
}
