//! Failed-login limiting: at most N failures per (user name, client address) in a sliding
//! minute, after which logins are refused until the oldest failure ages out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The sliding window, in milliseconds.
const WINDOW_MS: i64 = 60_000;

type Key = (String, Option<IpAddr>);

/// Counts failed logins; times come from the caller's clock.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: usize,
    failures: Mutex<HashMap<Key, Vec<i64>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32) -> Self {
        Self {
            max_failures: max_failures as usize,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when this user and address must not try now.
    pub fn check(&self, user: &str, ip: Option<IpAddr>, now: i64) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(&(user.to_owned(), ip)) else {
            return Ok(());
        };
        times.retain(|t| now - t < WINDOW_MS);
        if times.len() < self.max_failures {
            return Ok(());
        }
        let oldest = times.first().copied().unwrap_or(now);
        Err(((oldest + WINDOW_MS - now).max(1000) / 1000) as u64)
    }

    pub fn failed(&self, user: &str, ip: Option<IpAddr>, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, times| times.last().is_some_and(|t| now - t < WINDOW_MS));
        }
        map.entry((user.to_owned(), ip)).or_default().push(now);
    }

    pub fn succeeded(&self, user: &str, ip: Option<IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(user.to_owned(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_within_a_minute_is_refused_until_the_window_moves() {
        let limiter = LoginLimiter::new(5);
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for i in 0..5 {
            assert!(limiter.check("ann", ip, i * 1000).is_ok());
            limiter.failed("ann", ip, i * 1000);
        }
        assert!(limiter.check("ann", ip, 5_000).is_err());
        assert!(limiter.check("bob", ip, 5_000).is_ok(), "per user");
        assert!(limiter.check("ann", ip, 60_001).is_ok(), "window moved");
    }
}
