//! A school's small PKI, made in the test with rcgen: a CA and a server certificate for a
//! broker on this machine (`localhost`, `127.0.0.1`), as PEM files.
//!
//! The certificates are valid from yesterday (00:00 UTC) to the day after tomorrow, not for
//! decades as rcgen's defaults are, so a process whose clock is off by minutes is still
//! inside the window but one that is off by days is not.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The PEM files, in a directory readable by other users: Mosquitto started as root reads
/// them as the `mosquitto` user.
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Pki {
    /// Writes `ca.pem`, `server-cert.pem` and `server-key.pem` into `dir` (made 0755).
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "Rollcall e2e CA");
        validity(&mut params);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;

        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?;
        // A subject of its own: with rcgen's default name the certificate would look
        // self-issued (issuer = subject) to OpenSSL and fail verification in Mosquitto.
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params);
        let cert = params.signed_by(&key, &ca)?;
        Ok(Self {
            ca: write(dir, "ca.pem", &ca.pem())?,
            server_cert: write(dir, "server-cert.pem", &cert.pem())?,
            server_key: write(dir, "server-key.pem", &key.serialize_pem())?,
        })
    }

    /// A rustls client config (ring) trusting only this CA, for test clients.
    pub fn client_config(&self) -> anyhow::Result<Arc<rustls::ClientConfig>> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&self.ca)? {
            roots.add(cert?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

fn validity(params: &mut CertificateParams) {
    let day = |d: chrono::DateTime<Utc>| date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let now = Utc::now();
    params.not_before = day(now - Duration::days(1));
    params.not_after = day(now + Duration::days(2));
}

fn write(dir: &Path, name: &str, pem: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, pem)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    Ok(path)
}
