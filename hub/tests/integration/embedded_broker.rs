//! The embedded broker (the default `mqtt.mode`): door units log in with their own secret,
//! may use only their own topics, have their last will delivered when they vanish, and can
//! connect over TLS. Real sockets and a real MQTT client (rumqttc), no Mosquitto.

use std::time::Duration;

use rollcall_hub::config::BrokerTls;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::*;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, LastWill, MqttOptions,
    Packet, QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use serde_json::{Value, json};

use crate::common::door::{Door, options};
use crate::common::{self, *};

fn record(device: DeviceId, student: &str) -> AttendanceRecord {
    common::record(
        device,
        Decision::Confident,
        &[(student, 0.3)],
        monday_at(9, 1),
    )
}

/// Polls `events` until the broker answers the CONNECT: `Ok` when accepted, else its code.
async fn connack(events: &mut EventLoop) -> Result<(), ConnectReturnCode> {
    let wait = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(ConnectionError::ConnectionRefused(code)) => return Err(code),
                Err(e) => panic!("expected a CONNACK, got {e:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a CONNACK within 10 s")
}

async fn login(opts: MqttOptions) -> Result<(), ConnectReturnCode> {
    let (_client, mut events) = AsyncClient::new(opts, 8);
    connack(&mut events).await
}

async fn register(admin: &Api, name: &str) -> (DeviceId, String) {
    let made = admin
        .created("/devices", json!({"name": name, "room": "Lab 3"}))
        .await;
    let id = made["device"]["id"].as_str().unwrap().parse().unwrap();
    (id, made["mqtt_password"].as_str().unwrap().to_owned())
}

async fn metric(hub: &TestHub, name: &str) -> u64 {
    metrics(hub).await[name].as_u64().unwrap()
}

async fn device_row(admin: &Api, id: DeviceId) -> Value {
    let (_, devices) = admin.get("/devices").await;
    let all = devices.as_array().unwrap();
    let row = all.iter().find(|d| d["id"] == json!(id.to_string()));
    row.cloned().unwrap()
}

#[tokio::test]
async fn a_device_logged_in_with_its_secret_has_its_records_stored_and_acked() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::login(&hub, device, &school.device_secret).await;

    let sent = record(device, &school.students[0]);
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    let ack = door.next(Channel::Acks).await;
    assert_eq!(
        ack,
        Message::Ack(RecordAck {
            records: vec![sent.id]
        })
    );
    let (_, records) = admin.get("/records").await;
    assert_eq!(records[0]["id"], json!(sent.id.to_string()));

    door.publish(
        Channel::Requests,
        &Message::GalleryRequest(GalleryRequest {
            device,
            have: GalleryVersion(0),
            full: true,
        }),
    )
    .await;
    let Message::Gallery(update) = door.next(Channel::Gallery).await else {
        panic!("a gallery update answers a gallery request");
    };
    assert_eq!(update.upserts.len(), 2, "both students of the room");
    hub.stop().await;
}

#[tokio::test]
async fn wrong_missing_unknown_and_disabled_logins_are_refused() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (device, secret) = register(&admin, "door-1").await;
    let addr = hub.mqtt_addr;

    let wrong = options(addr, device, Some("not the secret"));
    assert_eq!(
        login(wrong).await,
        Err(ConnectReturnCode::BadUserNamePassword)
    );
    let anonymous = options(addr, device, None);
    assert_eq!(
        login(anonymous).await,
        Err(ConnectReturnCode::BadUserNamePassword)
    );
    let mut other_user = options(addr, device, None);
    other_user.set_credentials("someone-else", secret.clone());
    assert_eq!(
        login(other_user).await,
        Err(ConnectReturnCode::BadUserNamePassword)
    );
    let stranger = DeviceId::random();
    let unknown = options(addr, stranger, Some(&secret));
    assert_eq!(login(unknown).await, Err(ConnectReturnCode::NotAuthorized));
    let mut not_a_device = options(addr, device, Some(&secret));
    not_a_device.set_client_id("hub-impostor".into());
    assert_eq!(
        login(not_a_device).await,
        Err(ConnectReturnCode::BadClientId)
    );

    assert_eq!(login(options(addr, device, Some(&secret))).await, Ok(()));
    let (status, _) = admin
        .post(&format!("/devices/{device}/disable"), json!({}))
        .await;
    assert!(status.is_success());
    assert_eq!(
        login(options(addr, device, Some(&secret))).await,
        Err(ConnectReturnCode::NotAuthorized)
    );
    assert_eq!(metric(&hub, "login_refused").await, 6);
    hub.stop().await;
}

