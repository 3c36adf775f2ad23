//! Staff at the gate, in real processes (issue 56, point 1): `rollcall-hub` with its embedded
//! broker and the real face models, `rollcall-edge` registered as the main gate's entrance
//! with the replay camera over real photos from `../shared/faces`.
//!
//! A member of staff gives consent and is enrolled from their photos through the API; so is a
//! student of a class timetabled at the gate. The gate is shown the member's remaining photo,
//! the student's and a stranger's. The member must be logged in by the gate (a `door` entry
//! of the staff log, with the gate and a confidence) and on site, and never named on a
//! record or shown on a review card; the student is never named as anyone else. When the
//! member withdraws consent their faces leave the hub at once and the gate with its next
//! gallery. (Which units get staff, and that a unit of protocol 6 gets none, is
//! `rollcall_school::gallery`'s test.)

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollcall_e2e::api::Api;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::photos_of;
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup};
use rollcall_e2e::process::{Process, run};
use rollcall_e2e::wait_until;
use serde_json::{Value, json};

const MEMBER: &str = "Jennifer_Aniston";
const STUDENT: &str = "Aaron_Peirsol";
const STRANGER: &str = "Ahmed_Chalabi";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Every photo of `person` but the last, which the gate is shown.
fn enrolment_photos(person: &str) -> Vec<PathBuf> {
    let photos = photos_of(person);
    photos[..photos.len() - 1].to_vec()
}

