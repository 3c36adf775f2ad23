//! The register from a class photo, with real group photos and the real face models: a
//! teacher's photos of the lesson mark the students in them (never a wrong name, never a
//! stranger), put the doubtful faces into review with their crops, and count in the
//! register like a door's records; photos from outside the lesson, of another teacher's
//! class or that are no photo at all are refused with the reason.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::faces::{lesson, photo, start_faces_hub};
use crate::common::*;

/// Students of the class who are in the group photos below.
const IN_PHOTOS: [&str; 5] = [
    "Barack_Obama",
    "Joseph_Biden",
    "Angelina_Jolie",
    "Jennifer_Aniston",
    "Matthew_Perry",
];
/// Students of the class who are in none of them.
const ELSEWHERE: [&str; 8] = [
    "Colin_Powell",
    "Serena_Williams",
    "Jackie_Chan",
    "Tony_Blair",
    "George_W_Bush",
    "Gerhard_Schroeder",
    "Jean_Chretien",
    "Laura_Bush",
];

/// Each group photo (MANIFEST.tsv) and the students of the class it shows; everyone else in
/// it is a stranger to the class.
const PHOTOS: [(&str, &[&str]); 8] = [
    (
        "groups/face_recognition_obama_and_biden.jpg",
        &["Barack_Obama", "Joseph_Biden"],
    ),
    (
        "groups/face_recognition_two_people.jpg",
        &["Barack_Obama", "Joseph_Biden"],
    ),
    ("groups/deepface_couple.jpg", &["Angelina_Jolie"]),
    (
        "groups/deepface_selfie-many-people.jpg",
        &["Angelina_Jolie"],
    ),
    (
        "groups/facenet_pytorch_multiface.jpg",
        &["Jennifer_Aniston", "Matthew_Perry"],
    ),
    (
        "groups/insightface_t1.jpg",
        &["Jennifer_Aniston", "Matthew_Perry"],
    ),
    // A class on the stairs and a group on a bench: nobody of the class.
    ("groups/linzaer_imgs_1.jpg", &[]),
    ("groups/linzaer_imgs_16.jpg", &[]),
];

fn photos_path(slot: &str) -> String {
    format!("/sessions/{slot}/{}/photos", monday())
}

#[tokio::test]
async fn group_photos_mark_the_students_in_them_and_never_a_wrong_name() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let people: Vec<&str> = IN_PHOTOS.iter().chain(&ELSEWHERE).copied().collect();
    let (teacher, slot, ids) = lesson(&hub, &admin, &people).await;
    let name_of: BTreeMap<&str, &str> = ids
        .iter()
        .map(|(n, id)| (id.as_str(), n.as_str()))
        .collect();

    let (mut shown, mut named, mut wrong, mut waiting) = (0, 0, Vec::new(), 0);
    let mut marked: BTreeSet<String> = BTreeSet::new();
    let mut confident_records = Vec::new();
    let mut pending_records = Vec::new();
    for (file, present) in PHOTOS {
        let (status, out) = teacher.upload(&photos_path(&slot), vec![photo(file)]).await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {out}");
        let read = &out["photos"][0];
        let faces = read["faces"].as_array().unwrap();
        assert!(
            read["width"].as_u64().unwrap() > 0 && !faces.is_empty(),
            "{file}: {read}"
        );
        let mut in_this = BTreeSet::new();
        for face in faces {
            let b = face["box"].as_array().unwrap();
            assert_eq!(b.len(), 4, "every face has its box: {face}");
            if face["decision"] == "confident" {
                let who = name_of[face["student"].as_str().unwrap()];
                assert_eq!(face["name"], who);
                assert!(
                    in_this.insert(who),
                    "{file}: {who} named twice in one photo"
                );
                if present.contains(&who) {
                    named += 1;
                } else {
                    wrong.push(format!("{file}: {who}"));
                }
                marked.insert(who.to_owned());
                confident_records.push(face["record"].as_str().unwrap().to_owned());
            } else if face["decision"] == "uncertain" {
                waiting += 1;
                pending_records.push(face["record"].as_str().unwrap().to_owned());
            }
        }
        shown += present.len();
        println!(
            "{file}: {} faces, named {:?} of {present:?}",
            faces.len(),
            in_this
        );
    }
    println!("named {named} of {shown} appearances; {waiting} faces to check; wrong: {wrong:?}");
    assert!(wrong.is_empty(), "wrong names: {wrong:?}");
    // The photos show every one of the five at least twice: each is marked from one.
    for who in IN_PHOTOS {
        assert!(
            marked.contains(who),
            "{who} was in two photos and is not marked: {marked:?}"
        );
    }

    // A Confident face is a record of the class photo, counted at once, keeping no crop.
    let (_, record) = teacher
        .get(&format!("/records/{}", confident_records[0]))
        .await;
    assert_eq!(record["source"], "class_photo", "{record}");
    assert_eq!(record["device_id"], Value::Null);
    assert_eq!(record["taken_by"], "user:tess");
    assert_eq!(record["room"], "Lab 3");
    assert_eq!(record["status"], "approved");
    assert_eq!(record["has_thumbnail"], false);
    // A doubtful one waits in review with its crop.
    if let Some(pending) = pending_records.first() {
        let (_, record) = teacher.get(&format!("/records/{pending}")).await;
        assert_eq!(
            (record["status"].as_str(), record["has_thumbnail"].as_bool()),
            (Some("pending"), Some(true))
        );
        let (status, _, jpeg) = teacher
            .bytes(&format!("/records/{pending}/thumbnail"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
    }

    // The register counts them like a door's records: present, from a record; the rest not yet.
    let (_, roster) = teacher.get(&format!("/sessions/{slot}/{}", monday())).await;
    for row in roster["rows"].as_array().unwrap() {
        let who = name_of[row["student"].as_str().unwrap()];
        match marked.contains(who) {
            true => assert_eq!(
                (row["mark"].as_str(), row["source"].as_str()),
                (Some("present"), Some("record")),
                "{row}"
            ),
            false => assert_eq!(row["mark"], Value::Null, "{row}"),
        }
    }
    // The audit log says what was read, never who.
    let (_, audit) = admin.get("/audit?limit=1000").await;
    let entries: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "class_photo.read")
        .collect();
    assert_eq!(entries.len(), PHOTOS.len(), "{audit}");
    hub.stop().await;
}