#[tokio::test]
async fn a_device_can_neither_publish_nor_subscribe_as_another() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let victim: DeviceId = school.device.parse().unwrap();
    let (attacker, secret) = register(&admin, "door-2").await;

    let opts = options(hub.mqtt_addr, attacker, Some(&secret));
    let (client, mut events) = AsyncClient::new(opts, 8);
    connack(&mut events).await.unwrap();
    let theirs = Topic::new(&hub.site, victim, Channel::Acks).to_string();
    let mine = Topic::new(&hub.site, attacker, Channel::Acks).to_string();
    client.subscribe(&theirs, QoS::AtLeastOnce).await.unwrap();
    client
        .subscribe("rollcall/v1/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    client.subscribe(&mine, QoS::AtLeastOnce).await.unwrap();
    let mut codes = Vec::new();
    while codes.len() < 3 {
        if let Event::Incoming(Packet::SubAck(ack)) = events.poll().await.unwrap() {
            codes.extend(ack.return_codes);
        }
    }
    assert_eq!(
        codes,
        [
            SubscribeReasonCode::Failure,
            SubscribeReasonCode::Failure,
            SubscribeReasonCode::Success(QoS::AtLeastOnce)
        ]
    );

    // A record for the victim, on the victim's topic, sent by the attacker.
    let forged = encode(
        &Message::Record(record(victim, &school.students[0])),
        Limits::FROM_DEVICE,
    )
    .unwrap();
    let topic = Topic::new(&hub.site, victim, Channel::Records).to_string();
    client
        .publish(topic, QoS::AtLeastOnce, false, forged)
        .await
        .unwrap();
    let dropped = async {
        loop {
            if events.poll().await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), dropped)
        .await
        .expect("the broker drops a device that publishes as another");
    assert!(metric(&hub, "forged").await >= 3);
    let (_, records) = admin.get("/records").await;
    assert_eq!(records, json!([]), "nothing was stored");
    hub.stop().await;
}

#[tokio::test]
async fn a_vanished_device_is_marked_offline_by_its_last_will() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (device, secret) = register(&admin, "door-1").await;
    let status_topic = Topic::new(&hub.site, device, Channel::Status).to_string();
    let will = encode(
        &Message::Offline(DeviceOffline { device }),
        Limits::FROM_DEVICE,
    )
    .unwrap();
    let mut opts = options(hub.mqtt_addr, device, Some(&secret));
    opts.set_last_will(LastWill::new(&status_topic, will, QoS::AtLeastOnce, true));
    let (client, mut events) = AsyncClient::new(opts, 8);
    connack(&mut events).await.unwrap();
    let status = DeviceStatus {
        device,
        sent_at: UnixMillis(monday_at(9, 0)),
        uptime_s: 1,
        outbox_depth: 4,
        gallery_version: GalleryVersion(0),
        software_version: "test".into(),
        last_error: None,
        model: None,
        free_disk_bytes: None,
        clock: rollcall_shared::ClockSync::Unknown,
        unknown_discarded: 0,
    };
    let payload = encode(&Message::Status(status), Limits::FROM_DEVICE).unwrap();
    client
        .publish(&status_topic, QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    let pump = tokio::spawn(async move { while events.poll().await.is_ok() {} });
    wait_for("the device online", Duration::from_secs(10), || async {
        device_row(&admin, device).await["online"] == json!(true)
    })
    .await;

    // The socket closes without a DISCONNECT, as when a door unit loses power.
    pump.abort();
    drop(client);
    wait_for(
        "the will marking it offline",
        Duration::from_secs(10),
        || async { device_row(&admin, device).await["online"] == json!(false) },
    )
    .await;
    hub.stop().await;
}

#[tokio::test]
async fn door_units_connect_over_tls_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).unwrap();
    let files = BrokerTls::new(
        dir.path().join("hub-cert.pem"),
        dir.path().join("hub-key.pem"),
    );
    std::fs::write(&files.cert, made.cert.pem()).unwrap();
    std::fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
    let hub = start_hub_with(None, |c| c.mqtt.embedded.tls = Some(files)).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();

    let mut opts = options(hub.mqtt_addr, device, Some(&school.device_secret));
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
        ca: made.cert.pem().into_bytes(),
        alpn: None,
        client_auth: None,
    }));
    let mut door = Door::connect_with(opts, &hub.site, device).await;
    let sent = record(device, &school.students[1]);
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    assert_eq!(
        door.next(Channel::Acks).await,
        Message::Ack(RecordAck {
            records: vec![sent.id]
        })
    );

    let plain = options(hub.mqtt_addr, device, Some(&school.device_secret));
    let (_client, mut events) = AsyncClient::new(plain, 8);
    let refused = tokio::time::timeout(Duration::from_secs(15), events.poll()).await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "plain MQTT is not served on the TLS port"
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_unit_sending_much_cannot_crowd_out_another_in_the_queue() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let busy: DeviceId = school.device.parse().unwrap();
    let (quiet, quiet_secret) = register(&admin, "quiet door").await;
    let busy_door = Door::login(&hub, busy, &school.device_secret).await;
    let mut quiet_door = Door::login(&hub, quiet, &quiet_secret).await;

    // The store is held, so nothing leaves the hub's queue while the units publish: the busy
    // unit a backlog of more than a batch, then the quiet one a single record.
    let database = hub.data_dir.join("hub.sqlite3");
    let holder = hold_store(&database);
    const BACKLOG: usize = 1_100;
    let payloads = backlog(busy, &school.students[0], BACKLOG);
    let (client, topic) = (
        busy_door.client.clone(),
        Topic::new(&hub.site, busy, Channel::Records).to_string(),
    );
    let flood = tokio::spawn(async move {
        for payload in payloads {
            client
                .publish(&topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lone = record(quiet, &school.students[1]);
    quiet_door.publish_then_release(&lone, holder).await;
    flood.await.unwrap();
    // Stored in the order the hub took them: the quiet unit's record came after no more of
    // the busy unit's than it may hold in the queue and in the batch being written.
    let before = stored_before(&database, lone.id, BACKLOG).await;
    let places = rollcall_hub::broker::PLACES;
    assert!(
        before <= 2 * places,
        "{before} of the busy unit's records were stored before the quiet unit's one"
    );
    hub.stop().await;
}
