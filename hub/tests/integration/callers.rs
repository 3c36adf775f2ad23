//! What the hub does for and against its callers, against a real hub: every answer names its
//! request (`X-Request-Id`, kept in the audit of what it changed), and each caller keeps a
//! pace (`[http.limits]`): a page's burst passes, a script hammering the API meets 429 with
//! `Retry-After`, counted in the metrics, while other callers go on.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use rollcall_hub::config::Bucket;
use serde_json::{Value, json};

use crate::common::*;

/// One call with `headers`, its status, the headers of the answer and its JSON.
async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let (status, headers) = (answer.status(), answer.headers().clone());
    let json = answer.json().await.unwrap_or(Value::Null);
    (status, headers, json)
}

/// What a page opening asks for at once.
const A_PAGE: [&str; 6] = [
    "/auth/me",
    "/classes",
    "/students",
    "/devices",
    "/review",
    "/today",
];

fn id_of(headers: &reqwest::header::HeaderMap) -> &str {
    headers["x-request-id"].to_str().unwrap()
}

#[tokio::test]
async fn every_answer_names_its_request_and_the_audit_keeps_it() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let token = admin.token.as_deref();
    let url = |path: &str| format!("http://{}/api/v1{path}", hub.addr);
    let new_class = json!({"name": "7C Maths"});

    let sent = [("x-request-id", "portal-42.a:b_c")];
    let (status, headers, class) = call(
        reqwest::Method::POST,
        url("/classes"),
        token,
        &sent,
        Some(new_class),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{class}");
    assert_eq!(
        id_of(&headers),
        "portal-42.a:b_c",
        "a sane id is the caller's"
    );

    let is_new = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let too_long = "x".repeat(65);
    for refused in ["two words", "a\"quote", too_long.as_str()] {
        let sent = [("x-request-id", refused)];
        let (_, headers, _) = call(reqwest::Method::GET, url("/health"), None, &sent, None).await;
        assert!(
            is_new(id_of(&headers)),
            "{refused:?} is replaced by a new id"
        );
    }
    let (_, first, _) = call(reqwest::Method::GET, url("/nowhere"), None, &[], None).await;
    let (_, second, _) = call(reqwest::Method::GET, url("/health"), None, &[], None).await;
    assert!(is_new(id_of(&first)), "even a 404 names its request");
    assert_ne!(id_of(&first), id_of(&second));

    let (_, audit) = admin.get("/audit?action=class.").await;
    let made = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["target"]
                .as_str()
                .unwrap()
                .contains(class["id"].as_str().unwrap())
        })
        .unwrap_or_else(|| panic!("the class's creation is audited: {audit}"));
    assert_eq!(made["request_id"], "portal-42.a:b_c", "{made}");
    hub.stop().await;
}

#[tokio::test]
async fn a_script_hammering_the_api_meets_429_and_a_pages_burst_does_not() {
    let listen = free_loopback_addr();
    let hub = start_hub_with(None, move |c| {
        c.metrics.listen = Some(listen);
        c.http.limits.account = Bucket {
            burst: 30,
            per_minute: 60,
        };
        c.http.limits.address = Bucket {
            burst: 40,
            per_minute: 60,
        };
    })
    .await;
    let admin = hub.admin().await;
    admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let tess = hub.api().login("tess", "teacher password").await;

    // A page opening: everything it shows asked for at once.
    let asked = A_PAGE.iter().cycle().take(24).map(|path| admin.get(path));
    for (status, body) in join_all(asked).await {
        assert_eq!(status, StatusCode::OK, "a page's burst passes: {body}");
    }

    // A script in a loop: refused once the bucket is empty, with the wait.
    let started = Instant::now();
    let mut refused = None;
    for n in 0..200 {
        let (status, body) = admin.get("/classes").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((n, body));
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (n, body) = refused.expect("a script hammering the API is refused");
    assert!(
        n <= 6 + (started.elapsed().as_secs() as usize + 1),
        "refused once the 30 were spent (after {n} more)"
    );
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("account"),
        "{body}"
    );
    let token = admin.token.as_deref();
    let url = format!("http://{}/api/v1/classes", hub.addr);
    let (status, headers, _) = call(reqwest::Method::GET, url.clone(), token, &[], None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "one request a second: {wait}");

    // Another account, and the routes open to anyone, keep their own pace.
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::OK);
    assert_eq!(hub.api().get("/health").await.0, StatusCode::OK);

    // The wait said is enough.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(admin.get("/classes").await.0, StatusCode::OK);

    // An address hammering the sign-in page's routes is paced as well.
    let anyone = hub.api();
    let mut address_refused = false;
    for _ in 0..200 {
        if anyone.get("/auth/methods").await.0 == StatusCode::TOO_MANY_REQUESTS {
            address_refused = true;
            break;
        }
    }
    assert!(
        address_refused,
        "an address calling without signing in is paced"
    );

    let scrape = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = |by: &str| {
        scrape
            .lines()
            .find(|l| l.starts_with("rollcall_hub_http_limited_total") && l.contains(by))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(counted("by=\"account\"") >= 2, "{scrape}");
    assert!(counted("by=\"address\"") >= 1, "{scrape}");
    hub.stop().await;
}

#[tokio::test]
async fn the_default_pace_lets_a_busy_page_through_and_stops_a_loop() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    for _ in 0..3 {
        let asked = A_PAGE.iter().cycle().take(36).map(|path| admin.get(path));
        for (status, body) in join_all(asked).await {
            assert_eq!(
                status,
                StatusCode::OK,
                "three big pages at once pass: {body}"
            );
        }
    }
    let mut sent = 0;
    while admin.get("/auth/me").await.0 != StatusCode::TOO_MANY_REQUESTS {
        sent += 1;
        assert!(sent < 5000, "a loop is stopped within seconds");
    }
    hub.stop().await;
}
