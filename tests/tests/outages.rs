//! Outages and hostile conditions across real processes (issue #7), accounted record id by
//! record id like `faults.rs`: the edge's outbox ledger must equal the hub's records from it,
//! each once, with the outbox drained (`rollcall_e2e::fault`).
//!
//! - The school's own Mosquitto (TLS, a password per account, a per-device ACL; the hub in
//!   `mode = "external"`) killed for a minute while the door unit keeps capturing, then
//!   started again on the same port. `ROLLCALL_BROKER_OUTAGE_SECS` sets the outage (default
//!   60, the "a minute"; the edge commits 5 to 8 records a second here and the
//!   accounting reads one page of 1,000 records, so keep it under about 100).
//! - Through that broker, a door unit publishing a record on another unit's topic.
//! - The edge's data directory on a small tmpfs that fills up (needs root for `mount`).
//! - Both clocks off under libfaketime: the edge 5 minutes behind, the hub 5 minutes ahead.

use std::path::Path;
use std::time::{Duration, Instant};

use rollcall_e2e::api::Api;
use rollcall_e2e::door::{record, secret_from};
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::stranger_replay;
use rollcall_e2e::fault::{SETTLE, Triggers, account, wait_committed};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, Device, HubSetup, Mqtt, SITE};
use rollcall_e2e::pki::Pki;
use rollcall_e2e::process::Process;
use rollcall_e2e::school_broker::{Account, HUB_USER, SchoolBroker};
use rollcall_e2e::tmpfs::Tmpfs;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{DeviceId, Limits, Message, RecordId, SiteId, UnixMillis, decode, encode};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use tokio::sync::mpsc;

/// A hub using the school's Mosquitto, its registered door units, and the broker.
struct SchoolRig {
    root: tempfile::TempDir,
    pki: Pki,
    hub: HubSetup,
    devices: Vec<Device>,
    broker: SchoolBroker,
}

/// Registers `names` (each in its own room) on a hub in `mode = "external"`, then starts the
/// school's Mosquitto with an account for the hub and one per device (its `device add`
/// secret).
fn school_rig(names: &[&str]) -> SchoolRig {
    let root = tempfile::tempdir().unwrap();
    let pki_dir = root.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = Pki::new(&pki_dir).unwrap();
    let port = rollcall_e2e::free_port().unwrap();
    let hub_password = uuid::Uuid::new_v4().simple().to_string();
    let mqtt = Mqtt::External {
        port,
        other_ports: Vec::new(),
        pki: pki.clone(),
        username: HUB_USER.into(),
        password: hub_password.clone(),
    };
    let hub = HubSetup::init_with(root.path(), false, mqtt).unwrap();
    let devices: Vec<Device> = names
        .iter()
        .enumerate()
        .map(|(i, name)| hub.add_device(name, &format!("Room {}", i + 1)).unwrap())
        .collect();
    let mut accounts = vec![Account {
        user: HUB_USER.into(),
        password: hub_password,
    }];
    accounts.extend(devices.iter().map(|d| Account {
        user: d.id.clone(),
        password: secret_from(&d.secrets).unwrap(),
    }));
    let broker_dir = root.path().join("broker");
    let broker = SchoolBroker::start(&broker_dir, port, &pki, SITE, &accounts).unwrap();
    SchoolRig {
        root,
        pki,
        hub,
        devices,
        broker,
    }
}

fn outage() -> Duration {
    let secs = std::env::var("ROLLCALL_BROKER_OUTAGE_SECS").map_or(60, |v| {
        v.parse()
            .expect("ROLLCALL_BROKER_OUTAGE_SECS must be a whole number of seconds")
    });
    Duration::from_secs(secs)
}

/// Waits `how_long`, checking every half second that the edge is still running.
async fn edge_stays_up(edge: &mut Process, how_long: Duration, during: &str) {
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(500).min(how_long)).await;
        assert!(
            !edge.exited(),
            "the edge stopped {during}:\n{}",
            edge.output()
        );
    }
}

