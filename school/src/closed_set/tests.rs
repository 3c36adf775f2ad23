//! A lesson in Lab 3 on a Monday, 09:00–10:00, with up to three students whose templates lie
//! 0.30 rad apart in one plane (neighbours about 0.30 apart), stored in a real (in-memory)
//! SQLite database; records stored as ingest stores them.

use chrono::NaiveDate;
use rollcall_shared::{
    ClassId, Decision, DeviceId, EMBEDDING_DIM, Embedding, LivenessCheck, SiteZone,
};
use rollcall_store::records::Status;
use rollcall_store::register::ClosedSession;
use rollcall_store::school::{self, Class, NewEnrolment, Profile, Source as Enrolled, Student};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{audit, consent};
use uuid::Uuid;

use super::*;
use crate::arrival;

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn rules() -> Rules {
    Rules {
        zone: SiteZone::named("Europe/London").unwrap(),
        late_after_minutes: 10,
        early_minutes: 10,
    }
}

fn at(hh: u16, mm: u16) -> UnixMillis {
    rules().instant(monday(), hh * 60 + mm)
}

/// Student `k`'s template: the unit vector at `0.30 × k` rad in the plane of axes 0 and 1.
fn template(k: usize) -> Embedding {
    let angle = 0.30 * k as f32;
    let mut v = [0.0; EMBEDDING_DIM];
    (v[0], v[1]) = (angle.cos(), angle.sin());
    Embedding(v)
}

/// A face `distance` (a chord) from `of`, turned out of the plane towards axis `toward` (≥ 2).
fn near(of: &Embedding, toward: usize, distance: f32) -> Embedding {
    let angle = 2.0 * (distance / 2.0).asin();
    let mut v = of.0.map(|x| x * angle.cos());
    v[toward] = angle.sin();
    Embedding(v)
}

/// Nobody of the lesson: a unit vector out of its plane.
fn nobody(axis: usize) -> Embedding {
    let mut v = [0.0; EMBEDDING_DIM];
    v[axis] = 1.0;
    Embedding(v)
}

struct Lesson {
    conn: rusqlite::Connection,
    students: Vec<StudentId>,
    device: DeviceId,
    session: Session,
    model: ModelId,
}

/// A new class `name`, stored.
fn new_class(conn: &rusqlite::Connection, name: &str) -> Class {
    let class = Class {
        id: ClassId::random(),
        name: name.into(),
        teacher_id: None,
        created_at: UnixMillis(0),
        code: None,
    };
    school::insert_class(conn, &class).unwrap();
    class
}

/// A new active student `name` whose consent is given, stored, with `template` enrolled.
fn new_student(
    conn: &rusqlite::Connection,
    name: &str,
    template: &Embedding,
    model: &ModelId,
) -> StudentId {
    let student = Student {
        id: StudentId::random(),
        name: name.into(),
        external_ref: None,
        created_at: UnixMillis(0),
        consent: consent::State::Given,
        profile: Profile::default(),
    };
    school::insert_student(conn, &student).unwrap();
    let enrolment = NewEnrolment {
        student: student.id,
        model: model.as_str(),
        embedding: template,
        quality: None,
        thumbnail: None,
        figures: None,
        source: Enrolled::Api,
        record: None,
        at: UnixMillis(0),
    };
    school::insert_enrolment(conn, &enrolment).unwrap();
    student.id
}

/// The lesson, with `n` students enrolled ([`template`]).
fn lesson(n: usize) -> Lesson {
    let conn = rollcall_store::memory();
    let model = ModelId::new("m").unwrap();
    let class = new_class(&conn, "7B");
    let mut students = Vec::new();
    for k in 0..n {
        let student = new_student(&conn, &format!("Student {k}"), &template(k), &model);
        school::add_member(&conn, class.id, student, None).unwrap();
        students.push(student);
    }
    let slot = Slot {
        id: Uuid::now_v7(),
        class_id: class.id,
        room: "Lab 3".into(),
        weekday: 1,
        start_minute: 9 * 60,
        end_minute: 10 * 60,
        valid_from: None,
        valid_until: None,
    };
    timetable::insert_slot(&conn, &slot).unwrap();
    let device = DeviceId::random();
    rollcall_store::register_device(&conn, device);
    Lesson {
        conn,
        students,
        device,
        session: Session {
            slot,
            day: monday(),
        },
        model,
    }
}

