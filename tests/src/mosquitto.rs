//! A real Mosquitto broker for one test: its own config, port and directory, killed on drop.
//! It can be killed and started again on the same port with the same config (a broker
//! outage), and its log (`mosquitto.log` in its directory, kept across restarts) is printed
//! when a test fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

/// Where Debian puts the broker; `PATH` may not include `/usr/sbin` for normal users.
const CANDIDATES: &[&str] = &[
    "mosquitto",
    "/usr/sbin/mosquitto",
    "/usr/local/sbin/mosquitto",
];

/// A broker: running, or stopped by [`Mosquitto::kill`] until [`Mosquitto::restart`].
#[derive(Debug)]
pub struct Mosquitto {
    child: Option<Child>,
    addr: SocketAddr,
    conf: PathBuf,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts a broker on a free loopback port that accepts anonymous clients.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with("allow_anonymous true\n")
    }

    /// Starts a broker with `extra` appended to a config holding only the listener.
    pub fn start_with(extra: &str) -> anyhow::Result<Self> {
        Self::start_on(crate::free_port()?, extra)
    }

    /// Like [`Mosquitto::start_with`] on a given loopback port (chosen with
    /// [`free_port`](crate::free_port) when other config must name it first).
    pub fn start_on(port: u16, extra: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\npersistence false\n{extra}"),
        )?;
        let mut broker = Self {
            child: None,
            addr: ([127, 0, 0, 1], port).into(),
            conf,
            dir,
        };
        broker.restart()?;
        Ok(broker)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Kills the broker with SIGKILL (a crash, or its machine losing power) and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the broker again with the same config on the same port and waits until it
    /// accepts connections (Mosquitto sets `SO_REUSEADDR`, so the port is free at once).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "mosquitto is already running");
        self.child = Some(spawn(&self.conf, self.dir.path())?);
        let addr = self.addr;
        crate::wait_until("mosquitto", Duration::from_secs(10), || {
            crate::accepts_connections(addr) || self.exited()
        })?;
        anyhow::ensure!(
            !self.exited(),
            "mosquitto exited at start:\n{}",
            self.output()
        );
        Ok(())
    }

    /// Its log so far, every run included.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    fn exited(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else {
            return true;
        };
        matches!(child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.kill();
        if std::thread::panicking() {
            eprintln!("---- mosquitto log ----\n{}", self.output());
        }
    }
}

fn spawn(conf: &Path, dir: &Path) -> anyhow::Result<Child> {
    let binary = find_binary().with_context(|| {
        crate::setup::missing("mosquitto", "the end-to-end tests need a real broker")
    })?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("mosquitto.log"))?;
    Command::new(binary)
        .arg("-c")
        .arg(conf)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting mosquitto")
}

fn find_binary() -> Option<PathBuf> {
    CANDIDATES.iter().map(PathBuf::from).find(|p| {
        Command::new(p)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}
