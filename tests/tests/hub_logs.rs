//! The hub's log as a log system reads it, from a real `rollcall-hub` process started with
//! `ROLLCALL_HUB_LOGGING__FORMAT=json` (the environment's form of `[logging] format = "json"`):
//! every line one JSON object; one access line per request, with its route, status and
//! duration, carrying the request's id as the caller sent it, the same id as the audit entry
//! of what the request changed; and a door unit's record followed by its id and the unit's.

use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::door::{Door, record, secret_from};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup, SITE};
use rollcall_shared::topics::Channel;
use rollcall_shared::{DeviceId, Message, UnixMillis};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_is_json_and_a_request_is_followed_by_its_id() {
    let root = tempfile::tempdir().unwrap();
    let setup = HubSetup::init(root.path(), false).unwrap();
    let device = setup.add_device("door-1", "Room 1").unwrap();
    let json_logs = [("ROLLCALL_HUB_LOGGING__FORMAT", "json")];
    let mut hub = setup.serve_with("hub.log", &json_logs).unwrap();
    let admin = Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();

    let made = admin
        .http
        .post(format!("{}/classes", setup.api()))
        .bearer_auth(&admin.token)
        .header("x-request-id", "office-pc-7")
        .json(&json!({"name": "7B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), reqwest::StatusCode::CREATED);
    assert_eq!(made.headers()["x-request-id"], "office-pc-7");

    let id: DeviceId = device.id.parse().unwrap();
    let secret = secret_from(&device.secrets).unwrap();
    let mut door = Door::login(setup.mqtt_port, SITE, id, &secret)
        .await
        .unwrap();
    let sent = record(id, "Room 1", UnixMillis::now());
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await
        .unwrap();
    let acked = door.acked(&[sent.id], Duration::from_secs(20)).await;
    assert_eq!(acked, [sent.id]);

    let audit = admin.get("/audit?action=class.create").await.unwrap();
    assert_eq!(audit[0]["request_id"], "office-pc-7", "{audit}");

    hub.terminate(Duration::from_secs(20)).unwrap();
    let log = hub.output();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        for field in ["timestamp", "level", "target"] {
            assert!(line[field].is_string(), "no {field}: {line}");
        }
    }
    let access = lines
        .iter()
        .find(|l| l["target"] == "rollcall_hub::access" && l["span"]["request_id"] == "office-pc-7")
        .unwrap_or_else(|| panic!("no access line for the request:\n{log}"));
    assert_eq!(access["method"], "POST", "{access}");
    assert_eq!(access["route"], "/classes", "{access}");
    assert_eq!(access["status"], 201, "{access}");
    assert!(access["duration_ms"].is_f64(), "a number: {access}");
    assert!(
        access["user"].as_str().is_some_and(|u| u.len() == 36),
        "{access}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == "office-pc-7"
                && l["target"] == "rollcall_hub::access")
            .count(),
        1,
        "one access line per request"
    );
    let stored = lines
        .iter()
        .find(|l| l["span"]["id"] == sent.id.to_string())
        .unwrap_or_else(|| panic!("no line about the record:\n{log}"));
    assert_eq!(stored["span"]["name"], "record", "{stored}");
    assert_eq!(stored["span"]["device"], device.id, "{stored}");
}
