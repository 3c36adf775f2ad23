//! A `rollcall-hub` as a school sets it up: `init`, `device add --secrets-file` (or `--cert`),
//! `serve`, on free loopback ports, with its embedded broker (plain, TLS, or TLS requiring
//! door units' client certificates) or a school's own broker ([`Mqtt`]). The same setup can be served again after a kill (same data directory, same
//! ports), which is what the fault tests need.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::pki::Pki;
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
    /// Where door units connect: the embedded broker's port, or the external broker's.
    pub mqtt_port: u16,
    pub mqtt: Mqtt,
    /// The PostgreSQL database the hub keeps its data in (`[store] url`); none: SQLite.
    pub store: Option<String>,
}

/// The broker door units talk to.
#[derive(Debug, Clone)]
pub enum Mqtt {
    /// The hub's own broker, plain MQTT on loopback.
    Embedded,
    /// The hub's own broker over TLS, with the PKI's server certificate.
    EmbeddedTls(Pki),
    /// Like `EmbeddedTls`, requiring a client certificate from every door unit
    /// (`client_auth = "required"`); `add_device` issues each one with `device add --cert`.
    EmbeddedClientCerts(Pki),
    /// `mode = "external"`: a broker on loopback `port` (certificate from `pki`), the hub
    /// logging in as `username`; with `other_ports`, the other nodes of a clustered broker.
    External {
        port: u16,
        other_ports: Vec<u16>,
        pki: Pki,
        username: String,
        password: String,
    },
}

/// How a door unit reaches the broker: the `[broker]` url, other nodes and CA of its
/// `edge.toml`.
#[derive(Debug, Clone)]
pub struct BrokerAccess {
    pub url: String,
    pub other_nodes: Vec<String>,
    pub ca_file: Option<PathBuf>,
}

/// A device registered with `device add`: its id, the edge's secrets file, and the directory
/// holding its client certificate and key when it was given one.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub secrets: PathBuf,
    pub cert_dir: Option<PathBuf>,
}

impl HubSetup {
    /// Writes `hub.toml` in `dir` (face models off unless `faces`, the embedded broker) and
    /// runs `init`.
    pub fn init(dir: &Path, faces: bool) -> anyhow::Result<Self> {
        Self::init_with(dir, faces, Mqtt::Embedded)
    }

    /// Like [`HubSetup::init`] with the broker `mqtt`.
    pub fn init_with(dir: &Path, faces: bool, mqtt: Mqtt) -> anyhow::Result<Self> {
        Self::init_on(dir, faces, mqtt, None)
    }

    /// Like [`HubSetup::init_with`], keeping the data in the PostgreSQL database at `store`
    /// when given.
    pub fn init_on(
        dir: &Path,
        faces: bool,
        mqtt: Mqtt,
        store: Option<String>,
    ) -> anyhow::Result<Self> {
        let mqtt_port = match &mqtt {
            Mqtt::External { port, .. } => *port,
            Mqtt::Embedded | Mqtt::EmbeddedTls(_) | Mqtt::EmbeddedClientCerts(_) => free_port()?,
        };
        let setup = Self {
            dir: dir.to_owned(),
            config: dir.join("hub.toml"),
            http_port: free_port()?,
            mqtt_port,
            mqtt,
            store,
        };
        setup.write_config(faces)?;
        let password = dir.join("admin-password");
        std::fs::write(&password, ADMIN_PASSWORD)?;
        let args = [
            "init",
            "--config",
            path_str(&setup.config)?,
            "--admin-user",
            ADMIN,
            "--admin-password-file",
            path_str(&password)?,
        ];
        run("rollcall-hub", &args, &[])?;
        Ok(setup)
    }

    /// Another hub in `dir` serving the same school from the same database and broker: its
    /// own data directory and HTTP port, the first hub's token key (so a sign-in on one is
    /// good on all).
    pub fn sibling(&self, dir: &Path, faces: bool) -> anyhow::Result<Self> {
        anyhow::ensure!(
            self.store.is_some(),
            "hubs share a PostgreSQL database only"
        );
        let setup = Self {
            dir: dir.to_owned(),
            config: dir.join("hub.toml"),
            http_port: free_port()?,
            mqtt_port: self.mqtt_port,
            mqtt: self.mqtt.clone(),
            store: self.store.clone(),
        };
        std::fs::create_dir_all(setup.data_dir())?;
        for key in ["jwt.key", "faces.key"] {
            std::fs::copy(self.data_dir().join(key), setup.data_dir().join(key))?;
        }
        setup.write_config(faces)?;
        Ok(setup)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("hub-data")
    }

