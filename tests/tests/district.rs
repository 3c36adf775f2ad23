//! Several hubs on one PostgreSQL database (issue 20, point 4): three `rollcall-hub serve`
//! processes share a throwaway PostgreSQL server and the school's Mosquitto (TLS, a password
//! per account); three door units trigger every 100 ms. One hub is killed and later started
//! again, then the database is killed and started again. Every record each door unit
//! committed reaches the database exactly once (`rollcall_e2e::fault::account`), every door
//! unit's outbox drains, and each hub's pages show the same records. Run twice: with each hub
//! keeping the records of the door units it answers out of every record it receives, and
//! with the hubs sharing one subscription to the records (`[mqtt] shared_subscriptions`), the
//! broker handing each record to one hub. The two runs take turns: each is three hubs, three
//! door units, a database and a broker.

use std::time::{Duration, Instant};

use rollcall_e2e::api::Api;
use rollcall_e2e::door::secret_from;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::stranger_replay;
use rollcall_e2e::fault::{SETTLE, Triggers, account, wait_committed};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, Device, HubSetup, Mqtt, SITE};
use rollcall_e2e::pki::Pki;
use rollcall_e2e::postgres::Postgres;
use rollcall_e2e::process::Process;
use rollcall_e2e::school_broker::{Account, HUB_USER, SchoolBroker};

const HUBS: usize = 3;
const DOORS: usize = 3;
/// Each door unit's trigger: slow enough that the whole run stays within the API's page of
/// 1,000 records, which the accounting reads.
const TRIGGER_EVERY: Duration = Duration::from_millis(250);

/// How the hubs of the school take the door units' records from the broker.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Records {
    /// Every hub receives every record and keeps its own door units'.
    EachHubItsUnits,
    /// One shared subscription: the broker hands each record to one hub.
    Shared,
}

/// The two runs take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A door unit: its setup, its process and its trigger thread.
struct Door {
    device: Device,
    setup: EdgeSetup,
    process: Process,
    triggers: Option<Triggers>,
}

