//! The whole system as a school runs it, in real processes: `rollcall-hub` with its embedded
//! broker and the real face models, `rollcall-edge` with the replay camera over real photos
//! from `../shared/faces`, set up with the commands and API calls README.md shows.
//!
//! Three people are enrolled from their photos but one through the API; the door unit is shown
//! the remaining photo of each and photos of two people never enrolled, with the door's shipped
//! thresholds. Every Confident record must name the person shown, a stranger is never
//! Confident (an Uncertain card is the teacher's to reject), and a teacher's decision through
//! the API must change the class report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollcall_e2e::api::Api;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::{photos_of, prints_in_database, stored_prints, template_prints};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup};
use rollcall_e2e::process::run;
use rollcall_e2e::wait_until;
use serde_json::{Value, json};

const ENROLLED: [&str; 3] = ["Aaron_Peirsol", "Abdullah_Gul", "Adam_Sandler"];
const STRANGERS: [&str; 2] = ["Ahmed_Chalabi", "Abel_Pacheco"];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Enrols `photos` of `student`. A photo with two people in it is refused; enough others must
/// be accepted.
async fn enrol(admin: &Api, student: &str, photos: &[PathBuf]) {
    let body = admin.enrol(student, photos).await.unwrap();
    let accepted = body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["accepted"] == json!(true))
        .count();
    assert!(accepted >= 2, "too few enrolment photos accepted: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_from_a_door_unit_land_in_the_review_queue_and_the_report() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    // As README.md's walkthrough: `init`, `device add --secrets-file`, `serve`.
    let setup = HubSetup::init(dir, true).unwrap();
    let device = setup.add_device("door-1", "Room 1").unwrap();
    let mut hub = setup.serve("hub.log").unwrap();
    let base = setup.api();

    // The admin sets up a class taught in Room 1 every day, all day, and enrols three people.
    let admin = Api::login(&base, ADMIN, ADMIN_PASSWORD).await.unwrap();
    let class = admin.post("/classes", json!({"name": "7B"})).await.unwrap()["id"].clone();
    for weekday in 1..=7 {
        let slot = json!({"class_id": class, "room": "Room 1", "weekday": weekday, "start": "00:00", "end": "23:59"});
        admin.post("/timetable", slot).await.unwrap();
    }
    let mut students = BTreeMap::new();
    for person in ENROLLED.into_iter().chain(["Nobody_Yet"]) {
        let student = admin
            .post("/students", json!({"name": person}))
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
        if person != "Nobody_Yet" {
            admin.give_consent(&student).await.unwrap();
            let photos = photos_of(person);
            enrol(&admin, &student, &photos[..photos.len() - 1]).await;
        }
        students.insert(person, student);
    }

    // The door unit is shown the last photo of each enrolled person, then two strangers.
    let replay = dir.join("replay");
    std::fs::create_dir(&replay).unwrap();
    let shown: Vec<&str> = ENROLLED.into_iter().chain(STRANGERS).collect();
    for (i, person) in shown.iter().enumerate() {
        let photos = photos_of(person);
        let photo = if i < ENROLLED.len() {
            photos.last().unwrap()
        } else {
            &photos[0]
        };
        std::fs::copy(photo, replay.join(format!("{i}-{person}.jpg"))).unwrap();
    }
    // `EdgeSetup::new` also runs `rollcall-edge check-config` on what it wrote.
    let door = EdgeSetup::new(dir, &setup, &device, &replay).unwrap();
    let door_toml = door.config.to_str().unwrap();
    // The door unit logs as JSON (`[logging] format = "json"`, here from the environment), for
    // a school whose log system gathers its door units' lines too.
    let json_logs = [("ROLLCALL_EDGE_LOGGING__FORMAT", "json")];
    let mut edge = door.start_with("edge.log", &json_logs).unwrap();

    // The hub pushes the room's gallery; the heartbeat reports it, in the current protocol,
    // with the door unit's model and free disk.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let devices = admin.get("/devices").await.unwrap();
        if devices[0]["gallery_version"].as_u64().unwrap_or(0) >= 1 {
            let d = &devices[0];
            assert_eq!(
                d["protocol_version"],
                json!(rollcall_shared::PROTOCOL_VERSION)
            );
            assert!(
                d["model"].as_str().is_some_and(|m| m.contains("dlib")),
                "{d}"
            );
            assert!(d["free_disk_bytes"].as_u64().unwrap_or(0) > 0, "{d}");
            break;
        }
        assert!(!edge.exited(), "the edge stopped:\n{}", edge.output());
        assert!(
            tokio::time::Instant::now() < deadline,
            "no gallery on the door unit within 60 s:\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // One trigger per photo; each burst's records are told apart by capture time.
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
    let records = loop {
        let devices = admin.get("/devices").await.unwrap();
        let records = admin.get("/records").await.unwrap();
        if devices[0]["outbox_depth"] == json!(0) && !records.as_array().unwrap().is_empty() {
            break records;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "records did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let records = records.as_array().unwrap();
    let burst_of = |r: &Value| {
        let at = r["captured_at"].as_i64().unwrap();
        let burst = bursts
            .iter()
            .find(|(_, from, to)| (*from..=*to).contains(&at));
        burst
            .unwrap_or_else(|| panic!("record outside every burst: {r}"))
            .0
    };
    let mut named = BTreeMap::new();
    for r in records {
        let person = burst_of(r);
        let decision = r["decision"].as_str().unwrap();
        let top = r["candidates"][0]["student"].as_str().unwrap_or_default();
        if decision == "confident" {
            assert_eq!(
                Some(&top.to_owned()),
                students.get(person),
                "a Confident record names the wrong student: {r}"
            );
        }
        if STRANGERS.contains(&person) {
            assert_ne!(decision, "confident", "a stranger was given a name: {r}");
        }
        if students.get(person).is_some_and(|s| s == top) {
            named.insert(person, r.clone());
        }
    }
    // A single photo can be missed (true-accept is about 90 % per photo, docs/ACCURACY.md);
    // missing a person is never a wrong name, but most must be recognised.
    let recognised: Vec<&str> = ENROLLED
        .into_iter()
        .filter(|p| {
            named
                .get(p)
                .is_some_and(|r| r["decision"] != json!("unknown"))
        })
        .collect();
    assert!(
        recognised.len() >= 2,
        "only {recognised:?} of {ENROLLED:?} recognised: {records:#?}"
    );

    // The teacher's decision changes the report: a stranger's record is reassigned to the
    // student with no photos yet, who then counts as present today.
    let stranger_record = records
        .iter()
        .find(|r| STRANGERS.contains(&burst_of(r)))
        .expect("a stranger's record");
    let nobody = &students["Nobody_Yet"];
    let path = format!(
        "/records/{}/reassign",
        stranger_record["id"].as_str().unwrap()
    );
    admin.post(&path, json!({"student": nobody})).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let report = admin
        .text(&format!(
            "/reports/classes/{}?from={today}&to={today}&format=csv",
            class.as_str().unwrap()
        ))
        .await
        .unwrap();
    let row = report
        .lines()
        .find(|l| l.contains(nobody.as_str()))
        .unwrap_or_else(|| panic!("no report row for the reassigned student:\n{report}"));
    assert!(
        row.to_lowercase().contains("present") || row.to_lowercase().contains("late"),
        "the reassigned student is not present in the report: {row}\n{report}"
    );

    // One grep of the record's id follows it from the door to the review, in both logs.
    let id = stranger_record["id"].as_str().unwrap();
    let lines = |log: String| -> String {
        log.lines()
            .filter(|l| l.contains(id))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (door_log, hub_log) = (lines(edge.output()), lines(hub.output()));
    for line in edge.output().lines().filter(|l| !l.trim().is_empty()) {
        let line: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a door unit's line is not JSON ({e}): {line}"));
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    let kept = door_log.lines().map(serde_json::from_str::<Value>);
    let kept = kept.filter_map(Result::ok).find(|l| l["message"] == "kept");
    assert_eq!(
        kept.as_ref().map(|l| &l["span"]["id"]),
        Some(&json!(id)),
        "the record's id in its span:\n{door_log}"
    );
    for step in ["kept", "acknowledged by the hub"] {
        assert!(
            door_log.contains(step),
            "{step:?} of {id} in the door's log:\n{door_log}"
        );
    }
    for step in ["stored", "reviewed: reassign"] {
        assert!(
            hub_log.contains(step),
            "{step:?} of {id} in the hub's log:\n{hub_log}"
        );
    }

    // A parent withdraws consent: the student's templates leave the hub at once and the door
    // unit with the next gallery; once the unit has confirmed that gallery in a heartbeat, the
    // sealed gallery that held them is left nowhere in its database or its write-ahead log
    // (and no template was ever there in the clear).
    let gone = &students[ENROLLED[0]];
    let templates = admin
        .get(&format!("/students/{gone}/embeddings"))
        .await
        .unwrap();
    let clear = template_prints(&templates);
    assert!(!clear.is_empty(), "{templates}");
    assert_eq!(
        prints_in_database(&door.db(), &clear),
        0,
        "sealed on the card"
    );
    let gallery = "SELECT snapshot FROM gallery WHERE slot = ?1";
    let prints = stored_prints(&door.db(), gallery, "1");
    let held_by_door = || prints_in_database(&door.db(), &prints);
    assert!(
        held_by_door() > 0,
        "the door unit held the gallery with them before"
    );
    let withdrawal = json!({"state": "withdrawn", "by": "Their mother"});
    let path = format!("/students/{gone}/consent");
    let done = admin.put(&path, withdrawal).await.unwrap();
    assert!(done["erased"]["templates"].as_u64().unwrap() >= 2, "{done}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let consent = admin.get(&path).await.unwrap();
        if consent["door_units_holding"] == json!([]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the door unit did not confirm a gallery without them: {consent}\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        held_by_door(),
        0,
        "a template of theirs is left on the door unit"
    );

    // Both stop cleanly on SIGTERM.
    let status = edge.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "edge exit: {status}\n{}", edge.output());
    let status = hub.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "hub exit: {status}\n{}", hub.output());
}
