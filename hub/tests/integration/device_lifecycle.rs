//! A door unit's life after registering, against a real hub and its embedded broker: moved to
//! another room, it is sent its re-narrowed gallery at once; renamed, its name is checked;
//! retired, its session is closed and it can no longer log in, while its records stay;
//! replaced, a new unit takes over its room with a set-up code; and a unit not heard from for
//! `[devices] silent_after_minutes` is flagged.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::{Decision, DeviceId, GalleryRequest, GalleryVersion, Message};
use rumqttc::{AsyncClient, ConnectionError, Event, Packet};
use serde_json::{Value, json};

use crate::common::door::{Door, options};
use crate::common::*;

async fn row(admin: &Api, id: DeviceId) -> Value {
    let (_, all) = admin.get("/devices").await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(id.to_string()))
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_moved_unit_gets_its_new_rooms_gallery_at_once_and_names_stay_unique() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::login(&hub, device, &school.device_secret).await;
    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: true,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    let Message::Gallery(first) = door.next(Channel::Gallery).await else {
        panic!("a gallery answers the request");
    };
    assert_eq!(first.upserts.len(), 2, "both students of Lab 3");

    let (status, moved) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/devices/{device}"),
            Some(json!({"room": "Lab 9"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["room"], json!("Lab 9"));
    let Message::Gallery(update) = door.next(Channel::Gallery).await else {
        panic!("a gallery update follows the move");
    };
    assert_eq!(update.base, Some(first.version));
    assert_eq!(update.removals.len(), 2, "nobody is timetabled in Lab 9");

    admin
        .created("/devices", json!({"name": "door-lab4", "room": "Lab 4"}))
        .await;
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/devices/{device}"),
            Some(json!({"name": "door-lab4"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/devices/{device}"),
            Some(json!({"room": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    hub.stop().await;
}

#[tokio::test]
async fn a_retired_unit_is_cut_off_at_once_and_its_records_stay() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let door = Door::login(&hub, device, &school.device_secret).await;
    let sent = record(
        device,
        Decision::Confident,
        &[(&school.students[0], 0.3)],
        monday_at(9, 1),
    );
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    let mut door = door;
    door.next(Channel::Acks).await;

    // A second connection of the same unit, watched directly.
    let (_client, mut events) = AsyncClient::new(
        options(hub.mqtt_addr, device, Some(&school.device_secret)),
        8,
    );
    loop {
        if let Ok(Event::Incoming(Packet::ConnAck(_))) = events.poll().await {
            break;
        }
    }
    let (status, retired) = admin
        .post(&format!("/devices/{device}/retire"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert!(retired["retired_at"].is_i64() && retired["enabled"] == json!(false));

    // The session ends, and logging in again is refused.
    let refused = async {
        loop {
            if let Err(ConnectionError::ConnectionRefused(code)) = events.poll().await {
                return code;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), refused)
        .await
        .expect("the retired unit's session closed and its login refused");

    let (_, records) = admin.get("/records").await;
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == json!(sent.id.to_string())),
        "its record stays: {records}"
    );
    for (path, body) in [
        (format!("/devices/{device}/enable"), json!({})),
        (format!("/devices/{device}/retire"), json!({})),
        (format!("/devices/{device}/provisioning-code"), json!({})),
    ] {
        let (status, body) = admin.post(&path, body).await;
        assert!(status == StatusCode::CONFLICT, "{path}: {status} {body}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_replacement_takes_over_the_room_with_a_set_up_code() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (_, made) = admin
        .post("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let old: DeviceId = made["device"]["id"].as_str().unwrap().parse().unwrap();

    let (status, body) = admin
        .post(
            &format!("/devices/{old}/replace"),
            json!({"name": "door-lab3-new"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let new: DeviceId = body["device"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(body["device"]["room"], json!("Lab 3"));
    assert_eq!(body["replaced"]["replaced_by"], json!(new.to_string()));
    let code = body["provisioning_code"]["code"].as_str().unwrap();
    let (status, provisioned) = hub.api().post("/provision", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{provisioned}");
    assert_eq!(provisioned["device_id"], json!(new.to_string()));
    assert_eq!(provisioned["room"], json!("Lab 3"));
    let old_row = row(&admin, old).await;
    assert!(old_row["retired_at"].is_i64(), "{old_row}");
    hub.stop().await;
}

#[tokio::test]
async fn a_unit_unheard_for_the_setting_is_flagged_silent() {
    let hub = start_hub_with(None, |c| c.devices.silent_after_minutes = 10).await;
    let admin = hub.admin().await;
    let (_, made) = admin
        .post("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let id: DeviceId = made["device"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(row(&admin, id).await["silent_for_ms"], Value::Null);
    hub.clock.advance(Duration::from_secs(11 * 60));
    let admin = hub.admin().await;
    let silent = row(&admin, id).await["silent_for_ms"].as_i64().unwrap();
    assert_eq!(silent, 11 * 60_000);
    hub.stop().await;
}
