//! Counters of what ingest saw, exposed by `/api/v1/health` and `/api/v1/metrics`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

/// Monotonic counters, shared by the ingest tasks and the HTTP layer.
#[derive(Debug, Default)]
pub struct Metrics {
    pub mqtt_connected: AtomicBool,
    pub records_received: AtomicU64,
    /// Records received for a door unit another hub answers, and left to that hub: each
    /// hub of a school receives every record unless they share a subscription.
    pub records_for_other_hubs: AtomicU64,
    pub records_stored: AtomicU64,
    pub records_duplicate: AtomicU64,
    /// Acknowledged but held for an admin: too old, clock ahead, unknown student.
    pub records_quarantined: AtomicU64,
    /// Stored under the registered room rather than the one the door unit claimed.
    pub room_corrected: AtomicU64,
    /// Stored with a face the door unit judged not live: a possible photo or screen.
    pub records_not_live: AtomicU64,
    /// Gallery templates learned from Confident captures.
    pub templates_learned: AtomicU64,
    pub acks_sent: AtomicU64,
    pub status_messages: AtomicU64,
    pub gallery_requests: AtomicU64,
    pub gallery_updates_sent: AtomicU64,
    pub malformed: AtomicU64,
    pub forged: AtomicU64,
    pub unknown_device: AtomicU64,
    pub disabled_device: AtomicU64,
    pub publish_failures: AtomicU64,
    pub broker_errors: AtomicU64,
    pub login_refused: AtomicU64,
    /// Durations and per-route counts for Prometheus (`crate::prometheus`).
    pub timings: crate::timings::Timings,
}

/// A point-in-time copy for JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    pub mqtt_connected: bool,
    pub records_received: u64,
    pub records_for_other_hubs: u64,
    pub records_stored: u64,
    pub records_duplicate: u64,
    pub records_quarantined: u64,
    pub room_corrected: u64,
    pub records_not_live: u64,
    pub templates_learned: u64,
    pub acks_sent: u64,
    pub status_messages: u64,
    pub gallery_requests: u64,
    pub gallery_updates_sent: u64,
    pub malformed: u64,
    pub forged: u64,
    pub unknown_device: u64,
    pub disabled_device: u64,
    pub publish_failures: u64,
    pub broker_errors: u64,
    pub login_refused: u64,
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            mqtt_connected: self.mqtt_connected.load(Ordering::Relaxed),
            records_received: get(&self.records_received),
            records_for_other_hubs: get(&self.records_for_other_hubs),
            records_stored: get(&self.records_stored),
            records_duplicate: get(&self.records_duplicate),
            records_quarantined: get(&self.records_quarantined),
            room_corrected: get(&self.room_corrected),
            records_not_live: get(&self.records_not_live),
            templates_learned: get(&self.templates_learned),
            acks_sent: get(&self.acks_sent),
            status_messages: get(&self.status_messages),
            gallery_requests: get(&self.gallery_requests),
            gallery_updates_sent: get(&self.gallery_updates_sent),
            malformed: get(&self.malformed),
            forged: get(&self.forged),
            unknown_device: get(&self.unknown_device),
            disabled_device: get(&self.disabled_device),
            publish_failures: get(&self.publish_failures),
            broker_errors: get(&self.broker_errors),
            login_refused: get(&self.login_refused),
        }
    }
}
