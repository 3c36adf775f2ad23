//! Bad input against a real `rollcall-hub` process (embedded broker, face models off): what
//! the hub's own tests (`hub/tests/integration/ingest_mqtt.rs`, `embedded_broker.rs`,
//! `api_auth.rs`, `api_school.rs`, `enrol_photos.rs`) do not already cover in-process.
//!
//! Each case must get a clear refusal (a counted, logged MQTT refusal; an HTTP 4xx in the one
//! JSON error shape) and leave the hub serving: health answers and a normal record from a
//! logged-in door unit is still acknowledged and stored afterwards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rollcall_e2e::api::Api;
use rollcall_e2e::door::{Door, Heard, record, secret_from};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, Device, HubSetup, SITE};
use rollcall_e2e::process::Process;
use rollcall_shared::topics::Channel;
use rollcall_shared::{DeviceId, Limits, Message, UnixMillis, encode};
use serde_json::{Value, json};

struct Rig {
    _root: tempfile::TempDir,
    setup: HubSetup,
    device: Device,
    hub: Process,
    admin: Api,
}

async fn rig() -> Rig {
    let root = tempfile::tempdir().unwrap();
    let setup = HubSetup::init(root.path(), false).unwrap();
    let device = setup.add_device("door-1", "Room 1").unwrap();
    let hub = setup.serve("hub.log").unwrap();
    let admin = Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    Rig {
        _root: root,
        setup,
        device,
        hub,
        admin,
    }
}

impl Rig {
    async fn door(&self) -> Door {
        let id: DeviceId = self.device.id.parse().unwrap();
        let secret = secret_from(&self.device.secrets).unwrap();
        Door::login(self.setup.mqtt_port, SITE, id, &secret)
            .await
            .unwrap()
    }

    async fn metric(&self, name: &str) -> u64 {
        self.admin.metrics().await.unwrap()[name].as_u64().unwrap()
    }

    /// Health answers, and a fresh record from `door` is acknowledged and stored.
    async fn still_serving(&mut self, door: &mut Door) {
        assert!(
            !self.hub.exited(),
            "the hub stopped:\n{}",
            self.hub.output()
        );
        let health = self.admin.get("/health").await.unwrap();
        assert!(health.is_object(), "health: {health}");
        let sent = record(door.device, "Room 1", UnixMillis::now());
        let message = Message::Record(sent.clone());
        door.publish(Channel::Records, &message).await.unwrap();
        let acked = door.acked(&[sent.id], Duration::from_secs(20)).await;
        assert!(acked.contains(&sent.id), "a normal record was not acked");
        let stored = self.admin.record_ids(&self.device.id).await.unwrap();
        assert!(stored.contains(&sent.id.to_string()));
    }

