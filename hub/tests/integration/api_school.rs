//! Classes, students, membership, timetable and devices through the API: CRUD, validation,
//! students' details and how they are found, teachers confined to their own classes, and the
//! audit log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn crud_of_classes_students_and_timetable_is_audited() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;

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
    let school = seed_school(&admin).await;
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

#[tokio::test]
async fn a_student_has_a_year_group_form_birth_date_and_an_active_flag() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let (ada, bo) = (&school.students[0], &school.students[1]);

    let cy = admin
        .created(
            "/students",
            json!({"name": "Cy Young", "external_ref": "S-0003", "year_group": "Year 8",
                   "form": "8C", "born_on": "2013-05-01"}),
        )
        .await;
    assert_eq!(
        (
            &cy["year_group"],
            &cy["form"],
            &cy["born_on"],
            &cy["active"]
        ),
        (
            &json!("Year 8"),
            &json!("8C"),
            &json!("2013-05-01"),
            &json!(true)
        )
    );
    let cy = cy["id"].as_str().unwrap().to_owned();
    for (bad, field) in [
        (json!({"name": "X", "born_on": "2027-01-01"}), "born_on"),
        (json!({"name": "X", "born_on": "01/05/2013"}), "born_on"),
        (
            json!({"name": "X", "year_group": "Y".repeat(65)}),
            "year_group",
        ),
        (json!({"name": "X", "house": "Red"}), "house"),
    ] {
        let (status, body) = admin.post("/students", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body.to_string().contains(field), "{bad}: {body}");
    }

    let set = |id: &str, body: Value| {
        let (admin, path) = (&admin, format!("/students/{id}"));
        async move {
            let (status, out) = admin.patch(&path, body).await;
            assert_eq!(status, StatusCode::OK, "PATCH {path}: {out}");
            out
        }
    };
    set(ada, json!({"year_group": "Year 7", "form": "7B"})).await;
    let bo_now = set(
        bo,
        json!({"year_group": "Year 7", "form": "7L", "active": false}),
    )
    .await;
    assert_eq!(
        (&bo_now["name"], &bo_now["active"]),
        (&json!("Bo"), &json!(false))
    );
    let cy_now = set(&cy, json!({"born_on": null})).await;
    assert_eq!(
        (&cy_now["born_on"], &cy_now["form"], &cy_now["external_ref"]),
        (&Value::Null, &json!("8C"), &json!("S-0003")),
        "null clears one field; the others stay"
    );
    let (status, renamed) = admin
        .put(&format!("/students/{ada}"), json!({"name": "Ada Lovelace"}))
        .await;
    assert_eq!(
        (status, &renamed["form"]),
        (StatusCode::OK, &json!("7B")),
        "PUT renames and leaves the details"
    );

    let found = |query: &'static str| {
        let admin = &admin;
        async move {
            let (status, list) = admin.get(&format!("/students?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {list}");
            let names = list.as_array().unwrap().iter();
            names
                .map(|s| s["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("year_group=year%207").await, ["Ada Lovelace", "Bo"]);
    assert_eq!(found("form=7B").await, ["Ada Lovelace"]);
    assert_eq!(found("active=false").await, ["Bo"]);
    assert_eq!(
        found("active=true&year_group=Year%207").await,
        ["Ada Lovelace"]
    );
    assert_eq!(
        found("q=s-0003").await,
        ["Cy Young"],
        "found by the school's reference"
    );
    let (status, _) = admin.get("/students?active=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Bo is inactive: still in 7B, no longer expected at its lessons.
    let (_, members) = admin
        .get(&format!("/classes/{}/students", school.class))
        .await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let (_, roster) = school
        .teacher
        .get(&format!("/sessions/{}/{}", school.slot, monday()))
        .await;
    let expected: Vec<&str> = roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(expected, ["Ada Lovelace"], "{roster}");

    let (_, audit) = admin.get("/audit?limit=100").await;
    let made_inactive = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "student.update" && e["after"]["active"] == json!(false));
    let made_inactive = made_inactive.expect("the change is audited");
    assert_eq!(made_inactive["before"]["active"], json!(true));

    // A bad photo is switched off without deleting it, and on again.
    let faces_of_ada = format!("/students/{ada}/faces");
    let (_, faces) = admin.get(&faces_of_ada).await;
    assert_eq!(faces[0]["active"], json!(true));
    let face = format!("{faces_of_ada}/{}", faces[0]["id"].as_str().unwrap());
    let (status, off) = admin.patch(&face, json!({"active": false})).await;
    assert_eq!((status, &off["active"]), (StatusCode::OK, &json!(false)));
    let (_, faces) = admin.get(&faces_of_ada).await;
    assert_eq!(faces.as_array().unwrap().len(), 1, "kept");
    assert_eq!(faces[0]["active"], json!(false));
    let (status, _) = school.teacher.patch(&face, json!({"active": true})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin.patch(&face, json!({"active": "yes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let elsewhere = format!("/students/{bo}/faces/{}", faces[0]["id"].as_str().unwrap());
    let (status, _) = admin.patch(&elsewhere, json!({"active": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a face of another student");
    let (_, audit) = admin.get("/audit?limit=100").await;
    let switched = audit
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "student.face_active");
    assert!(switched, "audited");
    hub.stop().await;
}