    /// Faces that match nobody are kept: the tests' load is mostly Unknown records, the
    /// largest kind (the default, discarding them, is tested in `rollcall-hub`'s and
    /// `rollcall-edge`'s own tests).
    fn write_config(&self, faces: bool) -> anyhow::Result<()> {
        let store = match &self.store {
            Some(url) => format!("[store]\nurl = \"{url}\"\n"),
            None => String::new(),
        };
        std::fs::write(
            &self.config,
            format!(
                "site = \"{SITE}\"\ndata_dir = \"{}\"\n[http]\nlisten = \"127.0.0.1:{}\"\n\
                 [faces]\nenabled = {faces}\n[privacy]\nunknown_faces = \"keep\"\n{store}{}",
                self.data_dir().display(),
                self.http_port,
                mqtt_config(&self.mqtt, self.mqtt_port),
            ),
        )?;
        Ok(())
    }

    /// Registers a door unit in `room`; its secret goes to `<dir>/<name>-secrets.toml`, and
    /// with [`Mqtt::EmbeddedClientCerts`] its certificate and key to `<dir>/<name>-cert/`.
    pub fn add_device(&self, name: &str, room: &str) -> anyhow::Result<Device> {
        let secrets = self.dir.join(format!("{name}-secrets.toml"));
        let cert_dir = matches!(self.mqtt, Mqtt::EmbeddedClientCerts(_))
            .then(|| self.dir.join(format!("{name}-cert")));
        let mut args = vec![
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
        if let Some(dir) = &cert_dir {
            args.extend(["--cert", path_str(dir)?]);
        }
        let out = run("rollcall-hub", &args, &[])?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout
            .lines()
            .find_map(|l| l.strip_prefix("device id:"))
            .context("`device add` printed no device id")?
            .trim()
            .to_owned();
        Ok(Device {
            id,
            secrets,
            cert_dir,
        })
    }

    /// `serve`s, with output to `<dir>/<log>`, and waits until HTTP and MQTT accept.
    pub fn serve(&self, log: &str) -> anyhow::Result<Process> {
        self.serve_with(log, &[])
    }

    /// Like [`HubSetup::serve`] with extra environment variables.
    pub fn serve_with(&self, log: &str, env: &[(&str, &str)]) -> anyhow::Result<Process> {
        let args = ["serve", "--config", path_str(&self.config)?];
        let mut hub = Process::start("rollcall-hub", &args, env, self.dir.join(log))?;
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

    /// How door units reach the broker: plain to the embedded one, else TLS to `localhost`
    /// (the name in the certificate) with the PKI's CA. A clustered broker's nodes are listed
    /// from the second on, so door units start on another node than the hub.
    pub fn broker_access(&self) -> BrokerAccess {
        let tls = |port: &u16| format!("mqtts://localhost:{port}");
        match &self.mqtt {
            Mqtt::Embedded => BrokerAccess {
                url: self.mqtt_url(),
                other_nodes: Vec::new(),
                ca_file: None,
            },
            Mqtt::EmbeddedTls(pki) | Mqtt::EmbeddedClientCerts(pki) => BrokerAccess {
                url: tls(&self.mqtt_port),
                other_nodes: Vec::new(),
                ca_file: Some(pki.ca.clone()),
            },
            Mqtt::External {
                port,
                other_ports,
                pki,
                ..
            } => {
                let mut nodes: Vec<String> = other_ports.iter().chain([port]).map(tls).collect();
                let url = nodes.remove(0);
                BrokerAccess {
                    url,
                    other_nodes: nodes,
                    ca_file: Some(pki.ca.clone()),
                }
            }
        }
    }
}

/// The `[mqtt]` part of `hub.toml`.
fn mqtt_config(mqtt: &Mqtt, port: u16) -> String {
    let listen = format!("[mqtt.embedded]\nlisten = \"127.0.0.1:{port}\"\n");
    match mqtt {
        Mqtt::Embedded => listen,
        Mqtt::EmbeddedTls(pki) => format!(
            "{listen}[mqtt.embedded.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            pki.server_cert.display(),
            pki.server_key.display()
        ),
        Mqtt::EmbeddedClientCerts(pki) => format!(
            "{listen}[mqtt.embedded.tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_auth = \"required\"\n",
            pki.server_cert.display(),
            pki.server_key.display()
        ),
        Mqtt::External {
            other_ports,
            pki,
            username,
            password,
            ..
        } => format!(
            "[mqtt]\nmode = \"external\"\nbroker = \"localhost:{port}\"\nother_nodes = {:?}\n\
             [mqtt.transport.tls]\nca_file = \"{}\"\n\
             [secrets]\nmqtt_username = \"{username}\"\nmqtt_password = \"{password}\"\n",
            other_ports
                .iter()
                .map(|p| format!("localhost:{p}"))
                .collect::<Vec<_>>(),
            pki.ca.display()
        ),
    }
}

pub fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}
