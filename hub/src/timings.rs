//! What the hub times as it happens (API requests, their durations, ingest batches): a leaf
//! that whoever counts imports, and the Prometheus exporter (`crate::prometheus`) reads at
//! each scrape.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Request {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Limited {
    by: &'static str,
}

pub(crate) type Durations = Family<Route, Histogram, fn() -> Histogram>;

/// Seconds, from 1 ms doubling to about 33 s.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// What the hub times as it happens.
#[derive(Debug)]
pub struct Timings {
    pub(crate) requests: Family<Request, Counter>,
    pub(crate) durations: Durations,
    pub(crate) ingest: Histogram,
    /// Requests refused for their caller's pace, by the kind of bucket.
    pub(crate) limited: Family<Limited, Counter>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(seconds),
            ingest: seconds(),
            limited: Family::default(),
        }
    }
}

impl Timings {
    /// One API request refused for its caller's pace (`by`: `account` or `address`).
    pub fn limited(&self, by: &'static str) {
        self.limited.get_or_create(&Limited { by }).inc();
    }

    /// One API request answered.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = Request {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        let route = Route {
            route: route.to_owned(),
        };
        self.durations
            .get_or_create(&route)
            .observe(took.as_secs_f64());
    }

    /// One ingest batch stored and acknowledged.
    pub fn ingest_batch(&self, took: Duration) {
        self.ingest.observe(took.as_secs_f64());
    }
}
