//! Classes, students, membership and enrolments on both engines.

use rollcall_shared::{EMBEDDING_DIM, RecordId};

use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::sql::{Sql, params};
use crate::timetable::tests::new_class;

fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> Result<T, StoreError> {
    db.write_blocking(f)
}

fn read<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.read_blocking(f).unwrap()
}

/// A student named `name` whose parent consented, stored.
pub(crate) fn new_student(sql: &dyn Sql, name: &str) -> StudentId {
    let id = StudentId::random();
    let student = Student {
        id,
        name: name.into(),
        external_ref: None,
        created_at: UnixMillis(0),
        consent: consent::State::Given,
        profile: Default::default(),
    };
    insert_student(sql, &student).unwrap();
    id
}

#[test]
fn class_names_are_unique_and_list_in_order() {
    each(|db| {
        let teacher = Uuid::now_v7();
        let (b, a) = write(db, |sql| Ok((new_class(sql, "7B"), new_class(sql, "7A")))).unwrap();
        let twin = Class {
            id: ClassId::random(),
            ..read(db, |sql| class(sql, a))
        };
        let e = write(db, |sql| insert_class(sql, &twin)).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        let names = |db| {
            read(db, classes)
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(db), ["7A", "7B"]);
        let mut renamed = read(db, |sql| class(sql, b));
        renamed.name = "7A".into();
        let e = write(db, |sql| update_class(sql, &renamed)).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        renamed.name = "6B".into();
        write(db, |sql| {
            sql.execute(
                "INSERT INTO users (id, username, display_name, role, password_hash, created_at)
                 VALUES (?1, 't', 'T', 'teacher', 'h', 0)",
                params![teacher.to_string()],
            )
        })
        .unwrap();
        renamed.teacher_id = Some(teacher);
        write(db, |sql| update_class(sql, &renamed)).unwrap();
        assert_eq!(read(db, |sql| class(sql, b)), renamed);
        write(db, |sql| delete_class(sql, a)).unwrap();
        assert_eq!(read(db, classes), [renamed]);
        let e = db.read_blocking(|sql| class(sql, a)).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("class")), "{e}");
    });
}

#[test]
fn a_class_code_is_kept_found_and_unique() {
    each(|db| {
        let (a, b) = write(db, |sql| Ok((new_class(sql, "7A"), new_class(sql, "7B")))).unwrap();
        let mut seven_a = read(db, |sql| class(sql, a));
        seven_a.code = Some("7A/Ma1".into());
        write(db, |sql| update_class(sql, &seven_a)).unwrap();
        assert_eq!(
            read(db, |sql| class(sql, a)).code.as_deref(),
            Some("7A/Ma1")
        );
        assert_eq!(read(db, |sql| class_by_code(sql, "7A/Ma1")), Some(a));
        assert_eq!(read(db, |sql| class_by_code(sql, "7a/ma1")), None);

        let mut seven_b = read(db, |sql| class(sql, b));
        seven_b.code = seven_a.code.clone();
        let e = write(db, |sql| update_class(sql, &seven_b)).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"conflict: class code "7A/Ma1" is already "7A"'s"#
        );
        seven_b.code = Some(String::new());
        let e = write(db, |sql| update_class(sql, &seven_b));
        assert!(e.is_err(), "an empty code is no code");
        seven_b.code = None;
        write(db, |sql| update_class(sql, &seven_b)).unwrap();
    });
}

#[test]
fn a_students_contact_is_kept_apart_and_goes_with_them() {
    each(|db| {
        let (ada, bo) = write(db, |sql| {
            Ok((new_student(sql, "Ada"), new_student(sql, "Bo")))
        })
        .unwrap();
        let reach = Contact {
            email: Some("ada@pupils.school.test".into()),
            phone: Some("+44 7700 900123".into()),
        };
        write(db, |sql| set_contact(sql, ada, &reach)).unwrap();
        assert_eq!(read(db, |sql| contact(sql, ada)), reach);
        assert_eq!(read(db, |sql| contact(sql, bo)), Contact::default());
        let all = read(db, contacts);
        assert_eq!(all.len(), 1, "only students the office can reach");
        assert_eq!(all[&ada], reach);

        write(db, |sql| delete_student(sql, ada)).unwrap();
        assert!(read(db, contacts).is_empty());
        let left = db.read_blocking(|sql| {
            sql.rows(
                "SELECT 1 FROM students WHERE email IS NOT NULL OR phone IS NOT NULL",
                &[],
            )
        });
        assert!(left.unwrap().is_empty(), "erased with the student");
    });
}

