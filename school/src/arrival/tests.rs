use super::*;
use rollcall_shared::{Candidate, StaffId, StaffMatch, Thumbnail};

const NOW: i64 = 1_790_000_000_000;

fn place() -> Place {
    Place {
        device: DeviceId::random(),
        room: "Lab 3".into(),
        direction: Direction::In,
    }
}

fn judge_with<'a>(roster: &'a HashMap<StudentId, consent::State>) -> Judge<'a> {
    Judge {
        now: UnixMillis(NOW),
        window: Window::new(7 * 24, 10),
        unknown_faces: UnknownFaces::Keep,
        roster,
    }
}

fn sample(decision: Decision, students: &[StudentId]) -> AttendanceRecord {
    rollcall_store::sample_record(decision, NOW - 60_000, students)
}

#[test]
fn confident_counts_at_once_for_the_best_candidate_and_the_rest_wait() {
    let (best, second) = (StudentId::random(), StudentId::random());
    let sample = |d| sample(d, &[best, second]);
    assert_eq!(
        standing(&sample(Decision::Confident)),
        Standing {
            status: Status::Approved,
            final_student: Some(best)
        }
    );
    for waits in [Decision::Uncertain, Decision::Unknown] {
        assert_eq!(
            standing(&sample(waits)),
            Standing {
                status: Status::Pending,
                final_student: None
            }
        );
    }
}

#[test]
fn a_record_is_stored_as_its_unit_is_registered_whatever_it_claims() {
    let ada = StudentId::random();
    let roster = HashMap::from([(ada, consent::State::Given)]);
    let mut record = sample(Decision::Confident, &[ada]);
    record.candidates[0].distance = CONFIDENT.band / 2.0;
    record.room = "Gym".into();
    record.direction = Some(Direction::Out);
    let Verdict::Store(arrival) = judge(&mut record, &place(), &judge_with(&roster)) else {
        panic!("stored")
    };
    assert_eq!(
        arrival,
        Arrival {
            face: Face::Kept,
            claimed_room: Some("Gym".into()),
            claimed_direction: Some(Direction::Out),
            teaches: true,
        }
    );
    assert_eq!(
        (record.room.as_str(), record.direction),
        ("Lab 3", Some(Direction::In))
    );

    // A version-4 unit says no direction: given its registration, nothing claimed.
    let mut record = sample(Decision::Uncertain, &[ada]);
    record.direction = None;
    let Verdict::Store(arrival) = judge(&mut record, &place(), &judge_with(&roster)) else {
        panic!("stored")
    };
    assert_eq!(
        (arrival.claimed_room, arrival.claimed_direction),
        (None, None)
    );
    assert!(!arrival.teaches, "only a Confident capture teaches");
    assert_eq!(record.direction, Some(Direction::In));
}

#[test]
fn a_face_without_consent_given_is_not_kept_but_the_record_counts() {
    let (ada, bo) = (StudentId::random(), StudentId::random());
    let roster = HashMap::from([
        (ada, consent::State::Withdrawn),
        (bo, consent::State::Given),
    ]);
    let mut record = sample(Decision::Confident, &[ada, bo]);
    record.thumbnail = Some(Thumbnail(vec![0xff, 0xd8]));
    let Verdict::Store(arrival) = judge(&mut record, &place(), &judge_with(&roster)) else {
        panic!("stored")
    };
    assert_eq!(arrival.face, Face::Forgotten);
    assert_eq!(
        record.thumbnail, None,
        "nor kept should the store refuse it"
    );

    // A face that matched nobody names nobody's consent: kept for review.
    let mut unknown = sample(Decision::Unknown, &[ada]);
    let Verdict::Store(arrival) = judge(&mut unknown, &place(), &judge_with(&roster)) else {
        panic!("stored")
    };
    assert_eq!(arrival.face, Face::Kept);
}

#[test]
fn a_record_not_believed_is_held_and_a_face_the_school_keeps_none_of_is_discarded() {
    let (ada, ghost) = (StudentId::random(), StudentId::random());
    let roster = HashMap::from([(ada, consent::State::Given)]);
    let mut record = sample(Decision::Uncertain, &[ada, ghost]);
    let verdict = judge(&mut record, &place(), &judge_with(&roster));
    assert!(
        matches!(verdict, Verdict::Hold(Doubt::UnknownStudent(s)) if s == ghost),
        "{verdict:?}"
    );
    let mut old =
        rollcall_store::sample_record(Decision::Confident, NOW - 8 * 24 * 3_600_000, &[ada]);
    let verdict = judge(&mut old, &place(), &judge_with(&roster));
    assert!(
        matches!(verdict, Verdict::Hold(Doubt::TooOld { .. })),
        "{verdict:?}"
    );

    let discarding = Judge {
        unknown_faces: UnknownFaces::Discard,
        ..judge_with(&roster)
    };
    let mut unknown = sample(Decision::Unknown, &[ada]);
    assert!(matches!(
        judge(&mut unknown, &place(), &discarding),
        Verdict::Discard
    ));
    let mut uncertain = sample(Decision::Uncertain, &[ada]);
    assert!(matches!(
        judge(&mut uncertain, &place(), &discarding),
        Verdict::Store(_)
    ));
}

#[test]
fn a_member_of_staff_is_logged_as_the_gate_is_registered_when_believed() {
    let roster = HashMap::new();
    let member = StaffMatch {
        member: StaffId::random(),
        distance: 0.2,
    };
    let gate = place();
    let mut record = sample(Decision::Confident, &[]);
    record.staff = Some(member);
    let Verdict::Staff(Ok(seen)) = judge(&mut record, &gate, &judge_with(&roster)) else {
        panic!("logged")
    };
    assert_eq!(
        (seen.device, seen.direction, seen.at),
        (gate.device, Direction::In, record.captured_at)
    );
    let mut late =
        rollcall_store::sample_record(Decision::Confident, NOW - 8 * 24 * 3_600_000, &[]);
    late.staff = Some(member);
    let verdict = judge(&mut late, &gate, &judge_with(&roster));
    assert!(
        matches!(verdict, Verdict::Staff(Err(Doubt::TooOld { .. }))),
        "{verdict:?}"
    );
}

#[test]
fn only_a_confident_capture_close_to_its_best_candidate_teaches() {
    let ada = StudentId::random();
    let roster = HashMap::from([(ada, consent::State::Given)]);
    let mut far = sample(Decision::Confident, &[]);
    far.candidates = vec![Candidate {
        student: ada,
        distance: CONFIDENT.band + 0.01,
    }];
    let Verdict::Store(arrival) = judge(&mut far, &place(), &judge_with(&roster)) else {
        panic!("stored")
    };
    assert!(!arrival.teaches);
}
