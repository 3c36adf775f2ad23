//! What starts a burst. Every source sends into one small bounded channel with `try_send`:
//! when a burst is already queued, further triggers are dropped and counted, never queued
//! without bound and never blocking (a GPIO interrupt callback must return at once).
//!
//! A trigger also says, if it can, whether someone is still there ([`Presence`]): a PIR
//! sensor holds its output while it sees motion, and the pipeline follows the walk-in for as
//! long (`[burst] follow`, `rollcall_models::burst::follow`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
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
#[derive(Debug, Clone)]
pub struct TriggerEvent {
    pub kind: TriggerKind,
    pub at: tokio::time::Instant,
    /// Whether, asked later, someone is still there.
    pub presence: Presence,
}

/// Whether the trigger still says someone is at the door.
#[derive(Debug, Clone, Default)]
pub enum Presence {
    /// A trigger that cannot say: a button's press, the interval, the hub's request.
    #[default]
    Unknown,
    /// A sensor's output: `true` while it sees someone (a PIR held high).
    Sensor(watch::Receiver<bool>),
    /// Someone is there until this instant (`rollcall-edge trigger --hold 2s`: a drill, or
    /// replayed walk-ins).
    Until(tokio::time::Instant),
}

impl Presence {
    /// Whether someone is there now (`None`: the trigger cannot say).
    pub fn now(&self) -> Option<bool> {
        match self {
            Presence::Unknown => None,
            Presence::Sensor(level) => Some(*level.borrow()),
            Presence::Until(until) => Some(tokio::time::Instant::now() < *until),
        }
    }
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
        self.fire_with(kind, Presence::Unknown)
    }

    /// [`fire`](Self::fire), saying how to tell whether someone is still there.
    pub fn fire_with(&self, kind: TriggerKind, presence: Presence) -> bool {
        let event = TriggerEvent {
            kind,
            at: tokio::time::Instant::now(),
            presence,
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

/// A burst every `period`, the first one `period` after start or after the period changes
/// (`[trigger] interval`, from `edge.toml` or the hub); none while it is `None`.
#[derive(Debug)]
pub struct IntervalTrigger {
    pub period: watch::Receiver<Option<Duration>>,
}

impl Trigger for IntervalTrigger {
    fn start(
        self: Box<Self>,
        tx: TriggerTx,
        mut shutdown: Shutdown,
    ) -> Result<TriggerGuard, TriggerError> {
        let mut period = self.period;
        let task = tokio::spawn(async move {
            loop {
                let every = *period.borrow_and_update();
                tokio::select! {
                    _ = shutdown.wait() => break,
                    changed = period.changed() => if changed.is_err() {
                        // Nobody will change it again: tick as it is until shutdown.
                        tokio::select! {
                            _ = shutdown.wait() => {}
                            _ = tick(every, &tx) => {}
                        }
                        break;
                    },
                    _ = tick(every, &tx) => {}
                }
            }
        });
        Ok(TriggerGuard::Task(task))
    }
}

/// Fires every `every`, first `every` from now; never returns (and never fires for `None`).
async fn tick(every: Option<Duration>, tx: &TriggerTx) {
    let Some(every) = every else {
        return std::future::pending().await;
    };
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if !tx.fire(TriggerKind::Interval) {
            tracing::debug!("interval trigger dropped: a burst is already waiting");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn presence_says_what_the_trigger_knows() {
        assert_eq!(Presence::Unknown.now(), None);
        let (sensor, level) = watch::channel(true);
        let held = Presence::Sensor(level);
        assert_eq!(held.now(), Some(true));
        sensor.send_replace(false);
        assert_eq!(held.now(), Some(false), "read when asked, not when fired");
        let hold = Presence::Until(tokio::time::Instant::now() + Duration::from_secs(2));
        assert_eq!(hold.now(), Some(true));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(hold.now(), Some(false));
    }

    #[tokio::test(start_paused = true)]
    async fn interval_fires_on_time_and_overflow_is_counted_not_queued() {
        let (tx, mut rx) = TriggerTx::channel();
        let (trigger_shutdown, shutdown) = Shutdown::new();
        let (period, every) = watch::channel(Some(Duration::from_secs(10)));
        let guard = Box::new(IntervalTrigger { period: every })
            .start(tx.clone(), shutdown)
            .unwrap();
        tokio::time::sleep(Duration::from_secs(35)).await;
        let mut got = 0;
        while rx.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, QUEUE, "only {QUEUE} wait; the rest were dropped");
        assert_eq!(tx.dropped(), 1);

        // The hub switches it off, then sets another period.
        period.send_replace(None);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(rx.try_recv().is_err(), "off: no burst");
        period.send_replace(Some(Duration::from_secs(20)));
        tokio::time::sleep(Duration::from_secs(19)).await;
        assert!(rx.try_recv().is_err(), "the new period starts now");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(rx.try_recv().is_ok());
        trigger_shutdown.trigger();
        if let TriggerGuard::Task(t) = guard {
            t.await.unwrap();
        }
    }
}
