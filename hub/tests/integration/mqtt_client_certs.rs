//! Door units with client certificates on the embedded broker (`[mqtt.embedded.tls]
//! client_auth`): certificates issued by the hub's own door-unit CA with the same function as
//! `rollcall-hub device cert`, real PEM files, a real rumqttc client over rustls. The
//! certificate replaces the password, names exactly one device, and stops working when that
//! device is disabled; "required" refuses anything else at the TLS handshake.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use rollcall_hub::config::{BrokerTls, ClientAuth, Config};
use rollcall_hub::device_ca::{DeviceCa, DeviceFiles};
use rollcall_runtime::Settings;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, TlsConfiguration,
    Transport,
};
use serde_json::json;

use crate::common::door::{Door, options};
use crate::common::*;

/// The hub's broker certificate (self-signed, for `localhost` and `127.0.0.1`) and its files.
struct ServerCert {
    pem: String,
    cert: PathBuf,
    key: PathBuf,
}

fn server_cert(dir: &Path) -> ServerCert {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).unwrap();
    let (cert, key) = (dir.join("hub-cert.pem"), dir.join("hub-key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    ServerCert {
        pem: made.cert.pem(),
        cert,
        key,
    }
}

/// A hub whose broker serves TLS with `client_auth`, trusting its own door-unit CA (made in
/// its data directory before it starts, as `rollcall-hub device cert` would have).
async fn hub_with(server: &ServerCert, client_auth: ClientAuth) -> TestHub {
    let mut tls = BrokerTls::new(server.cert.clone(), server.key.clone());
    tls.client_auth = client_auth;
    start_hub_with(None, |c| {
        DeviceCa::open_or_create(&c.data_dir, Utc::now().date_naive()).unwrap();
        c.mqtt.embedded.tls = Some(tls);
    })
    .await
}

/// Registers a device through the API; its id and MQTT password.
async fn register(admin: &Api, name: &str) -> (DeviceId, String) {
    let made = admin
        .created("/devices", json!({"name": name, "room": "Lab 3"}))
        .await;
    let id = made["device"]["id"].as_str().unwrap().parse().unwrap();
    (id, made["mqtt_password"].as_str().unwrap().to_owned())
}

/// Issues `device` a certificate into a new directory under `dir`, as the CLI does.
fn issue(hub: &TestHub, dir: &Path, device: DeviceId) -> DeviceFiles {
    let out = dir.join(device.to_string());
    rollcall_hub::setup::issue_device_cert(&hub.data_dir, &hub.db(), device, &out).unwrap()
}

/// Options for client id `device` over TLS, presenting `files` when given, without a password.
fn tls_options(
    hub: &TestHub,
    server: &ServerCert,
    device: DeviceId,
    files: Option<&DeviceFiles>,
) -> MqttOptions {
    let mut opts = options(hub.mqtt_addr, device, None);
    let client_auth = files.map(|f| {
        (
            std::fs::read(&f.cert).unwrap(),
            std::fs::read(&f.key).unwrap(),
        )
    });
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
        ca: server.pem.clone().into_bytes(),
        alpn: None,
        client_auth,
    }));
    opts
}

/// How a connection attempt ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    Accepted,
    /// The broker answered the CONNECT with this code.
    Refused(ConnectReturnCode),
    /// The connection failed before any CONNACK (the TLS handshake).
    Failed,
}

async fn attempt(opts: MqttOptions) -> Outcome {
    let (_client, mut events) = AsyncClient::new(opts, 8);
    let wait = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Outcome::Accepted,
                Ok(_) => {}
                Err(ConnectionError::ConnectionRefused(code)) => return Outcome::Refused(code),
                Err(_) => return Outcome::Failed,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("an answer within 10 s")
}

