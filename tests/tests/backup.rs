//! Backup and restore across real processes: `rollcall-hub backup` run while a door unit
//! publishes records into the serving hub, `restore` refused while that hub runs, then the
//! backup restored into a new data directory and served by a second hub, which must hold every
//! record the first acknowledged before the backup began.

use std::collections::HashSet;
use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::door::{Door, record, secret_from};
use rollcall_e2e::free_port;
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup, Mqtt, SITE, path_str};
use rollcall_e2e::process::run;
use rollcall_shared::topics::Channel;
use rollcall_shared::{DeviceId, Message, RecordId, UnixMillis};
use rusqlite::{Connection, OpenFlags};

const ROOM: &str = "Room 1";
const BEFORE: usize = 300;
const DURING: usize = 600;

/// Publishes `n` records from `door` and returns their ids.
async fn publish(door: &Door, device: DeviceId, n: usize) -> Vec<RecordId> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let r = record(device, ROOM, UnixMillis::now());
        ids.push(r.id);
        door.publish(Channel::Records, &Message::Record(r))
            .await
            .unwrap();
    }
    ids
}

/// The ids of every record in the database file at `path`.
fn ids_in(path: &std::path::Path) -> HashSet<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM records").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_ingest_restores_every_acknowledged_record() {
    let root = tempfile::tempdir().unwrap();
    let hub = HubSetup::init(root.path(), false).unwrap();
    let device = hub.add_device("door-1", ROOM).unwrap();
    let mut serving = hub.serve("hub.log").unwrap();
    let id: DeviceId = device.id.parse().unwrap();
    let secret = secret_from(&device.secrets).unwrap();
    let mut door = Door::login(hub.mqtt_port, SITE, id, &secret).await.unwrap();

    // Records the hub has acknowledged before the backup begins.
    let before = publish(&door, id, BEFORE).await;
    let acked = door.acked(&before, Duration::from_secs(30)).await;
    assert_eq!(acked.len(), BEFORE, "every record acked before the backup");

    // The backup runs while the door unit goes on publishing.
    let backup = root.path().join("backup.sqlite3");
    let config = hub.config.clone();
    let (to, cfg) = (backup.clone(), config.clone());
    let taking = tokio::task::spawn_blocking(move || {
        let args = [
            "backup",
            "--to",
            path_str(&to)?,
            "--config",
            path_str(&cfg)?,
        ];
        run("rollcall-hub", &args, &[])
    });
    let during = publish(&door, id, DURING).await;
    let out = taking.await.unwrap().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("backup written and checked"), "{said}");
    let acked = door.acked(&during, Duration::from_secs(30)).await;
    assert_eq!(
        acked.len(),
        DURING,
        "ingest goes on, nothing lost, while backing up"
    );

    // `check-backup` reads it; `restore` refuses while the hub serves, and changes nothing.
    let checked = run(
        "rollcall-hub",
        &["check-backup", path_str(&backup).unwrap()],
        &[],
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&checked.stdout).contains("backup is sound"));
    let live = root.path().join("hub-data/hub.sqlite3");
    let args = ["restore", path_str(&backup).unwrap(), "--config"];
    let refused = run(
        "rollcall-hub",
        &[&args[..], &[path_str(&config).unwrap()]].concat(),
        &[],
    )
    .expect_err("restore must refuse while the hub serves");
    assert!(refused.to_string().contains("stop it first"), "{refused}");
    assert_eq!(ids_in(&live).len(), BEFORE + DURING);

    // The backup holds every record acknowledged before it began, and none never sent.
    let in_backup = ids_in(&backup);
    let sent: HashSet<String> = before
        .iter()
        .chain(&during)
        .map(|i| i.to_string())
        .collect();
    for id in &before {
        assert!(
            in_backup.contains(&id.to_string()),
            "{id} acked before the backup, missing"
        );
    }
    assert!(in_backup.is_subset(&sent));
    serving.terminate(Duration::from_secs(10)).unwrap();

    // Restored into a new data directory, served by a new hub: the same records, same admin.
    let second = root.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    let data = second.join("hub-data");
    let restore = [
        "restore",
        path_str(&backup).unwrap(),
        "--data-dir",
        path_str(&data).unwrap(),
    ];
    let out = run("rollcall-hub", &restore, &[]).unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("new token signing key"));
    let (http_port, mqtt_port) = (free_port().unwrap(), free_port().unwrap());
    let restored = HubSetup {
        dir: second.clone(),
        config: second.join("hub.toml"),
        http_port,
        mqtt_port,
        mqtt: Mqtt::Embedded,
        store: None,
    };
    std::fs::write(
        &restored.config,
        format!(
            "site = \"{SITE}\"\ndata_dir = \"{}\"\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n\
             [faces]\nenabled = false\n[mqtt.embedded]\nlisten = \"127.0.0.1:{mqtt_port}\"\n",
            data.display()
        ),
    )
    .unwrap();
    // The backup holds no key to its faces: without the first hub's key file the new hub does
    // not start, and says what to do; with it, it does.
    let refused = restored
        .serve("refused.log")
        .expect_err("no face key, no start");
    assert!(refused.to_string().contains("faces-key lost"), "{refused}");
    std::fs::copy(hub.data_dir().join("faces.key"), data.join("faces.key")).unwrap();
    let mut second_hub = restored.serve("hub.log").unwrap();
    let admin = Api::login(&restored.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let listed: HashSet<String> = admin
        .record_ids(&device.id)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        listed, in_backup,
        "the restored hub serves what the backup holds"
    );
    second_hub.terminate(Duration::from_secs(10)).unwrap();
}
