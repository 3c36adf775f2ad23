//! `rollcall-edge enrol --hub URL --code CODE`: sets this door unit up with a one-time code
//! from the hub's Devices page. Fetches over HTTPS its broker address, the broker's CA, fresh
//! credentials, its site, room and the school's time zone; writes them into the configuration
//! folder (secrets readable by the service user only); sets the time zone and starts the
//! service.
//!
//! Nothing is written until the hub's answer has been checked, and the configuration file is
//! written last, whole, after it has been validated: a unit that fails halfway keeps what it
//! had. Re-enrolling (`--replace`) keeps the unit's other settings (camera, sensor, light).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context as _, bail};
use rollcall_shared::{ProvisionRequest, Provisioned, ProvisioningCode, SiteZone};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::cli::{CameraChoice, EnrolArgs};
use crate::config::{self, DEFAULT_CONFIG};

/// Files written beside the configuration.
const CA_FILE: &str = "ca.pem";
const SECRETS_FILE: &str = "edge-secrets.toml";
const CLIENT_CERT_FILE: &str = "client-cert.pem";
const CLIENT_KEY_FILE: &str = "client-key.pem";
/// The largest answer taken (certificates and a few names: a few kilobytes).
const MAX_ANSWER: usize = 256 * 1024;
/// How long the hub may take to answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The status light's pins in docs/PI.md (BCM numbering).
const LIGHT_PINS: [(&str, i64); 4] = [("green", 22), ("amber", 27), ("red", 24), ("buzzer", 25)];

pub fn run(args: EnrolArgs) -> anyhow::Result<ExitCode> {
    let code: ProvisioningCode = args.code.parse()?;
    if (args.motion_pin.is_some() || args.status_light) && !cfg!(feature = "gpio") {
        bail!(
            "--motion-pin and --status-light need GPIO, which this build has not (the Pi's package has)"
        );
    }
    let config_path = &args.config;
    let dir = config_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let existing = match fs::read_to_string(config_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context(format!("cannot read {}", config_path.display())),
    };
    if existing.is_some() && !args.replace {
        bail!(
            "{} exists: this unit is set up already. To set it up again (as a replacement, or \
             after a new code), add --replace; its camera, sensor and light settings are kept",
            config_path.display()
        );
    }

    let answer = fetch(&args, &code)?;
    let problems = answer.check();
    if !problems.is_empty() {
        bail!("the hub's answer cannot be used: {}", problems.join("; "));
    }
    let zone = SiteZone::named(&answer.timezone)
        .with_context(|| format!("the hub's time zone {:?}", answer.timezone))?;

    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let owner = Owner::lookup(&args.user)?;
    let files = write_files(dir, &answer, &owner)?;
    let text = edited_config(existing.as_deref(), &answer, &files, &args)?;
    config::load_str(
        &text,
        &config_path.display().to_string(),
        std::iter::empty(),
    )
    .map_err(|e| anyhow::anyhow!("the configuration made from the hub's answer: {e}"))?;
    write_atomically(config_path, text.as_bytes(), 0o644, &Owner::Unchanged)?;

    println!(
        "enrolled as {:?} (device {}) in {:?} at site {}",
        answer.device_name, answer.device_id, answer.room, answer.site
    );
    println!("  broker:    {}", answer.broker.url);
    println!("  wrote:     {}", config_path.display());
    for (path, mode) in &files.written {
        println!("             {} ({mode:04o})", path.display());
    }
    if args.no_start {
        println!("  time zone: {} (not set: --no-start)", zone.name());
        println!(
            "  not started (--no-start): `systemctl restart {}` when ready",
            args.service
        );
        return Ok(ExitCode::SUCCESS);
    }
    set_time_zone(zone.name());
    start(&args.service)?;
    Ok(ExitCode::SUCCESS)
}