/// Waits until the device named `name` reports holding a gallery of at least `version`.
async fn gallery_at_least(admin: &Api, name: &str, version: u64, edge: &mut Process) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let devices = admin.get("/devices").await.unwrap();
        let device = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name);
        if device.is_some_and(|d| d["gallery_version"].as_u64().unwrap_or(0) >= version) {
            return;
        }
        assert!(!edge.exited(), "the edge stopped:\n{}", edge.output());
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} holds no gallery {version} within 90 s: {devices}\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_gate_logs_a_member_of_staff_in_and_never_names_them_on_a_record() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let setup = HubSetup::init(dir, true).unwrap();
    let gate = setup.add_device("gate-in", "Main gate").unwrap();
    let mut hub = setup.serve("hub.log").unwrap();
    let admin = Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let gate_id = gate.id.clone();
    admin
        .ok(
            reqwest::Method::PATCH,
            &format!("/devices/{gate_id}"),
            Some(json!({"direction": "in"})),
        )
        .await
        .unwrap();

    // A class timetabled at the gate all day (registration as they come in), and one student.
    let class = admin.post("/classes", json!({"name": "7B"})).await.unwrap()["id"].clone();
    let class = class.as_str().unwrap();
    for weekday in 1..=7 {
        let slot = json!({"class_id": class, "room": "Main gate", "weekday": weekday,
                          "start": "00:00", "end": "23:59"});
        admin.post("/timetable", slot).await.unwrap();
    }
    let student = admin
        .post("/students", json!({"name": STUDENT}))
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/classes/{class}/students/{student}");
    admin
        .ok(reqwest::Method::PUT, &path, Some(json!({})))
        .await
        .unwrap();
    admin.give_consent(&student).await.unwrap();
    admin
        .enrol(&student, &enrolment_photos(STUDENT))
        .await
        .unwrap();

    // The member of staff: no face before consent; with it, their photos.
    let member = admin
        .post(
            "/staff",
            json!({"personnel_code": "T042", "name": "Jen Able", "department": "English"}),
        )
        .await
        .unwrap();
    let member = member["id"].as_str().unwrap().to_owned();
    let faces = format!("/staff/{member}/faces");
    let photos = enrolment_photos(MEMBER);
    let refused = admin.upload_photos(&faces, &photos[..1]).await.unwrap_err();
    assert!(
        refused.to_string().contains("consent_required"),
        "{refused}"
    );
    let consent = json!({"state": "given", "signed_on": "2026-09-01", "reference": "HR form 7"});
    let given = admin
        .put(&format!("/staff/{member}/consent"), consent)
        .await
        .unwrap();
    assert_eq!(given["consent"], "given", "{given}");
    let enrolled = admin.upload_photos(&faces, &photos).await.unwrap();
    let accepted = enrolled["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["accepted"] == json!(true))
        .count();
    assert!(accepted >= 2, "{enrolled}");

    // The gate is shown the member, the student and a stranger, one burst each.
    let replay = dir.join("replay");
    std::fs::create_dir(&replay).unwrap();
    let shown = [MEMBER, STUDENT, STRANGER];
    for (i, person) in shown.iter().enumerate() {
        let photos = photos_of(person);
        let photo = if *person == STRANGER {
            &photos[0]
        } else {
            photos.last().unwrap()
        };
        std::fs::copy(photo, replay.join(format!("{i}-{person}.jpg"))).unwrap();
    }
    let door = EdgeSetup::new(dir, &setup, &gate, &replay).unwrap();
    let door_toml = door.config.to_str().unwrap();
    let mut edge = door.start("edge.log").unwrap();
    gallery_at_least(&admin, "gate-in", 1, &mut edge).await;

    let mut bursts = Vec::new();
    for (i, person) in shown.iter().enumerate() {
        let started = now_ms();
        run("rollcall-edge", &["trigger", "--config", door_toml], &[]).unwrap();
        wait_until("the burst", Duration::from_secs(60), || {
            edge.output().matches("burst done").count() > i
        })
        .unwrap();
        bursts.push((*person, started, now_ms()));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let log = loop {
        let devices = admin.get("/devices").await.unwrap();
        let gate_row = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "gate-in");
        let log = admin.get("/staff/log").await.unwrap();
        let drained = gate_row.is_some_and(|d| d["outbox_depth"] == json!(0));
        if drained && !log["entries"].as_array().is_none_or(Vec::is_empty) {
            break log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no staff log entry from the gate: {log}\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    // The staff log: the member came in through the gate, recognised.
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "one entry: {log}");
    let entry = &entries[0];
    assert_eq!(
        (
            &entry["staff"],
            &entry["source"],
            &entry["direction"],
            &entry["device"]
        ),
        (
            &json!(member),
            &json!("door"),
            &json!("in"),
            &json!(gate_id)
        ),
        "{entry}"
    );
    let confidence = entry["confidence"].as_f64().unwrap();
    assert!((0.9..=1.0).contains(&confidence), "{entry}");
    let (from, to) = (bursts[0].1, bursts[0].2);
    let at = entry["at"].as_i64().unwrap();
    assert!(
        (from..=to).contains(&at),
        "seen in the member's burst: {entry}"
    );
    let staff = admin.get("/staff").await.unwrap();
    let line = staff["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == json!(member))
        .unwrap();
    assert_eq!(
        (&line["on_site"], &line["consent"], &staff["on_site"]),
        (&json!(true), &json!("given"), &json!(1)),
        "{staff}"
    );

    // The records: none in the member's burst names anyone; the student is never someone else.
    let records = admin.get("/records").await.unwrap();
    for r in records.as_array().unwrap() {
        let at = r["captured_at"].as_i64().unwrap();
        let (person, ..) = bursts
            .iter()
            .find(|(_, from, to)| (*from..=*to).contains(&at))
            .unwrap_or_else(|| panic!("a record outside every burst: {r}"));
        let named = r["candidates"][0]["student"].as_str();
        match *person {
            MEMBER => assert!(
                r["decision"] == json!("unknown") || named.is_none(),
                "the member of staff became a student's record: {r}"
            ),
            STRANGER => assert_ne!(r["decision"], json!("confident"), "{r}"),
            _ if r["decision"] == json!("confident") => {
                assert_eq!(named, Some(student.as_str()), "{r}")
            }
            _ => {}
        }
    }

    // The member withdraws: their faces go from the hub now and from the gate with its next
    // gallery.
    let version_of = |devices: &Value| {
        let gate = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "gate-in");
        gate.unwrap()["gallery_version"].as_u64().unwrap()
    };
    let before = version_of(&admin.get("/devices").await.unwrap());
    let withdrawn = json!({"state": "withdrawn", "note": "no longer wishes to be recognised"});
    let done = admin
        .put(&format!("/staff/{member}/consent"), withdrawn)
        .await
        .unwrap();
    assert!(done["erased"].as_u64().unwrap() >= 2, "{done}");
    let after = admin.get(&faces).await.unwrap();
    assert_eq!(after["faces"], json!([]), "{after}");
    assert_eq!(
        after["consent_history"].as_array().unwrap().len(),
        2,
        "{after}"
    );
    gallery_at_least(&admin, "gate-in", before + 1, &mut edge).await;

    let status = edge.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "edge exit: {status}\n{}", edge.output());
    let status = hub.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "hub exit: {status}\n{}", hub.output());
}
