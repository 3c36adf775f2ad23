//! The emergency roll call through the real hub: who is expected (seen today and still here, or
//! on today's register), grouped by the lesson they are in; a drill started once, students
//! ticked off by a teacher, one nobody expected added, the drill ended and kept with its counts
//! and audited; bad input refused with the reason.

use reqwest::{Method, StatusCode};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

fn names(people: &Value) -> Vec<&str> {
    people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

fn line<'a>(people: &'a Value, name: &str) -> &'a Value {
    people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {people}"))
}

#[tokio::test]
async fn a_drill_lists_who_is_here_and_keeps_who_was_ticked_off() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let cy = admin.created("/students", json!({"name": "Cy"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dee = admin.created("/students", json!({"name": "Dee"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gate = admin
        .created(
            "/devices",
            json!({"name": "gate-out", "room": "Main gate", "direction": "out"}),
        )
        .await;
    let gate: DeviceId = gate["device"]["id"].as_str().unwrap().parse().unwrap();
    let lab_door: DeviceId = s.device.parse().unwrap();

    // Ada was seen at the lesson's door; Bo's teacher marked him present by hand; Cy was seen
    // in the morning and then left through the gate; nothing says Dee is in.
    store(
        &hub,
        common::record(
            lab_door,
            Decision::Confident,
            &[(&ada, 0.3)],
            monday_at(9, 1),
        ),
    )
    .await;
    store(
        &hub,
        common::record(
            lab_door,
            Decision::Confident,
            &[(&cy, 0.3)],
            monday_at(8, 45),
        ),
    )
    .await;
    let left = AttendanceRecord {
        room: "Main gate".into(),
        direction: Some(Direction::Out),
        liveness: None,
        ..common::record(gate, Decision::Confident, &[(&cy, 0.3)], monday_at(9, 3))
    };
    store(&hub, left).await;
    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (status, _) = s
        .teacher
        .put(
            &format!("{session}/marks/{bo}"),
            json!({"mark": "present", "reason": "came with a note"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, now) = s.teacher.get("/roll-call").await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["roll_call"], Value::Null);
    assert_eq!(names(&now["people"]), ["Ada", "Bo"], "{now}");
    assert_eq!(
        (
            &line(&now["people"], "Ada")["class_name"],
            &line(&now["people"], "Ada")["room"]
        ),
        (&json!("7B"), &json!("Lab 3"))
    );

    // A drill: started once, by a teacher.
    let (status, bad) = s
        .teacher
        .post("/roll-calls", json!({"kind": "party"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, started) = s
        .teacher
        .post("/roll-calls", json!({"kind": "drill"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["roll_call"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started["roll_call"]["people"], 2);
    let (status, again) = admin
        .post("/roll-calls", json!({"kind": "emergency"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("under way (started at 09:05 by user:tess)"),
        "{again}"
    );

    // Ticked off at the assembly point; Dee turns up though nothing said she was in.
    let tick = |student: &str| format!("/roll-calls/{id}/people/{student}");
    for student in [&ada, &dee] {
        let (status, person) = s.teacher.put(&tick(student), json!({"here": true})).await;
        assert_eq!(status, StatusCode::OK, "{person}");
        assert_eq!(person["accounted_by"], "user:tess");
    }
    let (status, body) = s
        .teacher
        .put(
            &tick(&StudentId::random().to_string()),
            json!({"here": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, during) = admin.get("/roll-call").await;
    assert_eq!(during["roll_call"]["accounted"], 2, "{during}");
    assert_eq!(names(&during["people"]), ["Ada", "Bo", "Dee"]);
    let dee_line = line(&during["people"], "Dee");
    assert_eq!(
        (&dee_line["expected"], &dee_line["class_name"]),
        (&json!(false), &json!("No class"))
    );
    assert_eq!(line(&during["people"], "Bo")["accounted_at"], Value::Null);

    // Ended and kept; nothing changes it after.
    let end = format!("/roll-calls/{id}/end");
    let (status, ended) = s.teacher.post(&end, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(
        (&ended["people"], &ended["accounted"]),
        (&json!(3), &json!(2))
    );
    let (status, _) = s.teacher.post(&end, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s.teacher.put(&tick(&bo), json!({"here": true})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, after) = s.teacher.get("/roll-call").await;
    assert_eq!(after["roll_call"], Value::Null, "none under way: {after}");
    let (_, kept) = s.teacher.get(&format!("/roll-calls/{id}")).await;
    assert_eq!(kept["roll_call"]["ended_by"], "user:tess");
    assert_eq!(
        line(&kept["people"], "Ada")["accounted_at"],
        monday_at(9, 5)
    );
    let (_, list) = admin.get("/roll-calls").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (_, audit) = admin.get("/audit?action=roll_call").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["roll_call.end", "roll_call.start"], "{audit}");
    let (status, _) = admin.send(Method::GET, "/roll-calls/not-an-id", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an id that does not parse names nothing"
    );
    hub.stop().await;
}

/// Visitors signed in at reception are a group of their own on the roll call, with their own
/// counts: one still in from yesterday is listed, one gone home is not, one who signed in after
/// the start is added when ticked off.
#[tokio::test]
async fn visitors_on_site_are_on_the_roll_call_with_their_own_count() {
    let hub = start_hub(None).await;
    let visit = |name: &str| json!({"name": name, "visiting": "Mrs Head"});
    hub.clock.set(UnixMillis(monday_at(14, 0) - 24 * 3_600_000));
    let admin = hub.admin().await;
    let yesterday = admin.created("/visitors", visit("Yan Still-Here")).await;
    hub.clock.set(UnixMillis(monday_at(9, 0)));
    let admin = hub.admin().await;
    let ann = admin.created("/visitors", visit("Ann Lee")).await;
    let gone = admin.created("/visitors", visit("Gus Gone")).await;
    let path = format!("/visitors/{}/sign-out", gone["id"].as_str().unwrap());
    let (status, out) = admin.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");

    let (_, now) = admin.get("/roll-call").await;
    assert_eq!(
        names(&now["visitors"]),
        ["Ann Lee", "Yan Still-Here"],
        "{now}"
    );
    let started = admin
        .created("/roll-calls", json!({"kind": "emergency"}))
        .await;
    let id = started["roll_call"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started["roll_call"]["visitors"], 2);
    assert_eq!(names(&started["visitors"]), ["Ann Lee", "Yan Still-Here"]);

    let late = admin.created("/visitors", visit("Lou Late")).await;
    let tick = |v: &Value| format!("/roll-calls/{id}/visitors/{}", v["id"].as_str().unwrap());
    for v in [&ann, &late] {
        let (status, out) = admin.put(&tick(v), json!({"here": true})).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert!(out["accounted_at"].is_i64(), "{out}");
    }
    let (status, out) = admin.put(&tick(&ann), json!({"here": "yes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let nobody = format!("/roll-calls/{id}/visitors/{}", uuid::Uuid::now_v7());
    let (status, out) = admin.put(&nobody, json!({"here": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{out}");

    let (_, kept) = admin.get(&format!("/roll-calls/{id}")).await;
    assert_eq!(
        (
            &kept["roll_call"]["visitors"],
            &kept["roll_call"]["visitors_accounted"]
        ),
        (&json!(3), &json!(2)),
        "{kept}"
    );
    assert_eq!(line(&kept["visitors"], "Lou Late")["expected"], false);
    assert_eq!(
        line(&kept["visitors"], "Yan Still-Here")["accounted_at"],
        Value::Null
    );
    let (status, ended) = admin
        .post(&format!("/roll-calls/{id}/end"), json!({}))
        .await;
    assert_eq!(
        (status, &ended["visitors_accounted"]),
        (StatusCode::OK, &json!(2))
    );
    let (status, _) = admin.put(&tick(&yesterday), json!({"here": true})).await;
    assert_eq!(status, StatusCode::CONFLICT, "ended");
}
