//! Prometheus metrics (`[metrics] listen`): `GET /metrics` on a listener of its own, in the
//! Prometheus text format, made with `prometheus-client`. The JSON `/api/v1/health` and
//! `/api/v1/metrics` stay as they are.
//!
//! Counted as things happen: HTTP requests by route template, method and status, and their
//! durations by route; requests refused for their caller's pace; ingest batches' durations (stored
//! and acknowledged). Read at each scrape: ingest's counters (`ingest::Metrics`), the review queue,
//! door units online, door units whose gallery is behind, sessions on the embedded broker, whether
//! the broker link is up, the live hubs sharing the database and whether this one leads. Every
//! sample is labelled with the hub's school (`school="<site>"`), so that one Prometheus scraping
//! the hubs of several schools keeps their figures apart.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use rollcall_shared::SiteId;
use tokio::net::TcpListener;
use tokio::sync::watch;
use warp::Filter as _;

use crate::http::Schools;
use crate::http_state::Hub;
use crate::ingest::Metrics;
use crate::ingest::metrics::MetricsSnapshot;
use crate::timings::Timings;
use rollcall_store::StoreError;

/// The answer to a scrape that names no school this hub serves: 404, with the ones it does.
fn unknown_school(site: Option<&str>, served: &[String]) -> warp::reply::Response {
    let asked = match site {
        Some(site) => format!(
            "this hub serves no school {:?}",
            crate::http::input::clip(site)
        ),
        None => "this hub serves several schools: name one, /metrics?school=<site>".to_owned(),
    };
    let text = format!("{asked}; it serves: {}\n", served.join(", "));
    let mut response = warp::reply::Response::new(text.into());
    *response.status_mut() = warp::http::StatusCode::NOT_FOUND;
    response
}

/// Each school's exporter, made at its first scrape (a school a district admin adds joins
/// the hub's schools while it runs).
#[derive(Default)]
struct Exporters(Mutex<HashMap<String, Arc<Exporter>>>);

impl Exporters {
    fn of(&self, hub: &Hub) -> Arc<Exporter> {
        let mut made = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let site = &hub.config.site;
        let exporter = made
            .entry(site.to_string())
            .or_insert_with(|| Arc::new(Exporter::new(site, &hub.metrics.timings, &hub.metrics)));
        exporter.clone()
    }
}

/// What is read from the database and the broker at each scrape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    pub review_queue: i64,
    pub devices_online: i64,
    pub devices_enabled: i64,
    pub galleries_behind: i64,
    pub broker_sessions: i64,
    /// Hubs this one counts as live, itself included (`crate::cluster`).
    pub hubs: i64,
    /// 1 while this hub runs the scheduled work.
    pub leader: i64,
}

/// The registry and the scrape-time values, rendered on each scrape.
#[derive(Debug)]
pub struct Exporter {
    registry: Registry,
    state: Arc<Mutex<(MetricsSnapshot, Gauges)>>,
}

impl Exporter {
    pub fn new(school: &SiteId, timings: &Timings, metrics: &Metrics) -> Self {
        let school = (Cow::Borrowed("school"), Cow::Owned(school.to_string()));
        let mut registry = Registry::with_prefix_and_labels("rollcall_hub", [school].into_iter());
        registry.register(
            "http_requests",
            "API requests answered, by route template, method and status",
            timings.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "How long API requests took, by route template",
            timings.durations.clone(),
        );
        registry.register(
            "http_limited",
            "API requests refused (429) for their caller's pace, by account or address",
            timings.limited.clone(),
        );
        registry.register(
            "ingest_batch_duration_seconds",
            "How long a batch of door units' messages took to store and acknowledge",
            timings.ingest.clone(),
        );
        let state = Arc::new(Mutex::new((metrics.snapshot(), Gauges::default())));
        registry.register_collector(Box::new(Scraped(state.clone())));
        Self { registry, state }
    }

