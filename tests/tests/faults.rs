//! Faults across real processes: `rollcall-hub` (embedded broker, face models off) and
//! `rollcall-edge` (real face models, replay camera over one photo, triggered every 100 ms
//! through its socket).
//!
//! Each test accounts record id by record id: the ids the edge committed (its outbox ledger,
//! `rollcall_e2e::edge`) must equal the ids the hub holds from it, each exactly once, with the
//! outbox drained. `ROLLCALL_FAULT_LOOPS` sets how many times the edge is killed (default 5);
//! `ROLLCALL_FAULT_SEED` replays a run's kill points (printed at the start).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rollcall_e2e::api::Api;
use rollcall_e2e::door::{Door, Heard, record, secret_from};
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::faces_dir;
use rollcall_e2e::fault::{SETTLE, Triggers, account, wait_committed};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, Device, HubSetup, SITE};
use rollcall_shared::topics::Channel;
use rollcall_shared::{Message, UnixMillis};

/// A hub serving one door unit, and the door unit's setup (not started).
struct Rig {
    root: tempfile::TempDir,
    hub: HubSetup,
    device: Device,
    edge: EdgeSetup,
}

fn rig() -> Rig {
    let root = tempfile::tempdir().unwrap();
    let hub = HubSetup::init(root.path(), false).unwrap();
    let device = hub.add_device("door-1", "Room 1").unwrap();
    let replay = root.path().join("replay");
    std::fs::create_dir(&replay).unwrap();
    let photo = faces_dir().join("identities/Abdullah_Gul/Abdullah_Gul_0005.jpg");
    std::fs::copy(&photo, replay.join("face.jpg")).unwrap();
    let edge = EdgeSetup::new(root.path(), &hub, &device, &replay).unwrap();
    Rig {
        root,
        hub,
        device,
        edge,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_and_restarted_loses_and_duplicates_nothing() {
    let rig = rig();
    let mut hub = rig.hub.serve("hub-1.log").unwrap();
    let admin = Api::login(&rig.hub.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let mut edge = rig.edge.start_ready("edge.log").unwrap();
    rig.edge.install_ledger().unwrap();
    let triggers = Triggers::start(&rig.edge);

    // Records flow and are acknowledged; then the hub dies mid-stream.
    wait_committed(&rig.edge, 3, &mut edge);
    hub.kill().unwrap();
    let at_kill = rig.edge.committed().unwrap().len();
    // The edge keeps capturing while the hub (and its broker) is gone.
    wait_committed(&rig.edge, at_kill + 5, &mut edge);
    let while_down = rig.edge.committed().unwrap();
    let _hub = rig.hub.serve("hub-2.log").unwrap();
    let admin = Api::login(&admin.base, ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    wait_committed(&rig.edge, while_down.len() + 3, &mut edge);
    triggers.stop();

    let ids = account(&rig.edge, &rig.device.id, &admin).await;
    assert!(while_down[at_kill..].iter().all(|id| ids.contains(id)));
    println!(
        "{} records, {} committed while the hub was down; all at the hub once",
        ids.len(),
        while_down.len() - at_kill
    );
    let status = edge.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "edge exit {status}:\n{}", edge.output());
    drop(rig.root);
}

/// xorshift64*: kill points that a seed reproduces.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    })
}

/// Kills the edge at a random point: during start-up, or a random time into capturing.
fn run_until_killed(rig: &Rig, rng: &mut Rng, round: u64) -> Option<usize> {
    let log = format!("edge-{round}.log");
    let mut edge = rig.edge.start(&log).unwrap();
    let started = Instant::now();
    if rng.below(4) > 0 {
        rollcall_e2e::wait_until("the edge running", SETTLE, || {
            edge.exited() || edge.output().contains("rollcall-edge running")
        })
        .unwrap();
    }
    assert!(!edge.exited(), "the edge stopped:\n{}", edge.output());
    let delay = Duration::from_millis(rng.below(1500));
    std::thread::sleep(delay);
    edge.kill().unwrap();
    let pending = rig.edge.unacknowledged().ok().map(|ids| ids.len());
    println!(
        "round {round}: killed {:?} after start, {pending:?} records unacknowledged",
        started.elapsed()
    );
    pending
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_killed_at_random_points_loses_and_duplicates_nothing() {
    let loops = env_u64("ROLLCALL_FAULT_LOOPS").unwrap_or(5);
    let seed = env_u64("ROLLCALL_FAULT_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    println!("ROLLCALL_FAULT_SEED={seed} ROLLCALL_FAULT_LOOPS={loops}");
    let mut rng = Rng(seed);
    let rig = rig();
    let _hub = rig.hub.serve("hub.log").unwrap();
    let admin = Api::login(&rig.hub.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let mut edge = rig.edge.start_ready("edge-first.log").unwrap();
    rig.edge.install_ledger().unwrap();
    let triggers = Triggers::start(&rig.edge);
    wait_committed(&rig.edge, 1, &mut edge);
    edge.kill().unwrap();

    let mut killed_with_pending = 0;
    for round in 0..loops {
        if run_until_killed(&rig, &mut rng, round).unwrap_or(0) > 0 {
            killed_with_pending += 1;
        }
    }
    let mut edge = rig.edge.start_ready("edge-last.log").unwrap();
    let before_last = rig.edge.committed().unwrap().len();
    wait_committed(&rig.edge, before_last + 2, &mut edge);
    triggers.stop();

    let ids = account(&rig.edge, &rig.device.id, &admin).await;
    let duplicates = admin.metrics().await.unwrap()["records_duplicate"].clone();
    println!(
        "{} records over {loops} kills ({killed_with_pending} with records unacknowledged); \
         all at the hub once; duplicate deliveries dropped by the hub: {duplicates}",
        ids.len()
    );
    let status = edge.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "edge exit {status}:\n{}", edge.output());
}

/// A door unit whose clock is minutes or a day off, simulated: it publishes records captured
/// at its own idea of now, each twice, out of order. The hub must store and acknowledge each
/// once, keep the device's capture time (marks follow when the unit saw the face) and stamp
/// its own receive time. (`outages.rs` runs both real daemons under libfaketime.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_from_a_door_unit_with_a_skewed_clock_are_kept_with_their_capture_time() {
    let rig = rig();
    let _hub = rig.hub.serve("hub.log").unwrap();
    let admin = Api::login(&rig.hub.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let device = rig.device.id.parse().unwrap();
    let secret = secret_from(&rig.device.secrets).unwrap();
    let mut door = Door::login(rig.hub.mqtt_port, SITE, device, &secret)
        .await
        .unwrap();

    let now = UnixMillis::now().0;
    let skews_min = [-24 * 60, -10, -3, 3, 10];
    let sent: Vec<_> = skews_min
        .iter()
        .map(|m| record(device, "Room 1", UnixMillis(now + m * 60_000)))
        .collect();
    for r in &sent {
        door.publish(Channel::Records, &Message::Record(r.clone()))
            .await
            .unwrap();
    }
    // The same records again, in reverse order: duplicates and reordering.
    for r in sent.iter().rev() {
        door.publish(Channel::Records, &Message::Record(r.clone()))
            .await
            .unwrap();
    }
    let ids: Vec<_> = sent.iter().map(|r| r.id).collect();
    let acked = door.acked(&ids, Duration::from_secs(30)).await;
    assert!(
        ids.iter().all(|id| acked.contains(id)),
        "not all acked: {acked:?}"
    );
    if let Some(Heard::Disconnected(why)) = door.next(Duration::from_millis(10)).await {
        panic!("the hub disconnected the door unit: {why}");
    }

    let stored = admin.get("/records?limit=1000").await.unwrap();
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), sent.len(), "each record once: {stored:#?}");
    let after = UnixMillis::now().0;
    for r in &sent {
        let row = stored
            .iter()
            .find(|s| s["id"] == serde_json::json!(r.id.to_string()))
            .unwrap_or_else(|| panic!("record {} not stored", r.id));
        assert_eq!(row["captured_at"].as_i64(), Some(r.captured_at.0));
        let received = row["received_at"].as_i64().unwrap();
        assert!(
            (now..=after).contains(&received),
            "received_at {received} not hub time"
        );
    }
}
