//! One-code provisioning of door units: the rules a code obeys, and what the hub tells a door
//! unit that brings a good one (`rollcall_shared::Provisioned`). The HTTP side is in
//! `http::devices::provision`; the rows in `store::provisioning`.
//!
//! An admin makes a code for a registered door unit (Devices page, or `POST
//! /devices/{device}/provisioning-code`); it works once, for `[provisioning] code_minutes`, and
//! a newer code for the same unit replaces it. Redeeming it (`POST /provision`, no account:
//! the code is the credential) gives the unit a fresh broker password, the broker's address
//! and CA, a client certificate when the broker takes them, its site, room and the school's
//! time zone. Wrong codes are limited per address and in total (`auth::limiter`).

use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use qrcode::QrCode;
use qrcode::render::svg;
use rollcall_shared::{DeviceId, ProvisioningCode, UnixMillis};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::config::{ClientAuth, Config, MqttMode, MqttTransport};
use crate::device_ca::{DeviceCa, DeviceCert};
use rollcall_store::provisioning::StoredCode;

/// The key of the limiter's all-addresses line.
pub const EVERYONE: &str = "provisioning codes";

/// Why a code is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such code: mistyped, or never made.
    Unknown,
    Used,
    Expired,
    /// The unit was disabled (or removed) after the code was made.
    DeviceDisabled,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::Unknown => {
                "no such code: check what you typed, or make a new one on the hub's Devices page"
            }
            Refused::Used => {
                "this code has been used already (a code works once): make a new one on the hub's \
                 Devices page"
            }
            Refused::Expired => "this code has expired: make a new one on the hub's Devices page",
            Refused::DeviceDisabled => {
                "the door unit this code is for is disabled: enable it on the hub's Devices page"
            }
        })
    }
}

/// A new code, from the operating system's random source.
pub fn new_code() -> ProvisioningCode {
    ProvisioningCode::from_random(rand::random())
}

/// The device a stored code is for, if it may be redeemed `now`.
pub fn judge(found: Option<&StoredCode>, now: UnixMillis) -> Result<DeviceId, Refused> {
    let code = found.ok_or(Refused::Unknown)?;
    if code.used_at.is_some() {
        return Err(Refused::Used);
    }
    if now >= code.expires_at {
        return Err(Refused::Expired);
    }
    Ok(code.device)
}

/// The hub's address for the command shown with a code: `[provisioning] hub_url`, or the
/// `host` the admin's browser used with the hub's own scheme.
pub fn hub_url(config: &Config, host: Option<&str>) -> Option<String> {
    if let Some(url) = &config.provisioning.hub_url {
        return Some(url.trim_end_matches('/').to_owned());
    }
    let scheme = if config.http.tls.is_some() {
        "https"
    } else {
        "http"
    };
    host.map(|host| format!("{scheme}://{host}"))
}

/// What the admin types on the door unit.
pub fn command(hub_url: Option<&str>, code: &ProvisioningCode) -> String {
    let hub = hub_url.unwrap_or("https://HUB");
    format!("sudo rollcall-edge enrol --hub {hub} --code {code}")
}

/// `text` as a QR code, an SVG document scaled to its container.
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::new(text.as_bytes())?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// Why the hub cannot tell a door unit how to reach its broker.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error(
        "the hub does not know the address door units reach it by: set [provisioning] broker_url"
    )]
    NoBrokerHost,
    #[error("{path}: {detail} (set [provisioning] broker_ca_file to the broker's CA)")]
    Ca { path: String, detail: String },
    #[error("cannot issue the door unit's client certificate: {0}")]
    Cert(String),
}

