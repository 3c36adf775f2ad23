//! Ingest believes the hub's registry, not the door unit (issue 14), through a real Mosquitto:
//! a record from the far future, from too long ago, or naming a student who does not exist is
//! acknowledged and held in quarantine for admins, never a mark; the review queue and record
//! list keep working after it; a door unit's claimed room gives way to its registered one.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::json;

use crate::common::door::{AtTheDoor, Door, at_the_door};
use crate::common::*;

const HOUR_MS: i64 = 3_600_000;

async fn wait_metric(hub: &TestHub, name: &str, at_least: u64) {
    let what = format!("metric {name} >= {at_least}");
    wait_for(&what, Duration::from_secs(10), || async {
        metrics(hub).await[name].as_u64().unwrap_or(0) >= at_least
    })
    .await;
}

/// Publishes `record` and waits for its acknowledgement.
async fn send_acked(door: &mut Door, record: &AttendanceRecord) {
    door.publish(Channel::Records, &Message::Record(record.clone()))
        .await;
    let ack = door.next(Channel::Acks).await;
    assert_eq!(
        ack,
        Message::Ack(RecordAck {
            records: vec![record.id]
        }),
        "every record is acknowledged, believed or not"
    );
}

async fn ada_mark(school: &School) -> serde_json::Value {
    let (status, roster) = school
        .teacher
        .get(&format!("/sessions/{}/{}", school.slot, monday()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = roster["rows"].as_array().unwrap();
    let ada = rows
        .iter()
        .find(|r| r["student"] == school.students[0].as_str())
        .unwrap_or_else(|| panic!("Ada on the roster: {roster}"));
    ada["mark"].clone()
}

#[tokio::test]
async fn records_the_hub_cannot_believe_are_acked_held_and_never_marks() {
    let AtTheDoor {
        broker: _broker,
        hub,
        admin,
        school,
        device,
        mut door,
    } = at_the_door().await;
    let ada = school.students[0].as_str();
    let now = monday_at(9, 5);

    // The finding: a captured_at of year 262,000-odd; once stored, every GET /review and
    // GET /records aborted the hub.
    let absurd = record(
        device,
        Decision::Uncertain,
        &[(ada, 0.5)],
        8_210_266_833_600_000,
    );
    // Ada, Confident, 15 minutes ahead of the hub's clock: inside her session, but the door
    // unit's clock is wrong; it must not mark her.
    let ahead = record(
        device,
        Decision::Confident,
        &[(ada, 0.3)],
        now + HOUR_MS / 4,
    );
    let stale = record(
        device,
        Decision::Confident,
        &[(ada, 0.3)],
        now - 8 * 24 * HOUR_MS,
    );
    let ghost = StudentId::random().to_string();
    let stranger = record(device, Decision::Confident, &[(&ghost, 0.3)], now);
    for held in [&absurd, &ahead, &stale, &stranger] {
        send_acked(&mut door, held).await;
    }
    let good = record(device, Decision::Uncertain, &[(ada, 0.5)], monday_at(9, 2));
    send_acked(&mut door, &good).await;

    let m = metrics(&hub).await;
    assert_eq!(m["records_quarantined"], 4, "{m}");
    assert_eq!(m["records_stored"], 1, "{m}");
    let (status, queue) = school.teacher.get("/review").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["count"], 1, "only the good record waits: {queue}");
    let (status, all) = admin.get("/records").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [good.id.to_string()]);
    assert_ne!(ada_mark(&school).await, "present", "no held record marks");

    let (status, held) = admin.get("/quarantine").await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let reason = |id: RecordId| {
        held.as_array()
            .unwrap()
            .iter()
            .find(|q| q["record_id"] == id.to_string())
            .map(|q| {
                (
                    q["reason"].as_str().unwrap().to_owned(),
                    q["detail"].clone(),
                )
            })
            .unwrap_or_else(|| panic!("{id} held: {held}"))
    };
    assert_eq!(reason(absurd.id).0, "clock_ahead");
    assert_eq!(reason(ahead.id).0, "clock_ahead");
    assert!(
        reason(ahead.id)
            .1
            .as_str()
            .unwrap()
            .contains("15 min after"),
        "{held}"
    );
    assert_eq!(reason(stale.id).0, "too_old");
    assert_eq!(reason(stranger.id).0, "unknown_student");
    assert!(reason(stranger.id).1.as_str().unwrap().contains(&ghost));
    let entry = &held[0];
    assert_eq!(entry["device_id"], device.to_string());
    assert_eq!(entry["room"], "Lab 3");

    // A door unit that resends (its ack was lost) changes nothing.
    send_acked(&mut door, &stale).await;
    assert_eq!(
        admin.get("/quarantine").await.1.as_array().unwrap().len(),
        4
    );
    assert_eq!(metrics(&hub).await["records_quarantined"], 4);

    // Admins only; the crop an admin needs to judge; letting go is audited and final.
    assert_eq!(
        school.teacher.get("/quarantine").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, mime, jpeg) = admin
        .bytes(&format!("/quarantine/{}/thumbnail", absurd.id))
        .await;
    assert_eq!(
        (status, mime.as_deref(), &jpeg[..2]),
        (StatusCode::OK, Some("image/jpeg"), &[0xFF, 0xD8][..])
    );
    let path = format!("/quarantine/{}", absurd.id);
    assert_eq!(admin.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(admin.delete(&path).await.0, StatusCode::NOT_FOUND);
    let (_, audit) = admin.get("/audit?limit=5").await;
    let dismissed = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "quarantine.dismiss")
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert_eq!(dismissed["before"]["reason"], "clock_ahead");
    assert_eq!(dismissed["actor"], "user:admin");

    let (status, health) = hub.api().get("/health").await;
    assert_eq!(status, StatusCode::OK, "the hub kept serving: {health}");
    hub.stop().await;
}

