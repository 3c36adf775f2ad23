//! Waiting longer after each failed try: `min`, `2·min`, `4·min`, … capped at `max`, and
//! spread at random over the upper half of that wait so that many clients which failed at the
//! same moment (two hundred door units when the hub comes back) do not retry in step; and
//! never sooner than twice the time acks lately take ([`AckTime`]). Pure given the draw: the
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

/// How long acknowledgements lately take, smoothed as TCP smooths its round trip (RFC 6298:
/// seven eighths of the old estimate, one eighth of the new sample). A sender that waits for
/// acks (a door unit's outbox) retries no sooner than twice this ([`AckTime::patient`]), so
/// that a hub that is slow but answering is not sent copies it must handle as well: past
/// saturation the copies otherwise take the place of new records. Only a first send's ack is
/// a sample (Karn's rule: the ack of a record sent twice may answer either send).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AckTime {
    smoothed: Option<Duration>,
}

impl AckTime {
    /// An ack came `sample` after the record's first and only send.
    pub fn observe(&mut self, sample: Duration) {
        self.smoothed = Some(match self.smoothed {
            None => sample,
            Some(old) => (old.saturating_mul(7) / 8).saturating_add(sample / 8),
        });
    }

    /// The smoothed time an ack takes; `None` before the first.
    pub fn smoothed(&self) -> Option<Duration> {
        self.smoothed
    }

    /// `backoff` with its first wait at least four times the smoothed ack time (and at most
    /// its cap): spread over the upper half ([`Backoff::spread`]), never under twice it.
    pub fn patient(&self, backoff: Backoff) -> Backoff {
        let floor = self.smoothed.unwrap_or_default().saturating_mul(4);
        Backoff {
            min: backoff.min.max(floor).min(backoff.max),
            max: backoff.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_at_least_twice_the_smoothed_ack_time_within_the_cap() {
        let b = Backoff {
            min: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        let mut acks = AckTime::default();
        assert_eq!(acks.patient(b), b, "no ack seen yet: the back-off as it is");
        acks.observe(Duration::from_millis(100));
        assert_eq!(
            acks.patient(b),
            b,
            "fast acks: never sooner than the back-off"
        );
        for _ in 0..40 {
            acks.observe(Duration::from_secs(4));
        }
        let slow = acks.smoothed().unwrap();
        assert!(
            slow > Duration::from_millis(3950) && slow <= Duration::from_secs(4),
            "{slow:?}"
        );
        assert_eq!(acks.patient(b).min, slow * 4);
        assert_eq!(
            acks.patient(b).spread(1, 0.0),
            slow * 2,
            "never sooner than twice it"
        );
        assert_eq!(acks.patient(b).delay(2), slow * 8, "and doubles from there");
        acks.observe(Duration::from_secs(3600));
        assert_eq!(acks.patient(b).min, b.max, "capped");
        let one = AckTime::default();
        let mut first = one;
        first.observe(Duration::from_secs(2));
        assert_eq!(
            first.smoothed(),
            Some(Duration::from_secs(2)),
            "the first sample as it is"
        );
    }

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
