//! A real PostgreSQL server for one test: its own cluster (`initdb`), port and directory,
//! stopped on drop. It can be killed and started again on the same port with the same data (a
//! database outage). Run as root (a CI container), the server runs as `nobody`: PostgreSQL
//! refuses to run as root, and a test needs nothing of root's.
//!
//! The cluster sorts text by code point (`--locale=C`), as the hub requires, and trusts
//! connections from this machine: the user is `rollcall`, with no password.

use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

/// The user a root test runs the server as.
const NOBODY: u32 = 65534;
/// The cluster's superuser.
pub const USER: &str = "rollcall";

/// A PostgreSQL server: running, or stopped by [`Postgres::kill`] until
/// [`Postgres::restart`].
#[derive(Debug)]
pub struct Postgres {
    child: Option<Child>,
    port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Serving TLS with this certificate and key (copies the server's user owns).
    tls: Option<(PathBuf, PathBuf)>,
}

impl Postgres {
    /// Creates a cluster and starts its server on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(None)
    }

    /// Like [`Postgres::start`], accepting TLS (and plain) connections with the PKI's server
    /// certificate, which names `localhost` and `127.0.0.1`.
    pub fn start_tls(pki: &crate::pki::Pki) -> anyhow::Result<Self> {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&crate::pki::Pki>) -> anyhow::Result<Self> {
        let bin = bin_dir()?;
        let dir = tempfile::tempdir()?;
        if as_root() {
            chown(dir.path(), Some(NOBODY), Some(NOBODY))?;
        }
        let data = dir.path().join("data");
        let out = command(&bin, "initdb")
            .args([
                "-U",
                USER,
                "--auth=trust",
                "--locale=C",
                "-E",
                "UTF8",
                "-N",
                "-D",
            ])
            .arg(&data)
            .output()
            .context("running initdb")?;
        anyhow::ensure!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tls = match pki {
            Some(pki) => Some(server_files(dir.path(), pki)?),
            None => None,
        };
        let mut server = Self {
            child: None,
            port: crate::free_port()?,
            bin,
            dir,
            tls,
        };
        // Another test's server may take the port between its pick and this server's bind:
        // then this one exits saying so, and tries another port.
        for _ in 0..4 {
            match server.restart() {
                Err(e) if server.log().contains("could not bind") => {
                    eprintln!(
                        "postgres: port {} was taken, trying another: {e:#}",
                        server.port
                    );
                    server.port = crate::free_port()?;
                }
                done => return done.map(|()| server),
            }
        }
        server.restart()?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        let sql = format!("CREATE DATABASE \"{name}\"");
        self.psql("postgres", &sql)?;
        Ok(self.url(name))
    }

    /// Runs `sql` in database `name` with psql; returns what it printed (unaligned, no
    /// headers).
    pub fn psql(&self, name: &str, sql: &str) -> anyhow::Result<String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(name))
            .args(["-c", sql])
            .output()
            .context("running psql")?;
        anyhow::ensure!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs the server's client program `tool` (`pg_dump`, `psql`, …) with `args`; returns
    /// what it wrote to standard output.
    pub fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<Vec<u8>> {
        let out = Command::new(self.bin.join(tool))
            .args(args)
            .output()
            .with_context(|| format!("running {tool}"))?;
        anyhow::ensure!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.stdout)
    }

    /// Kills the server with SIGKILL (a crash, or its machine losing power) and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the server again on the same port and data, and waits until it takes queries.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "postgres is already running");
        let log = std::fs::File::create(self.dir.path().join("postgres.log"))?;
        if as_root() {
            chown(
                self.dir.path().join("postgres.log"),
                Some(NOBODY),
                Some(NOBODY),
            )?;
        }
        let mut postgres = command(&self.bin, "postgres");
        if let Some((cert, key)) = &self.tls {
            postgres
                .args(["-c", "ssl=on", "-c"])
                .arg(format!("ssl_cert_file={}", cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", key.display()));
        }
        let child = postgres
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args([
                "-p",
                &self.port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
            ])
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .arg("-k")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting postgres")?;
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.ready() {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok())
                .flatten()
            {
                self.child = None;
                anyhow::bail!("postgres exited ({status}):\n{}", self.log());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "postgres did not take connections within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether this server takes connections, asked through its own socket directory: a server
    /// of another test that holds the same port does not answer there.
    fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-q", "-p", &self.port.to_string(), "-h"])
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT: the fast shutdown, which ends the server's own processes too.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// The PKI's server certificate and key copied beside the cluster, owned by the server's user
/// and the key readable by it alone (PostgreSQL refuses a key others can read).
fn server_files(dir: &Path, pki: &crate::pki::Pki) -> anyhow::Result<(PathBuf, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let (cert, key) = (dir.join("server-cert.pem"), dir.join("server-key.pem"));
    std::fs::copy(&pki.server_cert, &cert)?;
    std::fs::copy(&pki.server_key, &key)?;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    if as_root() {
        for file in [&cert, &key] {
            chown(file, Some(NOBODY), Some(NOBODY))?;
        }
    }
    Ok((cert, key))
}

/// `program` from the server's binaries, run as `nobody` when this process is root.
fn command(bin: &Path, program: &str) -> Command {
    match as_root() {
        true => {
            let mut c = Command::new("setpriv");
            c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
                .arg(bin.join(program));
            c
        }
        false => Command::new(bin.join(program)),
    }
}

fn as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The newest installed server's binaries (Debian keeps them out of `PATH`).
fn bin_dir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).with_context(|| {
        let where_ = "no server in /usr/lib/postgresql/*/bin";
        crate::setup::missing("PostgreSQL", where_)
    })
}