impl Lesson {
    /// Stores a record the door made of `embedding` at `when`, with its candidates.
    fn arrives(
        &self,
        embedding: Embedding,
        decision: Decision,
        candidates: &[StudentId],
        when: UnixMillis,
    ) -> rollcall_shared::AttendanceRecord {
        let mut r = rollcall_store::sample_record(decision, when.0, candidates);
        r.device = self.device;
        r.embedding = embedding;
        r.quality.detector_score = 0.999;
        r.model = self.model.clone();
        arrival::store(&self.conn, &r, when).unwrap();
        r
    }

    fn name(&self, arrived: UnixMillis, now: UnixMillis) -> Vec<Named> {
        let rules = rules();
        let naming = Naming {
            rules: &rules,
            model: &self.model,
            now,
        };
        let room = [("Lab 3".to_string(), arrived)];
        after_arrivals(&self.conn, &room, &naming).unwrap()
    }

    fn status(&self, r: &rollcall_shared::AttendanceRecord) -> (Status, Option<StudentId>) {
        let v = records::get(&self.conn, r.id).unwrap();
        (v.status, v.final_student)
    }
}

#[test]
fn a_card_is_named_once_its_rival_is_marked_and_audited() {
    let l = lesson(3);
    let [a, b, _] = l.students[..] else { panic!() };
    // Student b's face, at 0.20 rad in the plane and 0.12 out of it: 0.156 from b and 0.232
    // from a, within the margin (0.08) of each other, so the door could not tell.
    let card_face = {
        let (angle, out) = (0.20f32, 0.12f32);
        let mut v = [0.0; EMBEDDING_DIM];
        (v[0], v[1], v[50]) = (angle.cos() * out.cos(), angle.sin() * out.cos(), out.sin());
        Embedding(v)
    };
    assert!((card_face.distance(&template(1)) - 0.156).abs() < 0.001);
    assert!((card_face.distance(&template(0)) - 0.232).abs() < 0.001);
    let card = l.arrives(card_face, Decision::Uncertain, &[b, a], at(9, 1));
    assert!(
        l.name(at(9, 1), at(9, 11)).is_empty(),
        "a is still unmarked"
    );
    assert_eq!(l.status(&card), (Status::Pending, None));
    // Student a walks in and is named by the door: the card's rival is marked. Until the
    // lesson's arrivals are in (09:10, late_after_minutes after its start), nothing is named.
    l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Confident,
        &[a],
        at(9, 2),
    );
    assert!(
        l.name(at(9, 2), at(9, 9)).is_empty(),
        "the arrivals are not in"
    );
    assert_eq!(l.status(&card), (Status::Pending, None));
    let named = l.name(at(9, 2), at(9, 11));
    assert_eq!(named.len(), 1);
    assert_eq!(
        (named[0].record, named[0].student),
        (card.id, b),
        "{named:?}"
    );
    assert_eq!(l.status(&card), (Status::Approved, Some(b)));
    let view = records::get(&l.conn, card.id).unwrap();
    assert_eq!(view.reviewed_by.as_deref(), Some(SYSTEM_USER));
    assert_eq!(view.review_note.as_deref(), Some(NOTE));
    let logged = audit::recent(&l.conn, 10).unwrap();
    assert!(
        logged
            .iter()
            .any(|e| e.action == "record.named_with_lesson"
                && e.target == format!("record:{}", card.id)),
        "{logged:?}"
    );
    // Named once: nothing more to do.
    assert!(l.name(at(9, 3), at(9, 12)).is_empty());
}