/// The broker's address for a door unit that reached the hub at `host`.
pub fn broker_url(config: &Config, host: Option<&str>) -> Result<String, OfferError> {
    if let Some(url) = &config.provisioning.broker_url {
        return Ok(url.clone());
    }
    match config.mqtt.mode {
        MqttMode::Embedded => {
            let e = &config.mqtt.embedded;
            let scheme = if e.tls.is_some() { "mqtts" } else { "mqtt" };
            let name = if e.listen.ip().is_unspecified() {
                host.map(host_name).ok_or(OfferError::NoBrokerHost)?
            } else {
                match e.listen.ip() {
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                    ip => ip.to_string(),
                }
            };
            Ok(format!("{scheme}://{name}:{}", e.listen.port()))
        }
        MqttMode::External => {
            let scheme = match config.mqtt.transport {
                MqttTransport::Tcp => "mqtt",
                MqttTransport::Tls { .. } => "mqtts",
            };
            Ok(format!("{scheme}://{}", config.mqtt.broker))
        }
    }
}

/// `host` without its port (`hub.lan:8443` → `hub.lan`, `[::1]:8443` → `[::1]`).
fn host_name(host: &str) -> String {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if name.starts_with('[') || !name.contains(':') {
                return name.to_owned();
            }
            host.to_owned()
        }
        _ => host.to_owned(),
    }
}

/// The PEM of the CA door units trust for the broker; none for plain MQTT.
pub fn broker_ca(config: &Config) -> Result<Option<String>, OfferError> {
    let (path, top_of_chain) = match (&config.provisioning.broker_ca_file, config.mqtt.mode) {
        (Some(path), _) => (path.as_path(), false),
        (None, MqttMode::Embedded) => match &config.mqtt.embedded.tls {
            Some(tls) => (tls.cert.as_path(), true),
            None => return Ok(None),
        },
        (None, MqttMode::External) => match &config.mqtt.transport {
            MqttTransport::Tls { ca_file, .. } => (ca_file.as_path(), false),
            MqttTransport::Tcp => return Ok(None),
        },
    };
    let (text, certificates) = read_pem(path)?;
    if !top_of_chain {
        return Ok(Some(text));
    }
    // A chain of one is the broker's own certificate: door units cannot trust it as a CA.
    match top_certificate(&text) {
        Some(top) if certificates > 1 => Ok(Some(top.to_owned())),
        _ => Err(OfferError::Ca {
            path: path.display().to_string(),
            detail: "holds the broker's certificate but not the CA that signed it".into(),
        }),
    }
}