#[tokio::test]
async fn a_door_unit_with_its_certificate_and_no_password_has_its_records_acked() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let hub = hub_with(&server, ClientAuth::Required).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let files = issue(&hub, dir.path(), device);

    let opts = tls_options(&hub, &server, device, Some(&files));
    let mut door = Door::connect_with(opts, &hub.site, device).await;
    let sent = record(
        device,
        Decision::Confident,
        &[(&school.students[0], 0.3)],
        monday_at(9, 1),
    );
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    assert_eq!(
        door.next(Channel::Acks).await,
        Message::Ack(RecordAck {
            records: vec![sent.id]
        })
    );
    let (_, records) = admin.get("/records").await;
    assert_eq!(records[0]["id"], json!(sent.id.to_string()));
    hub.stop().await;
}

#[tokio::test]
async fn when_required_no_certificate_or_one_from_another_ca_fails_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let hub = hub_with(&server, ClientAuth::Required).await;
    let admin = hub.admin().await;
    let (device, secret) = register(&admin, "door-1").await;

    let mut password_only = tls_options(&hub, &server, device, None);
    password_only.set_credentials(device.to_string(), secret);
    assert_eq!(attempt(password_only).await, Outcome::Failed);

    // A certificate naming the same registered device, from a CA the hub does not trust.
    let elsewhere =
        DeviceCa::open_or_create(&dir.path().join("other-ca"), Utc::now().date_naive()).unwrap();
    let forged = elsewhere.issue(device, Utc::now().date_naive()).unwrap();
    let out = dir.path().join("forged");
    let files = rollcall_hub::device_ca::write_device_files(&out, &forged).unwrap();
    assert_eq!(
        attempt(tls_options(&hub, &server, device, Some(&files))).await,
        Outcome::Failed
    );

    let own = issue(&hub, dir.path(), device);
    assert_eq!(
        attempt(tls_options(&hub, &server, device, Some(&own))).await,
        Outcome::Accepted
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_certificate_works_only_for_its_own_device_and_only_while_it_is_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let hub = hub_with(&server, ClientAuth::Required).await;
    let admin = hub.admin().await;
    let (a, _) = register(&admin, "door-a").await;
    let (b, _) = register(&admin, "door-b").await;
    let a_files = issue(&hub, dir.path(), a);

    let as_b = tls_options(&hub, &server, b, Some(&a_files));
    assert_eq!(
        attempt(as_b).await,
        Outcome::Refused(ConnectReturnCode::NotAuthorized)
    );
    let mut user_b = tls_options(&hub, &server, a, Some(&a_files));
    user_b.set_credentials(b.to_string(), "");
    assert_eq!(
        attempt(user_b).await,
        Outcome::Refused(ConnectReturnCode::BadUserNamePassword)
    );
    assert_eq!(
        attempt(tls_options(&hub, &server, a, Some(&a_files))).await,
        Outcome::Accepted
    );

    // Revocation: the certificate is still valid, but its device is disabled.
    let (status, _) = admin
        .post(&format!("/devices/{a}/disable"), json!({}))
        .await;
    assert!(status.is_success());
    assert_eq!(
        attempt(tls_options(&hub, &server, a, Some(&a_files))).await,
        Outcome::Refused(ConnectReturnCode::NotAuthorized)
    );
    assert_eq!(metrics(&hub).await["login_refused"], json!(3));
    hub.stop().await;
}

#[tokio::test]
async fn when_optional_a_door_unit_may_use_its_password_or_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let hub = hub_with(&server, ClientAuth::Optional).await;
    let admin = hub.admin().await;
    let (with_password, secret) = register(&admin, "door-1").await;
    let (with_cert, _) = register(&admin, "door-2").await;
    let files = issue(&hub, dir.path(), with_cert);

    let mut password = tls_options(&hub, &server, with_password, None);
    password.set_credentials(with_password.to_string(), secret);
    assert_eq!(attempt(password).await, Outcome::Accepted);
    let no_login = tls_options(&hub, &server, with_password, None);
    assert_eq!(
        attempt(no_login).await,
        Outcome::Refused(ConnectReturnCode::BadUserNamePassword)
    );
    let mut cert = tls_options(&hub, &server, with_cert, Some(&files));
    cert.set_credentials(with_cert.to_string(), "any old password");
    assert_eq!(attempt(cert).await, Outcome::Accepted);
    hub.stop().await;
}

