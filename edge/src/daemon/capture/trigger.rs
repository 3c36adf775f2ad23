//! What starts a burst. Every source sends into one small bounded channel with `try_send`:
//! when a burst is already queued, further triggers are dropped and counted, never queued
//! without bound and never blocking (a GPIO interrupt callback must return at once).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::daemon::shutdown::Shutdown;

/// Bursts that may wait while one runs.
pub const QUEUE: usize = 2;

/// Which source fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    Gpio,
    Interval,
    Manual,
    Hub,
}

/// One request for a burst.
#[derive(Debug, Clone, Copy)]
pub struct TriggerEvent {
    pub kind: TriggerKind,
    pub at: tokio::time::Instant,
}

/// The sending side every trigger source holds.
#[derive(Debug, Clone)]
pub struct TriggerTx {
    tx: mpsc::Sender<TriggerEvent>,
    dropped: Arc<AtomicU64>,
}

impl TriggerTx {
    /// A trigger channel with room for [`QUEUE`] waiting bursts.
    pub fn channel() -> (Self, mpsc::Receiver<TriggerEvent>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::default();
        (Self { tx, dropped }, rx)
    }

    /// Asks for a burst without blocking; `false` (and counted) when the queue is full.
    pub fn fire(&self, kind: TriggerKind) -> bool {
        let event = TriggerEvent {
            kind,
            at: tokio::time::Instant::now(),
        };
        let sent = self.tx.try_send(event).is_ok();
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Triggers dropped because a burst was already waiting.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Why a trigger source could not start.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("GPIO: {0}")]
    Gpio(String),
    #[error("manual trigger socket {path}: {source}")]
    Socket {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("this build has no {0} support (rebuild with --features {0})")]
    NotBuilt(&'static str),
}

/// A source of triggers. `start` returns once the source is running; it stops on shutdown
/// (or when the returned guard is dropped, for sources not driven by a task).
pub trait Trigger: Send + 'static {
    fn start(
        self: Box<Self>,
        tx: TriggerTx,
        shutdown: Shutdown,
    ) -> Result<TriggerGuard, TriggerError>;
}

/// Keeps a running trigger source alive.
#[derive(Debug)]
pub enum TriggerGuard {
    Task(JoinHandle<()>),
    Held(Box<dyn std::any::Any + Send>),
}

/// A burst every `period`, the first one `period` after start.
#[derive(Debug, Clone, Copy)]
pub struct IntervalTrigger {
    pub period: Duration,
}

impl Trigger for IntervalTrigger {
    fn start(
        self: Box<Self>,
        tx: TriggerTx,
        mut shutdown: Shutdown,
    ) -> Result<TriggerGuard, TriggerError> {
        let period = self.period;
        let task = tokio::spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = shutdown.wait() => break,
                    _ = ticks.tick() => {
                        if !tx.fire(TriggerKind::Interval) {
                            tracing::debug!("interval trigger dropped: a burst is already waiting");
                        }
                    }
                }
            }
        });
        Ok(TriggerGuard::Task(task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn interval_fires_on_time_and_overflow_is_counted_not_queued() {
        let (tx, mut rx) = TriggerTx::channel();
        let (trigger_shutdown, shutdown) = Shutdown::new();
        let guard = Box::new(IntervalTrigger {
            period: Duration::from_secs(10),
        })
        .start(tx.clone(), shutdown)
        .unwrap();
        tokio::time::sleep(Duration::from_secs(35)).await;
        let mut got = 0;
        while rx.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, QUEUE, "only {QUEUE} wait; the rest were dropped");
        assert_eq!(tx.dropped(), 1);
        trigger_shutdown.trigger();
        if let TriggerGuard::Task(t) = guard {
            t.await.unwrap();
        }
    }
}