#[tokio::test]
async fn a_record_counts_in_the_room_the_hub_has_for_its_door_unit() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let hall = admin
        .created("/devices", json!({"name": "door-hall", "room": "Hall"}))
        .await;
    let hall: DeviceId = hall["device"]["id"].as_str().unwrap().parse().unwrap();
    let mut door = Door::connect(&broker, &hub.site, hall).await;
    let ada = school.students[0].as_str();

    // The hall's door unit claims Lab 3, where Ada's class is: she is not marked there.
    let claim = record(hall, Decision::Confident, &[(ada, 0.3)], monday_at(9, 2));
    assert_eq!(claim.room, "Lab 3");
    send_acked(&mut door, &claim).await;
    let m = metrics(&hub).await;
    assert_eq!(
        (m["records_stored"].as_u64(), m["room_corrected"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, all) = admin.get("/records").await;
    assert_eq!(all[0]["room"], "Hall", "stored under the registered room");
    assert_ne!(ada_mark(&school).await, "present");

    // The Lab 3 door unit's own record does mark her.
    let lab: DeviceId = school.device.parse().unwrap();
    let mut door = Door::connect(&broker, &hub.site, lab).await;
    send_acked(
        &mut door,
        &record(lab, Decision::Confident, &[(ada, 0.3)], monday_at(9, 3)),
    )
    .await;
    wait_metric(&hub, "records_stored", 2).await;
    assert_eq!(ada_mark(&school).await, "present");
    hub.stop().await;
}

/// The table's CHECKs are the store's last guard, behind the hub's own checks: a batch is
/// first written without a savepoint per record, and when the store refuses a record it is
/// written again record by record, so that the refused one is held and acknowledged instead
/// of failing its batch on every resend. Here the hub's clock stands in 2201, past the last
/// capture time the table takes (the end of 2199), so the hub believes a record captured then
/// and the store does not.
#[tokio::test]
async fn a_record_the_store_refuses_is_held_and_acknowledged_not_retried_forever() {
    let AtTheDoor {
        broker: _broker,
        hub,
        admin: _,
        school,
        device,
        mut door,
    } = at_the_door().await;
    let in_2201 = 7_289_654_400_000;
    hub.clock.set(UnixMillis(in_2201));

    let ada = school.students[0].as_str();
    let refused = record(device, Decision::Uncertain, &[(ada, 0.5)], in_2201);
    send_acked(&mut door, &refused).await;

    let m = metrics(&hub).await;
    assert_eq!(m["records_quarantined"], 1, "{m}");
    assert_eq!(m["records_stored"], 0, "{m}");
    // Signed in again: the first sign-in expired 175 years ago.
    let (_, held) = hub.admin().await.get("/quarantine").await;
    let held = &held[0];
    assert_eq!(held["record_id"], refused.id.to_string(), "{held}");
    assert_eq!(held["reason"], "malformed");
    let detail = held["detail"].as_str().unwrap();
    assert!(detail.starts_with("refused by the store"), "{detail}");
    hub.stop().await;
}
