//! Trips and clubs in a real headless Chromium at phone width with axe-core's WCAG rules: Tess
//! makes the Science Museum trip from 7B's list, then at the coach taps Bo (not there) and
//! "All present except 1": two taps take the register, and Ada's period 2 says she is on
//! the trip.

use reqwest::StatusCode;
use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn tess_makes_a_trip_on_her_phone_and_takes_it_in_two_taps() {
    let hub = start_hub_at(UnixMillis(monday_at(9, 30)), |c| {
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let p2 = admin
        .created("/timetable", json!({"class_id": s.class, "room": "Lab 4", "weekday": 1, "start": "10:00", "end": "11:00", "from": "2026-09-01"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    b.click("#nav a[data-page=activities]").await;
    b.text_with("#activities", &["Nothing on this day."]).await;
    b.assert_fits_and_accessible("trips and clubs, none yet")
        .await;

    // Making it: a trip from 10:30, 7B's pupils added ticked.
    b.click("#new-activity > summary").await;
    b.type_into("#new-activity input[name=title]", "Science Museum")
        .await;
    let set = "const [css, value] = arguments; const e = document.querySelector(css); \
        e.value = value; e.dispatchEvent(new Event('change', {bubbles: true}));";
    b.js(
        set,
        vec![json!("#new-activity input[name=start]"), json!("10:30")],
    )
    .await;
    b.js(
        set,
        vec![json!("#new-activity input[name=end]"), json!("15:00")],
    )
    .await;
    b.js(
        set,
        vec![json!("#new-activity select[name=class]"), json!(s.class)],
    )
    .await;
    b.text_with(".activity-chosen", &["Ada", "Bo"]).await;
    b.click("#new-activity button[type=submit]").await;
    b.said("Science Museum is made, with 2 pupils.").await;
    b.text_with(
        "#activities .activity",
        &["Science Museum", "10:30–15:00", "2 pupils, not taken yet."],
    )
    .await;

    // At the coach: Bo is not there. One tap on him, one on the button.
    let bo = &s.students[1];
    b.click(&format!(".tap-pupil[data-student='{bo}']")).await;
    b.text_with(".activity-send", &["All present except 1"])
        .await;
    b.screenshot("trip").await;
    b.assert_fits_and_accessible("a trip's register, Bo tapped absent")
        .await;
    b.click(".activity-send").await;
    b.said("Science Museum: taken, 1 of 2 there.").await;
    b.text_with(
        "#activities .activity",
        &["Taken: 1 present, 0 late, 1 absent."],
    )
    .await;

    let (status, listed) = s.teacher.get("/activities").await;
    assert_eq!(status, StatusCode::OK);
    let pupils = &listed["activities"][0]["pupils"];
    assert_eq!(
        (&pupils[0]["name"], &pupils[0]["mark"]),
        (&json!("Ada"), &json!("present"))
    );
    assert_eq!(
        (&pupils[1]["name"], &pupils[1]["mark"]),
        (&json!("Bo"), &json!("absent"))
    );
    let (_, roster) = s.teacher.get(&format!("/sessions/{p2}/2026-11-23")).await;
    let reasons: Vec<_> = roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].clone(), r["reason"].clone()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                json!("Ada"),
                json!("On the trip \u{201c}Science Museum\u{201d} (10:30\u{2013}15:00)")
            ),
            (json!("Bo"), json!(null)),
        ]
    );
}
