//! The register from a class photo, with real group photos and the real face models: a
//! teacher's photos of the lesson mark the students in them (never a wrong name, never a
//! stranger), put the doubtful faces into review with their crops, and count in the
//! register like a door's records; photos from outside the lesson, of another teacher's
//! class or that are no photo at all are refused with the reason.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::faces::{photo, start_faces_hub};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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

/// Up to three enrolment photos of `who` (the first ones, in name order).
fn enrolment_photos(who: &str) -> Vec<(String, Vec<u8>)> {
    let dir = common::faces::faces_dir().join("identities").join(who);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .take(3)
        .map(|n| photo(&format!("identities/{who}/{n}")))
        .collect()
}

/// The lesson: tess's class 7B in Lab 3, Mondays 09:00–10:00, its students enrolled from
/// their photos (consent given). Returns the teacher, the slot and each student's id by name.
async fn lesson(
    hub: &TestHub,
    admin: &Api,
    people: &[&str],
) -> (Api, String, BTreeMap<String, String>) {
    let teacher = admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let class = admin
        .created(
            "/classes",
            json!({"name": "7B", "teacher_id": teacher["id"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = BTreeMap::new();
    for who in people {
        let id = admin.created("/students", json!({"name": who})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        admin.give_consent(&id).await;
        let (status, _) = admin
            .put(&format!("/classes/{class}/students/{id}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, out) = admin
            .upload(&format!("/students/{id}/faces"), enrolment_photos(who))
            .await;
        assert_eq!(status, StatusCode::CREATED, "enrolling {who}: {out}");
        ids.insert(who.to_string(), id);
    }
    let slot = admin
        .created("/timetable", json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let teacher = hub.api().login("tess", "teacher password").await;
    (teacher, slot, ids)
}

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