/// `POST /api/v1/provision` over HTTPS (plain HTTP only to this machine).
fn fetch(args: &EnrolArgs, code: &ProvisioningCode) -> anyhow::Result<Provisioned> {
    let base = args.hub.trim_end_matches('/');
    let url = reqwest::Url::parse(base).with_context(|| format!("--hub {base:?} is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => bail!("--hub must be an https:// address (it is {base:?})"),
    }
    let mut client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("rollcall-edge/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &args.ca {
        let pem = fs::read(ca).with_context(|| format!("cannot read --ca {}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("--ca {} is not a PEM certificate", ca.display()))?;
        client = client.tls_built_in_root_certs(false);
        for cert in certs {
            client = client.add_root_certificate(cert);
        }
    }
    let client = client.build().context("cannot make an HTTPS client")?;
    let endpoint = format!("{base}/api/v1/provision");
    let body = ProvisionRequest {
        code: code.to_string(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut reply = client.post(&endpoint).json(&body).send().await.map_err(|e| {
            let hint = if args.ca.is_none() {
                " (if the hub's certificate is from the school's own CA, pass it with --ca FILE)"
            } else {
                ""
            };
            anyhow::anyhow!("cannot reach the hub at {base}: {}{hint}", chain(&e))
        })?;
        let status = reply.status();
        let retry = reply
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = reply
            .chunk()
            .await
            .context("the hub's answer was cut off")?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                bail!("the hub's answer is over {MAX_ANSWER} bytes: is {base} a Rollcall hub?");
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {status}"));
            let wait = retry.map_or(String::new(), |s| format!(" (wait {s} s)"));
            bail!("the hub refused: {message}{wait}");
        }
        serde_json::from_slice(&bytes).context("the hub's answer is not what a door unit expects")
    })
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An error with its causes (reqwest hides the TLS reason a level down).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Who the written files belong to: the service's user, when this runs as root and it exists.
enum Owner {
    Unchanged,
    User { uid: u32, gid: u32, name: String },
}

impl Owner {
    fn lookup(name: &str) -> anyhow::Result<Self> {
        if !nix::unistd::Uid::effective().is_root() {
            return Ok(Owner::Unchanged);
        }
        match nix::unistd::User::from_name(name)? {
            Some(user) => Ok(Owner::User {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                name: name.to_owned(),
            }),
            None => {
                println!("(no user {name:?} on this machine: the files stay root's)");
                Ok(Owner::Unchanged)
            }
        }
    }
}

/// What [`write_files`] wrote, for the configuration and the summary.
struct Files {
    ca: Option<PathBuf>,
    secrets: PathBuf,
    client: Option<(PathBuf, PathBuf)>,
    written: Vec<(PathBuf, u32)>,
}

/// The CA, the password and the client certificate, each written whole.
fn write_files(dir: &Path, answer: &Provisioned, owner: &Owner) -> anyhow::Result<Files> {
    let mut written = Vec::new();
    let mut put = |name: &str, text: &str, mode: u32, owner: &Owner| {
        let path = dir.join(name);
        write_atomically(&path, text.as_bytes(), mode, owner)?;
        written.push((path.clone(), mode));
        anyhow::Ok(path)
    };
    let broker = &answer.broker;
    let ca = match &broker.ca_pem {
        Some(pem) => Some(put(CA_FILE, pem, 0o644, &Owner::Unchanged)?),
        None => None,
    };
    let mut secrets = DocumentMut::new();
    secrets["password"] = value(broker.password.as_str());
    let secrets = put(SECRETS_FILE, &secrets.to_string(), 0o600, owner)?;
    let client = match (&broker.client_cert_pem, &broker.client_key_pem) {
        (Some(cert), Some(key)) => Some((
            put(CLIENT_CERT_FILE, cert, 0o644, &Owner::Unchanged)?,
            put(CLIENT_KEY_FILE, key, 0o600, owner)?,
        )),
        _ => None,
    };
    Ok(Files {
        ca,
        secrets,
        client,
        written,
    })
}

/// Writes `bytes` to a new file beside `path` with `mode` and `owner`, then renames it over
/// `path`: a reader sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8], mode: u32, owner: &Owner) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    if let Owner::User { uid, gid, name } = owner {
        std::os::unix::fs::fchown(file.as_file(), Some(*uid), Some(*gid))
            .with_context(|| format!("cannot give {} to {name}", path.display()))?;
    }
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The configuration: the unit's existing one (`--replace`) or the commented example, with
/// `[device]` and `[broker]` from the hub's answer and the hardware the options name.
fn edited_config(
    existing: Option<&str>,
    answer: &Provisioned,
    files: &Files,
    args: &EnrolArgs,
) -> anyhow::Result<String> {
    let mut doc: DocumentMut = existing
        .unwrap_or(DEFAULT_CONFIG)
        .parse()
        .context("the existing configuration is not TOML: move it away and enrol again")?;
    let device = table(&mut doc, "device");
    device["id"] = value(answer.device_id.to_string());
    device["site"] = value(answer.site.as_str());
    device["room"] = value(answer.room.as_str());
    device["direction"] = value(answer.direction.as_str());

    let broker = table(&mut doc, "broker");
    broker["url"] = value(answer.broker.url.as_str());
    set_path(broker, "ca_file", files.ca.as_deref());
    broker["username"] = value(answer.broker.username.as_str());
    broker["secrets_file"] = value(path_text(&files.secrets)?);
    let (cert, key) = files.client.as_ref().map(|(c, k)| (c, k)).unzip();
    set_path(broker, "client_cert", cert.map(PathBuf::as_path));
    set_path(broker, "client_key", key.map(PathBuf::as_path));

    let camera = match (args.camera, existing) {
        (Some(choice), _) => Some(choice),
        (None, None) => Some(CameraChoice::Rpicam),
        (None, Some(_)) => None,
    };
    if let Some(choice) = camera {
        let mut t = Table::new();
        t["kind"] = value(match choice {
            CameraChoice::Rpicam => "rpicam",
            CameraChoice::V4l => "v4l",
        });
        doc["camera"] = Item::Table(t);
    }
    if let Some(pin) = args.motion_pin {
        let trigger = table(&mut doc, "trigger");
        let mut gpio = Table::new();
        gpio["pin"] = value(i64::from(pin));
        trigger["gpio"] = Item::Table(gpio);
    }
    if args.status_light {
        let light = table(&mut doc, "indicator");
        for (name, pin) in LIGHT_PINS {
            light[name] = value(pin);
        }
    }
    Ok(doc.to_string())
}

/// The table `name`, made when missing.
fn table<'a>(doc: &'a mut DocumentMut, name: &str) -> &'a mut Table {
    if !doc.contains_table(name) {
        doc[name] = Item::Table(Table::new());
    }
    doc[name].as_table_mut().expect("just made a table")
}

