//! Classes, students, membership, timetable and devices through the API: CRUD, validation,
//! teachers confined to their own classes, and the audit log.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn crud_of_classes_students_and_timetable_is_audited() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&hub, &admin).await;

    let (status, class) = admin
        .put(
            &format!("/classes/{}", school.class),
            json!({"name": "7B (maths)", "teacher_id": null}),
        )
        .await;
    assert_eq!(
        (status, class["name"].as_str()),
        (StatusCode::OK, Some("7B (maths)"))
    );
    let (_, members) = admin
        .get(&format!("/classes/{}/students", school.class))
        .await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let (status, slot) = admin
        .put(&format!("/timetable/{}", school.slot), json!({"class_id": school.class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:30"}))
        .await;
    assert_eq!(
        (status, slot["end_minute"].as_u64()),
        (StatusCode::OK, Some(630))
    );
    let (status, _) = admin
        .post("/timetable", json!({"class_id": school.class, "room": "Lab 3", "weekday": 8, "start": "09:00", "end": "10:00"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "weekday 8 is refused");
    let (status, _) = admin.post("/classes", json!({"name": "7B (maths)"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "class names are unique");

    let bo = &school.students[1];
    let (status, _) = admin.delete(&format!("/students/{bo}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.get(&format!("/students/{bo}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, members) = admin
        .get(&format!("/classes/{}/students", school.class))
        .await;
    assert_eq!(
        members.as_array().unwrap().len(),
        1,
        "deleting a student removes their membership"
    );

    let (_, audit) = admin.get("/audit?limit=100").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "class.create",
        "class.update",
        "student.create",
        "student.enrol",
        "student.erase",
        "timetable.update",
        "device.register",
    ] {
        assert!(
            actions.contains(&expected),
            "audit has {expected}: {actions:?}"
        );
    }
    let update = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "class.update")
        .unwrap();
    assert_eq!(update["before"]["name"], "7B");
    assert_eq!(update["after"]["name"], "7B (maths)");
    assert_eq!(update["actor"], "user:admin");
    hub.stop().await;
}

#[tokio::test]
async fn a_teacher_sees_only_their_own_classes() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&hub, &admin).await;
    admin
        .created(
            "/users",
            json!({"username": "otto", "role": "teacher", "password": "other password"}),
        )
        .await;
    let other = hub.api().login("otto", "other password").await;

    let (status, classes) = school.teacher.get("/classes").await;
    assert_eq!(
        (status, classes.as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    let (status, students) = school.teacher.get("/students").await;
    assert_eq!(
        (status, students.as_array().unwrap().len()),
        (StatusCode::OK, 2)
    );

    let (status, classes) = other.get("/classes").await;
    assert_eq!(
        (status, classes.as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    for path in [
        format!("/classes/{}", school.class),
        format!("/classes/{}/students", school.class),
        format!("/students/{}", school.students[0]),
        format!("/sessions/{}/{}", school.slot, monday()),
        format!(
            "/reports/classes/{}?from=2026-11-23&to=2026-11-27",
            school.class
        ),
    ] {
        let (status, body) = other.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (_, sessions) = other.get("/sessions?date=2026-11-23").await;
    assert!(sessions.as_array().unwrap().is_empty());
    let (_, sessions) = school.teacher.get("/sessions?date=2026-11-23").await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    hub.stop().await;
}

#[tokio::test]
async fn devices_are_registered_listed_and_disabled_by_admins() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let device = admin
        .created("/devices", json!({"name": "door-1", "room": "Hall"}))
        .await;
    let id = device["device"]["id"].as_str().unwrap();
    assert_eq!(device["mqtt_username"], id);
    assert_eq!(device["mqtt_password"].as_str().unwrap().len(), 64);
    let (status, after) = admin
        .post(&format!("/devices/{id}/disable"), json!({}))
        .await;
    assert_eq!((status, &after["enabled"]), (StatusCode::OK, &json!(false)));
    let (_, list) = admin.get("/devices").await;
    assert_eq!(list[0]["enabled"], false);
    assert!(
        list[0].get("credential_hash").is_none(),
        "hashes never leave the hub"
    );
    let (status, _) = admin
        .post(&format!("/devices/{id}/resync"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    hub.stop().await;
}
