//! Failed-login limiting along two lines at once: per client address across every user name
//! (one password tried on many accounts) and per user name across every address (one account
//! tried from many machines). Each line allows N failures in a sliding minute; then logins are
//! refused until the oldest failure ages out.
//!
//! Memory is bounded: each line tracks at most `max_tracked` keys (expired ones are dropped
//! first, then the key whose last failure is oldest), and a key keeps at most N times. User
//! names reach here already checked to be at most 64 characters (`http::accounts::auth`).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

/// The sliding window, in milliseconds.
const WINDOW_MS: i64 = 60_000;

/// The limits, from `[auth]` in the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Failures allowed per client address within a minute, whatever the user names.
    pub per_address: u32,
    /// Failures allowed per user name within a minute, whatever the addresses.
    pub per_user: u32,
    /// Most keys tracked on each line.
    pub max_tracked: usize,
}

/// A line that has just reached its limit: worth an audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lockout {
    Address(IpAddr),
    User(String),
}

/// Counts failed logins; times come from the caller's clock.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: Limits,
    by_address: Mutex<Line<Option<IpAddr>>>,
    by_user: Mutex<Line<String>>,
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            by_address: Mutex::new(Line::new(limits.per_address, limits.max_tracked)),
            by_user: Mutex::new(Line::new(limits.per_user, limits.max_tracked)),
            limits,
        }
    }

    /// `Err(seconds to wait)` when this user or this address must not try now.
    pub fn check(&self, user: &str, ip: Option<IpAddr>, now: i64) -> Result<(), u64> {
        let address = lock(&self.by_address).wait(&ip, now);
        let user = lock(&self.by_user).wait(user, now);
        match address.max(user) {
            0 => Ok(()),
            ms => Err(u64::try_from(ms.saturating_add(999) / 1000)
                .unwrap_or(1)
                .max(1)),
        }
    }

    /// Records a failure; returns the lines it locked.
    pub fn failed(&self, user: &str, ip: Option<IpAddr>, now: i64) -> Vec<Lockout> {
        let mut locked = Vec::new();
        if lock(&self.by_address).fail(ip, now) {
            locked.extend(ip.map(Lockout::Address));
        }
        if lock(&self.by_user).fail(user.to_owned(), now) {
            locked.push(Lockout::User(user.to_owned()));
        }
        locked
    }

    /// Forgets the user's failures (not the address's: one good account must not wipe the
    /// failures its address made on others).
    pub fn succeeded(&self, user: &str) {
        lock(&self.by_user).times.remove(user);
    }

    /// How many keys are tracked on each line (address, user).
    pub fn tracked(&self) -> (usize, usize) {
        (
            lock(&self.by_address).times.len(),
            lock(&self.by_user).times.len(),
        )
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One line of limiting: failure times per key, oldest first.
#[derive(Debug)]
struct Line<K> {
    max_failures: usize,
    max_tracked: usize,
    times: HashMap<K, Vec<i64>>,
}

impl<K: Hash + Eq + Clone> Line<K> {
    fn new(max_failures: u32, max_tracked: usize) -> Self {
        Self {
            max_failures: usize::try_from(max_failures).unwrap_or(usize::MAX).max(1),
            max_tracked: max_tracked.max(1),
            times: HashMap::new(),
        }
    }

    /// Milliseconds until `key` may try again; 0 when it may now.
    fn wait<Q>(&mut self, key: &Q, now: i64) -> i64
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some(times) = self.times.get_mut(key) else {
            return 0;
        };
        times.retain(|&t| now.saturating_sub(t) < WINDOW_MS);
        if times.len() < self.max_failures {
            return 0;
        }
        let oldest = times.first().copied().unwrap_or(now);
        oldest.saturating_add(WINDOW_MS).saturating_sub(now).max(1)
    }

    /// Records a failure; true when it brought `key` to the limit.
    fn fail(&mut self, key: K, now: i64) -> bool {
        if !self.times.contains_key(&key) && self.times.len() >= self.max_tracked {
            self.make_room(now);
        }
        let times = self.times.entry(key).or_default();
        times.retain(|&t| now.saturating_sub(t) < WINDOW_MS);
        if times.len() >= self.max_failures {
            times.remove(0);
        }
        times.push(now);
        times.len() == self.max_failures
    }

    /// Drops expired keys, then (if still full) the one whose last failure is oldest.
    fn make_room(&mut self, now: i64) {
        let fresh = |t: &i64| now.saturating_sub(*t) < WINDOW_MS;
        self.times
            .retain(|_, times| times.last().is_some_and(fresh));
        if self.times.len() < self.max_tracked {
            return;
        }
        let stalest = self
            .times
            .iter()
            .min_by_key(|(_, times)| times.last().copied().unwrap_or(i64::MIN))
            .map(|(key, _)| key.clone());
        if let Some(key) = stalest {
            self.times.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_address: u32, per_user: u32, max_tracked: usize) -> LoginLimiter {
        LoginLimiter::new(Limits {
            per_address,
            per_user,
            max_tracked,
        })
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, last]))
    }

    #[test]
    fn one_address_is_limited_across_user_names() {
        let limiter = limiter(3, 100, 100);
        for (i, name) in ["ann", "bob", "cat"].into_iter().enumerate() {
            assert!(limiter.check(name, ip(1), 0).is_ok());
            let locked = limiter.failed(name, ip(1), 0);
            assert_eq!(locked.is_empty(), i < 2, "locked on the third");
        }
        assert_eq!(limiter.check("dan", ip(1), 1_000), Err(59));
        assert!(
            limiter.check("dan", ip(2), 1_000).is_ok(),
            "other addresses"
        );
        assert!(limiter.check("dan", ip(1), 60_000).is_ok(), "window moved");
    }

    #[test]
    fn one_user_name_is_limited_across_addresses() {
        let limiter = limiter(100, 3, 100);
        for last in 1..=3 {
            limiter.failed("ann", ip(last), 0);
        }
        assert!(limiter.check("ann", ip(9), 0).is_err());
        assert!(limiter.check("bob", ip(9), 0).is_ok());
        limiter.succeeded("ann");
        assert!(limiter.check("ann", ip(9), 0).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_the_key_cap_evicting_the_stalest() {
        let limiter = limiter(5, 5, 1_000);
        for i in 0..100_000_i64 {
            let last = u8::try_from(i % 250).unwrap();
            limiter.failed(&format!("user{i}"), ip(last), i);
        }
        let (addresses, users) = limiter.tracked();
        assert!(addresses <= 250 && users <= 1_000, "{addresses} {users}");
        assert!(limiter.check("user99999", None, 100_000).is_ok());
        limiter.failed("user99999", None, 100_000);
        assert!(lock(&limiter.by_user).times.contains_key("user99999"));
        assert!(
            !lock(&limiter.by_user).times.contains_key("user0"),
            "stalest evicted"
        );
        assert!(lock(&limiter.by_user).times.values().all(|t| t.len() <= 5));
    }
}
