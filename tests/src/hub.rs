//! A `rollcall-hub` as a school sets it up: `init`, `device add --secrets-file`, `serve`, with
//! its embedded broker, on free loopback ports. The same setup can be served again after a
//! kill (same data directory, same ports), which is what the fault tests need.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::process::{Process, run};
use crate::{accepts_connections, free_port, wait_until};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";
pub const SITE: &str = "e2e";

/// An initialised hub data directory and the config that serves it.
#[derive(Debug)]
pub struct HubSetup {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub http_port: u16,
    pub mqtt_port: u16,
}

/// A device registered with `device add`: its id and the edge's secrets file.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub secrets: PathBuf,
}

impl HubSetup {
    /// Writes `hub.toml` in `dir` (face models off unless `faces`) and runs `init`.
    pub fn init(dir: &Path, faces: bool) -> anyhow::Result<Self> {
        let (http_port, mqtt_port) = (free_port()?, free_port()?);
        let data = dir.join("hub-data");
        let config = dir.join("hub.toml");
        std::fs::write(
            &config,
            format!(
                "site = \"{SITE}\"\ndata_dir = \"{}\"\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n\
                 [mqtt.embedded]\nlisten = \"127.0.0.1:{mqtt_port}\"\n[faces]\nenabled = {faces}\n",
                data.display()
            ),
        )?;
        let password = dir.join("admin-password");
        std::fs::write(&password, ADMIN_PASSWORD)?;
        let args = [
            "init",
            "--data-dir",
            path_str(&data)?,
            "--admin-user",
            ADMIN,
            "--admin-password-file",
            path_str(&password)?,
        ];
        run("rollcall-hub", &args, &[])?;
        Ok(Self {
            dir: dir.to_owned(),
            config,
            http_port,
            mqtt_port,
        })
    }

    /// Registers a door unit in `room`; its secret goes to `<dir>/<name>-secrets.toml`.
    pub fn add_device(&self, name: &str, room: &str) -> anyhow::Result<Device> {
        let secrets = self.dir.join(format!("{name}-secrets.toml"));
        let args = [
            "device",
            "add",
            "--name",
            name,
            "--room",
            room,
            "--secrets-file",
            path_str(&secrets)?,
            "--config",
            path_str(&self.config)?,
        ];
        let out = run("rollcall-hub", &args, &[])?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout
            .lines()
            .find_map(|l| l.strip_prefix("device id:"))
            .context("`device add` printed no device id")?
            .trim()
            .to_owned();
        Ok(Device { id, secrets })
    }

    /// `serve`s, with output to `<dir>/<log>`, and waits until HTTP and MQTT accept.
    pub fn serve(&self, log: &str) -> anyhow::Result<Process> {
        let args = ["serve", "--config", path_str(&self.config)?];
        let mut hub = Process::start("rollcall-hub", &args, &[], self.dir.join(log))?;
        let (http, mqtt) = (
            ([127, 0, 0, 1], self.http_port).into(),
            ([127, 0, 0, 1], self.mqtt_port).into(),
        );
        wait_until("the hub", Duration::from_secs(60), || {
            hub.exited() || (accepts_connections(http) && accepts_connections(mqtt))
        })?;
        anyhow::ensure!(!hub.exited(), "the hub stopped:\n{}", hub.output());
        Ok(hub)
    }

    /// The API's base URL, `http://127.0.0.1:PORT/api/v1`.
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1", self.http_port)
    }

    /// `mqtt://127.0.0.1:PORT`, the embedded broker.
    pub fn mqtt_url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.mqtt_port)
    }
}

pub fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
