//! A real SMTP server for the e-mail tests: aiosmtpd (`apt-get install python3-aiosmtpd`),
//! started on a free loopback port, keeping each message it accepts as a file in a Maildir
//! (`switchable.py`, which can also be told to refuse every message). Plain, requiring
//! STARTTLS, or SMTPS, with a certificate the test made.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the server protects connections.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    Plain,
    /// STARTTLS required before any mail, with this certificate and key.
    Starttls(&'a Path, &'a Path),
    /// TLS from the first byte (SMTPS).
    Tls(&'a Path, &'a Path),
}

/// A running aiosmtpd, killed when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

/// The first python3 that has aiosmtpd; panics with the install command when none has.
fn python() -> &'static str {
    let has = |py: &str| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|py| has(py))
        .unwrap_or_else(|| {
            let what = "aiosmtpd, the e-mail tests' SMTP server";
            panic!("{}", rollcall_e2e::setup::missing(what, "python3-aiosmtpd"))
        })
}

impl SmtpSink {
    /// A server on a free port; with `tls = Some((cert, key))` it requires STARTTLS.
    pub async fn start(dir: &Path, tls: Option<(&Path, &Path)>) -> SmtpSink {
        let mode = match tls {
            Some((cert, key)) => Mode::Starttls(cert, key),
            None => Mode::Plain,
        };
        SmtpSink::start_in(dir, mode).await
    }

    /// A server on a free port, protected as `mode` says. Another test may take the port
    /// between the system naming it and aiosmtpd binding it: then another one is tried.
    pub async fn start_in(dir: &Path, mode: Mode<'_>) -> SmtpSink {
        let maildir = dir.join("maildir");
        for _ in 0..5 {
            let port = rollcall_e2e::free_port().unwrap();
            let mut child = spawn(&maildir, port, mode);
            if ready(&mut child, port, mode).await {
                return SmtpSink {
                    port,
                    maildir,
                    child,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aiosmtpd did not start on any of five free ports");
    }

    /// While `on`, the server answers every message 554 (refused).
    pub fn refuse(&self, on: bool) {
        let switch = self.maildir.parent().unwrap().join("refuse");
        match on {
            true => std::fs::write(switch, b"").unwrap(),
            false => std::fs::remove_file(switch).unwrap(),
        }
    }

    /// Every message received so far, as text.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        out.sort();
        out
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<String> {
        let header = format!("X-RcptTo: {address}");
        self.messages()
            .into_iter()
            .filter(|m| m.contains(&header))
            .collect()
    }
}

fn spawn(maildir: &Path, port: u16, mode: Mode<'_>) -> Child {
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/support");
    let mut cmd = Command::new(python());
    cmd.env("PYTHONPATH", support)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "switchable.Switchable"]);
    match mode {
        Mode::Plain => {}
        Mode::Starttls(cert, key) => {
            cmd.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
        }
        Mode::Tls(cert, key) => {
            cmd.arg("--smtpscert").arg(cert).arg("--smtpskey").arg(key);
        }
    }
    cmd.arg(maildir).stdout(Stdio::null()).stderr(Stdio::null());
    cmd.spawn().expect("starting aiosmtpd")
}

/// Whether our aiosmtpd listens on `port` (a plain one greets with 220; over SMTPS, only a
/// connection is checked), polling until it does or has exited.
async fn ready(child: &mut Child, port: u16, mode: Mode<'_>) -> bool {
    use tokio::io::AsyncReadExt;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            if matches!(mode, Mode::Tls(..)) {
                return true;
            }
            let mut banner = [0u8; 3];
            let read = tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut banner));
            return matches!(read.await, Ok(Ok(_))) && &banner == b"220";
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
