//! A real SMTP server for the e-mail tests: aiosmtpd (`apt-get install python3-aiosmtpd`),
//! started on a free loopback port, keeping each message it accepts as a file in a Maildir.
//! Plain, or requiring STARTTLS with a certificate the test made.

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
        .expect(
            "the e-mail tests need a real SMTP server, aiosmtpd: \
             apt-get install -y python3-aiosmtpd",
        )
}

impl SmtpSink {
    /// A server on a free port; with `tls = Some((cert, key))` it requires STARTTLS.
    pub async fn start(dir: &Path, tls: Option<(&Path, &Path)>) -> SmtpSink {
        let mode = match tls {
            Some((cert, key)) => Mode::Starttls(cert, key),
            None => Mode::Plain,
        };
        SmtpSink::start_on(dir, free_port(), mode).await
    }

    /// [`SmtpSink::start`] on a given port (one a test reserved with [`free_port`]).
    pub async fn start_on(dir: &Path, port: u16, mode: Mode<'_>) -> SmtpSink {
        let maildir = dir.join("maildir");
        let mut cmd = Command::new(python());
        cmd.args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"]);
        match mode {
            Mode::Plain => {}
            Mode::Starttls(cert, key) => {
                cmd.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
            }
            Mode::Tls(cert, key) => {
                cmd.arg("--smtpscert").arg(cert).arg("--smtpskey").arg(key);
            }
        }
        cmd.arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("starting aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink {
            port,
            maildir,
            child,
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

/// A loopback port nothing listens on (the system's choice, released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
