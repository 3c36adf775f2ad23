//! A student's history through the real hub: once the register closes Monday's lesson, the
//! history lists it with the record it was written from and the term's counts and rate; the
//! range defaults to the 365 days up to today and bad ranges are 400. (The terms start on the
//! day of the lesson: earlier Mondays of a term would count as ended without a record.)

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

async fn wait_locked(api: &Api, session: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        let (_, roster) = api.get(session).await;
        if roster["session"]["locked"] == true {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{session} was not locked");
}

#[tokio::test]
async fn a_closed_lesson_shows_its_evidence_and_the_terms_rate() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (&s.students[0], &s.students[1]);
    for (name, first, last) in [
        ("Summer 2026", "2026-07-14", "2026-07-17"),
        ("Autumn 2026", "2026-11-23", "2026-12-18"),
        ("Spring 2027", "2027-01-04", "2027-03-31"),
    ] {
        let term = json!({"name": name, "first_day": first, "last_day": last});
        admin.created("/calendar/terms", term).await;
    }
    let r = common::record(
        s.device.parse().unwrap(),
        Decision::Confident,
        &[(ada, 0.3)],
        monday_at(9, 2),
    );
    let record = r.id.to_string();
    let stored = hub
        .db()
        .write(move |sql| rollcall_school::arrival::store(sql, &r, r.captured_at))
        .await
        .unwrap();
    assert!(stored);

    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let teacher = hub.api().login("tess", "teacher password").await;
    wait_locked(&teacher, &format!("/sessions/{}/{}", s.slot, monday())).await;

    let (status, h) = teacher
        .get(&format!("/reports/students/{ada}/history"))
        .await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(
        (
            h["student"]["name"].as_str(),
            h["from"].as_str(),
            h["to"].as_str()
        ),
        (Some("Ada"), Some("2025-11-23"), Some("2026-11-23"))
    );
    let lesson = &h["sessions"][0];
    assert_eq!(lesson["evidence"], json!([record]), "{lesson}");
    assert_eq!(
        (&lesson["mark"], &lesson["code"], &lesson["source"]),
        (&json!("present"), &json!("/"), &json!("record"))
    );
    assert_eq!(lesson["first_seen_at"].as_i64(), Some(monday_at(9, 2)));
    assert_eq!(lesson["session"]["locked"], true);
    let names: Vec<&str> = h["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Summer 2026", "Autumn 2026"],
        "only the terms in the range"
    );
    let autumn = &h["terms"][1]["counts"];
    assert_eq!(
        (
            autumn["present"].as_u64(),
            autumn["attendance_rate"].as_f64()
        ),
        (Some(1), Some(1.0))
    );
    assert_eq!(
        h["terms"][0]["counts"]["attendance_rate"],
        Value::Null,
        "no lesson in the summer"
    );
    assert_eq!(h["overall"]["present"].as_u64(), Some(1));

    let (_, h) = teacher
        .get(&format!("/reports/students/{bo}/history"))
        .await;
    let lesson = &h["sessions"][0];
    assert_eq!(
        (&lesson["evidence"], &lesson["code"]),
        (&json!([]), &json!("N"))
    );
    assert_eq!(
        h["terms"][1]["counts"]["attendance_rate"].as_f64(),
        Some(0.0)
    );
    let (_, rows) = teacher
        .get(&format!(
            "/reports/students/{ada}?from=2026-11-23&to=2026-11-23"
        ))
        .await;
    assert_eq!(
        rows[0]["evidence"],
        json!([record]),
        "the plain history carries it too"
    );

    for bad in [
        "?from=2026-13-01",
        "?from=2026-11-24&to=2026-11-23",
        "?from=2020-01-01",
        "?to=2000-06-01",
    ] {
        let (status, reply) = teacher
            .get(&format!("/reports/students/{ada}/history{bad}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {reply}");
    }
    let (status, _) = teacher
        .get(&format!(
            "/reports/students/{}/history",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    hub.stop().await;
}