/// Polls until the database holds, through `api`, `more` records from each door unit beyond
/// `before`; says which door fell behind, with its log, when one does.
async fn wait_for_more(api: &Api, doors: &mut [Door], before: &[usize], more: usize, after: &str) {
    let deadline = Instant::now() + SETTLE;
    for (door, &had) in doors.iter_mut().zip(before) {
        loop {
            let now = api.record_ids(&door.device.id).await.unwrap().len();
            if now >= had + more {
                break;
            }
            assert!(
                Instant::now() < deadline && !door.process.exited(),
                "{} records from {} {after} (had {had}, now {now}):\n{}",
                more,
                door.device.id,
                door.process.output()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Polls the hubs' `/health` until each counts `hubs` live hubs and exactly one leads (a
/// death takes 10 s to count, a leader's lease 15 s to run out); says what each saw if not.
async fn wait_for_cluster(apis: &[&Api], hubs: usize, after: &str) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let mut seen = Vec::new();
        for api in apis {
            let health = api.get("/health").await.unwrap();
            let cluster = &health["cluster"];
            seen.push((cluster["hubs"].as_u64(), cluster["leader"].as_bool()));
        }
        let agree = seen.iter().all(|&(n, _)| n == Some(hubs as u64));
        let leaders = seen.iter().filter(|&&(_, l)| l == Some(true)).count();
        if agree && leaders == 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{after}: the hubs should each count {hubs} and one should lead; (hubs, leader) seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn counts(api: &Api, doors: &[Door]) -> Vec<usize> {
    let mut out = Vec::new();
    for door in doors {
        out.push(api.record_ids(&door.device.id).await.unwrap().len());
    }
    out
}

/// The door unit's records, once every one it committed is at the hub behind `api` (the
/// accounting), and the same ones read through `elsewhere`. A trigger sent just before the
/// triggers stopped can still make a burst after the accounting: when the ledger grew while
/// `elsewhere` was read, the two reads are of different moments, and the accounting is done
/// again.
async fn settled_everywhere(door: &Door, api: &Api, elsewhere: &Api) -> Vec<String> {
    for _ in 0..5 {
        let ids = account(&door.setup, &door.device.id, api).await;
        let there = elsewhere.record_ids(&door.device.id).await.unwrap();
        if door.setup.committed().unwrap().len() == ids.len() {
            assert_eq!(there, ids, "another hub shows the same records");
            return ids;
        }
    }
    panic!(
        "door unit {} kept committing records after its triggers stopped",
        door.device.id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hubs_lose_and_repeat_nothing_when_a_hub_and_then_the_database_die() {
    district(Records::EachHubItsUnits).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hubs_sharing_the_records_take_a_part_each_and_lose_and_repeat_nothing() {
    district(Records::Shared).await;
}

async fn district(records: Records) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let env: &[(&str, &str)] = match records {
        Records::Shared => &[("ROLLCALL_HUB_MQTT__SHARED_SUBSCRIPTIONS", "true")],
        Records::EachHubItsUnits => &[],
    };
    let root = tempfile::tempdir().unwrap();
    let mut postgres = Postgres::start().unwrap();
    let url = postgres.create_database("rollcall").unwrap();
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
    let first_dir = root.path().join("hub-1");
    std::fs::create_dir(&first_dir).unwrap();
    let first = HubSetup::init_on(&first_dir, false, mqtt, Some(url)).unwrap();
    let mut setups = vec![first];
    for i in 2..=HUBS {
        let dir = root.path().join(format!("hub-{i}"));
        std::fs::create_dir(&dir).unwrap();
        setups.push(setups[0].sibling(&dir, false).unwrap());
    }
    let devices: Vec<Device> = (1..=DOORS)
        .map(|i| {
            setups[0]
                .add_device(&format!("door-{i}"), &format!("Room {i}"))
                .unwrap()
        })
        .collect();
    let mut accounts = vec![Account {
        user: HUB_USER.into(),
        password: hub_password,
    }];
    accounts.extend(devices.iter().map(|d| Account {
        user: d.id.clone(),
        password: secret_from(&d.secrets).unwrap(),
    }));
    let _broker =
        SchoolBroker::start(&root.path().join("broker"), port, &pki, SITE, &accounts).unwrap();

    let serve = |setup: &HubSetup, log: &str| setup.serve_with(log, env).unwrap();
    let mut hubs: Vec<Process> = setups.iter().map(|s| serve(s, "hub.log")).collect();
    let apis = futures_login(&setups).await;
    let replay = stranger_replay(root.path());
    let mut doors: Vec<Door> = devices
        .into_iter()
        .enumerate()
        .map(|(i, device)| {
            let dir = root.path().join(format!("door-{}", i + 1));
            std::fs::create_dir(&dir).unwrap();
            let setup = EdgeSetup::new(&dir, &setups[0], &device, &replay).unwrap();
            let process = setup.start_ready("edge.log").unwrap();
            setup.install_ledger().unwrap();
            let triggers = Some(Triggers::every(&setup, TRIGGER_EVERY));
            Door {
                device,
                setup,
                process,
                triggers,
            }
        })
        .collect();

    let none = vec![0; DOORS];
    wait_for_more(&apis[0], &mut doors, &none, 3, "with three hubs up").await;
    wait_for_cluster(&apis.iter().collect::<Vec<_>>(), HUBS, "three hubs up").await;

    // The hub answering the first door unit dies: its door units are the others' within
    // seconds. Which hub that is, its log says (each hub logs the records it stores).
    let first = doors[0].device.id.clone();
    let victim = hubs
        .iter()
        .position(|h| {
            h.output()
                .lines()
                .any(|l| l.contains(&first) && l.contains("stored"))
        })
        .expect("no hub logged storing a record of the first door unit");
    let others: Vec<usize> = (0..HUBS).filter(|&i| i != victim).collect();
    hubs[victim].kill().unwrap();
    let (api, after_api) = (&apis[others[0]], &apis[others[1]]);
    let before = counts(api, &doors).await;
    println!(
        "hub {} killed with {before:?} records in the database",
        victim + 1
    );
    wait_for_more(api, &mut doors, &before, 3, "after its hub died").await;
    wait_for_cluster(&[api, after_api], HUBS - 1, "after a hub died").await;
    let taken_over = others.iter().any(|&i| {
        hubs[i]
            .output()
            .lines()
            .any(|l| l.contains(&first) && l.contains("stored"))
    });
    assert!(taken_over, "no live hub took door unit {first} over");
    hubs[victim] = serve(&setups[victim], "hub-again.log");
    let before = counts(after_api, &doors).await;
    wait_for_more(after_api, &mut doors, &before, 3, "after the hub came back").await;
    wait_for_cluster(
        &apis.iter().collect::<Vec<_>>(),
        HUBS,
        "after the hub came back",
    )
    .await;

    // The database dies and comes back: the hubs' pools open new connections.
    postgres.kill().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    postgres.restart().unwrap();
    let before = counts(&apis[0], &doors).await;
    println!("the database restarted with {before:?} records");
    wait_for_more(
        &apis[0],
        &mut doors,
        &before,
        3,
        "after the database restarted",
    )
    .await;

    let mut total = 0;
    for door in &mut doors {
        let committed = door.setup.committed().unwrap().len();
        wait_committed(&door.setup, committed + 1, &mut door.process);
        if let Some(triggers) = door.triggers.take() {
            triggers.stop();
        }
    }
    for door in &mut doors {
        let ids = settled_everywhere(door, &apis[0], &apis[1]).await;
        total += ids.len();
        let status = door.process.terminate(Duration::from_secs(30)).unwrap();
        assert!(
            status.success(),
            "edge exit {status}:\n{}",
            door.process.output()
        );
    }
    println!("{total} records from {DOORS} door units, each in the database once");
    assert!(
        total < 1000,
        "more records than the accounting reads: slow the triggers"
    );
    for hub in &mut hubs {
        assert!(!hub.exited(), "a hub stopped:\n{}", hub.output());
    }
    received_by_each_hub(&apis, records, total).await;
}

/// What the broker handed each hub: with the records shared, each record reached one hub
/// (together they received about as many as were stored, not three times as many), and more
/// than one hub took a part; otherwise every hub also received the records of the others'
/// door units. The restarted hub counts from its restart.
async fn received_by_each_hub(apis: &[Api], records: Records, stored: usize) {
    let mut seen = Vec::new();
    for api in apis {
        let metrics = api.get("/metrics").await.unwrap();
        let count = |name: &str| metrics[name].as_u64().unwrap();
        seen.push((count("records_received"), count("records_for_other_hubs")));
    }
    println!("{records:?}: (records received, left to another hub) by hub: {seen:?}");
    let delivered: u64 = seen.iter().map(|&(mine, others)| mine + others).sum();
    match records {
        Records::Shared => {
            assert!(
                delivered < stored as u64 * 3 / 2,
                "{delivered} records handed to the hubs for {stored} stored: not one hub each"
            );
            let taking = seen.iter().filter(|&&(mine, _)| mine > 0).count();
            assert!(
                taking >= 2,
                "the broker gave every record to one hub: {seen:?}"
            );
        }
        Records::EachHubItsUnits => assert!(
            delivered > stored as u64 * 3 / 2,
            "each hub receives every record: {delivered} handed to the hubs for {stored} stored"
        ),
    }
}

/// The admin signed in on each hub: one sign-in's token would do on all (one key), but each
/// hub's own login is what a browser pointed at it does.
async fn futures_login(setups: &[HubSetup]) -> Vec<Api> {
    let mut apis = Vec::new();
    for setup in setups {
        apis.push(
            Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
                .await
                .unwrap(),
        );
    }
    apis
}