    async fn wait_metric(&self, name: &str, at_least: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.metric(name).await < at_least {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} stayed below {at_least}: {}",
                self.admin.metrics().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_oversized_and_forged_payloads_are_refused_and_counted() {
    let mut rig = rig().await;
    let mut door = rig.door().await;
    let (malformed, forged) = (rig.metric("malformed").await, rig.metric("forged").await);
    let good = encode(
        &Message::Record(record(door.device, "Room 1", UnixMillis::now())),
        Limits::FROM_DEVICE,
    )
    .unwrap();
    let mut future_version = good.clone();
    future_version.splice(0..1, [0xE7, 0x07]); // protocol version 999 (postcard varint)
    let garbage: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
    let just_over = vec![0u8; Limits::FROM_DEVICE.max_bytes + 500];
    let malformed_payloads = [
        Vec::new(),
        garbage,
        good[..good.len() / 2].to_vec(),
        good[..good.len() - 1].to_vec(),
        future_version,
        just_over,
    ];
    let records = door.topic(Channel::Records);
    for payload in &malformed_payloads {
        door.publish_raw(&records, payload.clone()).await.unwrap();
    }
    // A well-formed record on the status channel, and one naming another device.
    let status = door.topic(Channel::Status);
    door.publish_raw(&status, good.clone()).await.unwrap();
    let impostor = record(DeviceId::random(), "Room 1", UnixMillis::now());
    door.publish(Channel::Records, &Message::Record(impostor.clone()))
        .await
        .unwrap();

    rig.wait_metric("malformed", malformed + malformed_payloads.len() as u64 + 1)
        .await;
    rig.wait_metric("forged", forged + 1).await;
    rig.still_serving(&mut door).await;
    let stored = rig.admin.get("/records?limit=1000").await.unwrap();
    assert_eq!(
        stored.as_array().unwrap().len(),
        1,
        "only the normal record: {stored}"
    );

    // Over the broker's frame limit: the connection is closed, the hub carries on.
    door.publish_raw(&records, vec![0u8; 1 << 20])
        .await
        .unwrap();
    let closed = loop {
        match door.next(Duration::from_secs(20)).await {
            Some(Heard::Disconnected(why)) => break why,
            Some(Heard::Message(..)) => {}
            None => panic!("a 1 MiB publish did not end the connection"),
        }
    };
    println!("1 MiB publish: connection closed ({closed})");
    let mut door = rig.door().await;
    rig.still_serving(&mut door).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_old_messages_are_acked_again_and_stored_once() {
    let mut rig = rig().await;
    let mut door = rig.door().await;
    let old = record(
        door.device,
        "Room 1",
        UnixMillis(UnixMillis::now().0 - 3_600_000),
    );
    let payload = encode(&Message::Record(old.clone()), Limits::FROM_DEVICE).unwrap();
    let records = door.topic(Channel::Records);
    door.publish_raw(&records, payload.clone()).await.unwrap();
    // Stored once and acknowledged before this session ends (dropped at once, a loaded
    // machine could end it before the record left, and the replays would find nothing).
    let acked = door.acked(&[old.id], Duration::from_secs(20)).await;
    assert!(acked.contains(&old.id), "the first sending was not acked");
    drop(door);

    // Later, another session replays the same bytes three times.
    let mut door = rig.door().await;
    for _ in 0..3 {
        door.publish_raw(&records, payload.clone()).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut acks = 0;
    while acks < 3 {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match door.next(left).await {
            Some(Heard::Message(_, Message::Ack(a))) => {
                acks += a.records.iter().filter(|id| **id == old.id).count()
            }
            Some(Heard::Message(..)) => {}
            other => panic!("only {acks} of 3 replays acked: {other:?}"),
        }
    }
    rig.wait_metric("records_duplicate", 3).await;
    let stored = rig.admin.record_ids(&rig.device.id).await.unwrap();
    assert_eq!(stored, vec![old.id.to_string()]);
    rig.still_serving(&mut door).await;
}

/// Sends `request` as is (no client normalising the path) and returns the status and body.
fn raw_http(port: u16, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {reply:?}"));
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

/// A 4xx in the one JSON error shape, with `code`.
fn assert_error(status: StatusCode, body: &Value, code: &str, what: &str) {
    assert!(status.is_client_error(), "{what}: {status} {body}");
    assert_eq!(body["error"]["code"], json!(code), "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_huge_bodies_and_hostile_strings_get_clear_errors() {
    let mut rig = rig().await;
    let admin = rig.admin.clone();
    let port = rig.setup.http_port;
    let send = |body: &'static str| {
        admin
            .http
            .post(format!("{}/classes", admin.base))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for bad in [r#"{"name":"#, r#"{"name": 5}"#, "[]", "\u{0}\u{1}", ""] {
        let reply = send(bad).await.unwrap();
        let status = reply.status();
        let body: Value = reply.json().await.unwrap();
        assert_error(status, &body, "bad_request", bad);
    }

    // 30 MiB declared: refused before a byte of it is read.
    let request = format!(
        "POST /api/v1/students HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        admin.token,
        30 << 20
    );
    let (status, body) = raw_http(port, &request);
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_error(
        StatusCode::from_u16(status).unwrap(),
        &body,
        "payload_too_large",
        "30 MiB",
    );

    // SQL-shaped text is data: stored and found verbatim, never run.
    let name = "Robert'); DROP TABLE students;--";
    let made = admin
        .post("/students", json!({"name": name}))
        .await
        .unwrap();
    admin
        .post("/students", json!({"name": "Alice"}))
        .await
        .unwrap();
    let id = made["id"].as_str().unwrap();
    let one = admin.get(&format!("/students/{id}")).await.unwrap();
    assert_eq!(one["name"], json!(name));
    let found = admin
        .get("/students?q=%27%20OR%20%271%27%3D%271")
        .await
        .unwrap();
    assert_eq!(found, json!([]), "q=' OR '1'='1 matched: {found}");
    let found = admin.get("/students?q=drop%20table").await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");

    // Hostile ids in paths: a clear 400/404, never a server error or a file.
    for path in [
        "/students/1'%20OR%20'1'='1",
        "/records/..%2F..%2F..%2Fetc%2Fpasswd/thumbnail",
        "/students/%00/faces",
        "/classes/..%2F..%2Fhub.sqlite3",
    ] {
        let (status, body) = admin.call(Method::GET, path, None).await.unwrap();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{path}: {status} {body}"
        );
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/api/v1/../../../etc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/static/..%2f..%2fhub.toml",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, body) = raw_http(port, &request);
        assert!(status < 500, "{path}: {status}");
        assert!(
            !body.contains("root:") && !body.contains("data_dir"),
            "{path} served a file: {body}"
        );
    }

    // A token that says it needs no signature.
    let payload = admin.token.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let (status, body) = Api {
        token: none,
        ..admin.clone()
    }
    .call(Method::GET, "/classes", None)
    .await
    .unwrap();
    assert_error(status, &body, "unauthorized", "alg none");

    let mut door = rig.door().await;
    rig.still_serving(&mut door).await;
}
