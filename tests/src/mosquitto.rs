//! A real Mosquitto broker for one test: its own config, port and directory, killed on drop.

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

/// A running broker.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts a broker on a free loopback port that accepts anonymous clients.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with("allow_anonymous true\n")
    }

    /// Starts a broker with `extra` appended to a config holding only the listener.
    pub fn start_with(extra: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = crate::free_port()?;
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\npersistence false\n{extra}"),
        )?;
        let child = spawn(&conf, dir.path())?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut broker = Self {
            child,
            addr,
            _dir: dir,
        };
        crate::wait_until("mosquitto", Duration::from_secs(10), || {
            crate::accepts_connections(addr) || broker.exited()
        })?;
        anyhow::ensure!(
            !broker.exited(),
            "mosquitto exited at start; see its log above"
        );
        Ok(broker)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(conf: &Path, dir: &Path) -> anyhow::Result<Child> {
    let binary = find_binary().context(
        "mosquitto is not installed: `apt-get install mosquitto` (the end-to-end tests need a real broker)",
    )?;
    Command::new(binary)
        .arg("-c")
        .arg(conf)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
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
