//! The manual trigger: a Unix socket in the data directory. `rollcall-edge trigger` writes
//! `trigger\n` and reads back `ok\n` (a burst is queued) or `busy\n` (one is already waiting).
//! `trigger 2000\n` (`rollcall-edge trigger --hold 2s`) also says someone stays at the door
//! for 2,000 ms, as a held sensor would: the walk-in is followed that long (a drill, or
//! replayed walk-ins).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::trigger::{Presence, Trigger, TriggerError, TriggerGuard, TriggerKind, TriggerTx};
use crate::daemon::shutdown::Shutdown;

/// The socket's file name inside the data directory.
pub const SOCKET_NAME: &str = "trigger.sock";

/// Longest request line read.
const MAX_LINE: usize = 64;

/// The longest `--hold` (the longest `[burst] follow` too).
pub const MAX_HOLD: Duration = Duration::from_secs(10);

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Listens on `path` for manual triggers.
#[derive(Debug, Clone)]
pub struct ManualTrigger {
    pub path: PathBuf,
}

impl Trigger for ManualTrigger {
    fn start(
        self: Box<Self>,
        tx: TriggerTx,
        mut shutdown: Shutdown,
    ) -> Result<TriggerGuard, TriggerError> {
        let err = |source| TriggerError::Socket {
            path: self.path.clone(),
            source,
        };
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path).map_err(err)?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o660))
            .map_err(err)?;
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.wait() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => { tokio::spawn(serve(stream, tx.clone())); }
                        Err(e) => tracing::warn!("trigger socket: {e}"),
                    },
                }
            }
            let _ = std::fs::remove_file(&self.path);
        });
        Ok(TriggerGuard::Task(task))
    }
}

async fn serve(stream: tokio::net::UnixStream, tx: TriggerTx) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read).take(MAX_LINE as u64);
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await;
    let presence = match read {
        Ok(Ok(_)) => request(&line),
        _ => None,
    };
    let reply = match presence.map(|p| tx.fire_with(TriggerKind::Manual, p)) {
        Some(true) => "ok\n",
        Some(false) => "busy\n",
        None => "error: send `trigger` or `trigger MILLISECONDS` (at most 10000)\n",
    };
    let _ = write.write_all(reply.as_bytes()).await;
}

/// What a request line asks for: a burst, and whether someone is said to stay (`None`: not
/// a request).
fn request(line: &str) -> Option<Presence> {
    let mut words = line.split_whitespace();
    if words.next() != Some("trigger") {
        return None;
    }
    let presence = match words.next() {
        None => Presence::Unknown,
        Some(ms) => {
            let hold = Duration::from_millis(ms.parse().ok()?);
            if hold > MAX_HOLD {
                return None;
            }
            Presence::Until(tokio::time::Instant::now() + hold)
        }
    };
    words.next().is_none().then_some(presence)
}

/// Why `rollcall-edge trigger` failed.
#[derive(Debug, thiserror::Error)]
pub enum SendTriggerError {
    #[error("cannot reach the daemon at {path} (is `rollcall-edge run` running?): {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("talking to the daemon: {0}")]
    Io(#[from] std::io::Error),
    #[error("the daemon answered {0:?}")]
    Refused(String),
}

/// Asks the daemon listening on `path` for a burst, saying someone stays at the door for
/// `hold` if given (at most [`MAX_HOLD`]). `Ok(false)`: one is already waiting.
pub fn send_trigger(path: &Path, hold: Option<Duration>) -> Result<bool, SendTriggerError> {
    let mut stream = UnixStream::connect(path).map_err(|source| SendTriggerError::Connect {
        path: path.to_owned(),
        source,
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let request = match hold {
        Some(hold) => format!("trigger {}\n", hold.as_millis()),
        None => "trigger\n".to_owned(),
    };
    stream.write_all(request.as_bytes())?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    match reply.trim() {
        "ok" => Ok(true),
        "busy" => Ok(false),
        other => Err(SendTriggerError::Refused(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::trigger::TriggerEvent;
    use super::*;
    use crate::daemon::shutdown::ShutdownTrigger;

    /// A manual trigger listening in a fresh directory: what it queues, and how to stop it.
    struct Listening {
        _dir: tempfile::TempDir,
        path: PathBuf,
        queued: tokio::sync::mpsc::Receiver<TriggerEvent>,
        stop: ShutdownTrigger,
        _guard: TriggerGuard,
    }

    fn listening() -> Listening {
        let dir = tempfile::tempdir().unwrap();
        let path = socket_path(dir.path());
        let (tx, queued) = TriggerTx::channel();
        let (stop, shutdown) = Shutdown::new();
        let guard = Box::new(ManualTrigger { path: path.clone() })
            .start(tx, shutdown)
            .unwrap();
        Listening {
            _dir: dir,
            path,
            queued,
            stop,
            _guard: guard,
        }
    }

    /// `rollcall-edge trigger [--hold]`'s answer, from a blocking thread as the command runs.
    async fn send(path: &Path, hold: Option<Duration>) -> Result<bool, SendTriggerError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || send_trigger(&path, hold))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_manual_trigger_reaches_the_queue() {
        let mut l = listening();
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(send(&l.path, None).await.unwrap());
        }
        assert_eq!(answers, [true, true, false]);
        assert_eq!(l.queued.recv().await.unwrap().kind, TriggerKind::Manual);
        l.stop.trigger();
    }

    #[tokio::test]
    async fn a_held_trigger_says_someone_stays_and_a_bad_request_is_refused() {
        let mut l = listening();
        assert!(send(&l.path, Some(Duration::from_secs(2))).await.unwrap());
        let event = l.queued.recv().await.unwrap();
        assert_eq!(event.presence.now(), Some(true), "{:?}", event.presence);
        assert!(matches!(request("trigger\n"), Some(Presence::Unknown)));
        for bad in ["trigger 10001", "trigger soon", "trigger 5 5", "go"] {
            assert!(request(bad).is_none(), "{bad}");
        }
        let err = send(&l.path, Some(Duration::from_secs(11))).await;
        let err = err.unwrap_err().to_string();
        assert!(err.contains("at most 10000"), "{err}");
        l.stop.trigger();
    }
}
