//! The calendar preview through the real hub: what adding a holiday or a term would do to the
//! sessions still to come, by the hub's own rule, before anything is saved. The clock stands at
//! Monday 23 Nov 2026 09:05 in London, during 7B's 09:00–10:00 lesson in Lab 3.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn days(side: &Value) -> Vec<&str> {
    side["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["day"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_holiday_on_a_future_monday_removes_that_lesson_and_saves_nothing() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    seed_school(&admin).await;
    let change = json!({"holiday": {"day": "2026-11-30", "name": "Snow day"}});
    let (status, p) = admin.post("/calendar/preview", change).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(
        (p["removed"]["count"].as_u64(), p["added"]["count"].as_u64()),
        (Some(1), Some(0))
    );
    let lesson = &p["removed"]["sessions"][0];
    assert_eq!(
        (
            lesson["day"].as_str(),
            lesson["class_name"].as_str(),
            lesson["room"].as_str()
        ),
        (Some("2026-11-30"), Some("7B"), Some("Lab 3"))
    );
    assert_eq!(
        (lesson["start"].as_str(), lesson["end"].as_str()),
        (Some("09:00"), Some("10:00"))
    );
    assert!(p["note"].as_str().unwrap().contains("kept"));
    let (_, holidays) = admin.get("/calendar/holidays").await;
    assert_eq!(holidays, json!([]), "a preview saves nothing");

    admin
        .created(
            "/calendar/holidays",
            json!({"day": "2026-11-30", "name": "Snow day"}),
        )
        .await;
    let (_, back) = admin
        .post("/calendar/preview", json!({"remove_holiday": "2026-11-30"}))
        .await;
    assert_eq!(days(&back["added"]), ["2026-11-30"]);
    hub.stop().await;
}

#[tokio::test]
async fn a_term_that_excludes_dates_removes_their_lessons_but_never_a_past_one() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    seed_school(&admin).await;
    let autumn =
        json!({"term": {"name": "Autumn", "first_day": "2026-09-01", "last_day": "2026-12-04"}});
    let (status, p) = admin.post("/calendar/preview", autumn).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let removed = days(&p["removed"]);
    assert_eq!(
        removed.first(),
        Some(&"2026-12-07"),
        "the first Monday after the term"
    );
    assert_eq!(p["removed"]["count"].as_u64(), Some(removed.len() as u64));
    assert!(removed.len() > 40, "a year of Mondays: {}", removed.len());
    assert_eq!(
        p["from"].as_str(),
        Some("2026-11-23"),
        "from today, not before"
    );

    let past = json!({"holiday": {"day": "2026-11-16", "name": "Last week"}});
    let (_, p) = admin.post("/calendar/preview", past).await;
    assert_eq!(
        (p["removed"]["count"].as_u64(), &p["from"]),
        (Some(0), &Value::Null)
    );
    let today = json!({"holiday": {"day": "2026-11-23", "name": "Today"}});
    let (_, p) = admin.post("/calendar/preview", today).await;
    assert_eq!(
        days(&p["removed"]),
        ["2026-11-23"],
        "the lesson under way has not ended"
    );
    hub.stop().await;
}

#[tokio::test]
async fn bad_changes_are_400_unknown_ones_404_and_teachers_403() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    for bad in [
        json!({}),
        json!({"holiday": {"day": "2026-13-01", "name": "x"}}),
        json!({"holiday": {"day": "2026-11-30", "name": "  "}}),
        json!({"holiday": {"day": "2026-11-30", "name": "x"}, "remove_holiday": "2026-11-30"}),
        json!({"term": {"name": "Back", "first_day": "2026-12-04", "last_day": "2026-09-01"}}),
        json!({"term": {"name": "Far", "first_day": "1999-01-01", "last_day": "2026-09-01"}}),
        json!({"remove_term": "not an id"}),
        json!({"shift": 3}),
    ] {
        let (status, reply) = admin.post("/calendar/preview", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {reply}");
    }
    let (status, _) = admin
        .post(
            "/calendar/preview",
            json!({"remove_term": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin
        .post("/calendar/preview", json!({"remove_holiday": "2026-11-30"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let change = json!({"holiday": {"day": "2026-11-30", "name": "Snow day"}});
    let (status, _) = school.teacher.post("/calendar/preview", change).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    hub.stop().await;
}
