//! Sign-ins that can end, through the real HTTP API (issue #14, point 4): login limits per
//! address and per user name, the argon2 gate's 503, rotating single-use refresh tokens with
//! reuse detection, logout, admin user management ending live access tokens, the password
//! rule, and the command line's password reset.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

async fn login(api: &Api, user: &str, password: &str) -> (StatusCode, Value) {
    api.post(
        "/auth/login",
        json!({"username": user, "password": password}),
    )
    .await
}

/// The status and `Retry-After` header of a login from `local`.
async fn login_retry_after(
    hub: &TestHub,
    local: IpAddr,
    password: &str,
) -> (StatusCode, Option<u64>) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .local_address(local)
        .build()
        .unwrap();
    let resp = client
        .post(format!("http://{}/api/v1/auth/login", hub.addr))
        .json(&json!({"username": ADMIN, "password": password}))
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (resp.status(), retry)
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// A teacher `tess` made by the admin; returns their id.
async fn teacher(admin: &Api) -> String {
    let user = admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    user["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_address_trying_many_user_names_is_refused_and_audited() {
    let hub = start_hub_with(None, |c| c.auth.failed_logins_per_address = 3).await;
    let api = hub.api();
    for name in ["amy", "ben", "cal"] {
        assert_eq!(login(&api, name, "guess").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login(&api, ADMIN, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let other = Api::from_address(hub.addr, loopback(2));
    assert_eq!(login(&other, ADMIN, PASSWORD).await.0, StatusCode::OK);
    let (_, audit) = other.login(ADMIN, PASSWORD).await.get("/audit").await;
    let locks: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.lockout")
        .collect();
    assert_eq!(locks.len(), 1, "{audit}");
    assert_eq!(locks[0]["target"], "address:127.0.0.1");
    hub.stop().await;
}

#[tokio::test]
async fn one_user_name_tried_from_many_addresses_is_refused_with_retry_after() {
    let hub = start_hub_with(None, |c| c.auth.failed_logins_per_user = 3).await;
    for last in 2..=4 {
        let api = Api::from_address(hub.addr, loopback(last));
        assert_eq!(
            login(&api, ADMIN, "guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let fresh = Api::from_address(hub.addr, loopback(5));
    let (status, body) = login(&fresh, ADMIN, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let (status, retry) = login_retry_after(&hub, loopback(6), PASSWORD).await;
    assert_eq!((status, retry), (StatusCode::TOO_MANY_REQUESTS, Some(60)));
    hub.clock.advance(Duration::from_secs(61));
    assert_eq!(login(&fresh, ADMIN, PASSWORD).await.0, StatusCode::OK);
    hub.stop().await;
}

#[tokio::test]
async fn over_long_user_names_are_refused_before_the_limiter() {
    let hub = start_hub_with(None, |c| c.auth.failed_logins_per_address = 2).await;
    let api = hub.api();
    for _ in 0..5 {
        let (status, body) = login(&api, &"x".repeat(100_000), "guess").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("username")
        );
    }
    assert_eq!(login(&api, ADMIN, PASSWORD).await.0, StatusCode::OK);
    hub.stop().await;
}

#[tokio::test]
async fn an_e_mail_address_is_a_user_name_kept_as_written() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let name = "Tess.Ting+maths@school.example";
    let user = admin
        .created(
            "/users",
            json!({"username": name, "role": "teacher", "password": "teacher password"}),
        )
        .await;
    assert_eq!(user["username"], name);
    assert_eq!(
        login(&hub.api(), name, "teacher password").await.0,
        StatusCode::OK
    );

    for bad in ["tess@", "tess ting", "a@b@c", "<tess@school.example>"] {
        let (status, body) = admin
            .post(
                "/users",
                json!({"username": bad, "role": "teacher", "password": "teacher password"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("or an e-mail address"), "{message}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_saturated_argon2_gate_answers_503_with_retry_after() {
    let hub = start_hub_with(None, |c| {
        c.auth.hashing_at_once = 1;
        c.auth.hashing_max_wait_ms = 0;
        c.auth.failed_logins_per_user = 1000;
        c.auth.failed_logins_per_address = 1000;
    })
    .await;
    let api = hub.api();
    let logins = (0..12).map(|_| {
        let api = api.clone();
        async move {
            api.raw(
                reqwest::Method::POST,
                "/auth/login",
                Some(json!({"username": ADMIN, "password": PASSWORD})),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(logins).await;
    let busy = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert!(busy > 0 && ok > 0, "{answers:?}");
    assert_eq!(busy + ok, answers.len(), "{answers:?}");
    let busy_body = &answers
        .iter()
        .find(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .unwrap()
        .1;
    assert!(busy_body.contains("\"busy\""), "{busy_body}");
    let tries = (0..12).map(|_| login_retry_after(&hub, loopback(1), PASSWORD));
    let answers = futures_util::future::join_all(tries).await;
    assert!(
        answers.contains(&(StatusCode::SERVICE_UNAVAILABLE, Some(1))),
        "503 says when to come back: {answers:?}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_sign_in() {
    let hub = start_hub(None).await;
    let api = hub.api();
    let (_, first) = login(&api, ADMIN, PASSWORD).await;
    let refresh = |token: &Value| json!({"refresh_token": token["refresh_token"]});
    let (status, second) = api.post("/auth/refresh", refresh(&first)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let live = api.with_token(second["access_token"].as_str().unwrap());
    assert_eq!(live.get("/auth/me").await.0, StatusCode::OK);

    let (status, _) = api.post("/auth/refresh", refresh(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a spent token is refused");
    let (status, _) = api.post("/auth/refresh", refresh(&second)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the whole sign-in ended");
    assert_eq!(live.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);

    let other = api.login(ADMIN, PASSWORD).await;
    assert_eq!(
        other.get("/auth/me").await.0,
        StatusCode::OK,
        "other sign-ins go on"
    );
    let (_, audit) = other.get("/audit").await;
    assert!(audit.to_string().contains("auth.refresh_reuse"), "{audit}");
    hub.stop().await;
}

#[tokio::test]
async fn a_sign_in_ends_at_its_absolute_lifetime_however_often_refreshed() {
    let hub = start_hub_with(None, |c| {
        c.auth.refresh_token_days = 7;
        c.auth.signin_max_days = 10;
    })
    .await;
    let api = hub.api();
    let (_, mut tokens) = login(&api, ADMIN, PASSWORD).await;
    for _ in 0..2 {
        hub.clock.advance(Duration::from_secs(4 * 86_400));
        let (status, next) = api
            .post(
                "/auth/refresh",
                json!({"refresh_token": tokens["refresh_token"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{next}");
        tokens = next;
    }
    hub.clock.advance(Duration::from_secs(3 * 86_400));
    let (status, body) = api
        .post(
            "/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "day 11 of 10: {body}");
    hub.stop().await;
}

#[tokio::test]
async fn logout_ends_the_sign_in_and_its_access_tokens() {
    let hub = start_hub(None).await;
    let api = hub.api();
    let (_, tokens) = login(&api, ADMIN, PASSWORD).await;
    let me = api.with_token(tokens["access_token"].as_str().unwrap());
    assert_eq!(me.get("/auth/me").await.0, StatusCode::OK);
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let (status, _) = api.post("/auth/logout", body.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.post("/auth/refresh", body).await.0,
        StatusCode::UNAUTHORIZED
    );
    hub.stop().await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_live_access_token_and_enabling_lets_them_back() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let id = teacher(&admin).await;
    let tess = hub.api().login("tess", "teacher password").await;
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::OK);
    let path = format!("/users/{id}");
    let (status, user) = admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"disabled": true, "display_name": "Tess A"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        (user["disabled"].as_bool(), user["display_name"].as_str()),
        (Some(true), Some("Tess A"))
    );
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = login(&hub.api(), "tess", "teacher password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"disabled": false})),
        )
        .await;
    hub.api().login("tess", "teacher password").await;
    hub.stop().await;
}

#[tokio::test]
async fn the_last_enabled_admin_cannot_be_removed_demoted_or_disabled() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (_, me) = admin.get("/auth/me").await;
    let (_, users) = admin.get("/users").await;
    let id = users[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(me["username"], ADMIN);
    let path = format!("/users/{id}");
    for patch in [json!({"disabled": true}), json!({"role": "teacher"})] {
        let (status, body) = admin.send(reqwest::Method::PATCH, &path, Some(patch)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
    assert_eq!(admin.delete(&path).await.0, StatusCode::CONFLICT);

    // With a second admin, still not their own account: another admin does that.
    admin
        .created(
            "/users",
            json!({"username": "ada", "role": "admin", "password": "another admin password"}),
        )
        .await;
    for patch in [json!({"disabled": true}), json!({"role": "teacher"})] {
        let (status, body) = admin.send(reqwest::Method::PATCH, &path, Some(patch)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another admin")
        );
    }
    assert_eq!(admin.delete(&path).await.0, StatusCode::CONFLICT);
    let other = hub.api().login("ada", "another admin password").await;
    assert_eq!(other.delete(&path).await.0, StatusCode::NO_CONTENT);
    hub.stop().await;
}

#[tokio::test]
async fn deleting_a_teacher_keeps_their_name_in_the_audit_log_and_frees_their_classes() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let id = teacher(&admin).await;
    let class = admin
        .created("/classes", json!({"name": "7B", "teacher_id": id}))
        .await;
    let tess = hub.api().login("tess", "teacher password").await;
    let (status, _) = admin.delete(&format!("/users/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, class) = admin
        .get(&format!("/classes/{}", class["id"].as_str().unwrap()))
        .await;
    assert_eq!(class["teacher_id"], Value::Null, "{class}");
    let (_, audit) = admin.get("/audit").await;
    let deleted = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.delete")
        .unwrap();
    assert_eq!(deleted["before"]["username"], "tess");
    hub.stop().await;
}

#[tokio::test]
async fn password_changes_end_every_sign_in_and_follow_the_rule() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let id = teacher(&admin).await;
    let tess = hub.api().login("tess", "teacher password").await;
    let path = format!("/users/{id}/password");
    let change = |old: &str, new: &str| json!({"old_password": old, "password": new});
    let (status, _) = tess
        .post(&path, change("not my password", "a new long passphrase"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the old password must match");
    for weak in ["short one", "Password123456", "Sunshine20242024!"] {
        let (status, body) = tess.post(&path, change("teacher password", weak)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{weak}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("password")
        );
    }
    let (status, _) = tess
        .post(&path, change("teacher password", "a new long passphrase"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    let tess = hub.api().login("tess", "a new long passphrase").await;
    let (_, users) = admin.get("/users").await;
    let admin_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == ADMIN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = tess
        .post(
            &format!("/users/{admin_id}/password"),
            change(PASSWORD, "taken over by tess"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a teacher sets only their own"
    );
    let (status, _) = admin
        .post(&path, json!({"password": "reset by the admin"}))
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "an admin needs no old password"
    );
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    hub.api().login("tess", "reset by the admin").await;
    hub.stop().await;
}

#[tokio::test]
async fn the_command_line_resets_a_locked_out_admins_password_and_ends_their_sign_ins() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "a fresh admin passphrase\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
        .args([
            "user",
            "reset-password",
            "--username",
            ADMIN,
            "--password-file",
        ])
        .arg(&file)
        .arg("--data-dir")
        .arg(&hub.data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(admin.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&hub.api(), ADMIN, PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    hub.api().login(ADMIN, "a fresh admin passphrase").await;
    std::fs::write(&file, "password1234\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
        .args([
            "user",
            "reset-password",
            "--username",
            ADMIN,
            "--password-file",
        ])
        .arg(&file)
        .arg("--data-dir")
        .arg(&hub.data_dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a common password is refused");
    hub.stop().await;
}

#[tokio::test]
async fn guessing_the_old_password_counts_towards_the_login_limit() {
    let hub = start_hub_with(None, |c| c.auth.failed_logins_per_user = 2).await;
    let admin = hub.admin().await;
    let id = teacher(&admin).await;
    let tess = hub.api().login("tess", "teacher password").await;
    let path = format!("/users/{id}/password");
    let guess = json!({"old_password": "a wrong guess", "password": "a new long passphrase"});
    for _ in 0..2 {
        assert_eq!(
            tess.post(&path, guess.clone()).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let (status, body) = tess.post(&path, guess).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        login(&hub.api(), "tess", "teacher password").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    hub.stop().await;
}