#[test]
fn members_join_once_and_leavers_lose_their_faces() {
    each(|db| {
        let (class, ada, bo) = write(db, |sql| {
            Ok((
                new_class(sql, "7A"),
                new_student(sql, "Ada"),
                new_student(sql, "Bo"),
            ))
        })
        .unwrap();
        write(db, |sql| {
            add_member(sql, class, bo, None)?;
            add_member(sql, class, ada, None)?;
            add_member(sql, class, ada, None)
        })
        .unwrap();
        let names = |v: Vec<Student>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(read(db, |sql| members(sql, class))), ["Ada", "Bo"]);
        assert_eq!(read(db, |sql| classes_of(sql, ada)), [class]);
        let stranger = StudentId::random();
        let found = read(db, |sql| on_roster(sql, [ada, stranger]));
        assert_eq!(found, HashMap::from([(ada, consent::State::Given)]));
        let embedding = Embedding([0.25; EMBEDDING_DIM]);
        write(db, |sql| {
            insert_enrolment(sql, &enrolment(ada, &embedding, 5))
        })
        .unwrap();
        write(db, |sql| {
            remove_member(sql, class, ada)?;
            note_leavers(sql, UnixMillis(10))?;
            note_leavers(sql, UnixMillis(20))
        })
        .unwrap();
        assert!(read(db, |sql| classes_of(sql, ada)).is_empty());
        assert_eq!(
            write(db, |sql| purge_leavers_faces(sql, UnixMillis(10))).unwrap(),
            0
        );
        assert_eq!(
            write(db, |sql| purge_leavers_faces(sql, UnixMillis(11))).unwrap(),
            1
        );
        assert!(read(db, |sql| enrolments(sql, ada)).is_empty());
        write(db, |sql| add_member(sql, class, ada, None)).unwrap();
        write(db, |sql| note_leavers(sql, UnixMillis(30))).unwrap();
        let left_at: Option<i64> = read(db, |sql| {
            sql.query_one(
                "SELECT left_at FROM students WHERE id = ?1",
                params![ada.to_string()],
                "student",
                |r| r.get(0),
            )
        });
        assert_eq!(left_at, None);
    });
}

fn enrolment<'a>(student: StudentId, embedding: &'a Embedding, at: i64) -> NewEnrolment<'a> {
    NewEnrolment {
        student,
        model: "m",
        embedding,
        quality: Some(0.5),
        thumbnail: Some(b"jpeg"),
        figures: None,
        source: Source::Photo,
        record: None,
        at: UnixMillis(at),
    }
}

#[test]
fn enrolments_round_trip_and_a_bad_one_is_left_out() {
    each(|db| {
        let ada = write(db, |sql| Ok(new_student(sql, "Ada"))).unwrap();
        let embedding = Embedding([0.25; EMBEDDING_DIM]);
        let photo = write(db, |sql| {
            insert_enrolment(sql, &enrolment(ada, &embedding, 1))
        })
        .unwrap();
        let learned_ids = write(db, |sql| {
            let door = NewEnrolment {
                source: Source::Door,
                record: Some(RecordId::now_v7()),
                ..enrolment(ada, &embedding, 3)
            };
            let review = NewEnrolment {
                source: Source::Review,
                ..enrolment(ada, &embedding, 2)
            };
            Ok([
                insert_enrolment(sql, &door)?,
                insert_enrolment(sql, &review)?,
            ])
        })
        .unwrap();
        let learned = read(db, |sql| learned(sql, ada, "m"));
        assert_eq!(
            learned,
            [
                (learned_ids[1], UnixMillis(2)),
                (learned_ids[0], UnixMillis(3))
            ]
        );
        write(db, |sql| {
            sql.execute(
                "INSERT INTO embeddings (id, student_id, model, embedding, created_at)
                 VALUES (?1, ?2, 'm', ?3, 0)",
                params![
                    Uuid::now_v7().to_string(),
                    ada.to_string(),
                    vec![1_u8, 2, 3]
                ],
            )
        })
        .unwrap();
        let all = read(db, |sql| enrolments(sql, ada));
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0],
            Enrolment {
                id: photo,
                model: "m".into(),
                embedding,
                quality: Some(0.5),
                created_at: UnixMillis(1),
                active: true,
            }
        );
        write(db, |sql| delete_enrolment(sql, photo)).unwrap();
        assert_eq!(read(db, |sql| enrolments(sql, ada)).len(), 2);
        write(db, |sql| delete_student(sql, ada)).unwrap();
        assert!(read(db, |sql| enrolments(sql, ada)).is_empty());
        let e = db.read_blocking(|sql| student(sql, ada)).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("student")), "{e}");
    });
}

#[test]
fn students_list_by_name_and_change() {
    each(|db| {
        let (bo, ada) = write(db, |sql| {
            Ok((new_student(sql, "Bo"), new_student(sql, "Ada")))
        })
        .unwrap();
        let mut changed = read(db, |sql| student(sql, bo));
        changed.external_ref = Some("UPN 1".into());
        changed.name = "Bea".into();
        write(db, |sql| update_student(sql, &changed)).unwrap();
        assert_eq!(read(db, |sql| student(sql, bo)), changed);
        let ids = read(db, students)
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>();
        assert_eq!(ids, [ada, bo]);
    });
}

#[test]
fn the_roster_answers_for_many_students_at_once_and_only_for_those_on_it() {
    each(|db| {
        let on: Vec<StudentId> = write(db, |sql| {
            Ok((0..ROSTER_CHUNK + 3)
                .map(|n| new_student(sql, &format!("student {n}")))
                .collect())
        })
        .unwrap();
        let strangers = [StudentId::random(), StudentId::random()];
        let asked = on.iter().chain(&strangers).chain(&on[..2]).copied();
        let found = read(db, |sql| on_roster(sql, asked));
        assert_eq!(found.len(), on.len(), "each student once, strangers none");
        assert!(on.iter().all(|s| found[s] == consent::State::Given));
        assert!(strangers.iter().all(|s| !found.contains_key(s)));
        assert!(read(db, |sql| on_roster(sql, [])).is_empty());
    });
}
