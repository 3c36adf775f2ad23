//! The hub's own certificate authority for door units: a CA certificate and key in the data
//! directory, made on first need, and the client certificates it issues (`rollcall-hub device
//! add --cert` and `device cert`). Files only; the broker reads the CA through its config.
//!
//! A device certificate names its device twice, as subject CN and as the URI SAN
//! `urn:rollcall:device:<id>`; the broker checks that name against the MQTT client id and the
//! device table at every CONNECT, so disabling a device in the registry revokes its certificate
//! without a revocation list. Validity: ten years for the CA (replacing it means re-issuing
//! every door unit), two years for a device (a stolen one's key stops working on its own even
//! if nobody disables it), both starting the day before issue so a hub clock a few hours off
//! still accepts a fresh certificate.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, date_time_ymd,
};
use rollcall_shared::DeviceId;

/// The CA certificate door units' client certificates chain to (PEM), in the data directory.
pub const CA_CERT_FILE: &str = "device-ca.pem";
/// Its private key (PEM, mode 0600), in the data directory.
pub const CA_KEY_FILE: &str = "device-ca.key";
/// The device certificate and key written for a door unit.
pub const DEVICE_CERT_FILE: &str = "client-cert.pem";
pub const DEVICE_KEY_FILE: &str = "client-key.pem";
/// The URI SAN prefix naming a device.
pub const DEVICE_URI_PREFIX: &str = "urn:rollcall:device:";

/// How long the CA is valid, in days (ten years).
const CA_DAYS: u64 = 3653;
/// How long a device certificate is valid, in days (two years).
const DEVICE_DAYS: u64 = 731;

/// Why the device CA cannot be used or a certificate not written.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{present} exists but {missing} does not: restore it, or move both away to make a new CA"
    )]
    HalfCa { present: PathBuf, missing: PathBuf },
    #[error("{path} already exists: choose an empty directory for the door unit's files")]
    Exists { path: PathBuf },
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("the date {0} is out of range for a certificate")]
    Date(NaiveDate),
}

/// The path of the device CA certificate in `data_dir` (the broker's default `client_ca`).
pub fn ca_cert_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CA_CERT_FILE)
}

/// The loaded device CA.
pub struct DeviceCa {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for DeviceCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCa").finish_non_exhaustive()
    }
}

/// A door unit's certificate and private key, as PEM. `Debug` never shows the key.
pub struct DeviceCert {
    pub device: DeviceId,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for DeviceCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCert")
            .field("device", &self.device)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Where [`write_device_files`] put a door unit's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl DeviceCa {
    /// The CA in `data_dir`, made there (valid from the day before `today`) if it has none.
    pub fn open_or_create(data_dir: &Path, today: NaiveDate) -> Result<Self, CaError> {
        create_dir(data_dir)?;
        let (cert, key) = (data_dir.join(CA_CERT_FILE), data_dir.join(CA_KEY_FILE));
        match (cert.exists(), key.exists()) {
            (true, true) => Self::open(&cert, &key),
            (false, false) => Self::create(&cert, &key, today),
            (true, false) => Err(CaError::HalfCa {
                present: cert,
                missing: key,
            }),
            (false, true) => Err(CaError::HalfCa {
                present: key,
                missing: cert,
            }),
        }
    }

