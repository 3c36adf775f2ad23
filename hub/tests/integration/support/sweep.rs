//! Every operation an account must not reach: read from openapi.json (which lists the route
//! table's, tested), each called as the account and expected to answer 403.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Api, TestHub};

/// Calls every documented operation but the open ones and `own` (`"GET /me/children"`) as
/// `who`, with `id` in every path parameter, and asserts each answers 403; the caller's own
/// password (`user_id`) is reached and refused only for what the body lacks. Returns how
/// many were refused.
pub async fn refused_all_but(
    hub: &TestHub,
    who: &Api,
    own: &[&str],
    user_id: &str,
    id: &str,
) -> usize {
    let (_, doc) = hub.api().get("/openapi.json").await;
    let mut refused = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" || op.get("security") == Some(&json!([])) {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            if own.contains(&name.as_str()) {
                continue;
            }
            let own_password = name == "POST /users/{id}/password";
            let concrete = with_ids(path, if own_password { user_id } else { id });
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, out) = who.send(method, &concrete, Some(json!({}))).await;
            if own_password {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {out}");
                continue;
            }
            assert_eq!(status, StatusCode::FORBIDDEN, "{name} ({concrete}): {out}");
            refused += 1;
        }
    }
    refused
}

/// `path` with every `{parameter}` replaced by `id`.
fn with_ids(path: &str, id: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { id } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}
