//! How fast one caller may call the API (`[http.limits]`): a token bucket per signed-in
//! account, and one per client address for the routes open to anyone. A bucket holds `burst`
//! requests and refills at `per_minute`; a request that finds it empty is refused with the
//! time until the next one would be admitted (`429` and `Retry-After`, `http::dispatch`).
//!
//! Accounts rather than addresses where there is an account: a school's staff often reach the
//! hub through one NAT address, and one person's script should not slow everyone's pages.
//! Addresses where there is none, so no one can hammer the sign-in or the health check. The
//! buckets live in memory: a restart forgets them, which costs nothing worth keeping.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use crate::config::{Bucket, LimitsConfig};

/// Who a request is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Account(Uuid),
    Address(IpAddr),
}

impl Caller {
    /// The metrics' name for the kind of bucket (`by="account"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Caller::Account(_) => "account",
            Caller::Address(_) => "address",
        }
    }
}

/// Every caller's bucket.
#[derive(Debug)]
pub struct Pace {
    accounts: Buckets<Uuid>,
    addresses: Buckets<IpAddr>,
    clock: DefaultClock,
    /// Requests seen, to forget full buckets now and then.
    checked: AtomicU64,
}

type Buckets<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Every this many requests, buckets that have filled up again are forgotten, so callers who
/// came once (every address on the internet, say) take no memory for long.
const FORGET_EVERY: u64 = 4096;

impl Pace {
    pub fn new(limits: &LimitsConfig) -> Self {
        let clock = DefaultClock::default();
        Self {
            accounts: RateLimiter::new(quota(limits.account), Default::default(), clock.clone()),
            addresses: RateLimiter::new(quota(limits.address), Default::default(), clock.clone()),
            clock,
            checked: AtomicU64::new(0),
        }
    }

    /// Takes one request from `caller`'s bucket, or says how long until it holds one.
    pub fn admit(&self, caller: Caller) -> Result<(), Duration> {
        if self.checked.fetch_add(1, Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.accounts.retain_recent();
            self.addresses.retain_recent();
        }
        let taken = match caller {
            Caller::Account(id) => self.accounts.check_key(&id),
            Caller::Address(ip) => self.addresses.check_key(&ip),
        };
        taken.map_err(|empty| empty.wait_time_from(self.clock.now()))
    }
}

/// The bucket `bucket` describes; the settings were checked to be at least 1.
fn quota(bucket: Bucket) -> Quota {
    let at_least_one = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(at_least_one(bucket.per_minute)).allow_burst(at_least_one(bucket.burst))
}

/// Whole seconds to wait, never 0 (a `Retry-After: 0` invites the same request at once).
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.is_zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(burst: u32, per_minute: u32) -> Pace {
        let bucket = Bucket { burst, per_minute };
        Pace::new(&LimitsConfig {
            account: bucket,
            address: bucket,
        })
    }

    #[test]
    fn a_burst_is_admitted_then_the_caller_waits_for_the_refill() {
        let pace = pace(3, 60);
        let ann = Caller::Account(Uuid::new_v4());
        for _ in 0..3 {
            pace.admit(ann).unwrap();
        }
        let wait = pace.admit(ann).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "one a second: {wait:?}"
        );
        assert_eq!(retry_after(wait), 1);
    }

    #[test]
    fn each_caller_has_a_bucket_of_their_own() {
        let pace = pace(1, 1);
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let address: IpAddr = [192, 0, 2, 7].into();
        pace.admit(Caller::Account(ann)).unwrap();
        assert!(pace.admit(Caller::Account(ann)).is_err());
        pace.admit(Caller::Account(bob)).unwrap();
        pace.admit(Caller::Address(address)).unwrap();
        let wait = pace.admit(Caller::Address(address)).unwrap_err();
        assert!(retry_after(wait) > 50, "one a minute: {wait:?}");
    }

    #[test]
    fn the_wait_is_said_in_whole_seconds_rounded_up() {
        assert_eq!(retry_after(Duration::ZERO), 1);
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_secs(2)), 2);
        assert_eq!(retry_after(Duration::from_millis(2001)), 3);
    }
}