/// Polls until the hub holds at least `n` records from `device`.
async fn wait_at_hub(admin: &Api, device: &str, n: usize) {
    let deadline = Instant::now() + SETTLE;
    while admin.record_ids(device).await.unwrap().len() < n {
        assert!(
            Instant::now() < deadline,
            "the hub did not get {n} records from {device} within {SETTLE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The edge is triggered every 100 ms through the school's broker; once the hub holds 3
/// records, Mosquitto is SIGKILLed for the outage, during which the edge must keep
/// committing and nothing may reach the hub; Mosquitto starts again on the same port with
/// the same config, 3 more records are committed, then the accounting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schools_broker_down_for_a_minute_loses_and_duplicates_nothing() {
    let outage = outage();
    let mut rig = school_rig(&["door-1"]);
    let device = rig.devices[0].clone();
    let _hub = rig.hub.serve("hub.log").unwrap();
    let admin = Api::login(&rig.hub.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let edge = EdgeSetup::new(
        rig.root.path(),
        &rig.hub,
        &device,
        &stranger_replay(rig.root.path()),
    )
    .unwrap();
    let mut edge_process = edge.start_ready("edge.log").unwrap();
    edge.install_ledger().unwrap();
    let triggers = Triggers::start(&edge);

    // Records cross the school's broker (TLS, passwords, ACL) and are acknowledged.
    wait_at_hub(&admin, &device.id, 3).await;
    rig.broker.broker.kill().unwrap();
    let at_kill = edge.committed().unwrap().len();
    let at_hub_at_kill = admin.record_ids(&device.id).await.unwrap().len();
    println!("mosquitto killed with {at_kill} records committed, {at_hub_at_kill} at the hub");

    // The door unit keeps capturing with no broker for the whole outage.
    edge_stays_up(&mut edge_process, outage, "during the outage").await;
    let while_down = edge.committed().unwrap();
    let at_hub = admin.record_ids(&device.id).await.unwrap();
    assert!(
        while_down.len() >= at_kill + 5,
        "the edge committed only {} records in {outage:?} without a broker:\n{}",
        while_down.len() - at_kill,
        edge_process.output()
    );
    assert_eq!(
        at_hub.len(),
        at_hub_at_kill,
        "records reached the hub while its broker was down"
    );

    rig.broker.broker.restart().unwrap();
    wait_committed(&edge, while_down.len() + 3, &mut edge_process);
    triggers.stop();
    let ids = account(&edge, &device.id, &admin).await;
    let missing: Vec<_> = while_down[at_kill..]
        .iter()
        .filter(|id| !ids.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "committed during the outage, never at the hub: {missing:?}"
    );
    println!(
        "{} records, {} committed during the {outage:?} outage; all at the hub once",
        ids.len(),
        while_down.len() - at_kill
    );
    let status = edge_process.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        status.success(),
        "edge exit {status}:\n{}",
        edge_process.output()
    );
}

/// A door unit's MQTT session over TLS, as the test sees it: what it hears, by topic.
struct TlsSession {
    client: AsyncClient,
    heard: mpsc::UnboundedReceiver<(String, Message)>,
}

impl TlsSession {
    /// Logs in to the school's broker as `device` and subscribes to `topics`.
    async fn login(rig: &SchoolRig, device: &Device, topics: &[String]) -> TlsSession {
        let port = rig.broker.broker.addr().port();
        let mut options = MqttOptions::new(device.id.clone(), "localhost", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_credentials(device.id.clone(), secret_from(&device.secrets).unwrap());
        let tls = TlsConfiguration::Rustls(rig.pki.client_config().unwrap());
        options.set_transport(Transport::tls_with_config(tls));
        let (client, mut events) = AsyncClient::new(options, 64);
        for topic in topics {
            client
                .subscribe(topic.clone(), QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        let (tx, heard) = mpsc::unbounded_channel();
        let (subscribed, mut subacks) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if let Ok(message) = decode(&p.payload, Limits::FROM_HUB) {
                            let _ = tx.send((p.topic.clone(), message));
                        }
                    }
                    Ok(_) => {}
                    // The broker went away (the test is ending): nothing more to hear.
                    Err(_) => return,
                }
            }
        });
        for _ in topics {
            tokio::time::timeout(Duration::from_secs(10), subacks.recv())
                .await
                .expect("no SUBACK within 10 s: the broker refused the login?")
                .expect("the session ended before its SUBACK");
        }
        TlsSession { client, heard }
    }

    async fn publish(&self, topic: &str, message: &Message) {
        let payload = encode(message, Limits::FROM_DEVICE).unwrap();
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    /// Waits for an ack naming `id` on `topic`.
    async fn acked(&mut self, topic: &str, id: RecordId) {
        let wait = async {
            loop {
                match self.heard.recv().await {
                    Some((t, Message::Ack(ack))) if t == topic && ack.records.contains(&id) => {
                        return;
                    }
                    Some(_) => {}
                    None => panic!("the session ended before the ack of {id}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("no ack of {id} on {topic} within 30 s"));
    }
}

fn topic(device: &Device, channel: Channel) -> String {
    let site = SiteId::new(SITE).unwrap();
    Topic::new(&site, device.id.parse().unwrap(), channel).to_string()
}

/// Mosquitto drops a publish its ACL refuses without telling an MQTT 3.1.1 client (the
/// PUBACK still comes), so the test proves the path with legitimate publishes around it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_unit_cannot_publish_or_read_as_another_through_the_schools_broker() {
    let rig = school_rig(&["door-1", "door-2"]);
    let (victim, forger) = (&rig.devices[0], &rig.devices[1]);
    let _hub = rig.hub.serve("hub.log").unwrap();
    let admin = Api::login(&rig.hub.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let victim_id: DeviceId = victim.id.parse().unwrap();
    let forger_id: DeviceId = forger.id.parse().unwrap();

    // door-2, logged in with its own credentials, also asks for door-1's acks.
    let spying = [topic(forger, Channel::Acks), topic(victim, Channel::Acks)];
    let mut forger_session = TlsSession::login(&rig, forger, &spying).await;
    let forged = record(victim_id, "Room 1", UnixMillis::now());
    let own = record(forger_id, "Room 2", UnixMillis::now());
    forger_session
        .publish(
            &topic(victim, Channel::Records),
            &Message::Record(forged.clone()),
        )
        .await;
    forger_session
        .publish(
            &topic(forger, Channel::Records),
            &Message::Record(own.clone()),
        )
        .await;
    // Its own record, published after the forged one on the same session, is acked and
    // stored: the forged one had every chance to arrive first.
    forger_session
        .acked(&topic(forger, Channel::Acks), own.id)
        .await;
    let forger_ids = admin.record_ids(&forger.id).await.unwrap();
    assert_eq!(forger_ids, [own.id.to_string()], "door-2's own record");
    let all = admin.get("/records?limit=1000").await.unwrap();
    assert!(
        !all.to_string().contains(&forged.id.to_string()),
        "the hub stored the record door-2 forged on door-1's topic: {all:#}"
    );

    // The same bytes from door-1 itself are stored: only the ACL kept them out.
    let mut victim_session = TlsSession::login(&rig, victim, &[topic(victim, Channel::Acks)]).await;
    victim_session
        .publish(
            &topic(victim, Channel::Records),
            &Message::Record(forged.clone()),
        )
        .await;
    victim_session
        .acked(&topic(victim, Channel::Acks), forged.id)
        .await;
    assert_eq!(
        admin.record_ids(&victim.id).await.unwrap(),
        [forged.id.to_string()]
    );
    // door-2 never heard door-1's ack.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok((t, message)) = forger_session.heard.try_recv() {
        assert_ne!(
            t,
            topic(victim, Channel::Acks),
            "door-2 read door-1's ack: {message:?}"
        );
    }
    println!("forged record dropped by the broker's ACL; door-2 could not read door-1's acks");
}

const MIB: u64 = 1024 * 1024;
/// The edge's disk: a tmpfs for its database, with room to spare beyond its reserve.
const SMALL_DISK: u64 = 16 * MIB;
/// What the edge keeps free on its disk (`rollcall_edge::daemon::deliver::policy::DISK_RESERVE`).
const EDGE_DISK_RESERVE: u64 = 8 * MIB;
/// What the edge's log says when it refuses a record for want of disk.
const DISK_FULL_LOG: &str = "disk full: record not stored";

/// Waits until the edge refuses a record for want of disk; prints what it had committed.
fn wait_until_full(edge: &EdgeSetup, edge_process: &mut Process, disk: &Tmpfs) {
    let started = Instant::now();
    rollcall_e2e::wait_until("the edge's disk to fill", SETTLE, || {
        edge_process.exited() || edge_process.output().contains(DISK_FULL_LOG)
    })
    .unwrap_or_else(|e| {
        let free = disk.available().unwrap();
        panic!("{e} ({free} bytes free):\n{}", edge_process.output())
    });
    assert!(
        !edge_process.exited(),
        "the edge stopped as its disk filled:\n{}",
        edge_process.output()
    );
    println!(
        "the edge said its disk was full after {:?}: {} records committed, {} bytes free",
        started.elapsed(),
        edge.committed().unwrap().len(),
        disk.available().unwrap()
    );
}

/// The edge's database and trigger socket on a 16 MiB tmpfs; the hub withheld. Another
/// program fills the disk but for 512 KiB above the edge's reserve; the edge fills that with
/// records until it says the disk is full; then the other program takes every last byte.
/// The hub comes back, the other program's last file is deleted, the outbox drains, and new
/// triggers commit records again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_whose_disk_fills_keeps_what_it_committed_and_recovers() {
    let root = tempfile::tempdir().unwrap();
    let hub = HubSetup::init(root.path(), false).unwrap();
    let device = hub.add_device("door-1", "Room 1").unwrap();
    let edge = EdgeSetup::new(root.path(), &hub, &device, &stranger_replay(root.path())).unwrap();
    let disk = Tmpfs::mount(&edge.data, SMALL_DISK).unwrap();
    // The hub said to keep faces that match nobody before it went away (a door unit discards
    // them until told): the strangers' records are what fills the disk.
    let mut first = edge.start_ready("edge-first.log").unwrap();
    edge.remember_keeping_unknown_faces().unwrap();
    first.terminate(Duration::from_secs(30)).unwrap();
    let mut edge_process = edge.start_ready("edge.log").unwrap();
    edge.install_ledger().unwrap();
    disk.fill("other-program", EDGE_DISK_RESERVE + 512 * 1024)
        .unwrap();
    let triggers = Triggers::start(&edge);
    wait_until_full(&edge, &mut edge_process, &disk);

    // The disk to its last byte; triggers keep coming.
    disk.fill("other-program-2", 0).unwrap();
    edge_stays_up(&mut edge_process, Duration::from_secs(2), "at a full disk").await;
    let held = edge.unacknowledged().unwrap();
    let committed = edge.committed().unwrap();
    assert_eq!(
        held, committed,
        "with no hub, every committed record must still be in the outbox"
    );

    // The hub comes back at a disk with no byte free, then some space is freed.
    let _hub = hub.serve("hub.log").unwrap();
    let admin = Api::login(&hub.api(), ADMIN, ADMIN_PASSWORD).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let drained_at_full_disk = edge.unacknowledged().unwrap().is_empty();
    disk.remove("other-program-2").unwrap();
    let before = edge.committed().unwrap().len();
    wait_committed(&edge, before + 3, &mut edge_process);
    triggers.stop();
    let ids = account(&edge, &device.id, &admin).await;
    let log = edge_process.output();
    println!(
        "{} records, {} committed before the disk was full; outbox drained while the disk had \
         no byte free: {drained_at_full_disk}; {} bytes free at the end; all at the hub once. \
         The edge logged {} records refused for a full disk and {} failed deletes retried",
        ids.len(),
        committed.len(),
        disk.available().unwrap(),
        log.matches(DISK_FULL_LOG).count(),
        log.matches("deleting acknowledged records (retried later)")
            .count(),
    );
    let status = edge_process.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        status.success(),
        "edge exit {status}:\n{}",
        edge_process.output()
    );
}

/// libfaketime from Debian's `faketime` package (x86-64).
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
/// How far the edge's clock is behind and the hub's ahead.
const SKEW_MS: i64 = 5 * 60 * 1000;

/// The environment that runs a process with its wall clock moved by `offset` ("-5m"):
/// monotonic clocks stay real, so timers, timeouts and backoffs are unaffected.
fn faketime(offset: &str) -> Vec<(&'static str, String)> {
    assert!(
        Path::new(LIBFAKETIME).is_file(),
        "{}",
        rollcall_e2e::setup::missing("libfaketime", LIBFAKETIME)
    );
    vec![
        ("LD_PRELOAD", LIBFAKETIME.to_owned()),
        ("FAKETIME", offset.to_owned()),
        ("DONT_FAKE_MONOTONIC", "1".to_owned()),
        ("FAKETIME_NO_CACHE", "1".to_owned()),
    ]
}

fn env<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Logs in again (the API client keeps only the access token) and exchanges the refresh
/// token: both are checked against the hub's clock.
async fn refresh_works(admin: &Api) {
    let body = serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD});
    let login: serde_json::Value = admin
        .http
        .post(format!("{}/auth/login", admin.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = serde_json::json!({"refresh_token": login["refresh_token"]});
    let pair = admin.post("/auth/refresh", refresh).await.unwrap();
    let token = pair["access_token"]
        .as_str()
        .expect("a refreshed access token");
    let me = Api {
        token: token.to_owned(),
        ..admin.clone()
    };
    assert_eq!(me.get("/auth/me").await.unwrap()["username"], ADMIN);
}

/// Both daemons under libfaketime, the edge 5 minutes behind and the hub 5 minutes ahead,
/// over the hub's embedded broker with TLS (certificates valid from yesterday to the day
/// after tomorrow). Records are stored once, `captured_at` on the edge's clock and
/// `received_at` on the hub's; login, token refresh and TLS work on both skewed clocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_minutes_apart_keep_capture_and_receive_times_apart() {
    let (edge_clock, hub_clock) = (faketime("-5m"), faketime("+5m"));
    let root = tempfile::tempdir().unwrap();
    let pki_dir = root.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = Pki::new(&pki_dir).unwrap();
    let hub = HubSetup::init_with(root.path(), false, Mqtt::EmbeddedTls(pki)).unwrap();
    let device = hub.add_device("door-1", "Room 1").unwrap();
    let edge = EdgeSetup::new(root.path(), &hub, &device, &stranger_replay(root.path())).unwrap();

    let start = UnixMillis::now().0;
    let hub_process = hub.serve_with("hub.log", &env(&hub_clock)).unwrap();
    let admin = Api::login(&hub.api(), ADMIN, ADMIN_PASSWORD).await.unwrap();
    refresh_works(&admin).await;
    let mut edge_process = edge
        .start_ready_with("edge.log", &env(&edge_clock))
        .unwrap();
    edge.install_ledger().unwrap();
    let triggers = Triggers::start(&edge);
    wait_committed(&edge, 5, &mut edge_process);
    triggers.stop();
    let ids = account(&edge, &device.id, &admin).await;
    let end = UnixMillis::now().0;

    let records = admin.get("/records?limit=1000").await.unwrap();
    let records = records.as_array().unwrap();
    // Clocks are read at whole milliseconds, on either side of the test's own readings.
    let slack = 1_000;
    let (edge_now, hub_now) = (
        (start - SKEW_MS - slack)..=(end - SKEW_MS + slack),
        (start + SKEW_MS - slack)..=(end + SKEW_MS + slack),
    );
    for id in &ids {
        let row = records
            .iter()
            .find(|r| r["id"] == serde_json::json!(id))
            .unwrap_or_else(|| panic!("record {id} not in /records"));
        let captured = row["captured_at"].as_i64().unwrap();
        let received = row["received_at"].as_i64().unwrap();
        assert!(
            edge_now.contains(&captured),
            "captured_at {captured} is not on the edge's clock {edge_now:?} (test's clock {start}..{end})"
        );
        assert!(
            hub_now.contains(&received),
            "received_at {received} is not on the hub's clock {hub_now:?} (test's clock {start}..{end})"
        );
    }
    let row = &records[0];
    println!(
        "{} records stored once; e.g. captured_at {} (edge, -5 min), received_at {} (hub, +5 min): \
         {:.1} min apart",
        ids.len(),
        row["captured_at"],
        row["received_at"],
        (row["received_at"].as_i64().unwrap() - row["captured_at"].as_i64().unwrap()) as f64
            / 60_000.0
    );
    for (name, log) in [
        ("hub", hub_process.output()),
        ("edge", edge_process.output()),
    ] {
        assert!(!log.contains(" ERROR "), "the {name} logged errors:\n{log}");
    }
    let status = edge_process.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        status.success(),
        "edge exit {status}:\n{}",
        edge_process.output()
    );
}