fn set_path(table: &mut Table, key: &str, path: Option<&Path>) {
    match path.map(path_text) {
        Some(Ok(text)) => table[key] = value(text),
        _ => {
            table.remove(key);
        }
    }
}

fn path_text(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

/// Sets the system's time zone to the school's (the journal then shows school time).
fn set_time_zone(zone: &str) {
    match Command::new("timedatectl")
        .args(["set-timezone", zone])
        .status()
    {
        Ok(s) if s.success() => println!("  time zone: {zone} (set)"),
        Ok(s) => println!("  time zone: {zone} (timedatectl failed: {s}; set it by hand)"),
        Err(e) => println!("  time zone: {zone} (cannot run timedatectl: {e}; set it by hand)"),
    }
}

/// Enables and (re)starts the service, which now finds its configuration.
fn start(service: &str) -> anyhow::Result<()> {
    for verb in ["enable", "restart"] {
        let status = Command::new("systemctl")
            .args([verb, service])
            .status()
            .with_context(|| format!("cannot run systemctl {verb} {service}"))?;
        if !status.success() {
            bail!(
                "systemctl {verb} {service} failed ({status}): see `journalctl -u {service}`; \
                 the configuration is written"
            );
        }
    }
    println!("  started:   {service} (follow it with `journalctl -u {service} -f`)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{BrokerAccess, DeviceId, Direction, SiteId};

    use super::*;

    fn answer() -> Provisioned {
        Provisioned {
            device_id: DeviceId::random(),
            device_name: "Door 1".into(),
            site: SiteId::new("school").unwrap(),
            room: "Room 7".into(),
            direction: Direction::Out,
            timezone: "Europe/London".into(),
            broker: BrokerAccess {
                url: "mqtts://hub.school.lan:8883".into(),
                ca_pem: Some("-----BEGIN CERTIFICATE-----\n".into()),
                username: "u".into(),
                password: "p\"w".into(),
                client_cert_pem: None,
                client_key_pem: None,
            },
        }
    }

    fn args(extra: &[&str]) -> EnrolArgs {
        use clap::Parser as _;
        let mut argv = vec![
            "rollcall-edge",
            "enrol",
            "--hub",
            "https://h",
            "--code",
            "x",
        ];
        argv.extend(extra);
        match crate::cli::Cli::parse_from(argv).command {
            Some(crate::cli::Command::Enrol(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    fn files() -> Files {
        Files {
            ca: Some("/etc/rollcall/ca.pem".into()),
            secrets: "/etc/rollcall/edge-secrets.toml".into(),
            client: None,
            written: Vec::new(),
        }
    }

    #[test]
    fn a_new_configuration_is_the_example_with_the_hubs_answer_and_the_pi_camera() {
        let a = answer();
        let text = edited_config(
            None,
            &a,
            &files(),
            &args(&["--motion-pin", "17", "--status-light"]),
        )
        .unwrap();
        let c = config::load_str(&text, "enrolled", std::iter::empty()).unwrap();
        assert_eq!(c.device.id, a.device_id);
        assert_eq!(c.device.room, "Room 7");
        assert_eq!(c.device.direction, Direction::Out);
        assert_eq!(c.broker.url, a.broker.url);
        assert_eq!(
            c.broker.ca_file.as_deref(),
            Some(Path::new("/etc/rollcall/ca.pem"))
        );
        assert_eq!(c.broker.username.as_deref(), Some("u"));
        assert!(matches!(c.camera, config::CameraConfig::Rpicam(_)));
        assert_eq!(c.trigger.gpio.map(|g| g.pin), Some(17));
        assert_eq!(c.indicator.green, Some(22));
        assert!(
            text.contains("# rollcall-edge configuration"),
            "comments kept"
        );
    }

    #[test]
    fn re_enrolling_keeps_the_units_other_settings() {
        let before = edited_config(None, &answer(), &files(), &args(&["--camera", "v4l"])).unwrap();
        let before = before.replace("reconnect_max = \"60s\"", "reconnect_max = \"90s\"");
        let again = answer();
        let text = edited_config(Some(&before), &again, &files(), &args(&["--replace"])).unwrap();
        let c = config::load_str(&text, "re-enrolled", std::iter::empty()).unwrap();
        assert_eq!(c.device.id, again.device_id);
        assert!(matches!(c.camera, config::CameraConfig::V4l { .. }));
        assert_eq!(c.broker.reconnect_max, Duration::from_secs(90));
    }

    #[test]
    fn files_are_written_whole_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let f = write_files(dir.path(), &answer(), &Owner::Unchanged).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&f.secrets), 0o600);
        assert_eq!(mode(f.ca.as_deref().unwrap()), 0o644);
        let secrets = config::Secrets::load(Some(&f.secrets)).unwrap();
        assert_eq!(secrets.password.as_deref(), Some("p\"w"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no stray files"
        );
    }
}
