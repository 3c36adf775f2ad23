use super::*;
use crate::detect::iou;

fn face(frame: usize, x: f32, value: f32, weight: f32) -> Observation {
    let mut embedding = Embedding::ZERO;
    embedding[0] = value;
    Observation {
        grade: Grade::Good,
        frame,
        bbox: [x, 0.0, x + 100.0, 100.0],
        weight,
        embedding,
    }
}

const T: Thresholds = Thresholds {
    confident: 0.32,
    confident_weak: 0.28,
    uncertain: 0.40,
    min_margin: 0.08,
};

fn matches(best: f32) -> [Match<u8>; 2] {
    [
        Match {
            id: 1,
            distance: best,
        },
        Match {
            id: 2,
            distance: 0.6,
        },
    ]
}

#[test]
fn one_person_over_three_frames_is_one_person() {
    let faces = [
        face(0, 0.0, 0.0, 1.0),
        face(1, 5.0, 0.1, 3.0),
        face(2, 10.0, 0.05, 2.0),
    ];
    let people = combine(&faces, 0.5);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].members, [1, 2, 0], "best first");
    let expected = (0.0 * 1.0 + 0.1 * 3.0 + 0.05 * 2.0) / 6.0;
    assert!((people[0].embedding[0] - expected).abs() < 1e-6);
}

#[test]
fn a_person_is_their_best_grade_and_worse_faces_only_join_them() {
    let weak = Observation {
        grade: Grade::Weak,
        ..face(1, 5.0, 0.3, 9.0)
    };
    let unclear = Observation {
        grade: Grade::Unclear,
        ..face(2, 8.0, 0.2, 9.0)
    };
    let faces = [
        face(0, 0.0, 0.0, 1.0),
        weak.clone(),
        unclear.clone(),
        face(3, 10.0, 0.1, 1.0),
    ];
    let people = combine(&faces, 0.5);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].members, [0, 3, 1, 2], "good faces first");
    assert_eq!(people[0].grade(), Grade::Good);
    assert!(people[0].seen_clearly());
    assert_eq!(people[0].evidence(&faces).collect::<Vec<_>>(), [0, 3]);
    assert!(
        (people[0].embedding[0] - 0.05).abs() < 1e-6,
        "the good faces' mean"
    );

    let both = [weak, unclear];
    let people = combine(&both, 0.5);
    assert_eq!(people[0].grade(), Grade::Weak);
    assert!((people[0].embedding[0] - 0.3).abs() < 1e-6, "the weak face");
    let alone = combine(&both[1..], 0.5);
    assert!(!alone[0].seen_clearly());
    assert!((alone[0].embedding[0] - 0.2).abs() < 1e-6);
}

#[test]
fn two_people_side_by_side_stay_two_even_if_alike() {
    let faces = [
        face(0, 0.0, 0.0, 1.0),
        face(0, 300.0, 0.2, 1.0),
        face(1, 2.0, 0.01, 1.0),
        face(1, 302.0, 0.21, 1.0),
    ];
    let people = combine(&faces, 0.5);
    assert_eq!(people.len(), 2);
    for p in &people {
        let frames: Vec<usize> = p.members.iter().map(|&m| faces[m].frame).collect();
        assert!(frames.contains(&0) && frames.contains(&1), "{frames:?}");
        let xs: Vec<f32> = p.members.iter().map(|&m| faces[m].bbox[0]).collect();
        assert!(
            (xs[0] - xs[1]).abs() < 10.0,
            "faces joined by place: {xs:?}"
        );
    }
}

#[test]
fn strangers_far_apart_are_separate_and_overlap_loosens_the_bound() {
    let faces = [face(0, 0.0, 0.0, 1.0), face(1, 500.0, 0.9, 1.0)];
    assert_eq!(combine(&faces, 0.5).len(), 2);
    let faces = [face(0, 0.0, 0.0, 1.0), face(1, 3.0, 0.6, 1.0)];
    assert_eq!(
        combine(&faces, 0.5).len(),
        1,
        "same place, within 1.25 × join"
    );
    assert!((iou(&faces[0].bbox, &faces[1].bbox) - 0.942).abs() < 0.01);
}

#[test]
fn the_band_is_the_persons_grade() {
    let judge = |grade, best| {
        let faces = [Observation {
            grade,
            ..face(0, 0.0, 0.0, 1.0)
        }];
        let people = combine(&faces, 0.5);
        decide(&people[0], &faces, &matches(best), &T, |_| Some(1)).decision
    };
    assert_eq!(judge(Grade::Good, 0.30), Decision::Confident);
    assert_eq!(judge(Grade::Weak, 0.30), Decision::Uncertain);
    assert_eq!(judge(Grade::Weak, 0.27), Decision::Confident);
    assert_eq!(judge(Grade::Unclear, 0.10), Decision::Uncertain);
    assert_eq!(judge(Grade::Good, 0.45), Decision::Unknown);
}

#[test]
fn one_frame_naming_another_student_is_asked() {
    let faces = [face(0, 0.0, 0.0, 1.0), face(1, 2.0, 0.05, 1.0)];
    let people = combine(&faces, 0.5);
    let second_frame_disagrees = |e: &Embedding| if e[0] > 0.0 { Some(2u8) } else { Some(1) };
    let judged = decide(
        &people[0],
        &faces,
        &matches(0.2),
        &T,
        second_frame_disagrees,
    );
    assert_eq!(
        judged,
        Judgement {
            decision: Decision::Uncertain,
            disagreed: true
        }
    );
    let judged = decide(&people[0], &faces, &matches(0.2), &T, |_| Some(1));
    assert_eq!(judged.decision, Decision::Confident);
    assert!(!judged.disagreed);
}
