//! Photo enrolment with real photos and the real face models: one-face photos are enrolled
//! (embedding, quality figures, thumbnail; a TIFF as its JPEG) and reach the door units as
//! gallery deltas; photos with no face, several faces, no image at all or too many bytes are
//! refused with a code naming the reason.

use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_models::pipeline::model_id;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::faces::{photo, start_faces_hub};
use crate::common::*;

const COLIN: [&str; 2] = [
    "identities/Colin_Powell/Colin_Powell_0056.jpg",
    "identities/Colin_Powell/Colin_Powell_0065.jpg",
];
const SERENA: &str = "identities/Serena_Williams/Serena_Williams_0002.jpg";
/// A wall: the detector finds no face in it.
const NO_FACE: &str = "negatives/skimage_brick.png";
const TWO_PEOPLE: &str = "groups/face_recognition_two_people.jpg";
/// Jackie Chan in the middle, another face at the edge: the photo is still of him.
const WITH_BYSTANDER: &str = "identities/Jackie_Chan/Jackie_Chan_0001.jpg";
const JACKIE: &str = "identities/Jackie_Chan/Jackie_Chan_0004.jpg";

/// A student whose parent has consented.
async fn student(admin: &Api, name: &str) -> String {
    let s = admin.created("/students", json!({"name": name})).await;
    let id = s["id"].as_str().unwrap().to_owned();
    admin.give_consent(&id).await;
    id
}

async fn refused(admin: &Api, s: &str, file: (String, Vec<u8>)) -> (StatusCode, Value) {
    let (status, body) = admin
        .upload(&format!("/students/{s}/faces"), vec![file])
        .await;
    (status, body["error"].clone())
}

fn distance(a: &Value, b: &Value) -> f32 {
    let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
    let sq: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).powi(2))
        .sum();
    sq.sqrt() as f32
}

/// A 140 kB PNG that decodes to 12,000 × 12,000 pixels (a grey square; 432 MB as RGB).
const HUGE_PNG: &[u8] = include_bytes!("../data/12000x12000.png");

#[tokio::test]
async fn a_photo_over_the_pixel_budget_is_refused_before_it_is_decoded() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Colin").await;
    let file = ("huge.png".to_owned(), HUGE_PNG.to_vec());
    let (status, error) = refused(&admin, &s, file).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(error["code"], "image_too_large");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("12000×12000") && message.contains("the limit is 40.0 megapixels"),
        "{message}"
    );
    let (_, faces) = admin.get(&format!("/students/{s}/faces")).await;
    assert_eq!(faces, json!([]), "nothing refused was stored");
    hub.stop().await;
}

#[tokio::test]
async fn photos_without_exactly_one_good_face_are_refused_with_the_reason() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Colin").await;

    let (status, error) = refused(&admin, &s, photo(NO_FACE)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["code"], "no_face");

    let (status, error) = refused(&admin, &s, photo(TWO_PEOPLE)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["code"], "several_faces");
    assert!(error["details"]["faces"].as_u64().unwrap() >= 2, "{error}");
    let boxes = error["details"]["boxes"].as_array().unwrap();
    assert_eq!(
        boxes.len() as u64,
        error["details"]["faces"].as_u64().unwrap()
    );
    assert!(
        boxes.iter().all(|b| b.as_array().unwrap().len() == 4),
        "{error}"
    );

    let text = ("notes.txt".to_owned(), b"not a photo at all\n".to_vec());
    let (status, error) = refused(&admin, &s, text).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{error}");
    assert_eq!(error["code"], "not_an_image");
    assert!(error["message"].as_str().unwrap().contains("not an image"));

    let huge = ("huge.jpg".to_owned(), vec![0xA5; 30 * 1024 * 1024]);
    let (status, error) = refused(&admin, &s, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");

    let (status, body) = admin.post(&format!("/students/{s}/faces"), json!({})).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

    let (_, faces) = admin.get(&format!("/students/{s}/faces")).await;
    assert_eq!(faces, json!([]), "nothing refused was stored");
    hub.stop().await;
}

