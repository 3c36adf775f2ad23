//! The one shutdown signal: a future that resolves on the first SIGTERM (systemd stopping the
//! service) or SIGINT (Ctrl-C). Every long-running task selects on a clone of what it fans out to;
//! work done on a schedule waits for its turn with [`Every`].

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Installs the handlers now (so a signal arriving early is not lost) and returns the future
/// that resolves on the first of them.
pub fn signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    })
}

/// Work done every `period` until the stop signal changes: `while every.tick().await { … }`.
/// The first tick comes at once; one missed while the work ran comes late, not in a burst.
#[derive(Debug)]
pub struct Every {
    interval: tokio::time::Interval,
    stop: watch::Receiver<bool>,
}

impl Every {
    pub fn new(period: Duration, stop: watch::Receiver<bool>) -> Every {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Every { interval, stop }
    }

    /// Waits for the next tick: false once the stop signal has come (or its sender is gone).
    pub async fn tick(&mut self) -> bool {
        tokio::select! {
            _ = self.stop.changed() => false,
            _ = self.interval.tick() => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticks_come_each_period_until_the_stop_signal() {
        let (stop, stopped) = watch::channel(false);
        let mut every = Every::new(Duration::from_secs(60), stopped);
        let start = tokio::time::Instant::now();
        assert!(every.tick().await, "the first at once");
        assert!(every.tick().await);
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        stop.send(true).unwrap();
        assert!(!every.tick().await);
    }
}