#[test]
fn a_teachers_decision_a_stranger_and_a_face_nearest_a_marked_student_are_left_alone() {
    let l = lesson(2);
    let [a, b] = l.students[..] else { panic!() };
    l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Confident,
        &[a],
        at(8, 58),
    );
    // Between a (0.10, marked) and b (0.20, within the band and clear of any other unmarked
    // student): most likely a again, never named as b.
    let between = {
        let mut v = [0.0; EMBEDDING_DIM];
        (v[0], v[1]) = (0.1f32.cos(), 0.1f32.sin());
        Embedding(v)
    };
    assert!(between.distance(&template(1)) < 0.21);
    let again = l.arrives(between, Decision::Uncertain, &[a, b], at(9, 5));
    // Nobody of the lesson: 1.41 from everyone.
    let stranger = l.arrives(nobody(5), Decision::Uncertain, &[b], at(9, 6));
    // b's face, rejected by the teacher before the lesson was named.
    let decided = l.arrives(
        near(&template(1), 104, 0.1),
        Decision::Uncertain,
        &[b],
        at(9, 7),
    );
    let review = Review {
        status: Status::Rejected,
        final_student: None,
        by: "user:tess",
        at: at(9, 8),
        note: None,
    };
    records::review(&l.conn, decided.id, &review).unwrap();
    assert!(l.name(at(9, 8), at(9, 11)).is_empty());
    assert_eq!(l.status(&again), (Status::Pending, None));
    assert_eq!(l.status(&stranger), (Status::Pending, None));
    assert_eq!(l.status(&decided), (Status::Rejected, None));
}

#[test]
fn cards_judged_not_live_or_with_an_unsure_clock_are_never_named() {
    let l = lesson(2);
    let [_, b] = l.students[..] else { panic!() };
    let photo = {
        let mut r = rollcall_store::sample_record(Decision::Uncertain, at(9, 1).0, &[b]);
        (r.device, r.embedding, r.model) =
            (l.device, near(&template(1), 101, 0.1), l.model.clone());
        r.quality.detector_score = 0.999;
        r.liveness = Some(LivenessCheck {
            live: false,
            real_score: 0.1,
        });
        arrival::store(&l.conn, &r, at(9, 1)).unwrap();
        r
    };
    assert!(l.name(at(9, 1), at(9, 11)).is_empty());
    assert_eq!(l.status(&photo), (Status::Pending, None));
    let mut unsure = rollcall_store::sample_record(Decision::Uncertain, at(9, 2).0, &[b]);
    (unsure.device, unsure.embedding) = (l.device, near(&template(1), 102, 0.05));
    (unsure.model, unsure.clock) = (l.model.clone(), rollcall_shared::ClockSync::Unsynchronised);
    unsure.quality.detector_score = 0.999;
    arrival::store(&l.conn, &unsure, at(9, 2)).unwrap();
    assert!(l.name(at(9, 2), at(9, 11)).is_empty());
}

#[test]
fn a_lesson_whose_register_is_written_or_that_shares_its_room_is_not_a_closed_set() {
    let l = lesson(1);
    let [a] = l.students[..] else { panic!() };
    let card = l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Uncertain,
        &[a],
        at(9, 1),
    );
    // Another class timetabled in Lab 3 at 09:30: the arrivals are not one class's.
    let other = new_class(&l.conn, "8C");
    let shared = Slot {
        id: Uuid::now_v7(),
        class_id: other.id,
        start_minute: 9 * 60 + 30,
        end_minute: 11 * 60,
        ..l.session.slot.clone()
    };
    timetable::insert_slot(&l.conn, &shared).unwrap();
    assert!(l.name(at(9, 1), at(9, 11)).is_empty());
    timetable::delete_slot(&l.conn, shared.id).unwrap();
    // The register written: a late card waits for a teacher.
    let closed = ClosedSession {
        slot: l.session.slot.clone(),
        day: monday(),
        class_name: "7B".into(),
        starts_at: at(9, 0),
        ends_at: at(10, 0),
        closed_at: at(10, 30),
    };
    register::write(&l.conn, &closed, &[]).unwrap();
    assert!(l.name(at(9, 1), at(10, 31)).is_empty());
    assert_eq!(l.status(&card), (Status::Pending, None));
}

#[test]
fn a_card_nearest_a_student_of_another_class_is_left_to_a_teacher() {
    let l = lesson(2);
    let [a, _] = l.students[..] else { panic!() };
    // Student x of class 8C, enrolled 0.12 from a: a face 0.08 from x is 0.17 from a, inside
    // the lesson's band and clear of b, but x's.
    let x_template = near(&template(0), 60, 0.12);
    new_student(&l.conn, "Student x", &x_template, &l.model);
    let passing = near(&x_template, 61, 0.08);
    assert!(passing.distance(&template(0)) < Thresholds::LESSON.confident);
    let card = l.arrives(passing, Decision::Uncertain, &[a], at(9, 3));
    assert!(l.name(at(9, 3), at(9, 11)).is_empty());
    assert_eq!(l.status(&card), (Status::Pending, None));
}

