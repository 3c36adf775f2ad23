//! A `rollcall-edge` door unit for the fault tests: the replay camera over a photo, the manual
//! trigger socket, the broker of a [`HubSetup`](crate::hub::HubSetup) (its embedded one, or
//! the school's over TLS), and a ledger of every record it commits.
//!
//! The ledger is how a test knows, record id by record id, what the edge committed: an SQLite
//! trigger added to the edge's own database copies each id inserted into the outbox into a
//! table the daemon never touches. It runs inside the daemon's insert transaction, so an id is
//! in the ledger exactly when its outbox row was committed, whatever point a `kill -9` hits.
//! The daemon deletes acknowledged rows from the outbox; the ledger keeps them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rollcall_models::pipeline::model_id;
use rusqlite::{Connection, OpenFlags};

use crate::hub::{BrokerAccess, Device, HubSetup, path_str};
use crate::process::Process;
use crate::wait_until;

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS e2e_ledger (id BLOB PRIMARY KEY NOT NULL)
        WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS e2e_ledger_insert AFTER INSERT ON outbox
        BEGIN INSERT OR IGNORE INTO e2e_ledger (id) VALUES (new.id); END;";

/// A door unit's config and data directory.
#[derive(Debug, Clone)]
pub struct EdgeSetup {
    pub dir: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
}

impl EdgeSetup {
    /// Writes `edge.toml` in `dir` for `device` of `hub`, replaying the photos in `replay`
    /// one per burst; no cooldown, so every trigger that finds a face commits a record.
    pub fn new(dir: &Path, hub: &HubSetup, device: &Device, replay: &Path) -> anyhow::Result<Self> {
        let camera = format!(
            "kind = \"replay\"\ndir = \"{}\"\nfps = 1000.0",
            replay.display()
        );
        Self::with_camera(dir, hub, device, &camera)
    }

    /// Like [`EdgeSetup::new`] with the `[camera]` section's body given.
    pub fn with_camera(
        dir: &Path,
        hub: &HubSetup,
        device: &Device,
        camera: &str,
    ) -> anyhow::Result<Self> {
        let BrokerAccess {
            url,
            other_nodes,
            ca_file,
        } = hub.broker_access();
        let mut ca_file = ca_file
            .map(|ca| format!("ca_file = \"{}\"\n", ca.display()))
            .unwrap_or_default();
        if !other_nodes.is_empty() {
            ca_file += &format!("other_nodes = {other_nodes:?}\n");
        }
        // A door unit with a client certificate logs in with it alone.
        let login = match &device.cert_dir {
            Some(certs) => format!(
                "client_cert = \"{}\"\nclient_key = \"{}\"\n",
                certs.join("client-cert.pem").display(),
                certs.join("client-key.pem").display()
            ),
            None => format!(
                "username = \"{}\"\nsecrets_file = \"{}\"\n",
                device.id,
                device.secrets.display()
            ),
        };
        let data = dir.join("edge-data");
        let config = dir.join("edge.toml");
        std::fs::write(
            &config,
            format!(
                r#"data_dir = "{data}"
[device]
id = "{id}"
site = "{site}"
room = "Room 1"
[broker]
url = "{url}"
{ca_file}{login}keep_alive = "5s"
reconnect_min = "100ms"
reconnect_max = "1s"
[trigger]
manual = true
[camera]
{camera}
[burst]
frames = 1
[matching]
# The shipped thresholds (edge/src/config/default.toml).
calibrated_for = "{model}"
mode = "centroid"
confident = 0.295
confident_weak = 0.285
uncertain = 0.40
min_margin = 0.08
cooldown = "1ms"
[outbox]
retry_min = "1s"
retry_max = "2s"
[status]
heartbeat = "1s"
"#,
                data = data.display(),
                id = device.id,
                site = crate::hub::SITE,
                model = model_id(),
            ),
        )?;
        crate::process::run("rollcall-edge", &["check-config", path_str(&config)?], &[])?;
        Ok(Self {
            dir: dir.to_owned(),
            data,
            config,
        })
    }

    /// `rollcall-edge run`, output to `<dir>/<log>`; returns at once.
    pub fn start(&self, log: &str) -> anyhow::Result<Process> {
        self.start_with(log, &[])
    }

    /// Like [`EdgeSetup::start`] with extra environment variables.
    pub fn start_with(&self, log: &str, env: &[(&str, &str)]) -> anyhow::Result<Process> {
        let args = ["run", "--config", path_str(&self.config)?];
        Process::start("rollcall-edge", &args, env, self.dir.join(log))
    }

    /// Starts the daemon and waits until its outbox exists and its trigger socket answers.
    pub fn start_ready(&self, log: &str) -> anyhow::Result<Process> {
        self.start_ready_with(log, &[])
    }

    /// Like [`EdgeSetup::start_ready`] with extra environment variables.
    pub fn start_ready_with(&self, log: &str, env: &[(&str, &str)]) -> anyhow::Result<Process> {
        let mut edge = self.start_with(log, env)?;
        wait_until("the edge", Duration::from_secs(120), || {
            edge.exited()
                || (self.db().is_file() && edge.output().contains("rollcall-edge running"))
        })?;
        anyhow::ensure!(!edge.exited(), "the edge stopped:\n{}", edge.output());
        Ok(edge)
    }

    /// Asks for a burst through the trigger socket: `Ok(false)` when one is already waiting.
    pub fn trigger(&self) -> std::io::Result<bool> {
        use std::io::{BufRead, BufReader, Write};
        let mut stream = std::os::unix::net::UnixStream::connect(self.data.join("trigger.sock"))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"trigger\n")?;
        let mut reply = String::new();
        BufReader::new(stream).read_line(&mut reply)?;
        Ok(reply.trim() == "ok")
    }

    pub fn db(&self) -> PathBuf {
        self.data.join("edge.db")
    }

    /// Records in the daemon's database (once it exists) that the hub said to keep faces that
    /// match nobody, as a hub set up by [`HubSetup`] says on connecting; the daemon reads it
    /// when it starts. For a test whose door unit never reaches a hub, and would otherwise
    /// discard them.
    pub fn remember_keeping_unknown_faces(&self) -> anyhow::Result<()> {
        let conn = Connection::open(self.db())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute(
            "INSERT INTO site (slot, timezone, unknown_faces) VALUES (1, 'Etc/UTC', 'keep')
             ON CONFLICT (slot) DO UPDATE SET unknown_faces = 'keep'",
            [],
        )
        .context("recording the hub's settings")?;
        Ok(())
    }

    /// Adds the ledger to the daemon's database (once it exists; idempotent).
    pub fn install_ledger(&self) -> anyhow::Result<()> {
        let conn = Connection::open(self.db())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(LEDGER).context("installing the ledger")
    }

    /// Every record id the daemon has committed since the ledger was installed.
    pub fn committed(&self) -> anyhow::Result<Vec<String>> {
        self.ids("SELECT id FROM e2e_ledger ORDER BY id")
    }

    /// Record ids still in the outbox (committed, not yet acknowledged).
    pub fn unacknowledged(&self) -> anyhow::Result<Vec<String>> {
        self.ids("SELECT id FROM outbox ORDER BY id")
    }

    fn ids(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        let conn = Connection::open_with_flags(self.db(), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|blob| {
            let blob = blob?;
            Ok(uuid::Uuid::from_slice(&blob)
                .context("a record id that is not 16 bytes")?
                .to_string())
        })
        .collect()
    }
}