#[tokio::test]
async fn a_small_face_fails_the_quality_gate_with_its_figures() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Serena").await;
    let (_, bytes) = photo(SERENA);
    let face = image::load_from_memory(&bytes)
        .unwrap()
        .resize(84, 84, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut canvas = image::RgbImage::from_pixel(300, 300, image::Rgb([128; 3]));
    image::imageops::replace(&mut canvas, &face, 108, 108);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(canvas)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (status, error) = refused(&admin, &s, ("small.png".into(), png)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["code"], "too_small", "{error}");
    let figures = &error["details"]["too_small"];
    assert!(figures["px"].as_f64().unwrap() < figures["min"].as_f64().unwrap());
    hub.stop().await;
}

#[tokio::test]
async fn a_bystander_does_not_refuse_a_photo_and_the_students_own_face_is_taken() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Jackie").await;
    let files = vec![photo(WITH_BYSTANDER), photo(JACKIE)];
    let (status, body) = admin.upload(&format!("/students/{s}/faces"), files).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body["photos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["accepted"] == true),
        "{body}"
    );
    let (_, enrolled) = admin.get(&format!("/students/{s}/embeddings")).await;
    let same = distance(&enrolled[0]["embedding"], &enrolled[1]["embedding"]);
    assert!(
        same < 0.30,
        "the face taken is Jackie's, not the bystander's: {same}"
    );
    hub.stop().await;
}

/// `relative` re-encoded as a TIFF, as a school photographer's folder often holds them.
fn as_tiff(relative: &str) -> (String, Vec<u8>) {
    let (name, jpeg) = photo(relative);
    let pixels = image::load_from_memory(&jpeg).unwrap();
    let mut tiff = std::io::Cursor::new(Vec::new());
    pixels
        .write_to(&mut tiff, image::ImageFormat::Tiff)
        .unwrap();
    (name.replace(".jpg", ".tif"), tiff.into_inner())
}

#[tokio::test]
async fn a_tiff_is_enrolled_as_the_same_photo_in_jpeg_is() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Colin").await;
    let files = vec![as_tiff(COLIN[0]), photo(COLIN[0])];
    let (status, body) = admin.upload(&format!("/students/{s}/faces"), files).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let photos = body["photos"].as_array().unwrap();
    assert!(photos.iter().all(|p| p["accepted"] == true), "{body}");
    let (_, enrolled) = admin.get(&format!("/students/{s}/embeddings")).await;
    let apart = distance(&enrolled[0]["embedding"], &enrolled[1]["embedding"]);
    assert!(apart < 1e-4, "the same pixels give the same face: {apart}");
    hub.stop().await;
}

#[tokio::test]
async fn a_mixed_upload_enrols_the_good_photo_and_reports_each() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Colin").await;
    let files = vec![photo(COLIN[0]), photo(NO_FACE)];
    let (status, body) = admin.upload(&format!("/students/{s}/faces"), files).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let photos = body["photos"].as_array().unwrap();
    assert_eq!(photos[0]["accepted"], true);
    assert!(photos[0]["quality"]["sharpness"].as_f64().unwrap() > 0.0);
    assert_eq!(photos[1]["accepted"], false);
    assert_eq!(photos[1]["error"]["code"], "no_face");

    let (_, audit) = admin.get("/audit").await;
    let enrolled = audit.as_array().unwrap().iter();
    assert_eq!(
        enrolled
            .filter(|e| e["action"] == "student.enrol_photo")
            .count(),
        1
    );

    let teacher = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    admin.created("/users", teacher).await;
    let tess = hub.api().login("tess", "teacher password").await;
    let (status, _) = tess
        .upload(&format!("/students/{s}/faces"), vec![photo(COLIN[1])])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins enrol");
    hub.stop().await;
}

