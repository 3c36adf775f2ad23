//! A door unit with a Raspberry Pi camera: `rollcall-edge` runs `kind = "rpicam"` over
//! `fake-rpicam` (real MJPEG frames of a person from `shared/faces`, the camera program dying
//! now and then) against a real hub with its broker and the real models, and the person,
//! enrolled from other photos, is marked.

use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::photos_of;
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup};
use rollcall_e2e::process::run;
use rollcall_e2e::wait_until;
use serde_json::{Value, json};

const PERSON: &str = "Angelina_Jolie";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_unit_with_a_pi_camera_marks_the_student_it_sees() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let setup = HubSetup::init(dir, true).unwrap();
    let device = setup.add_device("door-1", "Room 1").unwrap();
    let _hub = setup.serve("hub.log").unwrap();
    let admin = Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let student = enrol_in_room_1(&admin).await;

    // The camera sees two photos the hub was not given, and its program dies every 25 frames.
    let photos = photos_of(PERSON);
    let seen = dir.join("camera");
    std::fs::create_dir(&seen).unwrap();
    for photo in &photos[photos.len() - 2..] {
        std::fs::copy(photo, seen.join(photo.file_name().unwrap())).unwrap();
    }
    let camera = format!(
        "kind = \"rpicam\"\nprogram = \"{}\"\nwidth = 640\nheight = 480\nfps = 10.0",
        env!("CARGO_BIN_EXE_fake-rpicam")
    );
    let door = EdgeSetup::with_camera(dir, &setup, &device, &camera).unwrap();
    let env = [
        ("FAKE_RPICAM_DIR", seen.to_str().unwrap()),
        ("FAKE_RPICAM_DIE_AFTER", "25"),
    ];
    let mut edge = door.start_ready_with("edge.log", &env).unwrap();
    wait_for_gallery(&admin).await;

    let config = door.config.to_str().unwrap();
    for burst in 1..=3 {
        run("rollcall-edge", &["trigger", "--config", config], &[]).unwrap();
        wait_until("the burst", Duration::from_secs(60), || {
            edge.output().matches("burst done").count() >= burst
        })
        .unwrap();
    }
    let records = wait_for_records(&admin).await;
    let named: Vec<&Value> = records
        .iter()
        .filter(|r| r["candidates"][0]["student"] == json!(student))
        .collect();
    assert!(
        !named.is_empty(),
        "{PERSON} was not recognised: {records:#?}"
    );
    for r in &records {
        if r["decision"] == json!("confident") {
            assert_eq!(r["candidates"][0]["student"], json!(student), "{r}");
        }
    }
    assert!(
        !edge.output().contains("capture failed"),
        "a burst found no frame:\n{}",
        edge.output()
    );
    assert!(!edge.exited(), "the door unit stopped:\n{}", edge.output());
}

/// A class taught in Room 1 all week with `PERSON` in it, enrolled from all but two photos.
async fn enrol_in_room_1(admin: &Api) -> String {
    let class = admin.post("/classes", json!({"name": "7B"})).await.unwrap()["id"].clone();
    for weekday in 1..=7 {
        let slot = json!({"class_id": class, "room": "Room 1", "weekday": weekday,
            "start": "00:00", "end": "23:59"});
        admin.post("/timetable", slot).await.unwrap();
    }
    let student = admin
        .post("/students", json!({"name": PERSON}))
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/classes/{}/students/{student}", class.as_str().unwrap());
    admin
        .ok(reqwest::Method::PUT, &path, Some(json!({})))
        .await
        .unwrap();
    admin.give_consent(&student).await.unwrap();
    let photos = photos_of(PERSON);
    let body = admin
        .enrol(&student, &photos[..photos.len() - 2])
        .await
        .unwrap();
    let accepted = body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["accepted"] == json!(true))
        .count();
    assert!(accepted >= 2, "too few enrolment photos accepted: {body}");
    student
}

async fn wait_for_gallery(admin: &Api) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while admin.get("/devices").await.unwrap()[0]["gallery_version"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "no gallery in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for_records(admin: &Api) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let devices = admin.get("/devices").await.unwrap();
        let records = admin.get("/records").await.unwrap();
        let records = records.as_array().unwrap();
        if devices[0]["outbox_depth"] == json!(0) && !records.is_empty() {
            return records.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no records in 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
