//! A clustered external broker (issue 20, point 3): three NATS nodes with JetStream and their
//! MQTT listeners on TLS, a password per account and per-device permissions
//! (`rollcall_e2e::nats`), the hub in `mode = "external"` knowing all three nodes and the
//! door unit too, each starting on a different node. Under a trigger every 100 ms, the door
//! unit's node is killed, then started again, then the hub's node is killed: each moves to a
//! live node by itself, and the accounting (`rollcall_e2e::fault`) finds every committed
//! record at the hub once, with the outbox drained.

use std::time::{Duration, Instant};

use rollcall_e2e::api::Api;
use rollcall_e2e::door::secret_from;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::stranger_replay;
use rollcall_e2e::fault::{SETTLE, Triggers, account, wait_committed};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup, Mqtt, SITE};
use rollcall_e2e::nats::{NODES, NatsCluster};
use rollcall_e2e::pki::Pki;
use rollcall_e2e::process::Process;
use rollcall_e2e::school_broker::{Account, HUB_USER};

/// The hub's node and the door unit's (the door unit lists the nodes from the second on).
const HUB_NODE: usize = 0;
const DOOR_NODE: usize = 1;

/// Polls until the hub holds at least `n` records from `device`.
async fn wait_at_hub(admin: &Api, device: &str, n: usize, edge: &mut Process, after: &str) {
    let deadline = Instant::now() + SETTLE;
    while admin.record_ids(device).await.unwrap().len() < n {
        assert!(
            Instant::now() < deadline && !edge.exited(),
            "the hub did not get {n} records from {device} {after}:\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_node_dies_and_door_units_and_hub_move_to_a_live_one() {
    let root = tempfile::tempdir().unwrap();
    let pki_dir = root.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = Pki::new(&pki_dir).unwrap();
    let ports: Vec<u16> = (0..NODES)
        .map(|_| rollcall_e2e::free_port().unwrap())
        .collect();
    let hub_password = uuid::Uuid::new_v4().simple().to_string();
    let mqtt = Mqtt::External {
        port: ports[HUB_NODE],
        other_ports: ports[HUB_NODE + 1..].to_vec(),
        pki: pki.clone(),
        username: HUB_USER.into(),
        password: hub_password.clone(),
    };
    let hub = HubSetup::init_with(root.path(), false, mqtt).unwrap();
    let device = hub.add_device("door-1", "Room 1").unwrap();
    let accounts = [
        Account {
            user: HUB_USER.into(),
            password: hub_password,
        },
        Account {
            user: device.id.clone(),
            password: secret_from(&device.secrets).unwrap(),
        },
    ];
    let node_ports = [ports[0], ports[1], ports[2]];
    let mut cluster =
        NatsCluster::start(&root.path().join("nats"), node_ports, &pki, SITE, &accounts).unwrap();

    let hub_process = hub.serve("hub.log").unwrap();
    let admin = Api::login(&hub.api(), ADMIN, ADMIN_PASSWORD).await.unwrap();
    let edge = EdgeSetup::new(root.path(), &hub, &device, &stranger_replay(root.path())).unwrap();
    let mut edge_process = edge.start_ready("edge.log").unwrap();
    edge.install_ledger().unwrap();
    let triggers = Triggers::start(&edge);

    // Records cross the cluster: the door unit on one node, the hub on another.
    wait_at_hub(
        &admin,
        &device.id,
        3,
        &mut edge_process,
        "through the cluster",
    )
    .await;

    cluster.kill(DOOR_NODE).unwrap();
    let at_kill = admin.record_ids(&device.id).await.unwrap().len();
    println!("the door unit's node killed with {at_kill} records at the hub");
    wait_at_hub(
        &admin,
        &device.id,
        at_kill + 3,
        &mut edge_process,
        "after the door unit's node died",
    )
    .await;
    assert!(
        edge_process.output().contains("trying the broker's node"),
        "the door unit did not move to another node:\n{}",
        edge_process.output()
    );

    cluster.restart(DOOR_NODE).unwrap();
    cluster.kill(HUB_NODE).unwrap();
    let at_kill = admin.record_ids(&device.id).await.unwrap().len();
    println!("the hub's node killed with {at_kill} records at the hub");
    wait_at_hub(
        &admin,
        &device.id,
        at_kill + 3,
        &mut edge_process,
        "after the hub's node died",
    )
    .await;
    assert!(
        hub_process.output().contains("trying the broker's node"),
        "the hub did not move to another node:\n{}",
        hub_process.output()
    );

    let committed = edge.committed().unwrap().len();
    wait_committed(&edge, committed + 1, &mut edge_process);
    triggers.stop();
    let ids = account(&edge, &device.id, &admin).await;
    println!("{} records, each at the hub once", ids.len());
    let status = edge_process.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        status.success(),
        "edge exit {status}:\n{}",
        edge_process.output()
    );
}