#[test]
fn before_the_register_is_written_a_last_pass_names_what_it_can() {
    let l = lesson(2);
    let [a, _] = l.students[..] else { panic!() };
    let card = l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Uncertain,
        &[a],
        at(9, 1),
    );
    let rules = rules();
    let closed = crate::register::close_due(&l.conn, &rules, 0, at(10, 1), Some(&l.model)).unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(l.status(&card), (Status::Approved, Some(a)));
    let entry = closed[0].entries.iter().find(|e| e.student == a).unwrap();
    assert_eq!(entry.code, "/", "present, from the card named: {closed:?}");
}

#[test]
fn the_scheduled_pass_names_a_lesson_once_when_its_arrivals_come_in() {
    let l = lesson(1);
    let [a] = l.students[..] else { panic!() };
    let card = l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Uncertain,
        &[a],
        at(9, 1),
    );
    let rules = rules();
    let pass = |since: UnixMillis, now: UnixMillis| {
        let naming = Naming {
            rules: &rules,
            model: &l.model,
            now,
        };
        arrivals_came_in(&l.conn, &naming, since).unwrap()
    };
    assert!(pass(at(9, 4), at(9, 9)).is_empty(), "not in yet");
    assert_eq!(l.status(&card), (Status::Pending, None));
    assert!(
        pass(at(9, 10), at(9, 11)).is_empty(),
        "came in before the last pass"
    );
    let named = pass(at(9, 9), at(9, 11));
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(l.status(&card), (Status::Approved, Some(a)));
}

#[test]
fn two_doors_into_one_room_are_one_lesson() {
    let l = lesson(2);
    let [a, b] = l.students[..] else { panic!() };
    // b's face at the back door, too close to a to tell while a is not marked.
    let back_door = DeviceId::random();
    rollcall_store::register_device(&l.conn, back_door);
    let between = {
        let mut v = [0.0; EMBEDDING_DIM];
        (v[0], v[1], v[50]) = (
            0.20f32.cos() * 0.12f32.cos(),
            0.20f32.sin() * 0.12f32.cos(),
            0.12f32.sin(),
        );
        Embedding(v)
    };
    let mut card = rollcall_store::sample_record(Decision::Uncertain, at(9, 1).0, &[b, a]);
    (card.device, card.embedding, card.model) = (back_door, between, l.model.clone());
    card.quality.detector_score = 0.999;
    arrival::store(&l.conn, &card, at(9, 1)).unwrap();
    // a comes in at the front door.
    l.arrives(
        near(&template(0), 101, 0.1),
        Decision::Confident,
        &[a],
        at(9, 2),
    );
    let named = l.name(at(9, 2), at(9, 11));
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(l.status(&card), (Status::Approved, Some(b)));
}

#[test]
fn a_student_seen_in_another_lesson_at_the_time_is_not_named_here() {
    let l = lesson(2);
    let [a, _] = l.students[..] else { panic!() };
    // a is also in 8C, timetabled in Lab 4 at the same time, and the door there named her.
    let other = new_class(&l.conn, "8C");
    school::add_member(&l.conn, other.id, a, None).unwrap();
    let lab4 = Slot {
        id: Uuid::now_v7(),
        class_id: other.id,
        room: "Lab 4".into(),
        ..l.session.slot.clone()
    };
    timetable::insert_slot(&l.conn, &lab4).unwrap();
    let mut there = rollcall_store::sample_record(Decision::Confident, at(9, 2).0, &[a]);
    (there.device, there.room, there.model) = (l.device, "Lab 4".into(), l.model.clone());
    arrival::store(&l.conn, &there, at(9, 2)).unwrap();
    // A face in Lab 3 near a (and near nobody else): a is in Lab 4, so it is not her.
    let card = l.arrives(
        near(&template(0), 102, 0.1),
        Decision::Uncertain,
        &[a],
        at(9, 3),
    );
    assert!(l.name(at(9, 3), at(9, 11)).is_empty());
    assert_eq!(l.status(&card), (Status::Pending, None));
}
