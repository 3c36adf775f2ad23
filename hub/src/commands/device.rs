//! `device add`, `device cert` and `device list`: door units registered from the command line.

use std::path::Path;

use anyhow::Context;

use crate::cli::DeviceCommand;
use crate::config::{Config, MqttMode};
use crate::device_ca::DeviceFiles;
use crate::setup;
use rollcall_school::accounts::Registered;

use super::target::{one_school, store};

pub fn run(cmd: DeviceCommand) -> anyhow::Result<()> {
    match cmd {
        DeviceCommand::Add {
            name,
            room,
            direction,
            secrets_file,
            cert,
            target,
        } => {
            let config = match &target.config {
                Some(file) => Some(one_school(&Config::load(file)?, target.school.as_deref())?),
                None => None,
            };
            let (db, dir) = store(target)?;
            let r = setup::add_device(&db, &name, &room, direction)?;
            println!("device id:     {}", r.device.id);
            println!("mqtt username: {}", r.mqtt_username);
            match &secrets_file {
                Some(path) => {
                    write_secret_file(path, &r.mqtt_password)?;
                    println!("mqtt password: written to {}", path.display());
                }
                None => {
                    println!("mqtt password: {}", r.mqtt_password);
                    println!("(shown once)");
                }
            }
            if let Some(config) = config {
                print_edge_snippet(&config, &r, secrets_file.as_deref());
            }
            if let Some(out) = cert {
                println!();
                print_cert_files(&setup::issue_device_cert(&dir, &db, r.device.id, &out)?);
            }
        }
        DeviceCommand::Cert { id, out, target } => {
            let (db, dir) = store(target)?;
            print_cert_files(&setup::issue_device_cert(&dir, &db, id, &out)?);
        }
        DeviceCommand::List { target } => {
            for d in setup::list_devices(&store(target)?.0)? {
                let state = if d.enabled { "enabled" } else { "disabled" };
                let (id, name, room, direction) = (d.id, d.name, d.room, d.direction);
                println!("{id}  {name:<20} {room:<12} {direction:<4} {state}");
            }
        }
    }
    Ok(())
}

/// Writes `password = "..."` to a new file readable only by its owner.
fn write_secret_file(path: &Path, password: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "password = \"{password}\"")?;
    Ok(())
}

/// The door unit's `[device]` and `[broker]` settings for this hub.
fn print_edge_snippet(config: &Config, r: &Registered, secrets: Option<&Path>) {
    let url = match config.mqtt.mode {
        MqttMode::Embedded => {
            let e = &config.mqtt.embedded;
            let scheme = if e.tls.is_some() { "mqtts" } else { "mqtt" };
            format!("{scheme}://{}", e.listen)
        }
        MqttMode::External => format!("mqtt://{}", config.mqtt.broker),
    };
    let secrets = secrets.map_or("/etc/rollcall/edge-secrets.toml".into(), |p| {
        p.display().to_string()
    });
    println!();
    println!(
        "# for the door unit's edge.toml (use the hub's host name in url when the hub listens on"
    );
    println!("# all addresses, and mqtts:// with ca_file when it serves TLS):");
    println!("[device]");
    println!("id = \"{}\"", r.device.id);
    println!("site = \"{}\"", config.site);
    println!("room = \"{}\"", r.device.room);
    println!("direction = \"{}\"", r.device.direction);
    println!();
    println!("[broker]");
    println!("url = \"{url}\"");
    println!("username = \"{}\"", r.mqtt_username);
    println!("secrets_file = \"{secrets}\"");
}

/// Tells what to copy to the door unit and how its edge.toml names the files.
fn print_cert_files(files: &DeviceFiles) {
    println!("client certificate: {}", files.cert.display());
    println!("client key:         {} (mode 0600)", files.key.display());
    println!();
    println!("# copy both to the door unit (e.g. into /etc/rollcall/, the key readable only by");
    println!(
        "# the rollcall-edge user); its edge.toml [broker] then says (besides url and ca_file):"
    );
    println!("client_cert = \"/etc/rollcall/client-cert.pem\"");
    println!("client_key = \"/etc/rollcall/client-key.pem\"");
    println!(
        "# the hub accepts it once [mqtt.embedded.tls] client_auth = \"optional\" or \"required\""
    );
}
