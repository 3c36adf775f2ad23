//! A door unit with a client certificate and no password, in real processes: `rollcall-hub`
//! with its embedded broker over TLS requiring client certificates (`client_auth =
//! "required"`), the certificate issued by `device add --cert` (which makes the hub's door-unit
//! CA on first use), and `rollcall-edge` with only `client_cert` and `client_key` in its
//! `[broker]`. Every record it commits reaches the hub once; a unit with only its password is
//! turned away.

use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::stranger_replay;
use rollcall_e2e::fault::{Triggers, account, wait_committed};
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, Device, HubSetup, Mqtt};
use rollcall_e2e::pki::Pki;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_unit_logs_in_with_the_certificate_device_add_issued() {
    let root = tempfile::tempdir().unwrap();
    let pki_dir = root.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = Pki::new(&pki_dir).unwrap();
    let hub = HubSetup::init_with(root.path(), false, Mqtt::EmbeddedClientCerts(pki)).unwrap();
    let device = hub.add_device("door-1", "Room 1").unwrap();
    let edge = EdgeSetup::new(root.path(), &hub, &device, &stranger_replay(root.path())).unwrap();
    let config = std::fs::read_to_string(&edge.config).unwrap();
    assert!(
        config.contains("client_cert") && !config.contains("secrets_file"),
        "{config}"
    );

    let mut hub_process = hub.serve("hub.log").unwrap();
    let admin = Api::login(&hub.api(), ADMIN, ADMIN_PASSWORD).await.unwrap();
    let mut edge_process = edge.start_ready("edge.log").unwrap();
    edge.install_ledger().unwrap();
    let triggers = Triggers::start(&edge);
    wait_committed(&edge, 3, &mut edge_process);
    triggers.stop();
    let ids = account(&edge, &device.id, &admin).await;
    assert!(ids.len() >= 3);
    assert!(
        hub_process.output().contains("door unit connected"),
        "{}",
        hub_process.output()
    );

    // The same unit with its password instead of its certificate: refused at the handshake.
    let password_only = Device {
        cert_dir: None,
        ..device.clone()
    };
    let other = root.path().join("password-only");
    std::fs::create_dir(&other).unwrap();
    let edge2 = EdgeSetup::new(&other, &hub, &password_only, &stranger_replay(&other)).unwrap();
    let mut edge2_process = edge2.start("edge.log").unwrap();
    rollcall_e2e::wait_until("a refused handshake", Duration::from_secs(30), || {
        hub_process.output().matches("mqtt tls handshake").count() >= 2
    })
    .unwrap_or_else(|e| panic!("{e}:\n{}", hub_process.output()));
    edge2_process.terminate(Duration::from_secs(30)).unwrap();

    for (name, process) in [("edge", &mut edge_process), ("hub", &mut hub_process)] {
        let status = process.terminate(Duration::from_secs(30)).unwrap();
        assert!(status.success(), "the {name} exited with {status}");
    }
}
