//! The pages are served by the hub itself: every file embedded, with a strict
//! Content-Security-Policy, no sniffing, ETag revalidation, and no reference to anything off the
//! hub. Paths under `/api` still get the API's JSON "no such endpoint", and API answers are
//! never cached.

use reqwest::StatusCode;

use crate::common::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn pages_come_with_security_headers_and_revalidate_by_etag() {
    let hub = start_hub(None).await;
    let base = format!("http://{}", hub.addr);
    let page = client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    let etag = h["etag"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<script type=\"module\" src=\"/js/app.js\">"),
        "{html}"
    );

    let again = client()
        .get(format!("{base}/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let files = [
        "/js/app.js",
        "/js/api.js",
        "/js/ui.js",
        "/js/review.js",
        "/js/strangers.js",
        "/js/lesson_suggestion.js",
        "/js/today.js",
        "/js/report.js",
        "/js/school.js",
        "/js/students.js",
        "/js/devices.js",
        "/js/admin.js",
        "/js/calendar.js",
        "/js/history.js",
        "/js/signin.js",
        "/style.css",
    ];
    for file in files {
        let r = client().get(format!("{base}{file}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{file}: {kind}"
        );
        let text = r
            .text()
            .await
            .unwrap()
            .replace("http://www.w3.org/2000/svg", "");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{file} refers to something off the hub"
        );
    }
    let missing = client()
        .get(format!("{base}/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    hub.stop().await;
}

#[tokio::test]
async fn api_paths_keep_their_json_errors_and_are_never_cached() {
    let hub = start_hub(None).await;
    let base = format!("http://{}", hub.addr);
    for path in ["/api/v2/x", "/api"] {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let health = client()
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["cache-control"], "no-store");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    hub.stop().await;
}
