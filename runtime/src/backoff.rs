//! Waiting longer after each failed try: `min`, `2·min`, `4·min`, … capped at `max`. Pure: the
//! caller sleeps.

use std::time::Duration;

/// Exponential back-off between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after the `attempt`-th try (1-based; 0 counts as the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        self.min.saturating_mul(1 << shift).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_cap() {
        let b = Backoff {
            min: Duration::from_secs(30),
            max: Duration::from_secs(6 * 3600),
        };
        assert_eq!(b.delay(0), Duration::from_secs(30));
        assert_eq!(b.delay(1), Duration::from_secs(30));
        assert_eq!(b.delay(2), Duration::from_secs(60));
        assert_eq!(b.delay(5), Duration::from_secs(480));
        assert_eq!(b.delay(40), Duration::from_secs(6 * 3600));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(6 * 3600));
    }
}