/// Reads a PEM file of certificates, checking that every one parses; with their count.
fn read_pem(path: &Path) -> Result<(String, usize), OfferError> {
    let failed = |detail: String| OfferError::Ca {
        path: path.display().to_string(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let mut certificates = 0;
    for cert in CertificateDer::pem_slice_iter(text.as_bytes()) {
        cert.map_err(|e| failed(format!("not a PEM certificate: {e}")))?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err(failed("holds no certificate".into()));
    }
    Ok((text, certificates))
}

/// The last certificate of a PEM chain: the one nearest its root.
fn top_certificate(chain: &str) -> Option<&str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = chain.rfind(BEGIN)?;
    let end = chain[start..].find(END)? + start + END.len();
    Some(&chain[start..end])
}

/// A client certificate for `device` from the hub's own door-unit CA, when the embedded broker
/// takes client certificates chained to it.
pub fn client_cert(
    config: &Config,
    device: DeviceId,
    today: NaiveDate,
) -> Result<Option<DeviceCert>, OfferError> {
    let Some(tls) = &config.mqtt.embedded.tls else {
        return Ok(None);
    };
    if config.mqtt.mode != MqttMode::Embedded
        || tls.client_auth == ClientAuth::Off
        || tls.client_ca.is_some()
    {
        return Ok(None);
    }
    let cert = DeviceCa::open_or_create(&config.data_dir, today)
        .and_then(|ca| ca.issue(device, today))
        .map_err(|e| OfferError::Cert(e.to_string()))?;
    Ok(Some(cert))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(expires_at: i64, used_at: Option<i64>) -> StoredCode {
        StoredCode {
            device: DeviceId::random(),
            expires_at: UnixMillis(expires_at),
            used_at: used_at.map(UnixMillis),
        }
    }

    #[test]
    fn a_code_works_once_and_only_before_it_expires() {
        let code = stored(1_000, None);
        assert_eq!(judge(Some(&code), UnixMillis(999)), Ok(code.device));
        assert_eq!(judge(Some(&code), UnixMillis(1_000)), Err(Refused::Expired));
        let used = stored(1_000, Some(500));
        assert_eq!(judge(Some(&used), UnixMillis(600)), Err(Refused::Used));
        assert_eq!(judge(None, UnixMillis(0)), Err(Refused::Unknown));
        for refused in [Refused::Unknown, Refused::Used, Refused::Expired] {
            assert!(refused.to_string().contains("Devices page"), "{refused}");
        }
    }

    fn config(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    #[test]
    fn the_broker_url_follows_the_host_the_door_unit_used_when_the_broker_listens_everywhere() {
        let tls = "[mqtt.embedded]\nlisten = \"0.0.0.0:8883\"\n[mqtt.embedded.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        let c = config(tls);
        assert_eq!(
            broker_url(&c, Some("hub.school.lan:8443")).unwrap(),
            "mqtts://hub.school.lan:8883"
        );
        assert_eq!(
            broker_url(&c, Some("[fd00::5]:8443")).unwrap(),
            "mqtts://[fd00::5]:8883"
        );
        assert!(matches!(
            broker_url(&c, None),
            Err(OfferError::NoBrokerHost)
        ));
        let local = config("");
        assert_eq!(
            broker_url(&local, Some("x:1")).unwrap(),
            "mqtt://127.0.0.1:1883"
        );
        let set = config("[provisioning]\nbroker_url = \"mqtts://broker.lan:8883\"\n");
        assert_eq!(broker_url(&set, None).unwrap(), "mqtts://broker.lan:8883");
        let external = config(
            "[mqtt]\nmode = \"external\"\nbroker = \"mq.lan:8883\"\n[mqtt.transport.tls]\nca_file = \"ca.pem\"\n",
        );
        assert_eq!(broker_url(&external, None).unwrap(), "mqtts://mq.lan:8883");
    }

    #[test]
    fn the_command_names_the_hub_as_configured_or_as_the_browser_reached_it() {
        let code = ProvisioningCode::from_random(7);
        let c = config("");
        let url = hub_url(&c, Some("hub.lan:8080"));
        assert_eq!(url.as_deref(), Some("http://hub.lan:8080"));
        let set = config("[provisioning]\nhub_url = \"https://hub.school.lan/\"\n");
        let url = hub_url(&set, Some("ignored"));
        assert_eq!(
            command(url.as_deref(), &code),
            format!("sudo rollcall-edge enrol --hub https://hub.school.lan --code {code}")
        );
        let svg = qr_svg(&command(url.as_deref(), &code)).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    }

    #[test]
    fn the_ca_is_the_top_of_the_brokers_chain_unless_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (leaf, root) = (pem_cert("leaf.test"), pem_cert("root.test"));
        let chain = dir.path().join("chain.pem");
        std::fs::write(&chain, format!("{leaf}{root}")).unwrap();
        let text = format!(
            "[mqtt.embedded.tls]\ncert = \"{}\"\nkey = \"k.pem\"\n",
            chain.display()
        );
        assert_eq!(
            broker_ca(&config(&text)).unwrap().unwrap().trim(),
            root.trim()
        );
        assert_eq!(broker_ca(&config("")).unwrap(), None);
        std::fs::write(&chain, &leaf).unwrap();
        let e = broker_ca(&config(&text)).unwrap_err().to_string();
        assert!(
            e.contains("not the CA") && e.contains("broker_ca_file"),
            "{e}"
        );
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let named = format!("[provisioning]\nbroker_ca_file = \"{}\"\n", ca.display());
        let e = broker_ca(&config(&named)).unwrap_err().to_string();
        assert!(e.contains("ca.pem") && e.contains("no certificate"), "{e}");
    }

    fn pem_cert(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .pem()
    }
}