#[tokio::test]
async fn enrolled_photos_reach_devices_and_deleting_a_student_removes_them() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_faces_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let class = admin.created("/classes", json!({"name": "7B"})).await["id"].clone();
    let (colin, serena) = (
        student(&admin, "Colin").await,
        student(&admin, "Serena").await,
    );
    for s in [&colin, &serena] {
        let (status, _) = admin
            .put(
                &format!("/classes/{}/students/{s}", class.as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let slot =
        json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"});
    admin.created("/timetable", slot).await;
    let device = admin
        .created("/devices", json!({"name": "door", "room": "Lab 3"}))
        .await;
    let device: DeviceId = device["device"]["id"].as_str().unwrap().parse().unwrap();
    let mut door = Door::connect(&broker, &hub.site, device).await;
    let model = model_id();
    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: false,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    let Message::Gallery(snapshot) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    let mut held = GalleryState::empty(model).apply(&snapshot).unwrap();
    assert!(held.entries.is_empty(), "nobody is enrolled yet");

    let files = COLIN.iter().map(|p| photo(p)).collect();
    let (status, body) = admin
        .upload(&format!("/students/{colin}/faces"), files)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    held = next_state(&mut door, &held).await;
    let colin_id: StudentId = colin.parse().unwrap();
    assert_eq!(held.entries[&colin_id].embeddings.len(), 2);
    let (status, body) = admin
        .upload(&format!("/students/{serena}/faces"), vec![photo(SERENA)])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    held = next_state(&mut door, &held).await;
    assert_eq!(held.entries.len(), 2);

    let (_, colin_e) = admin.get(&format!("/students/{colin}/embeddings")).await;
    let (_, serena_e) = admin.get(&format!("/students/{serena}/embeddings")).await;
    assert_eq!(colin_e[0]["model"], model_id().as_str());
    let same = distance(&colin_e[0]["embedding"], &colin_e[1]["embedding"]);
    let other = distance(&colin_e[0]["embedding"], &serena_e[0]["embedding"]);
    // Unit-length embeddings; another person lies well beyond the recommended thresholds
    // (confident 0.26, uncertain 0.30: docs/ACCURACY.md).
    let zero = json!(vec![0.0; 128]);
    let norm = distance(&colin_e[0]["embedding"], &zero);
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    assert!(same < 0.30 && other > 0.40, "same {same}, other {other}");

    let (_, faces) = admin.get(&format!("/students/{colin}/faces")).await;
    let faces = faces.as_array().unwrap().clone();
    assert_eq!(faces.len(), 2);
    let url = faces[0]["thumbnail_url"].as_str().unwrap();
    let (status, kind, jpeg) = admin.bytes(url.strip_prefix("/api/v1").unwrap()).await;
    assert_eq!(
        (status, kind.as_deref()),
        (StatusCode::OK, Some("image/jpeg"))
    );
    assert!(
        jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.len() <= 24 * 1024,
        "{} bytes",
        jpeg.len()
    );
    assert!(faces[0]["quality"]["inter_ocular_px"].as_f64().unwrap() > 18.0);

    let face = faces[0]["id"].as_str().unwrap();
    let (status, _) = admin
        .delete(&format!("/students/{colin}/faces/{face}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    held = next_state(&mut door, &held).await;
    assert_eq!(held.entries[&colin_id].embeddings.len(), 1);

    let (status, _) = admin.delete(&format!("/students/{serena}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let Message::Gallery(removal) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    let serena_id: StudentId = serena.parse().unwrap();
    assert_eq!(
        removal.removals,
        vec![serena_id],
        "the delta carries the removal"
    );
    held = held.apply(&removal).unwrap();
    assert_eq!(held.entries.len(), 1);
    assert_eq!(
        stored_embeddings(&hub, &serena),
        0,
        "her embeddings are deleted"
    );
    hub.stop().await;
}

async fn next_state(door: &mut Door, held: &GalleryState) -> GalleryState {
    let Message::Gallery(delta) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    assert_eq!(
        delta.base,
        Some(held.version),
        "changes are pushed as deltas"
    );
    held.apply(&delta).expect("the delta applies")
}

fn stored_embeddings(hub: &TestHub, student: &str) -> i64 {
    let path = hub.data_dir.join(rollcall_store::DATABASE_FILE);
    let conn = rusqlite::Connection::open(path).unwrap();
    let count = "SELECT COUNT(*) FROM embeddings WHERE student_id = ?1";
    conn.query_row(count, [student], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn without_the_models_photo_enrolment_says_it_is_off() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = student(&admin, "Ada").await;
    let (status, error) = refused(&admin, &s, photo(SERENA)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert!(error["message"].as_str().unwrap().contains("faces.enabled"));
    hub.stop().await;
}

/// Runs `rollcall-hub enrol DIR --report REPORT ARGS…` on `hub`'s database.
fn enrol_command(hub: &TestHub, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
        .arg("enrol")
        .arg(dir)
        .arg("--report")
        .arg(dir.with_extension("csv"))
        .arg("--data-dir")
        .arg(&hub.data_dir)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `rollcall-hub enrol DIR --report REPORT` on `hub`'s database; returns the report's
/// rows (photo, reference, whose, outcome) in name order.
fn enrol_folder(hub: &TestHub, dir: &std::path::Path) -> Vec<[String; 4]> {
    enrolled(dir, enrol_command(hub, dir, &[]))
}

/// The report's rows of an enrolment that must have succeeded.
fn enrolled(dir: &std::path::Path, out: std::process::Output) -> Vec<[String; 4]> {
    let report = dir.with_extension("csv");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("photos/s"), "{said}");
    let mut rows = csv::Reader::from_path(&report).unwrap();
    rows.records()
        .map(|r| {
            let r = r.unwrap();
            [0, 1, 2, 4].map(|i| r[i].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_photographers_folder_is_enrolled_in_one_go_and_never_twice() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let mut ids = Vec::new();
    for (name, reference, consent) in [
        ("Colin", "S001", true),
        ("Serena", "S002", false),
        ("Jackie", "S003", true),
    ] {
        let s = admin
            .created(
                "/students",
                json!({"name": name, "external_ref": reference}),
            )
            .await;
        let id = s["id"].as_str().unwrap().to_owned();
        if consent {
            admin.give_consent(&id).await;
        }
        ids.push(id);
    }
    // Two members of staff by personnel code: one has consented, one has not been asked.
    let mut staff = Vec::new();
    for (code, name) in [("T01", "Ann Able"), ("T02", "Bob Baker")] {
        let member = admin
            .created("/staff", json!({"personnel_code": code, "name": name}))
            .await;
        staff.push(member["id"].as_str().unwrap().to_owned());
    }
    let given = json!({"state": "given", "signed_on": "2026-09-01", "reference": "HR 1"});
    let (status, out) = admin
        .put(&format!("/staff/{}/consent", staff[0]), given)
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("photographer");
    std::fs::create_dir(&dir).unwrap();
    let files = [
        ("S001.jpg", photo(COLIN[0]).1),
        ("S001-2.JPG", photo(COLIN[1]).1),
        ("S002.jpg", photo(SERENA).1),
        ("S003.jpg", photo(TWO_PEOPLE).1),
        ("S003-2.jpg", b"not a photo at all".to_vec()),
        ("S999.jpg", photo(JACKIE).1),
        ("T01.jpg", photo(SERENA).1),
        ("T02.jpg", photo(JACKIE).1),
        ("Thumbs.db", b"left alone".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let row = |photo: &str, reference: &str, outcome: &str| {
        let whose = match reference {
            "S999" => "",
            r if r.starts_with('T') => "staff",
            _ => "student",
        };
        [photo, reference, whose, outcome].map(str::to_owned)
    };
    assert_eq!(
        enrol_folder(&hub, &dir),
        [
            row("S001-2.JPG", "S001", "enrolled"),
            row("S001.jpg", "S001", "enrolled"),
            row("S002.jpg", "S002", "no consent"),
            row("S003-2.jpg", "S003", "refused"),
            row("S003.jpg", "S003", "refused"),
            row("S999.jpg", "S999", "no such reference"),
            row("T01.jpg", "T01", "enrolled"),
            row("T02.jpg", "T02", "no consent"),
        ]
    );
    let (_, ann) = admin.get(&format!("/staff/{}/faces", staff[0])).await;
    assert_eq!(ann["faces"].as_array().unwrap().len(), 1, "{ann}");
    let (_, bob) = admin.get(&format!("/staff/{}/faces", staff[1])).await;
    assert_eq!(bob["faces"], json!([]), "no consent, no face");
    let (_, colin) = admin.get(&format!("/students/{}/faces", ids[0])).await;
    assert_eq!(colin.as_array().unwrap().len(), 2, "{colin}");
    let (_, serena) = admin.get(&format!("/students/{}/faces", ids[1])).await;
    assert_eq!(serena, json!([]), "no consent, no face");

    // The same folder again, a photo added: only the new one is enrolled.
    std::fs::write(dir.join("S003-3.jpg"), photo(JACKIE).1).unwrap();
    let again = enrol_folder(&hub, &dir);
    let outcomes: Vec<&str> = again.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        outcomes,
        [
            "already enrolled",
            "already enrolled",
            "no consent",
            "refused",
            "enrolled",
            "refused",
            "no such reference",
            "already enrolled",
            "no consent"
        ],
        "{again:?}"
    );
    let (_, colin) = admin.get(&format!("/students/{}/faces", ids[0])).await;
    assert_eq!(colin.as_array().unwrap().len(), 2, "not enrolled twice");

    // A camera's names, and a mapping file to the references: one bad row refuses it whole.
    let camera = root.path().join("camera");
    std::fs::create_dir(&camera).unwrap();
    std::fs::write(camera.join("IMG_0001.jpg"), photo(WITH_BYSTANDER).1).unwrap();
    let mapping = root.path().join("names.csv");
    let path = mapping.to_str().unwrap();
    std::fs::write(
        &mapping,
        "Photo,Reference\nIMG_0001.jpg,S003\nIMG_0001.jpg,S001\n",
    )
    .unwrap();
    let out = enrol_command(&hub, &camera, &["--mapping", path]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("{path}:3: IMG_0001.jpg is named twice"))
            && said.contains("1 row of the mapping file cannot be used"),
        "{said}"
    );
    std::fs::write(&mapping, "photo,reference\nIMG_0001.jpg,S003\n").unwrap();
    let out = enrol_command(&hub, &camera, &["--mapping", path]);
    assert_eq!(
        enrolled(&camera, out),
        [row("IMG_0001.jpg", "S003", "enrolled")]
    );
    let (_, jackie) = admin.get(&format!("/students/{}/faces", ids[2])).await;
    assert_eq!(jackie.as_array().unwrap().len(), 2, "{jackie}");
    hub.stop().await;
}

/// A zip of `files` (name, bytes), deflated.
fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_zip_of_photos_is_enrolled_from_the_page_and_the_command_line_and_bad_zips_are_refused_whole()
 {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let mut ids = Vec::new();
    for (name, reference) in [("Colin", "S001"), ("Jackie", "S003")] {
        let s = admin
            .created(
                "/students",
                json!({"name": name, "external_ref": reference}),
            )
            .await;
        let id = s["id"].as_str().unwrap().to_owned();
        admin.give_consent(&id).await;
        ids.push(id);
    }

    // A zip bomb, something that is not a zip, a name climbing out: refused before any photo.
    let bomb = zip_of(&[("S001.jpg", vec![0u8; 80 * 1024 * 1024])]);
    let (status, out) = admin
        .upload("/enrolment/photos", vec![("photos.zip".into(), bomb)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("zip bomb"),
        "{out}"
    );
    let (status, out) = admin
        .upload(
            "/enrolment/photos",
            vec![("photos.zip".into(), b"PK not a zip".to_vec())],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (_, colin) = admin.get(&format!("/students/{}/faces", ids[0])).await;
    assert_eq!(colin, json!([]), "nothing enrolled: {colin}");

    // The class's folder as a zip, through the page's route: each photo its own line.
    let class = zip_of(&[
        ("7B/S001.jpg", photo(COLIN[0]).1),
        ("7B/../../S003.jpg", photo(JACKIE).1),
        ("7B/S999.jpg", photo(SERENA).1),
        ("__MACOSX/7B/._S001.jpg", b"resource fork".to_vec()),
    ]);
    let (status, lines) = admin
        .upload("/enrolment/photos", vec![("7B.zip".into(), class)])
        .await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    let seen: Vec<(&str, &str)> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["photo"].as_str().unwrap(), l["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("S003.jpg", "refused"),
            ("S001.jpg", "enrolled"),
            ("S999.jpg", "no_such_reference")
        ],
        "{lines}"
    );
    assert!(
        lines[0]["reason"].as_str().unwrap().contains("climbs out"),
        "{lines}"
    );

    // The same photos as a zip on the command line: only what is new is enrolled.
    let root = tempfile::tempdir().unwrap();
    let zipped = root.path().join("photographer.zip");
    let files = [
        ("S001.jpg", photo(COLIN[0]).1),
        ("S003.jpg", photo(JACKIE).1),
    ];
    std::fs::write(&zipped, zip_of(&files)).unwrap();
    let rows = enrol_folder(&hub, &zipped);
    let outcomes: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(outcomes, ["already enrolled", "enrolled"], "{rows:?}");
    let (_, jackie) = admin.get(&format!("/students/{}/faces", ids[1])).await;
    assert_eq!(jackie.as_array().unwrap().len(), 1, "{jackie}");
    hub.stop().await;
}

/// A face that is another enrolled child's is held (issue 73, point 3): the upload answers
/// 409 naming the other student and their class, nothing is enrolled, until the admin
/// confirms; a photographer's folder lists it as looking like another student.
#[tokio::test]
async fn a_face_that_is_another_enrolled_childs_is_held_until_confirmed() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let colin = student(&admin, "Colin Powell").await;
    let class = admin.created("/classes", json!({"name": "7B"})).await;
    let member = format!(
        "/classes/{}/students/{colin}",
        class["id"].as_str().unwrap()
    );
    assert_eq!(
        admin.put(&member, json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = admin
        .upload(&format!("/students/{colin}/faces"), vec![photo(COLIN[0])])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The same face uploaded for a new student, Alan.
    let alan = admin
        .created(
            "/students",
            json!({"name": "Alan Turing", "external_ref": "S2"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.give_consent(&alan).await;
    let (status, error) = refused(&admin, &alan, photo(COLIN[0])).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["code"], "looks_like_another_student", "{error}");
    let said = error["message"].as_str().unwrap();
    assert!(
        said.contains("looks like Colin Powell, enrolled in 7B"),
        "{said}"
    );
    let like = &error["photos"][0]["error"]["details"];
    assert_eq!(like["student"], json!(colin), "{error}");
    assert!(like["distance"].as_f64().unwrap() < 0.295, "{like}");
    assert_eq!(stored_embeddings(&hub, &alan), 0, "held, not enrolled");

    // A photographer's folder says so too, and enrols nothing.
    let (status, lines) = admin
        .upload("/enrolment/photos?reference=S2", vec![photo(COLIN[0])])
        .await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    assert_eq!(lines[0]["outcome"], "looks_like_another_student", "{lines}");
    assert_eq!(lines[0]["like"]["name"], "Colin Powell", "{lines}");
    assert_eq!(stored_embeddings(&hub, &alan), 0);

    // Twins: the admin confirms, and it is enrolled.
    let (status, body) = admin
        .upload(
            &format!("/students/{alan}/faces?confirmed=true"),
            vec![photo(COLIN[0])],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stored_embeddings(&hub, &alan), 1);
    hub.stop().await;
}
