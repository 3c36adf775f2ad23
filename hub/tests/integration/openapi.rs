//! The OpenAPI document stays true: every documented path and method reaches a handler (it may
//! refuse the made-up ids and bodies, but never with "no such endpoint").

use reqwest::Method;
use serde_json::json;

use crate::common::*;

fn concrete(path: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    path.replace("{date}", "2026-11-23")
        .replace("{day}", "2026-11-23")
        .replace("{id}", &id)
        .replace("{slot}", &id)
        .replace("{student}", &id)
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (_, doc) = admin.get("/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (name, method) in [
            ("get", Method::GET),
            ("post", Method::POST),
            ("put", Method::PUT),
            ("patch", Method::PATCH),
            ("delete", Method::DELETE),
        ] {
            if item.get(name).is_none() {
                continue;
            }
            let body = matches!(name, "post" | "put" | "patch").then(|| json!({}));
            let (status, reply) = admin.send(method, &concrete(path), body).await;
            let message = reply["error"]["message"].as_str().unwrap_or("");
            assert_ne!(
                message, "no such endpoint",
                "{name} {path} is documented but not routed ({status})"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} operations documented");
    hub.stop().await;
}
