//! The school's export against a real hub: an admin downloads one zip holding every table as
//! CSV and JSON with a manifest and a README; what it holds is what the API says (students,
//! classes, members, timetable, a record a door unit sent), and nothing secret or biometric is
//! in it. A teacher may not download it, and the download is audited.

mod common;

use std::io::Read as _;

use common::door::Door;
use common::*;
use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::{Decision, DeviceId, Message};
use serde_json::{Value, json};

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
    let school = seed_school(&hub, &admin).await;
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
