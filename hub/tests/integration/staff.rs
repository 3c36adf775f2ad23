//! Staff through the real hub: added by hand and from a CSV file (whole or not at all), signed
//! in and out at reception once each way, counted on site (one who never signed out last night
//! still is), on the roll call in their own group, their day as CSV; a teacher sees no contact
//! details and changes nothing; bad input refused with the reason, nothing kept; a personnel
//! code is one code whatever its case, and clashes kept from before are listed and sign nobody
//! in. A gate's
//! recognitions over MQTT: logged once each, and only for members whose consent is given.

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::*;

const DELETE: reqwest::Method = reqwest::Method::DELETE;

fn line<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

async fn import(api: &Api, csv: &str) -> (StatusCode, Value) {
    api.post_bytes("/staff/import", "text/csv", csv.as_bytes().to_vec())
        .await
}

#[tokio::test]
async fn staff_are_signed_in_and_out_counted_on_site_and_on_the_roll_call() {
    let hub = start_hub(None).await;
    hub.clock.set(UnixMillis(monday_at(7, 50) - 24 * 3_600_000));
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;

    let ann = admin
        .created(
            "/staff",
            json!({"personnel_code": "T001", "name": "Ann Able", "department": "Science",
                   "position": "Teacher", "email": "ann@school.test", "phone": "555-0100"}),
        )
        .await;
    assert_eq!(
        (&ann["code"], &ann["active"]),
        (&json!("T001"), &json!(true))
    );
    let (status, out) = import(
        &admin,
        "personnel_code,name,department,position,email,phone,active\n\
         T002,Bob Baker,Site,Caretaker,,,yes\n\
         T003,Cy Cole,Office,Bursar,,,no\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!((&out["created"], &out["updated"]), (&json!(2), &json!(0)));

    // Bob signs in on Sunday evening and never out: on Monday he is still on site.
    let (status, out) = s
        .teacher
        .post("/staff/sign-in", json!({"code": "t002"}))
        .await;
    assert_eq!(
        (status, &out["name"]),
        (StatusCode::OK, &json!("Bob Baker")),
        "{out}"
    );
    hub.clock.set(UnixMillis(monday_at(7, 50)));
    let (admin, teacher) = (
        hub.admin().await,
        hub.api().login("tess", "teacher password").await,
    );
    let (status, out) = teacher
        .post("/staff/sign-in", json!({"staff": ann["id"]}))
        .await;
    assert_eq!(
        (status, &out["source"]),
        (StatusCode::OK, &json!("reception")),
        "{out}"
    );
    let (status, out) = teacher
        .post("/staff/sign-in", json!({"code": "T001"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signed in already")
    );
    let (status, out) = teacher
        .post("/staff/sign-in", json!({"code": "T003"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "inactive: {out}");
    let (status, _) = teacher
        .post("/staff/sign-in", json!({"code": "T404"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, on_site) = teacher.get("/on-site").await;
    assert_eq!(on_site["staff_on_site"], 2, "{on_site}");
    let (_, day) = teacher.get("/staff").await;
    assert_eq!(day["on_site"], 2);
    let bob = line(&day["staff"], "Bob Baker");
    assert_eq!(
        (&bob["on_site"], &bob["first_in"]),
        (&json!(true), &Value::Null),
        "in since Sunday"
    );
    assert!(
        line(&day["staff"], "Ann Able").get("email").is_none(),
        "a teacher sees no contact"
    );
    let (_, as_admin) = admin.get("/staff").await;
    assert_eq!(line(&as_admin["staff"], "Ann Able")["phone"], "555-0100");

    // The roll call lists both, in their own group.
    let started = teacher
        .created("/roll-calls", json!({"kind": "drill"}))
        .await;
    let id = started["roll_call"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started["roll_call"]["staff"], 2, "{started}");
    let tick = |m: &Value| format!("/roll-calls/{id}/staff/{}", m["id"].as_str().unwrap());
    let (status, out) = teacher.put(&tick(&ann), json!({"here": true})).await;
    assert!(status.is_success() && out["accounted_at"].is_i64(), "{out}");
    let cy = line(&as_admin["staff"], "Cy Cole").clone();
    let (status, out) = teacher.put(&tick(&cy), json!({"here": true})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "one nobody signed in turns up: {out}"
    );
    assert_eq!(out["expected"], false);
    let (_, ended) = teacher
        .post(&format!("/roll-calls/{id}/end"), json!({}))
        .await;
    assert_eq!(
        (&ended["staff"], &ended["staff_accounted"]),
        (&json!(3), &json!(2)),
        "{ended}"
    );

    hub.clock.set(UnixMillis(monday_at(16, 5)));
    let teacher = hub.api().login("tess", "teacher password").await;
    let (status, _) = teacher
        .post("/staff/sign-out", json!({"code": "T001"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, out) = teacher
        .post("/staff/sign-out", json!({"code": "T001"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    let (_, day) = teacher.get("/staff").await;
    let ann_day = line(&day["staff"], "Ann Able");
    assert_eq!(ann_day["on_site"], false);
    assert_eq!(ann_day["first_in"], json!(monday_at(7, 50)));
    assert_eq!(ann_day["last_out"], json!(monday_at(16, 5)));
    let (status, _, csv) = teacher
        .bytes(&format!("/staff/log?day={}&format=csv", monday()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "personnel_code,name,time,direction,source,door,confidence,recorded_by"
    );
    assert_eq!(
        lines.len(),
        3,
        "Ann's in and out; Bob's Sunday is another day: {csv}"
    );
    assert!(
        lines[1].starts_with("T001,Ann Able,") && lines[1].contains(",in,reception,"),
        "{csv}"
    );
}

#[tokio::test]
async fn bad_staff_input_is_refused_with_the_reason_and_nothing_is_kept() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    admin
        .created(
            "/staff",
            json!({"personnel_code": "T001", "name": "Ann Able"}),
        )
        .await;
    let refusals = [
        (
            json!({"personnel_code": "T001", "name": "Twin"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"personnel_code": "", "name": "No Code"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"personnel_code": "T 9", "name": "Spaced"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"personnel_code": "T9", "name": "x".repeat(10 * 1024)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"personnel_code": "T9", "name": "Ed", "email": "no"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"personnel_code": "T9", "name": "Ed", "phone": "call me"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"personnel_code": "T9", "name": "Ed", "salary": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, expected) in refusals {
        let (status, out) = admin.post("/staff", body.clone()).await;
        assert_eq!(status, expected, "{body}: {out}");
        assert!(out["error"]["message"].is_string(), "{out}");
    }
    let (status, out) = import(
        &admin,
        "personnel_code,name\nT002,Bob\nT002,Bob Twin\n,Nameless\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["rows"].as_array().unwrap().len(), 2, "{out}");
    let (status, _) = import(&admin, "\u{0}\u{1}not,a,csv\n\"").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, out) = admin
        .post_bytes("/staff/import", "text/csv", vec![0xff, 0xfe, 0x00])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (_, list) = admin.get("/staff").await;
    assert_eq!(
        list["staff"].as_array().unwrap().len(),
        1,
        "nothing kept: {list}"
    );

    let (status, _) = s
        .teacher
        .post("/staff", json!({"personnel_code": "T5", "name": "E"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a teacher adds no staff");
    let id = list["staff"][0]["id"].as_str().unwrap();
    let (status, _) = s.teacher.send(DELETE, &format!("/staff/{id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, out) = s
        .teacher
        .post("/staff/sign-in", json!({"code": "T001", "staff": id}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one of the two: {out}");
    let (status, _) = admin.send(DELETE, &format!("/staff/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.send(DELETE, &format!("/staff/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// `door` reports `record`; the hub acknowledges it.
async fn acknowledged(door: &mut Door, record: &AttendanceRecord) {
    door.publish(Channel::Records, &Message::Record(record.clone()))
        .await;
    let ack = door.next(Channel::Acks).await;
    let expected = RecordAck {
        records: vec![record.id],
    };
    assert_eq!(ack, Message::Ack(expected), "every record is acknowledged");
}

/// A record of `door` naming member `staff` Confident, at `at`.
fn staff_seen(door: DeviceId, staff: &Value, at: i64) -> AttendanceRecord {
    AttendanceRecord {
        room: "Main gate".into(),
        direction: Some(Direction::In),
        liveness: None,
        thumbnail: None,
        staff: Some(StaffMatch {
            member: staff["id"].as_str().unwrap().parse().unwrap(),
            distance: 0.2,
        }),
        ..record(door, Decision::Confident, &[], at)
    }
}

#[tokio::test]
async fn a_gate_logs_the_staff_it_recognises_once_and_only_those_with_consent() {
    let hub = start_hub(None).await;
    hub.clock.set(UnixMillis(monday_at(8, 30)));
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let unit = admin
        .created(
            "/devices",
            json!({"name": "gate-in", "room": "Main gate", "direction": "in"}),
        )
        .await;
    let gate: DeviceId = unit["device"]["id"].as_str().unwrap().parse().unwrap();
    let secret = unit["mqtt_password"].as_str().unwrap().to_owned();
    let classroom: DeviceId = s.device.parse().unwrap();
    let ann = admin
        .created(
            "/staff",
            json!({"personnel_code": "A1", "name": "Ann Able"}),
        )
        .await;
    let bob = admin
        .created(
            "/staff",
            json!({"personnel_code": "B2", "name": "Bob Baker"}),
        )
        .await;
    let consent = |member: &Value| format!("/staff/{}/consent", member["id"].as_str().unwrap());

    // What a member says is checked: a form for consent given; a student's objection is not
    // theirs; an unknown member is 404. Nothing is recorded by a refusal.
    let given = json!({"state": "given", "signed_on": "2026-09-01", "reference": "HR 7"});
    for (body, status) in [
        (json!({"state": "given"}), StatusCode::BAD_REQUEST),
        (json!({"state": "objected"}), StatusCode::BAD_REQUEST),
        (
            json!({"state": "given", "signed_on": "2099-01-01", "reference": "x"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"state": "maybe"}), StatusCode::BAD_REQUEST),
    ] {
        let (got, out) = admin.put(&consent(&ann), body.clone()).await;
        assert_eq!(got, status, "{body}: {out}");
    }
    let (got, _) = admin
        .put(
            &format!("/staff/{}/consent", uuid::Uuid::new_v4()),
            given.clone(),
        )
        .await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    let (got, out) = s.teacher.put(&consent(&ann), given.clone()).await;
    assert_eq!(got, StatusCode::FORBIDDEN, "only admins: {out}");
    let (_, faces) = admin
        .get(&format!("/staff/{}/faces", ann["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (&faces["consent"], &faces["consent_history"]),
        (&json!("not_asked"), &json!([])),
        "{faces}"
    );
    let (got, out) = admin.put(&consent(&ann), given).await;
    assert_eq!(
        (got, &out["consent"]),
        (StatusCode::OK, &json!("given")),
        "{out}"
    );

    // Ann at the gate: logged in once, however often the unit resends; Bob, who never
    // consented, is not logged (a gate would not hold him: the record is forged or stale);
    // nor is anyone a classroom door names as staff.
    let mut door = Door::login(&hub, gate, &secret).await;
    let seen = staff_seen(gate, &ann, monday_at(8, 25));
    acknowledged(&mut door, &seen).await;
    acknowledged(&mut door, &seen).await;
    acknowledged(&mut door, &staff_seen(gate, &bob, monday_at(8, 26))).await;
    let mut lab = Door::login(&hub, classroom, &s.device_secret).await;
    acknowledged(&mut lab, &staff_seen(classroom, &ann, monday_at(8, 27))).await;
    let (_, log) = admin.get("/staff/log").await;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    let e = &entries[0];
    assert_eq!(
        (
            &e["name"],
            &e["source"],
            &e["direction"],
            &e["device"],
            &e["at"]
        ),
        (
            &json!("Ann Able"),
            &json!("door"),
            &json!("in"),
            &json!(gate),
            &json!(monday_at(8, 25))
        ),
        "{e}"
    );
    let confidence = e["confidence"].as_f64().unwrap();
    assert!((confidence - 0.98).abs() < 1e-6, "1 − 0.2²/2: {e}");
    let (_, records) = admin.get("/records").await;
    assert_eq!(records, json!([]), "a member of staff is never a record");
    let (_, staff) = admin.get("/staff").await;
    assert_eq!(line(&staff["staff"], "Ann Able")["on_site"], json!(true));
    assert_eq!(line(&staff["staff"], "Ann Able")["faces"], json!(0));
    let csv = String::from_utf8(admin.bytes("/staff/log?format=csv").await.2).unwrap();
    assert!(
        csv.contains("A1,Ann Able,") && csv.contains(",door,gate-in,0.980,"),
        "{csv}"
    );

    // Withdrawn: recorded with who said so (the member); the gate's next sighting is not logged.
    let (got, out) = admin
        .put(&consent(&ann), json!({"state": "withdrawn"}))
        .await;
    assert_eq!((got, &out["erased"]), (StatusCode::OK, &json!(0)), "{out}");
    acknowledged(&mut door, &staff_seen(gate, &ann, monday_at(8, 29))).await;
    let (_, log) = admin.get("/staff/log").await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 1, "{log}");
    let (_, faces) = admin
        .get(&format!("/staff/{}/faces", ann["id"].as_str().unwrap()))
        .await;
    let history = faces["consent_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{faces}");
    assert_eq!(history[1]["state"], json!("withdrawn"));
}

#[tokio::test]
async fn a_personnel_code_names_one_member_whatever_its_case() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    seed_school(&admin).await;
    admin
        .created(
            "/staff",
            json!({"personnel_code": "T001", "name": "Ann Able"}),
        )
        .await;
    let (status, out) = admin
        .post(
            "/staff",
            json!({"personnel_code": "t001", "name": "Tom Tate"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    let said = out["error"]["message"].as_str().unwrap();
    assert!(said.contains("Ann Able"), "says whose code it is: {said}");

    // Two codes that clash from before the rule, written straight into the store.
    hub.staff_written_straight("t001", "Bob Baker").await;
    let (_, list) = admin.get("/staff").await;
    let clash: Vec<&str> = list["code_clashes"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(clash, ["Ann Able", "Bob Baker"], "{list}");
    for code in ["T001", "t001", " t001 "] {
        let (status, out) = admin.post("/staff/sign-in", json!({"code": code})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{code} names two: {out}");
    }
    let (_, list) = admin.get("/staff").await;
    assert_eq!(list["on_site"], json!(0), "nobody signed in: {list}");

    // Renamed, the code names one member again.
    let bob_id = line(&list["staff"], "Bob Baker")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, out) = admin
        .put(
            &format!("/staff/{bob_id}"),
            json!({"personnel_code": "T002", "name": "Bob Baker"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = admin.post("/staff/sign-in", json!({"code": "t001"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (_, list) = admin.get("/staff").await;
    assert_eq!(list["code_clashes"], json!([]), "{list}");
    assert_eq!(
        line(&list["staff"], "Ann Able")["on_site"],
        json!(true),
        "{list}"
    );
}
