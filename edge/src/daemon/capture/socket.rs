//! The manual trigger: a Unix socket in the data directory. `rollcall-edge trigger` writes
//! `trigger\n` and reads back `ok\n` (a burst is queued) or `busy\n` (one is already waiting).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

use super::trigger::{Trigger, TriggerError, TriggerGuard, TriggerKind, TriggerTx};
use crate::daemon::shutdown::Shutdown;

/// The socket's file name inside the data directory.
pub const SOCKET_NAME: &str = "trigger.sock";

/// Longest request line read.
const MAX_LINE: usize = 64;

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
    let reply = match read {
        Ok(Ok(_)) if line.trim() == "trigger" => {
            if tx.fire(TriggerKind::Manual) {
                "ok\n"
            } else {
                "busy\n"
            }
        }
        _ => "error: send `trigger`\n",
    };
    let _ = write.write_all(reply.as_bytes()).await;
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

/// Asks the daemon listening on `path` for a burst. `Ok(false)`: one is already waiting.
pub fn send_trigger(path: &Path) -> Result<bool, SendTriggerError> {
    let mut stream = UnixStream::connect(path).map_err(|source| SendTriggerError::Connect {
        path: path.to_owned(),
        source,
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"trigger\n")?;
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
    use super::*;

    #[tokio::test]
    async fn a_manual_trigger_reaches_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = socket_path(dir.path());
        let (tx, mut rx) = TriggerTx::channel();
        let (stop, shutdown) = Shutdown::new();
        let _guard = Box::new(ManualTrigger { path: path.clone() })
            .start(tx, shutdown)
            .unwrap();
        let p = path.clone();
        let answers = tokio::task::spawn_blocking(move || {
            (0..3)
                .map(|_| send_trigger(&p).unwrap())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        assert_eq!(answers, [true, true, false]);
        assert_eq!(rx.recv().await.unwrap().kind, TriggerKind::Manual);
        stop.trigger();
    }
}
