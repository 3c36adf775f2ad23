use rollcall_runtime::seal::{FaceKeys, Kept};
use rollcall_shared::{Decision, EMBEDDING_DIM, Embedding, StudentId, Thumbnail, UnixMillis};

use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::fixtures::sample_record;
use crate::{records, school};

/// One student with a template and a crop, and one record of them with its face.
fn seed(db: &Db) -> (StudentId, rollcall_shared::RecordId) {
    db.write_blocking(|sql| {
        let student = StudentId::random();
        sql.execute(
            "INSERT INTO students (id, name, created_at, consent) VALUES (?1, 'Ada', 0, 'given')",
            params![student.to_string()],
        )?;
        school::insert_enrolment(
            sql,
            &school::NewEnrolment {
                student,
                model: "m",
                embedding: &Embedding([0.5; EMBEDDING_DIM]),
                quality: None,
                thumbnail: Some(&[0xFF, 0xD8, 7, 7, 7]),
                figures: None,
                source: school::Source::Photo,
                record: None,
                at: UnixMillis(1),
            },
        )?;
        let mut record = sample_record(Decision::Confident, 1_790_000_000_000, &[student]);
        record.thumbnail = Some(Thumbnail(vec![0xFF, 0xD8, 9, 9, 9]));
        crate::fixtures::register_device_in(sql, record.device);
        let standing = records::Standing {
            status: records::Status::Pending,
            final_student: None,
        };
        records::insert(sql, &record, UnixMillis(1_790_000_000_001), standing)?;
        Ok::<_, StoreError>((student, record.id))
    })
    .unwrap()
}

fn census_of(db: &Db) -> BTreeMap<String, Census> {
    db.read_blocking(census).unwrap()
}

#[test]
fn faces_are_sealed_where_they_are_stored_and_open_where_they_are_read() {
    each(|db| {
        let (student, record) = seed(db);
        let current = db.keyring().keys().current();
        let census = census_of(db);
        for column in [
            "embeddings.embedding",
            "embeddings.thumbnail",
            "records.embedding",
            "records.thumbnail",
        ] {
            assert_eq!(census[column].plain, 0, "{column}");
            assert_eq!(census[column].sealed[&current], 1, "{column}");
        }
        db.read_blocking(|sql| {
            assert_eq!(
                records::thumbnail(sql, record)?,
                Some(vec![0xFF, 0xD8, 9, 9, 9])
            );
            assert_eq!(
                records::embedding(sql, record)?,
                Embedding([0.5; EMBEDDING_DIM])
            );
            let enrolled = school::enrolments(sql, student)?;
            assert_eq!(enrolled[0].embedding, Embedding([0.5; EMBEDDING_DIM]));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn faces_from_before_sealing_are_sealed_by_a_pass_and_read_the_same() {
    each(|db| {
        let (student, _) = seed(db);
        // As a hub from before sealing left them: the bytes themselves.
        let plain: Vec<u8> = [0.25_f32; EMBEDDING_DIM]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        db.write_blocking(|sql| {
            sql.execute(
                "UPDATE embeddings SET embedding = ?1, thumbnail = ?2",
                params![plain, vec![0xFF_u8, 0xD8, 1]],
            )
        })
        .unwrap();
        assert_eq!(census_of(db)["embeddings.embedding"].plain, 1);
        let pass = reseal(db).unwrap();
        assert_eq!(
            pass,
            Pass {
                changed: 2,
                unreadable: 0
            }
        );
        let census = census_of(db);
        assert_eq!(census["embeddings.embedding"].plain, 0);
        assert_eq!(census["embeddings.thumbnail"].plain, 0);
        assert_eq!(
            reseal(db).unwrap().changed,
            0,
            "a second pass finds nothing"
        );
        let enrolled = db
            .read_blocking(|sql| school::enrolments(sql, student))
            .unwrap();
        assert_eq!(enrolled[0].embedding, Embedding([0.25; EMBEDDING_DIM]));
    });
}

#[test]
fn a_key_the_file_lacks_keeps_the_hub_out_until_its_faces_are_given_up() {
    each(|db| {
        let (student, record) = seed(db);
        let file = Path::new("/etc/rollcall/faces.key");
        let first = db.keyring().keys().current();
        db.write_blocking(|sql| admit(sql, file, UnixMillis(1_790_000_000_000)))
            .unwrap();

        // The same database opened with another key file: refused, naming the key.
        let other = db.with_keys(Keyring::fixed(FaceKeys::generate()));
        let refused = other
            .write_blocking(|sql| admit(sql, file, UnixMillis(1_790_000_000_002)))
            .unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains(&first.to_string()) && message.contains("faces-key lost"),
            "{message}"
        );
        // Faces do not open with it: a clear error, nothing changed.
        let err = other
            .read_blocking(|sql| records::thumbnail(sql, record))
            .unwrap_err();
        assert!(err.to_string().contains("does not hold"), "{err}");

        // Given up: the faces go, the record and the student stay.
        let forgotten = other
            .write_blocking(|sql| forget_lost(sql, UnixMillis(1_790_000_000_003)))
            .unwrap();
        assert_eq!(forgotten["embeddings"], 1);
        assert_eq!(forgotten["records"], 1);
        other
            .write_blocking(|sql| admit(sql, file, UnixMillis(1_790_000_000_004)))
            .unwrap();
        other
            .read_blocking(|sql| {
                assert_eq!(records::thumbnail(sql, record)?, None);
                assert!(school::enrolments(sql, student)?.is_empty());
                assert_eq!(school::student(sql, student)?.name, "Ada");
                let kept = records::get(sql, record)?;
                assert_eq!(kept.id, record);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert!(
            census_of(&other)
                .values()
                .all(|c| c.sealed.keys().all(|k| *k != first))
        );
        let in_use = other.read_blocking(in_use).unwrap();
        assert!(!in_use.contains(&first));
    });
}

#[test]
fn a_truncated_or_altered_face_is_an_error_of_its_own_row() {
    each(|db| {
        let (_, record) = seed(db);
        db.write_blocking(|sql| {
            let stored: Vec<u8> = sql.query_one(
                "SELECT thumbnail FROM records WHERE id = ?1",
                params![record.to_string()],
                "record",
                |r| r.get(0),
            )?;
            assert!(matches!(Kept::of(&stored), Kept::Sealed(_)));
            sql.execute(
                "UPDATE records SET thumbnail = ?2 WHERE id = ?1",
                params![record.to_string(), stored[..30].to_vec()],
            )
        })
        .unwrap();
        let err = db
            .read_blocking(|sql| records::thumbnail(sql, record))
            .unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
        // A pass leaves it be (it is under the current key), and the rest of the row reads.
        assert_eq!(reseal(db).unwrap(), Pass::default());
        let embedding = db.read_blocking(|sql| records::embedding(sql, record));
        assert_eq!(embedding.unwrap(), Embedding([0.5; EMBEDDING_DIM]));
    });
}
