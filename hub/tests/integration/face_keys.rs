//! Faces sealed at rest, on a serving hub: a rotation seals every face again under a new key
//! while the hub goes on answering (it reads the key file again by itself), and retires the
//! old key; a lost key keeps the hub from starting, saying why, until its faces are given up,
//! and then the students are all there, without faces.

use reqwest::{Method, StatusCode};
use rollcall_hub::face_keys;
use rollcall_runtime::seal::FaceKeys;
use rollcall_shared::{EMBEDDING_DIM, Embedding, StudentId, UnixMillis};
use rollcall_store::consent::State;
use rollcall_store::keys::KEY_FILE;
use rollcall_store::school::{self, NewEnrolment, Source, Student};

use crate::common::*;

const CROP: &[u8] = b"\xFF\xD8 a face crop, as a JPEG starts";

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_reseals_faces_while_the_hub_serves_and_a_lost_key_leaves_the_students() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let key_file = hub.data_dir.join(KEY_FILE);
    let first = FaceKeys::load(&key_file).unwrap().current();

    // A student with consent, enrolled with a template and a crop.
    let student = StudentId::random();
    let face = hub
        .db()
        .write_blocking(|sql| {
            let ada = Student {
                id: student,
                name: "Ada".into(),
                external_ref: None,
                created_at: UnixMillis(1),
                consent: State::Given,
                profile: Default::default(),
            };
            school::insert_student(sql, &ada)?;
            school::insert_enrolment(
                sql,
                &NewEnrolment {
                    student,
                    model: "dlib-resnet-v1",
                    embedding: &Embedding([0.5; EMBEDDING_DIM]),
                    quality: Some(0.9),
                    thumbnail: Some(CROP),
                    figures: None,
                    source: Source::Photo,
                    record: None,
                    at: UnixMillis(1),
                },
            )
        })
        .unwrap();
    let crop = format!("/students/{student}/faces/{face}/thumbnail");
    let expected = String::from_utf8_lossy(CROP).into_owned();
    let read_crop = || async {
        let (status, body) = admin.raw(Method::GET, &crop, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, expected, "the crop reads the same");
    };
    read_crop().await;

    // Rotated beside the serving hub, which answers all along.
    let config = rollcall_hub::config::Config {
        data_dir: hub.data_dir.clone(),
        ..Default::default()
    };
    let rotation = tokio::task::spawn_blocking({
        let config = config.clone();
        move || face_keys::rotate(&config, true)
    });
    while !rotation.is_finished() {
        read_crop().await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let rotated = rotation.await.unwrap().unwrap();
    assert_ne!(rotated.added, first);
    let resealed = rotated.resealed.unwrap();
    assert_eq!(resealed.retired, [first]);
    assert!(
        resealed.pass.changed >= 2,
        "template and crop: {resealed:?}"
    );
    let held: Vec<_> = FaceKeys::load(&key_file).unwrap().ids().collect();
    assert_eq!(held, [rotated.added], "the old key left the key file");
    let kept = FaceKeys::load(&face_keys::retired_file(&key_file)).unwrap();
    assert!(kept.holds(first), "and is kept for older backups");
    let status = face_keys::status(&config).unwrap();
    assert_eq!(status.in_use, [rotated.added]);
    for (column, census) in &status.census {
        assert_eq!(census.plain, 0, "{column}");
        assert_eq!(
            census.sealed.keys().copied().collect::<Vec<_>>(),
            [rotated.added],
            "{column}"
        );
    }
    read_crop().await;

    // The key file lost (a new hub directory, a disk replaced): the hub does not start on
    // faces it cannot open; giving them up lets it start with every student.
    let hub = restart_hub_with(hub, |config| {
        std::fs::remove_file(config.face_key_path()).unwrap();
        let refused = rollcall_hub::setup::open_store(config)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(&rotated.added.to_string()) && refused.contains("faces-key lost"),
            "{refused}"
        );
        let (lost, counts) = face_keys::lost_census(config).unwrap();
        assert_eq!(lost, [rotated.added]);
        assert_eq!(counts["embeddings.embedding"], 1, "{counts:?}");
        let forgotten = face_keys::forget_lost(config).unwrap();
        assert_eq!(forgotten["embeddings"], 1);
    })
    .await;
    let admin = hub.admin().await;
    let (status, body) = admin.get(&format!("/students/{student}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Ada");
    let (status, faces) = admin.get(&format!("/students/{student}/faces")).await;
    assert_eq!(status, StatusCode::OK, "{faces}");
    assert_eq!(faces.as_array().map(Vec::len), Some(0), "{faces}");
    let (status, _) = admin.raw(Method::GET, &crop, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    hub.stop().await;
}
