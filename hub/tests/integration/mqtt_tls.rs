//! The hub's broker link over TLS: a real Mosquitto with a TLS listener that requires client
//! certificates, all made in the test with rcgen (a CA, the broker's certificate, the hub's).
//! The hub connects with the CA and its client certificate; without a client certificate the
//! broker refuses it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_hub::config::MqttTransport;
use serde_json::json;

use crate::common::*;

/// PEM files of a small PKI.
struct Pki {
    ca: PathBuf,
    broker_cert: PathBuf,
    broker_key: PathBuf,
    hub_cert: PathBuf,
    hub_key: PathBuf,
}

fn write(dir: &Path, name: &str, pem: String) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

/// A certificate for `names` with `usage`, signed by `ca`; returns (cert PEM, key PEM).
fn leaf(
    ca: &CertifiedIssuer<'_, KeyPair>,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names.clone()).unwrap();
    // A subject of its own: with rcgen's default name the leaf would look self-issued to
    // OpenSSL (issuer = subject) and fail verification.
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].clone());
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki(dir: &Path) -> Pki {
    // Mosquitto started as root reads its files as the `mosquitto` user.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
        .distinguished_name
        .push(DnType::CommonName, "Rollcall test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    let (broker_cert, broker_key) = leaf(&ca, &["localhost", "127.0.0.1"], server);
    let (hub_cert, hub_key) = leaf(&ca, &["rollcall-hub"], ExtendedKeyUsagePurpose::ClientAuth);
    Pki {
        ca: write(dir, "ca.pem", ca.pem()),
        broker_cert: write(dir, "broker-cert.pem", broker_cert),
        broker_key: write(dir, "broker-key.pem", broker_key),
        hub_cert: write(dir, "hub-cert.pem", hub_cert),
        hub_key: write(dir, "hub-key.pem", hub_key),
    }
}

fn tls_broker(pki: &Pki) -> Mosquitto {
    let conf = format!(
        "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
        pki.ca.display(),
        pki.broker_cert.display(),
        pki.broker_key.display()
    );
    Mosquitto::start_with(&conf).unwrap()
}

#[tokio::test]
async fn the_hub_reaches_a_tls_broker_with_its_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let broker = tls_broker(&pki);
    let transport = MqttTransport::Tls {
        ca_file: pki.ca.clone(),
        client_cert: Some(pki.hub_cert.clone()),
        client_key: Some(pki.hub_key.clone()),
    };
    let hub = start_hub_with(Some(broker.addr()), |c| c.mqtt.transport = transport).await;
    wait_connected(&hub).await;
    hub.stop().await;
}

#[tokio::test]
async fn without_a_client_certificate_the_broker_refuses_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let broker = tls_broker(&pki);
    let transport = MqttTransport::Tls {
        ca_file: pki.ca.clone(),
        client_cert: None,
        client_key: None,
    };
    let hub = start_hub_with(Some(broker.addr()), |c| c.mqtt.transport = transport).await;
    wait_for(
        "three refused connections",
        Duration::from_secs(10),
        || async { metrics(&hub).await["broker_errors"].as_u64().unwrap_or(0) >= 3 },
    )
    .await;
    let m = metrics(&hub).await;
    assert_eq!(m["mqtt_connected"], json!(false), "{m}");
    hub.stop().await;
}
