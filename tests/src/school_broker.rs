//! Mosquitto as a school runs it for a hub with `[mqtt] mode = "external"` (hub/README.md):
//! a TLS listener with a certificate from the school's [`Pki`], no anonymous clients, one
//! password per account (hashed with `mosquitto_passwd`), and an ACL that lets each door
//! unit use only its own topics and the hub's account every device's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use rollcall_shared::SiteId;
use rollcall_shared::topics::{Channel, device_acl_pattern, hub_filter};

use crate::mosquitto::Mosquitto;
use crate::pki::Pki;

/// The hub's broker account.
pub const HUB_USER: &str = "rollcall-hub";

/// Where Debian puts `mosquitto_passwd` (package `mosquitto`).
const PASSWD_CANDIDATES: &[&str] = &["mosquitto_passwd", "/usr/bin/mosquitto_passwd"];

/// A broker account: a user name and its password in clear (hashed into the password file).
#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub password: String,
}

/// The running broker and the files it was configured with.
#[derive(Debug)]
pub struct SchoolBroker {
    pub broker: Mosquitto,
    pub password_file: PathBuf,
    pub acl_file: PathBuf,
}

impl SchoolBroker {
    /// Writes the password and ACL files for `accounts` of `site` into `dir` (made 0755 with
    /// the PKI's permissions in mind) and starts Mosquitto with TLS on loopback `port`.
    pub fn start(
        dir: &Path,
        port: u16,
        pki: &Pki,
        site: &str,
        accounts: &[Account],
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let password_file = password_file(dir, accounts)?;
        let acl_file = dir.join("rollcall.acl");
        std::fs::write(&acl_file, acl(&SiteId::new(site)?))?;
        make_readable(&[dir, &password_file, &acl_file])?;
        let conf = format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n\
             cafile {}\ncertfile {}\nkeyfile {}\nlog_type all\n",
            password_file.display(),
            acl_file.display(),
            pki.ca.display(),
            pki.server_cert.display(),
            pki.server_key.display(),
        );
        let broker = Mosquitto::start_on(port, &conf)?;
        Ok(Self {
            broker,
            password_file,
            acl_file,
        })
    }
}

/// The ACL of `site`: the hub reads every device's uplink channels and writes every
/// device's downlink channels; a device (user name = device id, `%u`) writes only its own
/// uplink and reads only its own downlink topics.
pub fn acl(site: &SiteId) -> String {
    let mut acl = format!("user {HUB_USER}\n");
    for channel in Channel::ALL {
        let access = if channel.from_device() {
            "read"
        } else {
            "write"
        };
        acl += &format!("topic {access} {}\n", hub_filter(site, channel));
    }
    acl += "\n";
    for channel in Channel::ALL {
        let access = if channel.from_device() {
            "write"
        } else {
            "read"
        };
        acl += &format!("pattern {access} {}\n", device_acl_pattern(site, channel));
    }
    acl
}

/// `user:password` lines hashed in place with `mosquitto_passwd -U`.
fn password_file(dir: &Path, accounts: &[Account]) -> anyhow::Result<PathBuf> {
    let path = dir.join("rollcall.passwd");
    let lines: String = accounts
        .iter()
        .map(|a| format!("{}:{}\n", a.user, a.password))
        .collect();
    std::fs::write(&path, lines)?;
    let tool = PASSWD_CANDIDATES
        .iter()
        .find(|t| Command::new(t).arg("-h").output().is_ok())
        .with_context(|| crate::setup::missing("mosquitto_passwd", "Debian's mosquitto"))?;
    let out = Command::new(tool).arg("-U").arg(&path).output()?;
    anyhow::ensure!(
        out.status.success(),
        "mosquitto_passwd -U failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(path)
}

/// Mosquitto started as root reads its files as the `mosquitto` user.
fn make_readable(paths: &[&Path]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for path in paths {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}