#[tokio::test]
async fn photos_from_outside_the_lesson_or_of_another_class_are_refused_with_the_reason() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let (teacher, slot, _) = lesson(&hub, &admin, &["Barack_Obama"]).await;
    let path = photos_path(&slot);
    let group = || vec![photo("groups/face_recognition_obama_and_biden.jpg")];
    let at = |hh, mm| [("taken_at", monday_at(hh, mm).to_string())];

    // Dated later than the hub's clock (09:05), or, at 10:45, in a lesson that ended at 10:00.
    let (status, out) = teacher.upload_with(&path, group(), &at(9, 30)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("later than now"),
        "{out}"
    );
    hub.clock
        .set(rollcall_shared::UnixMillis(monday_at(10, 45)));
    // Signed in again: an access token lives less than those 100 minutes.
    let (admin, teacher) = (
        hub.admin().await,
        hub.api().login("tess", "teacher password").await,
    );
    let (status, out) = teacher.upload_with(&path, group(), &at(10, 30)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("10:30") && message.contains("09:00–10:00"),
        "{message}"
    );
    let (status, out) = teacher
        .upload_with(&path, group(), &[("taken_at", "soon".into())])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");

    // No photo at all, or a file that is no photo: nothing is kept.
    let (status, out) = teacher.upload_with(&path, vec![], &at(9, 1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let text = ("notes.txt".to_owned(), b"not a photo\n".to_vec());
    let (status, out) = teacher.upload_with(&path, vec![text], &at(9, 1)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{out}");
    assert_eq!(out["error"]["code"], "not_an_image");
    assert_eq!(
        out["error"]["photos"][0]["error"]["code"], "not_an_image",
        "{out}"
    );
    let (status, out) = teacher.post(&path, serde_json::json!({})).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{out}");

    // Another teacher's lesson is not theirs to photograph.
    admin
        .created("/users", serde_json::json!({"username": "max", "role": "teacher", "password": "another password"}))
        .await;
    let max = hub.api().login("max", "another password").await;
    let (status, out) = max.upload(&path, group()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");

    let (_, records) = admin.get("/records").await;
    assert_eq!(
        records.as_array().map(Vec::len),
        Some(0),
        "nothing refused was kept: {records}"
    );
    hub.stop().await;
}
