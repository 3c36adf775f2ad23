//! Ingest through a real Mosquitto: idempotent storage with acks for every copy, refusal and
//! counting of unknown devices, forged identities and garbage, gallery snapshots that check
//! with `GalleryState::apply`, and deltas pushed when an enrolment changes.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_models::pipeline::model_id;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::json;

use crate::common::door::{AtTheDoor, Door, at_the_door};
use crate::common::{self, *};

fn record(device: DeviceId, student: Option<&str>) -> AttendanceRecord {
    let at = monday_at(9, 1);
    match student {
        Some(s) => common::record(device, Decision::Confident, &[(s, 0.3)], at),
        None => common::record(device, Decision::Unknown, &[], at),
    }
}

async fn wait_metric(hub: &TestHub, name: &str, at_least: u64) {
    let what = format!("metric {name} >= {at_least}");
    wait_for(&what, Duration::from_secs(10), || async {
        metrics(hub).await[name].as_u64().unwrap_or(0) >= at_least
    })
    .await;
}

async fn connected_hub(broker: &Mosquitto) -> TestHub {
    let hub = start_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    hub
}

#[tokio::test]
async fn the_same_record_twice_is_stored_once_and_acked_twice() {
    let AtTheDoor {
        broker: _broker,
        hub,
        admin,
        school,
        device,
        mut door,
    } = at_the_door().await;

    let sent = record(device, Some(&school.students[0]));
    for _ in 0..2 {
        door.publish(Channel::Records, &Message::Record(sent.clone()))
            .await;
        let ack = door.next(Channel::Acks).await;
        assert_eq!(
            ack,
            Message::Ack(RecordAck {
                records: vec![sent.id]
            })
        );
    }
    let m = metrics(&hub).await;
    assert_eq!(
        (
            m["records_stored"].as_u64(),
            m["records_duplicate"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let (_, all) = admin.get("/records").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(
        all[0]["status"], "approved",
        "a Confident record counts at once"
    );
    let (_, roster) = school
        .teacher
        .get(&format!("/sessions/{}/{}", school.slot, monday()))
        .await;
    assert_eq!(roster["rows"][0]["mark"], "present");

    let status = DeviceStatus {
        device,
        sent_at: UnixMillis(monday_at(9, 2)),
        uptime_s: 60,
        outbox_depth: 3,
        gallery_version: GalleryVersion(7),
        software_version: "0.1.0".into(),
        last_error: Some("camera hiccup".into()),
        model: None,
        free_disk_bytes: None,
        clock: rollcall_shared::ClockSync::Unknown,
        unknown_discarded: 0,
    };
    door.publish(Channel::Status, &Message::Status(status))
        .await;
    wait_metric(&hub, "status_messages", 1).await;
    let (_, devices) = admin.get("/devices").await;
    assert_eq!(
        (
            devices[0]["outbox_depth"].as_u64(),
            devices[0]["online"].as_bool()
        ),
        (Some(3), Some(true))
    );
    assert_eq!(devices[0]["last_error"], "camera hiccup");
    door.publish(Channel::Status, &Message::Offline(DeviceOffline { device }))
        .await;
    wait_for(
        "the device marked offline",
        Duration::from_secs(10),
        || async { admin.get("/devices").await.1[0]["online"] == json!(false) },
    )
    .await;
    hub.stop().await;
}

/// The hub answers a resend from memory while it remembers the record (the test above); one
/// it has forgotten, here by restarting, takes the store's path and is found there.
#[tokio::test]
async fn a_resend_the_hub_no_longer_remembers_is_found_in_the_store() {
    let AtTheDoor {
        broker,
        hub,
        admin: _,
        school,
        device,
        mut door,
    } = at_the_door().await;
    let sent = record(device, Some(&school.students[0]));
    let ack = Message::Ack(RecordAck {
        records: vec![sent.id],
    });

    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    assert_eq!(door.next(Channel::Acks).await, ack);
    let hub = restart_hub_on(hub, Some(broker.addr()), |_| {}).await;
    wait_connected(&hub).await;
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    assert_eq!(door.next(Channel::Acks).await, ack);

    let m = metrics(&hub).await;
    assert_eq!(
        (
            m["records_stored"].as_u64(),
            m["records_duplicate"].as_u64()
        ),
        (Some(0), Some(1)),
        "the restarted hub stored nothing new and found the copy a duplicate"
    );
    let (_, all) = hub.admin().await.get("/records").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    hub.stop().await;
}

/// Mosquitto hands the hub every unit's records as one stream, in the order they came. A
/// unit with a backlog must not hold another's record back: the hub holds what arrives while
/// it writes, and each batch takes a turn of every unit.
#[tokio::test]
async fn through_a_broker_a_units_backlog_cannot_hold_back_another_units_record() {
    let AtTheDoor {
        broker,
        hub,
        admin,
        school,
        device: busy,
        door: busy_door,
    } = at_the_door().await;
    let made = admin
        .created("/devices", json!({"name": "quiet door", "room": "Lab 3"}))
        .await;
    let quiet: DeviceId = made["device"]["id"].as_str().unwrap().parse().unwrap();
    let mut quiet_door = Door::connect(&broker, &hub.site, quiet).await;

    // The store is held: the hub takes the busy unit's first record and waits to write it,
    // while the rest of its backlog, then the quiet unit's one record, arrive.
    let database = hub.data_dir.join("hub.sqlite3");
    let holder = hold_store(&database);
    const BACKLOG: usize = 1_100;
    let mut payloads = backlog(busy, &school.students[0], BACKLOG).into_iter();
    busy_door
        .publish_raw(Channel::Records, payloads.next().unwrap())
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for payload in payloads {
        busy_door.publish_raw(Channel::Records, payload).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lone = record(quiet, Some(&school.students[1]));
    quiet_door.publish_then_release(&lone, holder).await;
    // The first batch held the busy unit's first record; the next began with a turn each.
    let before = stored_before(&database, lone.id, BACKLOG).await;
    assert_eq!(
        before, 2,
        "{before} of the busy unit's records were stored before the quiet unit's one"
    );
    hub.stop().await;
}

/// A door unit not yet upgraded speaks the protocol version before this build's: the hub
/// stores what it sends, in the direction its registry has for the unit when it says none,
/// and answers it in its version. A face that matches nobody reaching the hub of a school that discards them is
/// dropped on arrival and counted beside the unit's own count. After its upgrade it is
/// answered in the current version, told the school's setting, and its count goes on.
#[tokio::test]
async fn a_door_unit_one_protocol_version_behind_is_answered_in_its_version() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_hub_with(Some(broker.addr()), |c| {
        c.privacy.unknown_faces = UnknownFaces::Discard;
    })
    .await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::connect(&broker, &hub.site, device).await;
    door.version = OLDEST_VERSION;

    let status = |clock: ClockSync, unknown_discarded| DeviceStatus {
        device,
        sent_at: UnixMillis(monday_at(9, 4)),
        uptime_s: 60,
        outbox_depth: 1,
        gallery_version: GalleryVersion(0),
        software_version: "0.1.0".into(),
        last_error: None,
        model: Some(model_id()),
        free_disk_bytes: Some(1 << 30),
        clock,
        unknown_discarded,
    };
    door.publish(
        Channel::Status,
        &Message::Status(status(ClockSync::Synchronised, 4)),
    )
    .await;
    wait_metric(&hub, "status_messages", 1).await;
    let sent = AttendanceRecord {
        clock: ClockSync::Unsynchronised,
        direction: None,
        liveness: None,
        ..record(device, Some(&school.students[0]))
    };
    let stranger = record(device, None);
    for record in [&sent, &stranger] {
        door.publish(Channel::Records, &Message::Record(record.clone()))
            .await;
        let ack = door.next(Channel::Acks).await;
        let expected = RecordAck {
            records: vec![record.id],
        };
        assert_eq!(ack, Message::Ack(expected), "every record is acknowledged");
    }
    assert_eq!(
        door.heard_version, OLDEST_VERSION,
        "answered in the version it spoke"
    );
    let (_, devices) = admin.get("/devices").await;
    assert_eq!(
        (
            &devices[0]["protocol_version"],
            &devices[0]["free_disk_bytes"],
            &devices[0]["clock_synchronised"],
            &devices[0]["unknown_discarded"],
        ),
        (
            &json!(OLDEST_VERSION),
            &json!(1 << 30),
            &json!(true),
            &json!(5)
        ),
        "the unit's own four and the face the hub dropped: {devices}"
    );
    let (_, records) = admin.get("/records").await;
    let ids: Vec<_> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(sent.id.to_string())],
        "the stranger is not kept"
    );
    assert_eq!(records[0]["clock_synchronised"], json!(false), "{records}");
    assert_eq!(records[0]["direction"], "both", "as registered: {records}");
    assert_eq!(
        devices[0]["clock_offset_ms"],
        json!(-60_000),
        "its clock is a minute slow"
    );

    // Upgraded: the same door unit now writes the current version and hears it, with the
    // school's setting; it has discarded two faces itself since it restarted.
    door.version = PROTOCOL_VERSION;
    door.publish(
        Channel::Status,
        &Message::Status(status(ClockSync::Unsynchronised, 2)),
    )
    .await;
    wait_metric(&hub, "status_messages", 2).await;
    door.publish(
        Channel::Requests,
        &Message::GalleryRequest(GalleryRequest {
            device,
            have: GalleryVersion(0),
            full: true,
        }),
    )
    .await;
    let Message::Gallery(_) = door.next(Channel::Gallery).await else {
        panic!("a gallery");
    };
    assert_eq!(door.heard_version, PROTOCOL_VERSION);
    let site = door
        .settings
        .last()
        .expect("the school's settings come before the gallery");
    assert_eq!(site.unknown_faces, UnknownFaces::Discard);
    let (_, devices) = admin.get("/devices").await;
    assert_eq!(
        (
            &devices[0]["protocol_version"],
            &devices[0]["free_disk_bytes"],
            &devices[0]["unknown_discarded"],
        ),
        (&json!(PROTOCOL_VERSION), &json!(1 << 30), &json!(7)),
        "restarted: two more of its own"
    );
    assert_eq!(devices[0]["model"], model_id().as_str());
    assert_eq!(devices[0]["clock_synchronised"], json!(false), "{devices}");
    hub.stop().await;
}

#[tokio::test]
async fn unknown_forged_disabled_and_garbage_payloads_are_refused_and_counted() {
    let broker = Mosquitto::start().unwrap();
    let hub = connected_hub(&broker).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();

    let stranger = Door::connect(&broker, &hub.site, DeviceId::random()).await;
    stranger
        .publish(
            Channel::Records,
            &Message::Record(record(stranger.device, None)),
        )
        .await;
    wait_metric(&hub, "unknown_device", 1).await;

    let door = Door::connect(&broker, &hub.site, device).await;
    let forged = record(DeviceId::random(), None);
    door.publish(Channel::Records, &Message::Record(forged))
        .await;
    wait_metric(&hub, "forged", 1).await;

    door.publish_raw(Channel::Records, b"\x01\x00not postcard at all".to_vec())
        .await;
    door.publish_raw(Channel::Status, Vec::new()).await;
    wait_metric(&hub, "malformed", 2).await;

    admin
        .post(&format!("/devices/{device}/disable"), json!({}))
        .await;
    door.publish(Channel::Records, &Message::Record(record(device, None)))
        .await;
    wait_metric(&hub, "disabled_device", 1).await;

    let (_, all) = admin.get("/records").await;
    assert!(
        all.as_array().unwrap().is_empty(),
        "nothing refused was stored"
    );
    let (status, health) = hub.api().get("/health").await;
    assert_eq!(status, StatusCode::OK, "the hub keeps serving");
    assert_eq!(health["metrics"]["records_stored"], 0);
    hub.stop().await;
}

#[tokio::test]
async fn a_gallery_request_gets_a_snapshot_and_changes_are_pushed_as_deltas() {
    let AtTheDoor {
        broker: _broker,
        hub,
        admin,
        school,
        device,
        mut door,
    } = at_the_door().await;
    let model = ModelId::new("dlib-resnet-v1").unwrap();

    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: false,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    let Message::Gallery(snapshot) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    assert_eq!(snapshot.base, None, "a first request gets a full snapshot");
    let told: Vec<_> = door.settings.iter().map(|s| s.timezone.as_str()).collect();
    assert_eq!(
        told,
        ["Europe/London"],
        "the school's zone comes before the gallery"
    );
    let held = GalleryState::empty(model)
        .apply(&snapshot)
        .expect("the snapshot's digest checks");
    assert_eq!(held.entries.len(), 2);
    assert_eq!(held.timetable.len(), 1);
    let class: ClassId = school.class.parse().unwrap();
    assert!(
        held.entries
            .values()
            .all(|e| e.classes == vec![class] && e.embeddings[0].0.len() == 128)
    );

    let ada = &school.students[0];
    let embedding = vec![0.5_f32; 128];
    admin
        .created(
            &format!("/students/{ada}/embeddings"),
            json!({"model": "dlib-resnet-v1", "embedding": embedding}),
        )
        .await;
    let Message::Gallery(delta) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    assert_eq!(
        delta.base,
        Some(held.version),
        "a change is pushed as a delta"
    );
    assert_eq!(delta.upserts.len(), 1);
    let held = held.apply(&delta).expect("the delta applies");
    assert_eq!(held.entries[&ada.parse().unwrap()].embeddings.len(), 2);

    let bo: StudentId = school.students[1].parse().unwrap();
    let (status, _) = admin.delete(&format!("/students/{bo}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let Message::Gallery(removal) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    assert_eq!(
        removal.removals,
        vec![bo],
        "a deleted student leaves every device"
    );
    let held = held.apply(&removal).expect("the removal applies");
    assert_eq!(held.entries.len(), 1);

    let (status, _) = admin
        .post(&format!("/devices/{device}/resync"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        door.next(Channel::Commands).await,
        Message::Command(DeviceCommand::ResyncGallery)
    );
    let full = GalleryRequest {
        device,
        have: held.version,
        full: true,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(full))
        .await;
    let Message::Gallery(again) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    assert_eq!(again.base, None);
    assert_eq!(held.apply(&again).unwrap().entries, held.entries);
    hub.stop().await;
}

/// A face the door unit judged not live (a photo or a screen held up to it) arrives as an
/// Uncertain record carrying the check: it waits for a teacher, flagged, with its face, and
/// the Devices page counts it for the unit over the last 7 days. A face judged live counts at
/// once and carries its check too.
#[tokio::test]
async fn a_face_judged_not_live_waits_for_review_flagged_and_the_unit_counts_it() {
    let AtTheDoor {
        broker: _broker,
        hub,
        admin,
        school,
        device,
        mut door,
    } = at_the_door().await;
    let (ada, bo) = (&school.students[0], &school.students[1]);
    let photo = AttendanceRecord {
        liveness: Some(LivenessCheck {
            live: false,
            real_score: 0.125,
        }),
        ..common::record(device, Decision::Uncertain, &[(ada, 0.25)], monday_at(9, 1))
    };
    let live = AttendanceRecord {
        liveness: Some(LivenessCheck {
            live: true,
            real_score: 0.875,
        }),
        ..record(device, Some(bo))
    };
    for r in [&photo, &live] {
        door.publish(Channel::Records, &Message::Record(r.clone()))
            .await;
        let ack = door.next(Channel::Acks).await;
        assert_eq!(
            ack,
            Message::Ack(RecordAck {
                records: vec![r.id]
            })
        );
    }

    let (status, queue) = school.teacher.get("/review").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    assert_eq!(queue["count"], 1, "{queue}");
    let card = &queue["records"][0];
    assert_eq!(card["id"], photo.id.to_string());
    assert_eq!(
        (&card["status"], &card["decision"]),
        (&json!("pending"), &json!("uncertain"))
    );
    assert_eq!(
        card["liveness"],
        json!({"live": false, "real_score": 0.125})
    );
    assert_eq!(card["candidates"][0]["name"], "Ada");
    let thumbnail = card["thumbnail_url"].as_str().expect("the face to look at");
    let (status, _, bytes) = school
        .teacher
        .bytes(thumbnail.strip_prefix("/api/v1").unwrap())
        .await;
    assert_eq!(
        (status, bytes),
        (StatusCode::OK, vec![0xFF, 0xD8, 0xFF, 0xD9])
    );
    let (_, marked) = admin.get(&format!("/records/{}", live.id)).await;
    assert_eq!(
        (&marked["status"], &marked["liveness"]),
        (
            &json!("approved"),
            &json!({"live": true, "real_score": 0.875})
        ),
        "{marked}"
    );

    let (_, devices) = admin.get("/devices").await;
    assert_eq!(devices[0]["not_live_last_7_days"], 1, "{devices}");
    assert_eq!(metrics(&hub).await["records_not_live"], 1);
    hub.clock.advance(Duration::from_secs(8 * 86_400));
    // A week on, the admin's sign-in has run out too.
    let (_, devices) = hub.admin().await.get("/devices").await;
    assert_eq!(devices[0]["not_live_last_7_days"], 0, "a week later");
    hub.stop().await;
}