    /// The text format, with the counters and gauges given.
    pub fn render(&self, snapshot: MetricsSnapshot, gauges: Gauges) -> String {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (snapshot, gauges);
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        text
    }
}

/// Serves `GET /metrics` on `listener` until `stop` turns true: the school's, or on a hub of
/// several schools `GET /metrics?school=<site>` for each (a scrape target per school, each
/// sample labelled with it).
pub async fn serve(schools: Arc<Schools>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("Prometheus metrics on http://{addr}/metrics");
    }
    let exporters = Arc::new(Exporters::default());
    let query = warp::query::<HashMap<String, String>>();
    let metrics = warp::path!("metrics").and(warp::get()).and(query).then(
        move |query: HashMap<String, String>| {
            let (schools, exporters) = (schools.clone(), exporters.clone());
            async move {
                let served = schools.sites();
                let only = match served.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                };
                let site = query.get("school").cloned().or(only);
                let Some(hub) = site.as_deref().and_then(|s| schools.site(s)) else {
                    return unknown_school(site.as_deref(), &served);
                };
                let exporter = exporters.of(&hub);
                let text = exporter.render(hub.metrics.snapshot(), gauges(&hub).await);
                let mut response = warp::reply::Response::new(text.into());
                response.headers_mut().insert(
                    warp::http::header::CONTENT_TYPE,
                    // prometheus-client writes OpenMetrics (`# EOF`, counters' samples
                    // `_total`): said as such, a scraper reads each counter under its
                    // declared family.
                    warp::http::HeaderValue::from_static(
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                );
                response
            }
        },
    );
    warp::serve(metrics)
        .incoming(listener)
        .graceful(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .run()
        .await;
}

/// The values read at a scrape; zero where the database cannot be read (and said in the log).
async fn gauges(hub: &Hub) -> Gauges {
    let mut gauges = hub.db.read(read_gauges).await.unwrap_or_else(|e| {
        tracing::error!("metrics: cannot read the database: {e}");
        Gauges::default()
    });
    gauges.broker_sessions = i64::try_from(hub.sessions.len()).unwrap_or(i64::MAX);
    let cluster = hub.cluster.borrow();
    gauges.hubs = i64::try_from(cluster.live.len()).unwrap_or(i64::MAX);
    gauges.leader = i64::from(cluster.leader);
    gauges
}

fn read_gauges(sql: &dyn rollcall_store::Sql) -> Result<Gauges, StoreError> {
    let c = rollcall_store::health::counts(sql)?;
    Ok(Gauges {
        review_queue: c.review_queue,
        devices_online: c.devices_online,
        devices_enabled: c.devices_enabled,
        galleries_behind: c.galleries_behind,
        ..Gauges::default()
    })
}

#[derive(Debug)]
struct Scraped(Arc<Mutex<(MetricsSnapshot, Gauges)>>);

