//! Prometheus metrics against a real hub: `[metrics] listen` serves `GET /metrics` in the text
//! format, counting API requests by route template and status, the door units and the review
//! queue read at each scrape; any other path is 404.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_metrics_listener_serves_counts_by_route_and_scrape_time_gauges() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
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
            .starts_with("text/plain")
    );
    let text = reply.text().await.unwrap();
    for line in [
        "rollcall_hub_http_requests_total{method=\"POST\",route=\"/devices\",status=\"201\"} 1",
        "rollcall_hub_http_requests_total{method=\"POST\",route=\"/auth/login\",status=\"200\"} 1",
        "rollcall_hub_devices_enabled 1",
        "rollcall_hub_devices_online 0",
        "rollcall_hub_review_queue 0",
        "rollcall_hub_mqtt_connected 1",
        // One hub on SQLite: alone, and running the scheduled work.
        "rollcall_hub_cluster_hubs 1",
        "rollcall_hub_cluster_leader 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    assert!(
        text.contains(
            "rollcall_hub_http_request_duration_seconds_bucket{le=\"0.001\",route=\"/devices\"}"
        ) || text.contains(
            "rollcall_hub_http_request_duration_seconds_bucket{route=\"/devices\",le=\"0.001\"}"
        ),
        "{text}"
    );
    let other = client
        .get(format!("http://{listen}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    hub.stop().await;
}
