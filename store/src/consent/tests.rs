//! Consent states and their history on both engines.

use rollcall_shared::{EMBEDDING_DIM, Embedding};

use super::*;
use crate::engines::{each, read, write};
use crate::school::{self, NewEnrolment, Source, Student};
use crate::timetable::tests::new_class;

fn change(student: StudentId, state: State, at: i64) -> Change {
    Change {
        student,
        state,
        by: Some("Jane Doe (mother)".into()),
        signed_on: NaiveDate::from_ymd_opt(2026, 9, 1),
        reference: Some("form 7A/12".into()),
        note: None,
        recorded_by: "user:admin".into(),
        recorded_at: UnixMillis(at),
    }
}

/// A student nobody has asked yet, stored.
fn new_student(sql: &dyn Sql, name: &str) -> StudentId {
    let student = Student {
        id: StudentId::random(),
        name: name.into(),
        external_ref: None,
        created_at: UnixMillis(0),
        consent: State::NotAsked,
        profile: Default::default(),
    };
    school::insert_student(sql, &student).unwrap();
    student.id
}

/// A template of `student`, stored whatever their consent, as a hub from before consent
/// was recorded kept them.
fn template(sql: &dyn Sql, student: StudentId) {
    let state = state_of(sql, student).unwrap();
    sql.execute(SET_STATE, params![student.to_string(), "given"])
        .unwrap();
    let embedding = Embedding([0.1; EMBEDDING_DIM]);
    let new = NewEnrolment {
        student,
        model: "m",
        embedding: &embedding,
        quality: None,
        thumbnail: Some(b"jpeg"),
        figures: None,
        source: Source::Photo,
        record: None,
        at: UnixMillis(1),
    };
    school::insert_enrolment(sql, &new).unwrap();
    sql.execute(SET_STATE, params![student.to_string(), state.as_str()])
        .unwrap();
}

#[test]
fn a_student_starts_not_asked_and_every_change_is_kept_in_order() {
    each(|db| {
        let ada = write(db, |sql| Ok(new_student(sql, "Ada"))).unwrap();
        assert_eq!(read(db, |sql| state_of(sql, ada)), State::NotAsked);
        assert!(read(db, |sql| history(sql, ada)).is_empty());

        let given = change(ada, State::Given, 10);
        let withdrawn = Change {
            signed_on: None,
            reference: None,
            note: Some("by letter".into()),
            ..change(ada, State::Withdrawn, 20)
        };
        write(db, |sql| record(sql, &given)).unwrap();
        assert_eq!(read(db, |sql| state_of(sql, ada)), State::Given);
        write(db, |sql| record(sql, &withdrawn)).unwrap();
        assert_eq!(read(db, |sql| state_of(sql, ada)), State::Withdrawn);
        assert_eq!(read(db, |sql| history(sql, ada)), [given, withdrawn]);

        let nobody = StudentId::random();
        let e = write(db, |sql| record(sql, &change(nobody, State::Given, 30))).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("student")), "{e}");
        let e = db.read_blocking(|sql| state_of(sql, nobody)).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("student")), "{e}");
    });
}

#[test]
fn coverage_counts_each_class_by_state_and_the_faces_held_without_consent() {
    each(|db| {
        let (class, ada, bob, cy) = write(db, |sql| {
            let class = new_class(sql, "7A");
            let students = ["Ada", "Bob", "Cy"].map(|n| new_student(sql, n));
            for s in students {
                school::add_member(sql, class, s, None)?;
            }
            template(sql, students[0]);
            template(sql, students[1]);
            Ok((class, students[0], students[1], students[2]))
        })
        .unwrap();
        write(db, |sql| record(sql, &change(ada, State::Given, 1))).unwrap();
        write(db, |sql| record(sql, &change(cy, State::Refused, 1))).unwrap();

        let classes = read(db, coverage);
        assert_eq!(classes.len(), 1);
        let c = &classes[0];
        assert_eq!(
            (c.class_id, c.class_name.as_str(), c.students),
            (class, "7A", 3)
        );
        assert_eq!(c.by_state[&State::Given], 1);
        assert_eq!(c.by_state[&State::Refused], 1);
        assert_eq!(c.by_state[&State::NotAsked], 1);
        assert_eq!(c.by_state[&State::Objected], 0);
        assert_eq!(c.faces_without_consent, 1, "Bob's face, not yet asked");

        let states = read(db, |sql| in_class(sql, class));
        assert_eq!(states[&bob], State::NotAsked);
        assert_eq!(write(db, |sql| erase_templates(sql, bob)).unwrap(), 1);
        assert_eq!(read(db, coverage)[0].faces_without_consent, 0);
    });
}