impl Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (s, g) = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let counters = record_counters(&s).into_iter().chain(message_counters(&s));
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        for (name, help, value) in gauge_metrics(&s, &g) {
            let gauge = ConstGauge::new(value);
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

/// A metric's name, its help text and its value.
type Described<T> = (&'static str, &'static str, T);

/// Ingest's counters of records, as counted since the hub started.
fn record_counters(s: &MetricsSnapshot) -> [Described<u64>; 9] {
    [
        (
            "records_received",
            "Attendance records received from door units",
            s.records_received,
        ),
        (
            "records_for_other_hubs",
            "Records received for door units another hub answers, and left to it",
            s.records_for_other_hubs,
        ),
        ("records_stored", "Records stored (new)", s.records_stored),
        (
            "records_duplicate",
            "Records received again (already stored)",
            s.records_duplicate,
        ),
        (
            "records_quarantined",
            "Records acknowledged but held for an admin",
            s.records_quarantined,
        ),
        (
            "room_corrected",
            "Records stored under the device's registered room",
            s.room_corrected,
        ),
        (
            "records_not_live",
            "Records stored whose face the door unit judged not live (a possible photo or screen)",
            s.records_not_live,
        ),
        (
            "templates_learned",
            "Gallery templates learned from Confident captures",
            s.templates_learned,
        ),
        (
            "acks_sent",
            "Acknowledgements sent to door units",
            s.acks_sent,
        ),
    ]
}

/// Ingest's counters of other messages and failures, as counted since the hub started.
fn message_counters(s: &MetricsSnapshot) -> [Described<u64>; 10] {
    [
        ("status_messages", "Heartbeats received", s.status_messages),
        (
            "gallery_requests",
            "Gallery requests from door units",
            s.gallery_requests,
        ),
        (
            "gallery_updates_sent",
            "Gallery updates sent to door units",
            s.gallery_updates_sent,
        ),
        (
            "malformed",
            "Messages that could not be decoded",
            s.malformed,
        ),
        (
            "forged",
            "Messages naming another device than their sender",
            s.forged,
        ),
        (
            "unknown_device",
            "Messages from unregistered devices",
            s.unknown_device,
        ),
        (
            "disabled_device",
            "Messages from disabled devices",
            s.disabled_device,
        ),
        (
            "publish_failures",
            "Messages to door units that could not be sent",
            s.publish_failures,
        ),
        (
            "broker_errors",
            "Errors on the broker link",
            s.broker_errors,
        ),
        (
            "login_refused",
            "Door units' MQTT logins refused",
            s.login_refused,
        ),
    ]
}

/// The values read at this scrape: the broker link, the database, the cluster.
fn gauge_metrics(s: &MetricsSnapshot, g: &Gauges) -> [Described<i64>; 8] {
    [
        (
            "mqtt_connected",
            "1 while the broker link is up",
            i64::from(s.mqtt_connected),
        ),
        (
            "review_queue",
            "Records waiting for a teacher's review",
            g.review_queue,
        ),
        ("devices_online", "Door units online", g.devices_online),
        ("devices_enabled", "Door units enabled", g.devices_enabled),
        (
            "galleries_behind",
            "Online door units whose gallery is older than the one the hub last sent them",
            g.galleries_behind,
        ),
        (
            "broker_sessions",
            "Door units connected to the embedded broker",
            g.broker_sessions,
        ),
        (
            "cluster_hubs",
            "Hubs sharing the database that this hub counts as live, itself included",
            g.hubs,
        ),
        (
            "cluster_leader",
            "1 while this hub runs the scheduled work (closing registers, webhooks, digests, retention)",
            g.leader,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_text_names_every_metric_with_its_value() {
        let (timings, metrics) = (Timings::default(), Metrics::default());
        crate::ingest::metrics::add(&metrics.records_stored, 3);
        timings.request("POST", "/devices", 201, Duration::from_millis(12));
        timings.ingest_batch(Duration::from_millis(3));
        let school = SiteId::new("north").unwrap();
        let exporter = Exporter::new(&school, &timings, &metrics);
        let gauges = Gauges {
            review_queue: 4,
            devices_online: 2,
            hubs: 3,
            leader: 1,
            ..Gauges::default()
        };
        let text = exporter.render(metrics.snapshot(), gauges);
        for line in [
            "rollcall_hub_records_stored_total{school=\"north\"} 3",
            "rollcall_hub_review_queue{school=\"north\"} 4",
            "rollcall_hub_devices_online{school=\"north\"} 2",
            "rollcall_hub_cluster_hubs{school=\"north\"} 3",
            "rollcall_hub_cluster_leader{school=\"north\"} 1",
            "rollcall_hub_http_requests_total{school=\"north\",method=\"POST\",route=\"/devices\",status=\"201\"} 1",
            "rollcall_hub_http_request_duration_seconds_count{school=\"north\",route=\"/devices\"} 1",
            "rollcall_hub_ingest_batch_duration_seconds_count{school=\"north\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
