//! What a statement must say, and what a change of consent does to a student's faces.

use rollcall_shared::{
    ClassId, Decision, EMBEDDING_DIM, Embedding, GalleryEntry, GalleryState, GalleryVersion,
    ModelId,
};

use super::*;
use rollcall_store::engines::{each, read, write};
use rollcall_store::records::{Standing, Status};
use rollcall_store::school::{NewEnrolment, Source};
use rollcall_store::{gallery as sent, register_device_in, sample_record, school};

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

fn given() -> Statement {
    Statement {
        state: State::Given,
        by: Some("  Jane Doe (mother) ".into()),
        signed_on: Some(day("2026-09-01")),
        reference: Some("form 7A/12".into()),
        note: None,
    }
}

#[test]
fn a_statement_says_what_its_state_needs() {
    let today = day("2026-09-10");
    let ok = given().checked(today).unwrap();
    assert_eq!(ok.by.as_deref(), Some("Jane Doe (mother)"), "trimmed");

    for (broken, says) in [
        (
            Statement {
                by: None,
                ..given()
            },
            "by whom",
        ),
        (
            Statement {
                by: Some(" ".into()),
                ..given()
            },
            "by whom",
        ),
        (
            Statement {
                signed_on: None,
                ..given()
            },
            "signed form",
        ),
        (
            Statement {
                reference: None,
                ..given()
            },
            "reference",
        ),
        (
            Statement {
                signed_on: Some(day("2026-09-11")),
                ..given()
            },
            "2026-09-11 is not a date",
        ),
        (
            Statement {
                note: Some("a\u{7}b".into()),
                ..given()
            },
            "control characters",
        ),
        (
            Statement {
                state: State::Withdrawn,
                by: None,
                ..Statement::default()
            },
            "consent withdrawn must say by whom",
        ),
    ] {
        let e = broken.checked(today).unwrap_err().to_string();
        assert!(e.contains(says), "{e:?} should say {says:?}");
    }

    let objection = Statement {
        state: State::Objected,
        ..Statement::default()
    };
    assert_eq!(
        objection.checked(today).unwrap().by.as_deref(),
        Some(THE_STUDENT)
    );
    let requested = Statement {
        state: State::Requested,
        ..Statement::default()
    };
    assert!(
        requested.checked(today).is_ok(),
        "a request needs nobody's name"
    );
}

#[test]
fn only_refusal_withdrawal_and_objection_erase() {
    let erasing: Vec<State> = State::ALL.into_iter().filter(|s| erases(*s)).collect();
    assert_eq!(erasing, [State::Refused, State::Withdrawn, State::Objected]);
}

/// A student with consent given, a template, a record confirmed as them, a record waiting with
/// them named, and a gallery sent to a door unit holding them.
struct Held {
    student: StudentId,
    confirmed: rollcall_shared::RecordId,
    other: rollcall_shared::RecordId,
}

fn held(sql: &dyn Sql, now: UnixMillis) -> Result<Held, ConsentError> {
    let student = StudentId::random();
    let ada = school::Student {
        id: student,
        name: "Ada".into(),
        external_ref: None,
        created_at: now,
        consent: State::NotAsked,
        profile: Default::default(),
    };
    school::insert_student(sql, &ada)?;
    record(
        sql,
        student,
        &given().checked(day("2026-09-10"))?,
        "user:admin",
        now,
    )?;
    let embedding = Embedding([0.2; EMBEDDING_DIM]);
    school::insert_enrolment(
        sql,
        &NewEnrolment {
            student,
            model: "m",
            embedding: &embedding,
            quality: None,
            thumbnail: Some(b"jpeg"),
            figures: None,
            source: Source::Photo,
            record: None,
            at: now,
        },
    )?;
    let confirmed = sample_record(Decision::Confident, now.0, &[student]);
    let someone = StudentId::random();
    let other = sample_record(Decision::Uncertain, now.0, &[someone]);
    for (r, standing) in [
        (
            &confirmed,
            Standing {
                status: Status::Approved,
                final_student: Some(student),
            },
        ),
        (
            &other,
            Standing {
                status: Status::Pending,
                final_student: None,
            },
        ),
    ] {
        register_device_in(sql, r.device);
        rollcall_store::records::insert(sql, r, now, standing)?;
    }
    let mut state = GalleryState::empty(ModelId::new("m").unwrap());
    state.version = GalleryVersion(3);
    let entry = GalleryEntry {
        student,
        classes: vec![ClassId::random()],
        embeddings: vec![embedding],
    };
    state.entries.insert(student, entry);
    sent::save_sent(sql, confirmed.device, &state, now)?;
    Ok(Held {
        student,
        confirmed: confirmed.id,
        other: other.id,
    })
}

#[test]
fn withdrawal_erases_every_face_on_the_hub_and_keeps_the_student() {
    each(|db| {
        let now = UnixMillis(1_790_000_000_000);
        let h = write(db, |sql| {
            held(sql, now).map_err(|e| StoreError::Task(e.to_string()))
        })
        .unwrap();
        let withdrawal = Statement {
            state: State::Withdrawn,
            by: Some("Jane Doe (mother)".into()),
            ..Statement::default()
        };
        let done = write(db, |sql| {
            record(sql, h.student, &withdrawal, "user:admin", now)
                .map_err(|e| StoreError::Task(e.to_string()))
        })
        .unwrap();
        assert_eq!((done.before, done.state), (State::Given, State::Withdrawn));
        assert_eq!(
            done.erased,
            Erased {
                templates: 1,
                records: 1,
                held_back: 0
            }
        );
        read(db, |sql| {
            assert_eq!(school::student(sql, h.student)?.consent, State::Withdrawn);
            assert!(school::enrolments(sql, h.student)?.is_empty());
            assert!(!rollcall_store::records::exists(sql, h.confirmed)?);
            assert!(
                rollcall_store::records::exists(sql, h.other)?,
                "another's face stays"
            );
            let model = ModelId::new("m").unwrap();
            let device = rollcall_store::devices::list(sql)?
                .into_iter()
                .map(|d| d.id)
                .find(|d| sent::last_sent(sql, *d, &model).ok().flatten().is_some())
                .unwrap();
            let state = sent::last_sent(sql, device, &model)?.unwrap();
            assert!(
                state.entries[&h.student].embeddings.is_empty(),
                "no copy kept"
            );
            let history = rollcall_store::consent::history(sql, h.student)?;
            let states: Vec<_> = history.iter().map(|c| c.state).collect();
            assert_eq!(states, [State::Given, State::Withdrawn]);
            let audit = rollcall_store::audit::recent(sql, 10)?;
            assert!(audit.iter().any(|a| a.action == "consent.set"
                && a.after.as_ref().unwrap()["erased"]["templates"] == 1));
            Ok::<_, StoreError>(())
        });

        // No face of theirs can be kept again, by any path, until consent is given again.
        let embedding = Embedding([0.2; EMBEDDING_DIM]);
        let again = NewEnrolment {
            student: h.student,
            model: "m",
            embedding: &embedding,
            quality: None,
            thumbnail: None,
            figures: None,
            source: Source::Api,
            record: None,
            at: now,
        };
        let e = write(db, |sql| school::insert_enrolment(sql, &again)).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        assert!(!read(db, |sql| allows(sql, h.student)));
        let student = read(db, |sql| school::student(sql, h.student));
        let e = require(&student).unwrap_err().to_string();
        assert!(e.contains("Ada's consent is withdrawn"), "{e}");
    });
}
