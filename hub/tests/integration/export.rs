//! The school's export against a real hub: an admin downloads one zip holding every table as
//! CSV and JSON with a manifest and a README; what it holds is what the API says (students,
//! classes, members, timetable, a record a door unit sent), and nothing secret or biometric is
//! in it. A teacher may not download it, and the download is audited.

use std::io::Read as _;

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::{Decision, DeviceId, Message};
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::*;

fn file(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> String {
    let mut text = String::new();
    archive
        .by_name(&format!("rollcall-export-test-site/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn an_admin_exports_the_schools_data_without_faces_or_secrets() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::login(&hub, device, &school.device_secret).await;
    let sent = record(
        device,
        Decision::Confident,
        &[(&school.students[0], 0.3)],
        monday_at(9, 1),
    );
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    door.next(Channel::Acks).await;

    let (status, _, _) = school.teacher.bytes("/export").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, kind, body) = admin.bytes("/export").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("application/zip"));

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let manifest: Value = serde_json::from_str(&file(&mut archive, "manifest.json")).unwrap();
    assert_eq!(manifest["site"], json!("test-site"));
    assert!(file(&mut archive, "README.txt").contains("Not included: faces"));

    let students: Value = serde_json::from_str(&file(&mut archive, "json/students.json")).unwrap();
    let names: Vec<&str> = students
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Bo"]);
    assert_eq!(students[0]["consent"], json!("given"), "{students}");
    let consent = file(&mut archive, "csv/consent_changes.csv");
    assert!(
        consent.contains(",Ada,given,Jane Doe (mother),2025-09-01,form 12,"),
        "every answer, with its form: {consent}"
    );
    let members = file(&mut archive, "csv/class_members.csv");
    assert!(members.starts_with("class_id,class_name,student_id,student_name\r\n"));
    assert!(
        members.contains(&format!(",7B,{},Ada\r\n", school.students[0])),
        "{members}"
    );
    let timetable = file(&mut archive, "csv/timetable.csv");
    assert!(
        timetable.contains(",7B,Lab 3,1,09:00,10:00,"),
        "{timetable}"
    );
    let records: Value = serde_json::from_str(&file(&mut archive, "json/records.json")).unwrap();
    let record = &records[0];
    assert_eq!(record["id"], json!(sent.id.to_string()));
    assert_eq!(record["decision"], json!("confident"));
    assert!(
        record["captured_at"].as_str().unwrap().ends_with('Z'),
        "{record}"
    );
    assert_eq!(
        record["candidates"][0]["student"],
        json!(school.students[0]),
        "candidates are JSON, not text"
    );
    assert!(record.get("embedding").is_none() && record.get("thumbnail").is_none());

    // Nothing secret anywhere: no password hash, no device secret.
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert!(!text.contains("$argon2"), "{}", entry.name());
        assert!(!text.contains(&school.device_secret), "{}", entry.name());
    }
    let (_, audit) = admin.get("/audit?limit=5").await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == json!("school.export")),
        "{audit}"
    );
    hub.stop().await;
}

/// The files of a student's archive, by name under its folder.
fn student_files(body: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().split_once('/').unwrap().1.to_owned();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        files.insert(name, bytes);
    }
    files
}

fn json_of(files: &std::collections::BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(&files[name]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test]
async fn a_students_archive_holds_everything_kept_about_them_and_nothing_after_erasure() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let ada = &school.students[0];
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::login(&hub, device, &school.device_secret).await;
    let seen = record(device, Decision::Confident, &[(ada, 0.3)], monday_at(9, 1));
    let unsure = record(device, Decision::Uncertain, &[(ada, 0.34)], monday_at(9, 2));
    for r in [&seen, &unsure] {
        door.publish(Channel::Records, &Message::Record(r.clone()))
            .await;
        door.next(Channel::Acks).await;
    }
    let reach = json!({"email": "ada@pupils.school.example", "phone": "01632 960001"});
    let (status, _) = admin.patch(&format!("/students/{ada}"), reach).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/students/{ada}/archive");
    assert_eq!(school.teacher.bytes(&path).await.0, StatusCode::FORBIDDEN);
    let nobody = format!("/students/{}/archive", rollcall_shared::StudentId::random());
    assert_eq!(admin.bytes(&nobody).await.0, StatusCode::NOT_FOUND);

    let (status, kind, body) = admin.bytes(&path).await;
    assert_eq!(
        (status, kind.as_deref()),
        (StatusCode::OK, Some("application/zip"))
    );
    let files = student_files(body);
    let about = json_of(&files, "student.json");
    assert_eq!(about["student"]["name"], "Ada");
    assert_eq!(about["student"]["consent"], "given");
    assert_eq!(about["classes"], json!(["7B"]));
    assert_eq!(
        about["contact"],
        json!({"email": "ada@pupils.school.example", "phone": "01632 960001"})
    );
    let consent = json_of(&files, "consent.json");
    assert_eq!(consent[0]["reference"], "form 12", "{consent}");
    let records = json_of(&files, "records.json");
    let ids: Vec<&Value> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(seen.id.to_string()), &json!(unsure.id.to_string())]
    );
    let templates = json_of(&files, "templates.json");
    assert_eq!(
        templates[0]["values"].as_array().unwrap().len(),
        128,
        "{templates}"
    );
    let crop = format!("faces/record-{}.jpg", unsure.id);
    assert_eq!(
        files[&crop],
        unsure.thumbnail.as_ref().unwrap().0,
        "the crop as kept"
    );
    let audit = String::from_utf8(files["audit.csv"].clone()).unwrap();
    assert!(audit.contains("consent.set"), "{audit}");
    assert!(String::from_utf8_lossy(&files["README.txt"]).contains("1 face templates"));

    // Consent withdrawn: the archive shows the answers and no face of theirs.
    let withdrawal = json!({"state": "withdrawn", "by": "Jane Doe (mother)"});
    assert_eq!(
        admin
            .put(&format!("/students/{ada}/consent"), withdrawal)
            .await
            .0,
        StatusCode::OK
    );
    let files = student_files(admin.bytes(&path).await.2);
    assert_eq!(json_of(&files, "templates.json"), json!([]));
    assert_eq!(json_of(&files, "records.json"), json!([]));
    assert!(
        !files.keys().any(|f| f.starts_with("faces/")),
        "{:?}",
        files.keys()
    );
    assert_eq!(json_of(&files, "consent.json").as_array().unwrap().len(), 2);
    let (_, log) = admin.get("/audit").await;
    let downloads = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "student.archive");
    assert_eq!(downloads.count(), 2, "each download is audited");
    hub.stop().await;
}
