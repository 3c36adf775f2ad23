//! One-code provisioning against a real hub: an admin makes a code for a door unit, the unit
//! trades it once for its configuration and a fresh broker password (which logs in to the
//! embedded broker; the old one no longer does); wrong, expired, replaced and reused codes are
//! refused with their reasons, and too many wrong ones from an address are answered 429.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::{DeviceId, Provisioned};
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet};
use serde_json::{Value, json};

use crate::common::door::options;
use crate::common::*;

/// Whether the embedded broker accepts `opts`' CONNECT.
async fn logs_in(opts: MqttOptions) -> bool {
    let (_client, mut events) = AsyncClient::new(opts, 8);
    let answer = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(ConnectionError::ConnectionRefused(
                    ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
                )) => return false,
                Err(e) => panic!("expected a CONNACK, got {e:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .expect("a CONNACK within 10 s")
}

async fn register(admin: &Api, name: &str) -> (DeviceId, String) {
    let made = admin
        .created("/devices", json!({"name": name, "room": "Lab 3"}))
        .await;
    let id = made["device"]["id"].as_str().unwrap().parse().unwrap();
    (id, made["mqtt_password"].as_str().unwrap().to_owned())
}

async fn new_code(admin: &Api, device: DeviceId) -> Value {
    admin
        .created(&format!("/devices/{device}/provisioning-code"), json!({}))
        .await
}

async fn redeem(hub: &TestHub, code: &str) -> (StatusCode, Value) {
    hub.api().post("/provision", json!({"code": code})).await
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_code_sets_a_door_unit_up_once_with_a_fresh_password() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (device, old_password) = register(&admin, "door-lab3").await;

    let made = new_code(&admin, device).await;
    let code = made["code"].as_str().unwrap();
    assert_eq!(code.len(), 14, "{made}");
    let command = made["command"].as_str().unwrap();
    assert_eq!(
        command,
        format!(
            "sudo rollcall-edge enrol --hub http://{} --code {code}",
            hub.addr
        )
    );
    assert!(made["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    assert_eq!(
        made["expires_at"].as_i64().unwrap(),
        monday_at(9, 5) + 15 * 60_000
    );

    // Typed loosely: lower case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let (status, body) = redeem(&hub, &typed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got: Provisioned = serde_json::from_value(body).unwrap();
    assert_eq!(got.device_id, device);
    assert_eq!(got.device_name, "door-lab3");
    assert_eq!(got.room, "Lab 3");
    assert_eq!(got.site, hub.site);
    assert_eq!(got.timezone, zone().name());
    assert_eq!(got.broker.url, format!("mqtt://{}", hub.mqtt_addr));
    assert_eq!(got.broker.username, device.to_string());
    assert!(got.broker.ca_pem.is_none() && got.broker.client_cert_pem.is_none());
    assert!(got.check().is_empty(), "{:?}", got.check());

    let new_password = got.broker.password.as_str();
    assert_ne!(new_password, old_password);
    assert!(logs_in(options(hub.mqtt_addr, device, Some(new_password))).await);
    assert!(!logs_in(options(hub.mqtt_addr, device, Some(&old_password))).await);

    let (status, body) = redeem(&hub, code).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(error_code(&body), "code_used");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("used already")
    );

    let (_, audit) = admin.get("/audit?limit=10").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"device.provision"), "{actions:?}");
    assert!(actions.contains(&"device.provisioning_code"), "{actions:?}");
    hub.stop().await;
}

#[tokio::test]
async fn expired_replaced_unknown_and_malformed_codes_are_refused_with_reasons() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (device, _) = register(&admin, "door-lab3").await;

    let first = new_code(&admin, device).await;
    let second = new_code(&admin, device).await;
    let (status, body) = redeem(&hub, first["code"].as_str().unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "unknown_code"),
        "a newer code replaces an unused one: {body}"
    );

    hub.clock.advance(Duration::from_secs(15 * 60));
    let (status, body) = redeem(&hub, second["code"].as_str().unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::GONE, "code_expired")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Devices page")
    );

    let (status, body) = redeem(&hub, "not-a-code").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("12 letters and digits")
    );

    let (status, _) = hub.api().post("/provision", json!({"kode": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A disabled unit gets no code (the clock moved past the admin's access token).
    let admin = hub.admin().await;
    admin
        .post(&format!("/devices/{device}/disable"), json!({}))
        .await;
    let (status, body) = admin
        .post(&format!("/devices/{device}/provisioning-code"), json!({}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "device_disabled")
    );
    let (status, _) = admin
        .post(
            &format!("/devices/{}/provisioning-code", DeviceId::random()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    hub.stop().await;
}

#[tokio::test]
async fn too_many_wrong_codes_from_one_address_are_answered_429_until_a_minute_passes() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (device, _) = register(&admin, "door-lab3").await;
    let good = new_code(&admin, device).await;

    // The default allows ten wrong codes a minute from one address.
    for _ in 0..10 {
        let (status, _) = redeem(&hub, "AAAA-BBBB-CCCC").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let url = format!("http://{}/api/v1/provision", hub.addr);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let reply = client
        .post(&url)
        .json(&json!({"code": good["code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = reply.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    // Another address is not held up by this one's mistakes.
    let other = Api::from_address(hub.addr, "127.0.0.2".parse().unwrap());
    let (status, body) = other
        .post("/provision", json!({"code": good["code"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    hub.clock.advance(Duration::from_secs(61));
    let (status, body) = redeem(&hub, "AAAA-BBBB-CCCC").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "unknown_code")
    );
    hub.stop().await;
}
