//! Authentication and authorisation through the real HTTP API: login, refresh, me, expired
//! and forged tokens, wrong role, failed-login limiting, the one JSON error shape.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn login_refresh_and_me() {
    let hub = start_hub(None).await;
    let api = hub.api();
    let (status, tokens) = api
        .post(
            "/auth/login",
            json!({"username": ADMIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me = api.with_token(tokens["access_token"].as_str().unwrap());
    let (status, body) = me.get("/auth/me").await;
    assert_eq!(
        (status, body["username"].as_str(), body["role"].as_str()),
        (StatusCode::OK, Some(ADMIN), Some("admin"))
    );
    assert_eq!(
        body["timezone"], "Europe/London",
        "the pages show times in it"
    );

    hub.clock.advance(Duration::from_secs(16 * 60));
    let (status, body) = me.get("/auth/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "access tokens expire: {body}"
    );
    assert_eq!(body["error"]["code"], "unauthorized");

    let (status, fresh) = api
        .post(
            "/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let (status, _) = api
        .with_token(fresh["access_token"].as_str().unwrap())
        .get("/auth/me")
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = api
        .with_token(tokens["refresh_token"].as_str().unwrap())
        .get("/auth/me")
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a refresh token is not an access token"
    );
    hub.clock.advance(Duration::from_secs(8 * 86_400));
    let (status, _) = api
        .post(
            "/auth/refresh",
            json!({"refresh_token": fresh["refresh_token"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "refresh tokens expire after 7 days"
    );
    hub.stop().await;
}

#[tokio::test]
async fn forged_missing_and_foreign_tokens_are_refused() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let token = admin.token.clone().unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    for bad in [parts.join("."), "not.a.token".into(), String::new()] {
        let (status, body) = hub.api().with_token(&bad).get("/classes").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}: {body}");
    }
    let (status, _) = hub.api().get("/classes").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let other = start_hub(None).await;
    let (status, _) = other.api().with_token(&token).get("/auth/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another hub's key does not sign for this one"
    );
    other.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_user_and_address() {
    let hub = start_hub_with(None, |c| c.auth.failed_logins_per_user = 5).await;
    let api = hub.api();
    for _ in 0..5 {
        let (status, _) = api
            .post(
                "/auth/login",
                json!({"username": ADMIN, "password": "wrong password"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = api
        .post(
            "/auth/login",
            json!({"username": ADMIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    hub.clock.advance(Duration::from_secs(61));
    let (status, _) = api
        .post(
            "/auth/login",
            json!({"username": ADMIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    hub.stop().await;
}

#[tokio::test]
async fn teachers_cannot_use_admin_endpoints() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let teacher = hub.api().login("tess", "teacher password").await;
    for path in ["/users", "/devices", "/audit"] {
        let (status, body) = teacher.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let (status, _) = teacher.post("/students", json!({"name": "Eve"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin
        .post(
            "/users",
            json!({"username": "short", "role": "teacher", "password": "x"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "short passwords are refused"
    );
    hub.stop().await;
}

#[tokio::test]
async fn health_openapi_and_unknown_routes() {
    let hub = start_hub(None).await;
    let api = hub.api();
    let (status, health) = api.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["database"], true);
    assert_eq!(health["metrics"]["malformed"], 0);
    let (status, doc) = api.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/records/{id}/reassign"].is_object());
    let (status, body) = hub.admin().await.get("/nope").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
    let (status, body) = api.post("/auth/login", json!({"user": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    hub.stop().await;
}
