//! "Now", injected. Everything time-based (token expiry, late marks, session closing, login
//! rate limits, record timestamps) asks a [`Clock`] so tests can move time by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rollcall_shared::UnixMillis;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> UnixMillis;
}

/// The shared handle the hub passes around.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::now()
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: UnixMillis) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(t.0)))
    }

    pub fn set(&self, t: UnixMillis) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(UnixMillis(1_000));
        assert_eq!(clock.now(), UnixMillis(1_000));
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now(), UnixMillis(3_000));
    }
}
