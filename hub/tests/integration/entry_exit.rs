//! Entry and exit through the real hub and its embedded broker: door units registered facing in
//! or out, their records over MQTT (one unit still on protocol 4, which says no direction),
//! who is on site now, a student leaving a lesson early written `LE` when the register
//! closes, a door facing out never marking anyone present, and each day's comings and goings
//! in the student's history.

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::{self, *};

/// Registers a door unit in `room` facing `direction`; answers its id and MQTT secret.
async fn unit(admin: &Api, name: &str, room: &str, direction: &str) -> (DeviceId, String) {
    let r = admin
        .created(
            "/devices",
            json!({"name": name, "room": room, "direction": direction}),
        )
        .await;
    assert_eq!(r["device"]["direction"], direction, "{r}");
    let id = r["device"]["id"].as_str().unwrap().parse().unwrap();
    (id, r["mqtt_password"].as_str().unwrap().to_owned())
}

/// `door` reports `student` Confident at `at` (its room and direction as its `edge.toml`
/// says), and the hub acknowledges it.
async fn seen(door: &mut Door, room: &str, student: &str, at: i64, direction: Option<Direction>) {
    let record = AttendanceRecord {
        room: room.into(),
        direction,
        liveness: None,
        ..common::record(door.device, Decision::Confident, &[(student, 0.3)], at)
    };
    door.publish(Channel::Records, &Message::Record(record.clone()))
        .await;
    let ack = door.next(Channel::Acks).await;
    assert_eq!(
        ack,
        Message::Ack(RecordAck {
            records: vec![record.id]
        })
    );
}

fn whereabouts<'a>(on_site: &'a Value, name: &str) -> &'a Value {
    on_site["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {on_site}"))
}

#[tokio::test]
async fn doors_in_and_out_say_who_is_here_and_who_left_a_lesson_early() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let (gate_in, gate_in_secret) = unit(&admin, "gate-in", "Main gate", "in").await;
    let (gate_out, gate_out_secret) = unit(&admin, "gate-out", "Main gate", "out").await;
    let (lab_exit, lab_exit_secret) = unit(&admin, "lab3-exit", "Lab 3", "out").await;
    let lab_door: DeviceId = s.device.parse().unwrap();
    // The morning has happened: the hub holds back records from its future.
    hub.clock.set(UnixMillis(monday_at(9, 55)));
    let admin = hub.admin().await;

    // A direction is one of three, said plainly when it is not.
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/devices/{gate_in}"),
            Some(json!({"direction": "sideways"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sideways"),
        "{body}"
    );

    let mut entrance = Door::login(&hub, gate_in, &gate_in_secret).await;
    let mut exit = Door::login(&hub, gate_out, &gate_out_secret).await;
    // The exit's unit is one protocol version behind and says no direction (as units before
    // protocol 5 did); the hub's registry says it faces out.
    exit.version = OLDEST_VERSION;
    let mut classroom = Door::login(&hub, lab_door, &s.device_secret).await;
    let mut lab_exit = Door::login(&hub, lab_exit, &lab_exit_secret).await;
    let (inward, outward, both) = (
        Some(Direction::In),
        Some(Direction::Out),
        Some(Direction::Both),
    );

    // Ada comes in, goes to her lesson, and leaves the site at 09:30; Bo comes in, never
    // reaches the lesson (Lab 3's exit sees him leave it), and is back on site at 09:50.
    seen(&mut entrance, "Main gate", &ada, monday_at(8, 40), inward).await;
    seen(&mut entrance, "Main gate", &bo, monday_at(8, 41), inward).await;
    seen(&mut classroom, "Lab 3", &ada, monday_at(9, 1), both).await;
    seen(&mut lab_exit, "Lab 3", &bo, monday_at(9, 20), outward).await;
    seen(&mut exit, "Main gate", &ada, monday_at(9, 30), None).await;
    seen(&mut entrance, "Main gate", &bo, monday_at(9, 50), inward).await;

    let teacher = hub.api().login("tess", "teacher password").await;
    let (status, on_site) = teacher.get("/on-site").await;
    assert_eq!(status, StatusCode::OK, "{on_site}");
    assert_eq!(
        (&on_site["on_site"], &on_site["left"]),
        (&json!(1), &json!(1)),
        "{on_site}"
    );
    let (ada_now, bo_now) = (whereabouts(&on_site, "Ada"), whereabouts(&on_site, "Bo"));
    assert_eq!(
        (
            &ada_now["on_site"],
            &ada_now["last_direction"],
            &ada_now["last_at"]
        ),
        (&json!(false), &json!("out"), &json!(monday_at(9, 30))),
        "the old unit's record is stored as its registry says: out"
    );
    assert_eq!(ada_now["arrived_at"], monday_at(8, 40));
    assert_eq!(
        (&bo_now["on_site"], &bo_now["last_room"]),
        (&json!(true), &json!("Main gate"))
    );

    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (_, live) = teacher.get(&session).await;
    let ada_row = row(&live, "Ada");
    assert_eq!(
        (&ada_row["mark"], &ada_row["left_at"]),
        (&json!("present"), &json!(monday_at(9, 30))),
        "{live}"
    );
    assert_eq!(
        (&row(&live, "Bo")["mark"], &row(&live, "Bo")["left_at"]),
        (&Value::Null, &Value::Null),
        "a door facing out marks nobody present: {live}"
    );
    let (_, records) = admin.get("/records?status=approved").await;
    let directions: Vec<&Value> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["direction"])
        .collect();
    assert!(
        directions.contains(&&json!("out")) && directions.contains(&&json!("in")),
        "{records}"
    );

    // The register closes: Ada was there and left early, Bo never came.
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let teacher = hub.api().login("tess", "teacher password").await;
    let closed = wait_locked(&teacher, &session).await;
    assert_eq!(
        (&row(&closed, "Ada")["code"], &row(&closed, "Ada")["mark"]),
        (&json!("LE"), &json!("present")),
        "{closed}"
    );
    assert_eq!(row(&closed, "Bo")["code"], "N", "{closed}");

    // Ada's history shows the day's comings and goings, and the lesson she left.
    let (status, history) = teacher
        .get(&format!("/reports/students/{ada}/history"))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(
        history["days"],
        json!([{"day": monday(), "movements": [
            {"at": monday_at(8, 40), "direction": "in", "room": "Main gate"},
            {"at": monday_at(9, 30), "direction": "out", "room": "Main gate"},
        ]}]),
        "{history}"
    );
    assert_eq!(history["sessions"][0]["code"], "LE", "{history}");

    // Turning a unit is audited, with the direction before and after.
    let admin = hub.admin().await;
    let (status, turned) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/devices/{gate_in}"),
            Some(json!({"direction": "both"})),
        )
        .await;
    assert_eq!(
        (status, &turned["direction"]),
        (StatusCode::OK, &json!("both"))
    );
    let (_, audit) = admin
        .get(&format!(
            "/audit?action=device.update&target=device:{gate_in}"
        ))
        .await;
    let entry = &audit[0];
    assert_eq!(
        (&entry["before"]["direction"], &entry["after"]["direction"]),
        (&json!("in"), &json!("both")),
        "{audit}"
    );
}
