//! What the school's office keeps beyond names, through the real hub: class codes (unique,
//! imported and exported), students' e-mail and phone (admins only, never in the audit log's
//! values, in the subject-access archive), the records list filtered and paged, a reviewer's
//! note, and an admin deleting a wrong record with a reason, the register following.

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

fn ids(records: &Value) -> Vec<&str> {
    let all = records.as_array().unwrap_or_else(|| panic!("{records}"));
    all.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_class_code_is_the_schools_own_and_unique() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let maths = admin
        .created("/classes", json!({"name": "7B Maths", "code": " 7B/Ma1 "}))
        .await;
    assert_eq!(maths["code"], "7B/Ma1", "trimmed");
    let (status, body) = admin
        .post("/classes", json!({"name": "7C Maths", "code": "7B/Ma1"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(r#"already "7B Maths"'s"#), "{message}");
    for bad in [json!(""), json!("x".repeat(33)), json!("7B\u{7}")] {
        let (status, body) = admin
            .post("/classes", json!({"name": "7D", "code": bad}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("code:")
        );
    }
    let id = maths["id"].as_str().unwrap();
    let (_, listed) = admin.get("/classes").await;
    assert_eq!(listed[0]["code"], "7B/Ma1");
    let (status, renamed) = admin
        .put(&format!("/classes/{id}"), json!({"name": "7B Maths"}))
        .await;
    assert_eq!(
        (status, &renamed["code"]),
        (StatusCode::OK, &Value::Null),
        "PUT replaces"
    );
    hub.stop().await;
}

#[tokio::test]
async fn how_the_office_reaches_a_student_is_for_admins_only() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = &s.students[0];
    let path = format!("/students/{ada}");
    let contact = json!({"email": "ada@pupils.school.example", "phone": "+44 7700 900123"});
    let (status, body) = admin.patch(&path, contact).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["email"], &body["phone"]),
        (
            &json!("ada@pupils.school.example"),
            &json!("+44 7700 900123")
        )
    );
    let (_, seen) = admin.get(&path).await;
    assert_eq!(seen["email"], "ada@pupils.school.example");
    let (_, all) = admin.get("/students").await;
    assert_eq!(all[0]["phone"], "+44 7700 900123");
    assert_eq!(all[1]["phone"], Value::Null, "Bo has none");

    let (_, as_teacher) = s.teacher.get(&path).await;
    assert_eq!(as_teacher["name"], "Ada");
    assert!(as_teacher.get("email").is_none() && as_teacher.get("phone").is_none());
    let (_, listed) = s.teacher.get("/students").await;
    assert!(listed[0].get("email").is_none(), "{listed}");

    for (bad, field) in [
        (json!({"phone": "call the office"}), "phone:"),
        (json!({"email": "ada at home"}), "email:"),
    ] {
        let (status, body) = admin.patch(&path, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    let (_, cleared) = admin.patch(&path, json!({"phone": null})).await;
    assert_eq!(
        (&cleared["email"], &cleared["phone"]),
        (&json!("ada@pupils.school.example"), &Value::Null)
    );

    let (_, audit) = admin.get("/audit").await;
    let changes: Vec<&Value> = (audit.as_array().unwrap().iter())
        .filter(|e| e["action"] == "student.contact")
        .collect();
    assert_eq!(changes.len(), 2, "{audit}");
    assert!(
        !audit.to_string().contains("pupils.school.example"),
        "the audit log says what changed, never the address"
    );
    hub.stop().await;
}

#[tokio::test]
async fn records_are_found_by_what_they_say_and_a_wrong_one_is_deleted_with_its_mark() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let device: DeviceId = s.device.parse().unwrap();
    let door = |decision, named: &[(&str, f32)], hh, mm| {
        common::record(device, decision, named, monday_at(hh, mm))
    };
    let wrong = store(&hub, door(Decision::Confident, &[(&ada, 0.28)], 9, 2)).await;
    let unsure = store(&hub, door(Decision::Uncertain, &[(&bo, 0.34)], 9, 10)).await;
    let nobody = store(&hub, door(Decision::Unknown, &[], 9, 15)).await;

    let list = |query: String| {
        let admin = admin.clone();
        async move {
            let (status, body) = admin.get(&format!("/records?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body
        }
    };
    let day = monday();
    assert_eq!(ids(&list(format!("student={ada}")).await), [wrong.as_str()]);
    assert_eq!(
        ids(&list("decision=uncertain".into()).await),
        [unsure.as_str()]
    );
    assert_eq!(
        ids(&list(format!("device={device}&from={day}&to={day}")).await),
        [nobody.as_str(), unsure.as_str(), wrong.as_str()]
    );
    let next_day = day.succ_opt().unwrap();
    assert_eq!(list(format!("from={next_day}")).await, json!([]));
    assert_eq!(list("room=Hall".into()).await, json!([]));
    let first = list("status=pending&limit=1".into()).await;
    assert_eq!(ids(&first), [nobody.as_str()]);
    let second = list(format!("status=pending&limit=1&before={nobody}")).await;
    assert_eq!(ids(&second), [unsure.as_str()], "the page after");
    for (query, status) in [
        (format!("from={next_day}&to={day}"), StatusCode::BAD_REQUEST),
        ("decision=maybe".into(), StatusCode::BAD_REQUEST),
        (
            format!("before={}", RecordId::now_v7()),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, body) = admin.get(&format!("/records?{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
    }

    // Bo was in the hoodie: approved with a note, which stays on the record.
    let (status, approved) = s
        .teacher
        .post(
            &format!("/records/{unsure}/approve"),
            json!({"note": "in a hoodie"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["review_note"], "in a hoodie");
    let reject = format!("/records/{nobody}/reject");
    let (status, rejected) = s.teacher.send(reqwest::Method::POST, &reject, None).await;
    assert_eq!(status, StatusCode::OK, "no body, no note: {rejected}");
    assert_eq!(rejected["review_note"], Value::Null);

    // The register closes with Ada present on the strength of one record: a stranger's.
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let (admin, teacher) = (
        hub.admin().await,
        hub.api().login("tess", "teacher password").await,
    );
    let session = format!("/sessions/{}/{day}", s.slot);
    let closed = wait_locked(&teacher, &session).await;
    assert_eq!(row(&closed, "Ada")["code"], "/");

    let path = format!("/records/{wrong}");
    let why = json!({"reason": "a visitor, not Ada: she was off sick"});
    let (status, _) = teacher
        .send(reqwest::Method::DELETE, &path, Some(why.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");
    let blank = json!({"reason": "  "});
    let (status, _) = admin
        .send(reqwest::Method::DELETE, &path, Some(blank))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, deleted) = admin
        .send(reqwest::Method::DELETE, &path, Some(why.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["amended"][0]["student"], json!(ada), "{deleted}");
    let (status, _) = admin.send(reqwest::Method::DELETE, &path, Some(why)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone");

    let (_, after) = teacher.get(&session).await;
    let ada_row = row(&after, "Ada");
    assert_eq!(ada_row["code"], "N", "{ada_row}");
    let reason = ada_row["amendments"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("she was off sick") && reason.contains(&wrong),
        "{reason}"
    );
    assert_eq!(
        row(&after, "Bo")["code"],
        "L",
        "Bo's record (late, at 09:10) stands"
    );
    let (_, audit) = admin.get("/audit").await;
    let entry = (audit.as_array().unwrap().iter())
        .find(|e| e["action"] == "record.delete")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(
        entry["after"]["reason"],
        "a visitor, not Ada: she was off sick"
    );
    assert_eq!(entry["before"]["final_student"], json!(ada));
    hub.stop().await;
}
