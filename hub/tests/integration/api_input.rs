//! Regression tests for requests that used to knock the hub over or get the wrong answer:
//! dates far outside the register's years, times that wrapped, duplicate ids, oversized and
//! chunked bodies, and routes that answered 403 where 404 was right. Each goes through the
//! real HTTP interface of a real hub, and after each the hub must still answer.

use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

/// The hub still serves: `/health` answers 200.
async fn assert_alive(hub: &TestHub) {
    let (status, body) = hub.api().get("/health").await;
    assert_eq!(status, StatusCode::OK, "the hub still answers: {body}");
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn dates_outside_the_register_years_are_refused_not_fatal() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    for path in [
        "/sessions?date=%2B262142-12-31",
        "/today?date=%2B262142-12-31",
        "/sessions?date=-0001-01-01",
        "/today?date=1999-12-31",
    ] {
        let (status, body) = school.teacher.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(message(&body).starts_with("date: "), "{path}: {body}");
        assert_alive(&hub).await;
    }
    let session = format!("/sessions/{}/%2B262142-12-31", school.slot);
    let (status, body) = school.teacher.get(&session).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let class = &school.class;
    let report = format!("/reports/classes/{class}?from=2026-11-01&to=%2B262142-12-31");
    let (status, body) = school.teacher.get(&report).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).starts_with("to: "), "{body}");
    let (status, _) = school.teacher.get("/sessions?date=2026-11-23").await;
    assert_eq!(status, StatusCode::OK, "an ordinary date still works");
    hub.stop().await;
}

#[tokio::test]
async fn timetable_times_are_strict_hh_mm() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    for (start, end) in [("1092:16", "10:00"), ("9:00", "10:00"), ("09:00", "24:01")] {
        let slot = json!({"class_id": school.class, "room": "Lab 3", "weekday": 2,
            "start": start, "end": end});
        let (status, body) = admin.post("/timetable", slot).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{start}-{end}: {body}");
        assert!(message(&body).contains("HH:MM"), "{body}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn terms_and_holidays_are_created_once_changed_and_deleted_with_an_audit_trail() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let id = uuid::Uuid::now_v7().to_string();
    let term =
        json!({"id": id, "name": "Autumn", "first_day": "2026-09-01", "last_day": "2026-12-18"});
    admin.created("/calendar/terms", term.clone()).await;
    let (status, body) = admin.post("/calendar/terms", term).await;
    assert_eq!(status, StatusCode::CONFLICT, "a duplicate term id: {body}");
    let patch = json!({"last_day": "2026-12-20"});
    let (status, body) = admin
        .send(Method::PATCH, &format!("/calendar/terms/{id}"), Some(patch))
        .await;
    assert_eq!(
        (status, body["last_day"].as_str()),
        (StatusCode::OK, Some("2026-12-20"))
    );
    let backwards = json!({"first_day": "2027-01-01"});
    let (status, _) = admin
        .send(
            Method::PATCH,
            &format!("/calendar/terms/{id}"),
            Some(backwards),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a term cannot end before it starts"
    );

    let day = json!({"day": "2026-11-24", "name": "Staff training"});
    admin.created("/calendar/holidays", day.clone()).await;
    let (status, _) = admin.post("/calendar/holidays", day).await;
    assert_eq!(status, StatusCode::CONFLICT, "one holiday a day");
    let rename = json!({"name": "Inset day"});
    let (status, body) = admin
        .send(Method::PATCH, "/calendar/holidays/2026-11-24", Some(rename))
        .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("Inset day"))
    );
    let (status, _) = admin.delete("/calendar/holidays/2026-11-24").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.delete("/calendar/holidays/2026-11-24").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin.delete(&format!("/calendar/terms/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, terms) = admin.get("/calendar/terms").await;
    assert_eq!(terms, json!([]));

    let (_, audit) = admin.get("/audit?limit=20").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "calendar.term",
        "calendar.term_update",
        "calendar.term_delete",
        "calendar.holiday_update",
        "calendar.holiday_delete",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn names_are_bounded_and_bodies_over_the_json_limit_are_refused() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let (status, body) = admin
        .post("/students", json!({"name": "x".repeat(1000)}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(message(&body).starts_with("name: "), "{body}");
    let (status, _) = admin
        .post("/students", json!({"name": "x".repeat(2 << 20)}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "a 2 MiB JSON body");
    let (status, _) = admin.post("/classes", json!({"name": "a\u{0}b"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "control characters");
    assert_alive(&hub).await;
    hub.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_404_for_everyone_and_admin_paths_403_for_teachers() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let (status, _) = school.teacher.get("/users/x/y").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no such path, even under /users"
    );
    let (status, _) = school.teacher.get("/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = hub.api().get("/no/such/thing").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "404 before asking for a token"
    );
    let (status, _) = hub.api().get("/users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reply = raw(hub.addr, "PATCH /api/v1/students HTTP/1.1\r\nHost: hub\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
    assert!(
        reply.to_ascii_lowercase().contains("allow: get, post"),
        "{reply}"
    );
    hub.stop().await;
}

/// Sends `request` as it is and reads the answer until the hub closes the connection.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn chunked_bodies_are_read_whole() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let token = admin.token.clone().unwrap();
    let body = r#"{"name": "Chunked Charlie"}"#;
    let (first, second) = body.split_at(10);
    let request = format!(
        "POST /api/v1/students HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    let reply = raw(hub.addr, &request).await;
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    assert!(reply.contains("Chunked Charlie"), "{reply}");
    hub.stop().await;
}

#[tokio::test]
async fn the_token_is_checked_before_the_body_is_read() {
    let hub = start_hub(None).await;
    let request = "POST /api/v1/students/00000000-0000-0000-0000-000000000000/faces HTTP/1.1\r\n\
        Host: hub\r\nContent-Type: multipart/form-data; boundary=x\r\n\
        Content-Length: 26214400\r\nConnection: close\r\n\r\n";
    let started = std::time::Instant::now();
    let reply = raw(hub.addr, request).await;
    assert!(
        reply.starts_with("HTTP/1.1 401"),
        "answered without the 25 MiB: {reply}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let admin = hub.admin().await;
    let (status, body) = admin
        .send(
            Method::POST,
            "/students",
            Some(json!({"name": "x".repeat(100)})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    hub.stop().await;
}
