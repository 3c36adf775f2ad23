//! The endpoints behind the review, Today and student pages: the review queue with candidate
//! names and enrolment photos (none for students outside the teacher's classes), the Today
//! roster with who is waiting for review and how many the door marked with nobody checking,
//! and student search by name.

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

fn record(device: &str, candidates: &[(&str, f32)], captured_at: i64) -> AttendanceRecord {
    let decision = match candidates.is_empty() {
        true => Decision::Unknown,
        false => Decision::Uncertain,
    };
    common::record(device.parse().unwrap(), decision, candidates, captured_at)
}

fn row<'a>(today: &'a Value, name: &str) -> &'a Value {
    let rows = today["sessions"][0]["rows"].as_array().unwrap();
    rows.iter().find(|r| r["name"] == name).unwrap()
}

#[tokio::test]
async fn the_queue_names_candidates_shows_their_photos_and_counts_what_waits() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    let zed = admin.created("/students", json!({"name": "Zed"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ada gets an enrolment photo with a thumbnail (a reviewed crop added to her gallery).
    let crop = store(&hub, record(&s.device, &[], monday_at(7, 0))).await;
    let (status, out) = admin
        .post(
            &format!("/records/{crop}/reassign"),
            json!({"student": ada, "add_to_gallery": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let first = store(
        &hub,
        record(
            &s.device,
            &[(ada, 0.42), (zed.as_str(), 0.7)],
            monday_at(9, 20),
        ),
    )
    .await;
    let second = store(&hub, record(&s.device, &[(bo, 0.5)], monday_at(9, 30))).await;

    let (status, queue) = s.teacher.get("/review").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["count"], 2);
    let records = queue["records"].as_array().unwrap();
    assert_eq!(
        (records[0]["id"].as_str(), records[1]["id"].as_str()),
        (Some(second.as_str()), Some(first.as_str())),
        "newest first"
    );
    let ada_card = &records[1]["candidates"][0];
    assert_eq!(ada_card["name"], "Ada");
    assert!((ada_card["distance"].as_f64().unwrap() - 0.42).abs() < 1e-6);
    let face_url = ada_card["faces"][0]["thumbnail_url"].as_str().unwrap();
    let zed_card = &records[1]["candidates"][1];
    assert_eq!(
        (&zed_card["name"], &zed_card["faces"]),
        (&Value::Null, &json!([])),
        "a student outside the teacher's classes stays anonymous"
    );
    assert_eq!(
        records[1]["thumbnail_url"],
        format!("/api/v1/records/{first}/thumbnail")
    );

    let path = face_url.strip_prefix("/api/v1").unwrap();
    let (status, kind, bytes) = s.teacher.bytes(path).await;
    assert_eq!(
        (status, kind.as_deref()),
        (StatusCode::OK, Some("image/jpeg"))
    );
    assert_eq!(bytes, [0xFF, 0xD8, 0xFF, 0xD9]);

    let (_, one) = s.teacher.get("/review?limit=1").await;
    assert_eq!(
        (
            one["count"].as_u64(),
            one["records"].as_array().unwrap().len()
        ),
        (Some(2), 1),
        "the count covers every pending record, the list only the limit"
    );

    let (status, today) = s.teacher.get("/today").await;
    assert_eq!(status, StatusCode::OK, "{today}");
    assert_eq!(today["date"], "2026-11-23");
    assert_eq!(today["sessions"][0]["pending"], 2);
    assert_eq!(
        (&row(&today, "Ada")["waiting"], &row(&today, "Ada")["mark"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(row(&today, "Bo")["waiting"], true);

    let (status, _) = s
        .teacher
        .post(&format!("/records/{first}/approve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, today) = s.teacher.get("/today").await;
    assert_eq!(today["sessions"][0]["pending"], 1);
    assert_eq!(
        (&row(&today, "Ada")["waiting"], &row(&today, "Ada")["mark"]),
        (&json!(false), &json!("late")),
        "approved at 09:20: Late"
    );
    assert_eq!(
        today["sessions"][0]["by_door"], 0,
        "a reviewed mark saved nothing"
    );
    let door = common::record(
        s.device.parse().unwrap(),
        Decision::Confident,
        &[(bo, 0.2)],
        monday_at(9, 3),
    );
    store(&hub, door).await;
    let (_, today) = s.teacher.get("/today").await;
    assert_eq!(today["sessions"][0]["by_door"], 1, "{today}");
    assert_eq!(row(&today, "Bo")["mark"], "present");
    assert_eq!(s.teacher.get("/review").await.1["count"], 1);

    let (_, other_day) = s.teacher.get("/today?date=2026-11-24").await;
    assert_eq!(other_day["sessions"], json!([]), "no class on Tuesdays");
    hub.stop().await;
}

#[tokio::test]
async fn students_are_found_by_part_of_their_name_among_those_the_caller_sees() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    admin
        .created("/students", json!({"name": "Zed Bodo"}))
        .await;

    let names = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(s.teacher.get("/students?q=bO").await.1), ["Bo"]);
    assert_eq!(
        names(s.teacher.get("/students?q=zed").await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        names(admin.get("/students?q=bo").await.1),
        ["Bo", "Zed Bodo"]
    );
    assert_eq!(names(admin.get("/students").await.1).len(), 3);
    hub.stop().await;
}