    fn open(cert: &Path, key: &Path) -> Result<Self, CaError> {
        let cert_pem = read(cert)?;
        let key = KeyPair::from_pem(&read(key)?)?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)?;
        Ok(Self { cert_pem, issuer })
    }

    /// Writes the key first (0600, never overwriting), then the certificate.
    fn create(cert: &Path, key: &Path, today: NaiveDate) -> Result<Self, CaError> {
        let signing_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "Rollcall hub door-unit CA");
        valid_for(&mut params, today, CA_DAYS)?;
        let made = params.self_signed(&signing_key)?;
        write_new(key, &signing_key.serialize_pem(), 0o600)?;
        write_new(cert, &made.pem(), 0o644)?;
        tracing::info!("made the door-unit CA {}", cert.display());
        Ok(Self {
            cert_pem: made.pem(),
            issuer: Issuer::new(params, signing_key),
        })
    }

    /// The CA certificate (PEM).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A new key and client certificate for `device`, valid from the day before `today`.
    pub fn issue(&self, device: DeviceId, today: NaiveDate) -> Result<DeviceCert, CaError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, device.to_string());
        let uri = format!("{DEVICE_URI_PREFIX}{device}");
        params.subject_alt_names = vec![SanType::URI(uri.try_into()?)];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        valid_for(&mut params, today, DEVICE_DAYS)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(DeviceCert {
            device,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Writes `cert` into `dir` (made 0700 if missing): the certificate (0644) and key (0600),
/// never overwriting a file that is there.
pub fn write_device_files(dir: &Path, cert: &DeviceCert) -> Result<DeviceFiles, CaError> {
    create_dir(dir)?;
    let files = DeviceFiles {
        cert: dir.join(DEVICE_CERT_FILE),
        key: dir.join(DEVICE_KEY_FILE),
    };
    for path in [&files.cert, &files.key] {
        if path.exists() {
            return Err(CaError::Exists { path: path.clone() });
        }
    }
    write_new(&files.key, &cert.key_pem, 0o600)?;
    write_new(&files.cert, &cert.cert_pem, 0o644)?;
    Ok(files)
}

/// Validity from the day before `today` for `days` days.
fn valid_for(params: &mut CertificateParams, today: NaiveDate, days: u64) -> Result<(), CaError> {
    let from = today.pred_opt().ok_or(CaError::Date(today))?;
    let to = from
        .checked_add_days(Days::new(days))
        .ok_or(CaError::Date(today))?;
    let (year, month, day) = ymd(from)?;
    params.not_before = date_time_ymd(year, month, day);
    let (year, month, day) = ymd(to)?;
    params.not_after = date_time_ymd(year, month, day);
    Ok(())
}

/// The date's parts as rcgen takes them (a certificate's times are 00:00 UTC that day).
fn ymd(day: NaiveDate) -> Result<(i32, u8, u8), CaError> {
    let month = u8::try_from(day.month()).map_err(|_| CaError::Date(day))?;
    let date = u8::try_from(day.day()).map_err(|_| CaError::Date(day))?;
    match day.year() {
        year @ 1950..=9999 => Ok((year, month, date)),
        _ => Err(CaError::Date(day)),
    }
}

fn create_dir(dir: &Path) -> Result<(), CaError> {
    let io = |source| CaError::Io {
        path: dir.to_owned(),
        source,
    };
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, CaError> {
    std::fs::read_to_string(path).map_err(|source| CaError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `text` to a new file `path` with `mode` (the mode is set at creation, so a key is
/// never readable by others, even briefly).
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), CaError> {
    let io = |source| CaError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_ca_is_made_once_with_a_private_key_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let made = DeviceCa::open_or_create(dir.path(), today()).unwrap();
        assert_eq!(mode(&dir.path().join(CA_KEY_FILE)), 0o600);
        let again = DeviceCa::open_or_create(dir.path(), today()).unwrap();
        assert_eq!(made.cert_pem(), again.cert_pem());
        std::fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
        let half = DeviceCa::open_or_create(dir.path(), today()).unwrap_err();
        assert!(matches!(half, CaError::HalfCa { .. }), "{half}");
    }

    #[test]
    fn device_files_are_written_once_with_the_key_private() {
        let dir = tempfile::tempdir().unwrap();
        let ca = DeviceCa::open_or_create(&dir.path().join("data"), today()).unwrap();
        let device = DeviceId::random();
        let cert = ca.issue(device, today()).unwrap();
        assert!(!format!("{cert:?}").contains("PRIVATE KEY"));
        let out = dir.path().join("door-1");
        let files = write_device_files(&out, &cert).unwrap();
        assert_eq!(mode(&out), 0o700);
        assert_eq!(mode(&files.key), 0o600);
        assert_eq!(mode(&files.cert), 0o644);
        assert_eq!(std::fs::read_to_string(&files.cert).unwrap(), cert.cert_pem);
        let again = write_device_files(&out, &cert).unwrap_err();
        assert!(matches!(again, CaError::Exists { .. }), "{again}");
    }
}