/// Runs `rollcall-hub device ARGS --data-dir DIR`; its stdout, or its stderr as the error.
fn cli(args: &[&str], data_dir: &Path) -> Result<String, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
        .arg("device")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_command_line_issues_certificates_the_broker_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let hub = hub_with(&server, ClientAuth::Required).await;
    let out = dir.path().join("door-1");
    let add = ["add", "--name", "door-1", "--room", "Lab 3", "--cert"];
    let printed = cli(
        &[&add[..], &[out.to_str().unwrap()]].concat(),
        &hub.data_dir,
    )
    .unwrap();
    assert!(
        printed.contains("client_cert = \"/etc/rollcall/client-cert.pem\"")
            && printed.contains("client_key = \"/etc/rollcall/client-key.pem\""),
        "{printed}"
    );
    let id = printed
        .lines()
        .find_map(|l| l.strip_prefix("device id:"))
        .unwrap()
        .trim();
    let device: DeviceId = id.parse().unwrap();
    let files = DeviceFiles {
        cert: out.join("client-cert.pem"),
        key: out.join("client-key.pem"),
    };
    assert_eq!((mode(&out), mode(&files.key)), (0o700, 0o600));
    assert_eq!(mode(&hub.data_dir.join("device-ca.key")), 0o600);
    assert_eq!(
        attempt(tls_options(&hub, &server, device, Some(&files))).await,
        Outcome::Accepted
    );

    // An installed device moves to (or renews) a certificate; never over existing files.
    let renewed = dir.path().join("door-1-renewed");
    let renew = ["cert", "--id", id, "--out", renewed.to_str().unwrap()];
    cli(&renew, &hub.data_dir).unwrap();
    let again = cli(&renew, &hub.data_dir).unwrap_err();
    assert!(again.contains("already exists"), "{again}");
    let stranger = DeviceId::random().to_string();
    let other = dir.path().join("x");
    let unknown = cli(
        &["cert", "--id", &stranger, "--out", other.to_str().unwrap()],
        &hub.data_dir,
    );
    assert!(unknown.unwrap_err().contains("not registered"));
    let files = DeviceFiles {
        cert: renewed.join("client-cert.pem"),
        key: renewed.join("client-key.pem"),
    };
    assert_eq!(
        attempt(tls_options(&hub, &server, device, Some(&files))).await,
        Outcome::Accepted
    );
    hub.stop().await;
}

#[test]
fn the_hubs_own_door_unit_ca_is_made_at_start_and_a_missing_named_one_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_cert(dir.path());
    let mut config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    std::fs::create_dir(&config.data_dir).unwrap();
    let mut tls = BrokerTls::new(server.cert.clone(), server.key.clone());
    tls.client_auth = ClientAuth::Required;
    config.mqtt.embedded.tls = Some(tls.clone());
    config.validate().unwrap();
    assert!(rollcall_hub::broker::acceptor(&config).unwrap().is_some());
    let ca = config.data_dir.join("device-ca.pem");
    assert!(ca.is_file(), "the hub made no door-unit CA");
    let made = std::fs::read(&ca).unwrap();
    rollcall_hub::broker::acceptor(&config).unwrap();
    assert_eq!(std::fs::read(&ca).unwrap(), made, "the CA is made once");

    tls.client_ca = Some(dir.path().join("school-ca.pem"));
    config.mqtt.embedded.tls = Some(tls);
    let Err(error) = rollcall_hub::broker::acceptor(&config) else {
        panic!("the broker started without its client CA");
    };
    let message = error.to_string();
    assert!(message.contains("school-ca.pem"), "{message}");
}
