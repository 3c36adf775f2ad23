//! Which device a door unit's client certificate names. rustls has already checked the
//! certificate against the configured client CA when this runs; this only reads the name, with
//! x509-parser (never by hand), and the login check decides what the name is worth.
//!
//! A certificate names a device by its subject CN and by URI SANs
//! `urn:rollcall:device:<id>` (as `rollcall-hub device cert` issues them). Either is enough, so
//! a school CA that writes only one still works; when both are there they must agree.

use rollcall_shared::DeviceId;
use x509_parser::extensions::GeneralName;

use crate::device_ca::DEVICE_URI_PREFIX;

/// What a connection's client certificate says about who is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    /// No certificate: the password login applies.
    Absent,
    /// A verified certificate naming this device.
    Device(DeviceId),
    /// A verified certificate that names no device, or two different ones.
    Unnamed,
}

impl ClientCert {
    /// What the end-entity certificate `der` (if any) names.
    pub fn of(der: Option<&[u8]>) -> Self {
        match der {
            None => ClientCert::Absent,
            Some(der) => device_named(der).map_or(ClientCert::Unnamed, ClientCert::Device),
        }
    }
}

/// The one device `der`'s CN and device URI SANs name.
fn device_named(der: &[u8]) -> Option<DeviceId> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names: Vec<Option<DeviceId>> = Vec::new();
    for cn in cert.subject().iter_common_name() {
        names.push(cn.as_str().ok().and_then(|s| s.parse().ok()));
    }
    let sans = cert.subject_alternative_name().ok()?;
    for name in sans.iter().flat_map(|s| &s.value.general_names) {
        if let GeneralName::URI(uri) = name
            && let Some(id) = uri.strip_prefix(DEVICE_URI_PREFIX)
        {
            names.push(id.parse().ok());
        }
    }
    let first = (*names.first()?)?;
    names.iter().all(|n| *n == Some(first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;
    use crate::device_ca::DeviceCa;

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    /// A self-signed certificate with `cn` and `sans` (the CA check is rustls's, not ours).
    fn cert(cn: Option<&str>, sans: Vec<SanType>) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn an_issued_certificate_names_its_device() {
        let dir = tempfile::tempdir().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let ca = DeviceCa::open_or_create(dir.path(), today).unwrap();
        let device = DeviceId::random();
        let issued = ca.issue(device, today).unwrap();
        assert_eq!(
            ClientCert::of(Some(&der(&issued.cert_pem))),
            ClientCert::Device(device)
        );
        assert_eq!(ClientCert::of(None), ClientCert::Absent);
    }

    #[test]
    fn a_name_in_either_place_is_enough_but_two_names_must_agree() {
        let (a, b) = (DeviceId::random(), DeviceId::random());
        let uri = |d: DeviceId| {
            let text = format!("{DEVICE_URI_PREFIX}{d}");
            vec![SanType::URI(text.try_into().unwrap())]
        };
        let named = |cn: Option<&str>, sans| ClientCert::of(Some(&cert(cn, sans)));
        assert_eq!(named(Some(&a.to_string()), vec![]), ClientCert::Device(a));
        assert_eq!(named(None, uri(a)), ClientCert::Device(a));
        assert_eq!(named(Some(&a.to_string()), uri(a)), ClientCert::Device(a));
        assert_eq!(named(Some(&a.to_string()), uri(b)), ClientCert::Unnamed);
        assert_eq!(named(Some("door 1"), vec![]), ClientCert::Unnamed);
        let dns = vec![SanType::DnsName("localhost".try_into().unwrap())];
        assert_eq!(named(None, dns), ClientCert::Unnamed);
        assert_eq!(
            ClientCert::of(Some(b"not a certificate")),
            ClientCert::Unnamed
        );
    }
}
