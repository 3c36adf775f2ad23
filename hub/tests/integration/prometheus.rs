//! Prometheus metrics against a real hub: `[metrics] listen` serves `GET /metrics` in the text
//! format, counting API requests by route template and status, the door units and the review
//! queue read at each scrape, each sample labelled with the hub's school; any other path is
//! 404. What it serves is OpenMetrics, said so in
//! its content type and read strictly by the Prometheus client library's own parser, every
//! family with HELP and TYPE.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_metrics_listener_serves_counts_by_route_and_scrape_time_gauges() {
    let listen = free_loopback_addr();
    let hub = start_hub_with(None, move |c| c.metrics.listen = Some(listen)).await;
    let admin = hub.admin().await;
    admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let (status, _) = admin.get("/devices/not-an-id/enable").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let reply = client
        .get(format!("http://{listen}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(
        reply.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = reply.text().await.unwrap();
    for line in [
        "rollcall_hub_http_requests_total{school=\"test-site\",method=\"POST\",route=\"/devices\",status=\"201\"} 1",
        "rollcall_hub_http_requests_total{school=\"test-site\",method=\"POST\",route=\"/auth/login\",status=\"200\"} 1",
        "rollcall_hub_devices_enabled{school=\"test-site\"} 1",
        "rollcall_hub_devices_online{school=\"test-site\"} 0",
        "rollcall_hub_review_queue{school=\"test-site\"} 0",
        "rollcall_hub_mqtt_connected{school=\"test-site\"} 1",
        // One hub on SQLite: alone, and running the scheduled work.
        "rollcall_hub_cluster_hubs{school=\"test-site\"} 1",
        "rollcall_hub_cluster_leader{school=\"test-site\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    assert!(
        text.contains(
            "rollcall_hub_http_request_duration_seconds_bucket{school=\"test-site\",le=\"0.001\",route=\"/devices\"}"
        ) || text.contains(
            "rollcall_hub_http_request_duration_seconds_bucket{school=\"test-site\",route=\"/devices\",le=\"0.001\"}"
        ),
        "{text}"
    );
    parses_as_openmetrics(&text);
    let other = client
        .get(format!("http://{listen}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    hub.stop().await;
}

/// The OpenMetrics parser of Prometheus's own client library (Debian's python3-prometheus-client,
/// which .ci/run installs) reads `text` strictly; every family has HELP and TYPE.
fn parses_as_openmetrics(text: &str) {
    use std::io::Write as _;
    const CHECK: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
families = list(parse(sys.stdin.read()))
for f in families:
    if not f.documentation:
        print("no HELP:", f.name)
    if f.type == "unknown":
        print("no TYPE:", f.name)
print(len(families), "families")
"#;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", CHECK])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}{errors}\n{text}");
    let lines: Vec<&str> = said.lines().collect();
    let [last] = lines[..] else {
        panic!("{said}");
    };
    let families: usize = last.trim_end_matches(" families").parse().unwrap();
    assert!(families >= 20, "{families} families:\n{text}");
}
