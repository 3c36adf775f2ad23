//! The real `rollcall-hub` binary under a 1024 open-file limit (soft and hard, as a systemd
//! service gets by default) against idle and half-open clients: it lowers its connection caps
//! to fit, keeps answering `/health` while 1,100 idle HTTP and 300 idle MQTT connections are
//! open, and closes a half-sent request and a silent MQTT client within their timeouts; in
//! process, a stalled request is answered 503 and an idle kept-alive connection is closed.
//!
//! A test binary of its own, never run beside the others of `integration/` (see
//! `ONE_AT_A_TIME`); it borrows their hub harness, of which it uses a few helpers.

#[path = "integration/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN, PASSWORD, wait_for};
use reqwest::StatusCode;
use rollcall_e2e::{accepts_connections, free_port, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The hub's open-file limit, soft and hard, so it cannot raise it.
const NOFILE: u64 = 1024;
/// The test's short timeouts (seconds) and the most any close may take.
const HEADER_TIMEOUT: u64 = 2;
const CONNECT_TIMEOUT: u64 = 2;
const CLOSE_WITHIN: Duration = Duration::from_secs(30);

/// One test at a time. The hub process of the first test listens on a port `free_port` found
/// free a moment before, while the others start in-process hubs on port 0: run side by side,
/// the kernel could hand that same port to an in-process hub before the process bound it, and
/// the 1,100 idle connections would then flood the other test's hub (both failed so, about
/// one run in three).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A hub process, killed on drop.
struct HubProcess {
    child: Child,
    http: u16,
    mqtt: u16,
    log: std::path::PathBuf,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HubProcess {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Writes a config with short timeouts and starts `rollcall-hub serve` limited to [`NOFILE`].
fn start(dir: &Path) -> HubProcess {
    let data = dir.join("data");
    rollcall_hub::setup::init(&data, ADMIN, PASSWORD).unwrap();
    let (http, mqtt) = (free_port().unwrap(), free_port().unwrap());
    let config = dir.join("hub.toml");
    let toml = format!(
        "site = \"limits\"\ndata_dir = \"{}\"\n\
         [http]\nlisten = \"127.0.0.1:{http}\"\nheader_timeout_secs = {HEADER_TIMEOUT}\n\
         [mqtt.embedded]\nlisten = \"127.0.0.1:{mqtt}\"\nconnect_timeout_secs = {CONNECT_TIMEOUT}\n\
         [faces]\nenabled = false\n",
        data.display()
    );
    std::fs::write(&config, toml).unwrap();
    let log = dir.join("hub.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall-hub"));
    command
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    // SAFETY: setrlimit is async-signal-safe and touches nothing of the parent's.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: NOFILE,
                rlim_max: NOFILE,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let hub = HubProcess {
        child: command.spawn().unwrap(),
        http,
        mqtt,
        log,
    };
    let ready = wait_until("the hub", Duration::from_secs(60), || {
        accepts_connections(([127, 0, 0, 1], http).into())
            && accepts_connections(([127, 0, 0, 1], mqtt).into())
    });
    assert!(ready.is_ok(), "the hub did not start:\n{}", hub.log());
    hub
}

/// `count` TCP connections to `port` that never send a byte.
async fn idle_connections(port: u16, count: usize) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        open.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    open
}

/// How long the hub takes to close `stream` (reading until end of file or reset).
async fn closed_after(mut stream: TcpStream, started: Instant) -> Duration {
    let mut buf = [0u8; 1024];
    let read_all = async {
        while let Ok(n) = stream.read(&mut buf).await
            && n > 0
        {}
    };
    let closed = tokio::time::timeout(CLOSE_WITHIN, read_all).await;
    assert!(closed.is_ok(), "still open after {CLOSE_WITHIN:?}");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_open_clients_cannot_exhaust_the_hub() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let own = rollcall_hub::open_files::raise().unwrap();
    assert!(
        own.soft >= 2048,
        "this test needs 2048 open files itself: {own:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path());
    let log = hub.log();
    assert!(log.contains("open-file limit: soft 1024"), "{log}");
    assert!(
        log.contains("serving at most 768 HTTP and 192 MQTT"),
        "{log}"
    );

    let idle_http = idle_connections(hub.http, 1100).await;
    let idle_mqtt = idle_connections(hub.mqtt, 300).await;
    let api = common::Api::new(([127, 0, 0, 1], hub.http).into());
    // A request that gets nowhere (it once hung a CI run, with no socket open) is given up
    // after a few seconds and tried again, until CLOSE_WITHIN.
    wait_for("/health amid idle clients", CLOSE_WITHIN, || async {
        let health = tokio::time::timeout(Duration::from_secs(5), api.get("/health")).await;
        matches!(health, Ok((StatusCode::OK, _)))
    })
    .await;
    assert!(hub.log().contains("http: connection limit reached"));
    drop((idle_http, idle_mqtt));

    let mut half = TcpStream::connect(("127.0.0.1", hub.http)).await.unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let took = closed_after(half, Instant::now()).await;
    let header = Duration::from_secs(HEADER_TIMEOUT);
    assert!(
        took >= header / 2,
        "closed after {took:?}, before the header timeout"
    );

    let silent = TcpStream::connect(("127.0.0.1", hub.mqtt)).await.unwrap();
    let took = closed_after(silent, Instant::now()).await;
    let connect = Duration::from_secs(CONNECT_TIMEOUT);
    assert!(
        took >= connect / 2,
        "closed after {took:?}, before the CONNECT timeout"
    );

    assert_eq!(api.get("/health").await.0, StatusCode::OK);
    assert!(
        hub.log().contains("mqtt: no CONNECT in time"),
        "{}",
        hub.log()
    );
}

#[tokio::test]
async fn a_request_that_runs_past_the_request_timeout_is_answered_503() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let hub = common::start_hub_with(None, |c| c.http.request_timeout_secs = 1).await;
    let mut stalled = TcpStream::connect(hub.addr).await.unwrap();
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"username\":";
    stalled.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSE_WITHIN, stalled.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within {CLOSE_WITHIN:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("http.request_timeout_secs"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(500), "{answer}");
    hub.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_with_nothing_going_on_is_closed_after_the_idle_timeout() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let hub = common::start_hub_with(None, |c| {
        c.http.header_timeout_secs = 20;
        c.http.idle_timeout_secs = 1;
    })
    .await;
    let mut kept = TcpStream::connect(hub.addr).await.unwrap();
    let request = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
    kept.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSE_WITHIN, kept.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "still open after {CLOSE_WITHIN:?}");
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        took < Duration::from_secs(20),
        "closed by the header timer, not idle: {took:?}"
    );
    hub.stop().await;
}
