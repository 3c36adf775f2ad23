//! Harness for the end-to-end tests: real processes on free loopback ports, readiness by
//! polling with a deadline (never by sleeping a fixed time), and clean-up on drop.

pub mod api;
pub mod door;
pub mod edge;
pub mod faces;
pub mod fault;
pub mod hub;
pub mod mosquitto;
pub mod nats;
pub mod pki;
pub mod postgres;
pub mod process;
pub mod school_broker;
pub mod setup;
pub mod sms;
pub mod standin;
pub mod tmpfs;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Where the scripts put the tools the tests need (axe-core, the OpenID provider):
/// `${XDG_DATA_HOME:-$HOME/.local/share}/rollcall`.
pub fn tools_dir() -> std::path::PathBuf {
    let home = || std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| home().join(".local/share"))
        .join("rollcall")
}

/// A loopback port that was free a moment ago. The OS hands out ephemeral ports in sequence,
/// so a port just released is not handed out again soon.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `n` loopback ports that were free a moment ago, all different: each is held until all are
/// picked, so the kernel cannot hand one out twice.
pub fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    Ok(held
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?)
}

/// Polls `ready` every 20 ms until it returns `true` or `timeout` passes.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("{what} was not ready within {timeout:?}")
}

/// Whether something accepts TCP connections at `addr`.
pub fn accepts_connections(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}
