//! Waiting longer after each failed try: `min`, `2·min`, `4·min`, … capped at `max`, and
//! spread at random over the upper half of that wait so that many clients which failed at the
//! same moment (two hundred door units when the hub comes back) do not retry in step. Pure
//! given the draw: the caller sleeps.

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

    /// The wait after the `attempt`-th try spread by `draw` (in `[0, 1]`, clamped; NaN counts
    /// as 0) over the upper half of [`Backoff::delay`] ("equal jitter"): never sooner than half
    /// the wait, never later than all of it.
    pub fn spread(&self, attempt: u32, draw: f64) -> Duration {
        let full = self.delay(attempt);
        let draw = if draw.is_nan() {
            0.0
        } else {
            draw.clamp(0.0, 1.0)
        };
        full / 2 + (full / 2).mul_f64(draw)
    }

    /// [`Backoff::spread`] with a fresh random draw.
    pub fn jittered(&self, attempt: u32) -> Duration {
        self.spread(attempt, rand::random())
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

    #[test]
    fn a_spread_wait_lies_in_the_upper_half_of_the_wait() {
        let b = Backoff {
            min: Duration::from_secs(30),
            max: Duration::from_secs(600),
        };
        assert_eq!(b.spread(2, 0.0), Duration::from_secs(30));
        assert_eq!(b.spread(2, 0.5), Duration::from_secs(45));
        assert_eq!(b.spread(2, 1.0), Duration::from_secs(60));
        assert_eq!(b.spread(2, 7.0), Duration::from_secs(60), "clamped");
        assert_eq!(b.spread(2, f64::NAN), Duration::from_secs(30));
        assert_eq!(b.spread(u32::MAX, 1.0), Duration::from_secs(600), "capped");
    }

    #[test]
    fn random_draws_spread_many_clients_apart() {
        let b = Backoff {
            min: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let waits: std::collections::BTreeSet<Duration> = (0..200).map(|_| b.jittered(4)).collect();
        assert!(
            waits
                .iter()
                .all(|w| (Duration::from_secs(4)..=Duration::from_secs(8)).contains(w))
        );
        assert!(
            waits.len() > 150,
            "200 units retry at {} distinct moments",
            waits.len()
        );
    }
}
