//! One-code provisioning end to end, as a technician does it: the admin registers a door unit
//! and makes a code on a hub that serves HTTPS and a TLS broker requiring client
//! certificates; `rollcall-edge enrol --hub https://… --code …` on the unit writes its
//! configuration, the broker's CA, its password and a client certificate (secrets 0600); the
//! daemon started on that configuration logs in and reports to the hub. The code then no longer
//! works, and a unit already set up is not overwritten without `--replace`.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup, Mqtt};
use rollcall_e2e::pki::Pki;
use rollcall_e2e::process::{Process, binary};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_unit_enrolled_with_a_code_reports_to_the_hub() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let pki_dir = dir.join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = Pki::new(&pki_dir).unwrap();
    let setup = HubSetup::init_with(dir, false, Mqtt::EmbeddedClientCerts(pki.clone())).unwrap();
    // HTTPS for the hub, and the broker as door units reach it (the name in its certificate).
    let extra = format!(
        "[http.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n\
         [provisioning]\nbroker_url = \"mqtts://localhost:{port}\"\nbroker_ca_file = \"{ca}\"\n",
        cert = pki.server_cert.display(),
        key = pki.server_key.display(),
        port = setup.mqtt_port,
        ca = pki.ca.display(),
    );
    let mut config = std::fs::read_to_string(&setup.config).unwrap();
    config.push_str(&extra);
    std::fs::write(&setup.config, config).unwrap();
    let _hub = setup.serve("hub.log").unwrap();

    let hub_url = format!("https://localhost:{}", setup.http_port);
    let admin = Api::login_trusting(&pki.ca, &format!("{hub_url}/api/v1"), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let admin_id = admin.get("/auth/me").await.unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = admin
        .post("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await
        .unwrap();
    let device = made["device"]["id"].as_str().unwrap().to_owned();
    let code = admin
        .post(&format!("/devices/{device}/provisioning-code"), json!({}))
        .await
        .unwrap();
    let command = code["command"].as_str().unwrap();
    assert!(command.contains(&format!("--hub {hub_url} ")), "{command}");
    let code = code["code"].as_str().unwrap().to_owned();

    let unit = dir.join("unit");
    let edge_toml = unit.join("edge.toml");
    let enrol = |code: &str, extra: &[&str]| {
        let mut args = vec![
            "enrol",
            "--hub",
            hub_url.as_str(),
            "--ca",
            pki.ca.to_str().unwrap(),
            "--code",
            code,
            "--config",
            edge_toml.to_str().unwrap(),
            "--no-start",
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(binary("rollcall-edge").unwrap())
            .args(args)
            .output()
            .unwrap()
    };

    // This machine's build has no GPIO: asking for the light is refused before the code is used.
    let refused = enrol(&code, &["--status-light"]);
    let error = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        !refused.status.success() && error.contains("GPIO"),
        "{error}"
    );

    let out = enrol(&code, &[]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("enrolled as \"door-lab3\""), "{said}");
    let mode = |name: &str| {
        std::fs::metadata(unit.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("edge-secrets.toml"), 0o600);
    assert_eq!(mode("client-key.pem"), 0o600);
    assert_eq!(mode("ca.pem") & 0o600, 0o600);
    let written = std::fs::read_to_string(&edge_toml).unwrap();
    for expected in [
        format!("id = \"{device}\""),
        "room = \"Lab 3\"".into(),
        format!("url = \"mqtts://localhost:{}\"", setup.mqtt_port),
        "kind = \"rpicam\"".into(),
    ] {
        assert!(
            written.contains(&expected),
            "{expected} missing:\n{written}"
        );
    }

    // The code worked once; and a unit set up already is not overwritten by accident.
    let again = enrol(&code, &["--replace"]);
    let error = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(!again.status.success());
    assert!(error.contains("used already"), "{error}");
    let kept = enrol("AAAA-BBBB-CCCC", &[]);
    let error = String::from_utf8_lossy(&kept.stderr).into_owned();
    assert!(error.contains("--replace"), "{error}");
    assert_eq!(std::fs::read_to_string(&edge_toml).unwrap(), written);

    // The daemon on the enrolled configuration (a replay camera and this test's data folder
    // instead of the Pi's) logs in with its certificate and reports.
    let data = unit.join("data");
    let photos = rollcall_e2e::faces::faces_dir().join("negatives");
    let env = [
        ("ROLLCALL_EDGE_DATA_DIR", data.to_str().unwrap()),
        ("ROLLCALL_EDGE_CAMERA__KIND", "replay"),
        ("ROLLCALL_EDGE_CAMERA__DIR", photos.to_str().unwrap()),
        ("ROLLCALL_EDGE_STATUS__HEARTBEAT", "1s"),
    ];
    let args = ["run", "--config", edge_toml.to_str().unwrap()];
    let mut edge = Process::start("rollcall-edge", &args, &env, unit.join("edge.log")).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let devices = admin.get("/devices").await.unwrap();
        let row: Option<&Value> = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == json!(device));
        if row.is_some_and(|d| d["online"] == json!(true) && d["software_version"].is_string()) {
            break;
        }
        assert!(!edge.exited(), "the door unit stopped:\n{}", edge.output());
        assert!(
            tokio::time::Instant::now() < deadline,
            "the enrolled door unit did not report in 60 s:\n{}",
            edge.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The hub's access log: one line per request, by route template, without the code, the
    // token or the password.
    let log = std::fs::read_to_string(dir.join("hub.log")).unwrap();
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("rollcall_hub::access"))
        .collect();
    assert!(
        access
            .iter()
            .any(|l| l.contains("route=\"/provision\"") && l.contains("status=200")),
        "{log}"
    );
    assert!(
        access.iter().any(
            |l| l.contains("route=\"/devices/{device}/provisioning-code\"")
                && l.contains(&format!("user={}", admin_id))
        ),
        "{log}"
    );
    for secret in [code.as_str(), admin.token.as_str(), ADMIN_PASSWORD] {
        assert!(!log.contains(secret), "the log shows a secret");
    }
}
