//! The timetable on the Admin page in a real headless Chromium against a real hub: an admin
//! moves 7B's Monday lesson to 11:00 from next Monday; this week keeps 09:00 (the old lesson
//! now ends on Sunday) and the new one starts next Monday, both listed with their dates.

use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;

const TIMETABLE: &str = "section[aria-labelledby=timetable-title]";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_moves_a_lesson_from_next_week_and_this_week_keeps_it() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.type_into("input[name=username]", ADMIN).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.signin button[type=submit]").await;
    b.click("#nav a[data-page=admin]").await;

    b.click(&format!(
        "{TIMETABLE} button[aria-label='Change the Monday 09:00 lesson of 7B']"
    ))
    .await;
    b.visible(&format!("{TIMETABLE} input[name=from]")).await;
    let set = "document.querySelector(arguments[0]).value = arguments[1];";
    let next_monday = (monday() + chrono::Duration::days(7)).to_string();
    for (input, value) in [("start", "11:00"), ("end", "12:00"), ("from", &next_monday)] {
        let selector = format!("{TIMETABLE} input[name={input}]");
        b.js(set, vec![json!(selector), json!(value)]).await;
    }
    let submit = format!("document.querySelector('{TIMETABLE} form').requestSubmit();");
    b.js(&submit, vec![]).await;
    b.said("Lesson changed.").await;

    let sunday = monday() + chrono::Duration::days(6);
    let (_, slots) = admin.get("/timetable").await;
    let slots = slots.as_array().unwrap();
    assert_eq!(slots.len(), 2, "{slots:?}");
    let old = slots
        .iter()
        .find(|s| s["id"] == json!(school.slot))
        .unwrap();
    let new = slots
        .iter()
        .find(|s| s["id"] != json!(school.slot))
        .unwrap();
    assert_eq!(
        (&old["start_minute"], &old["valid_until"]),
        (&json!(540), &json!(sunday.to_string()))
    );
    assert_eq!(
        (&new["start_minute"], &new["valid_from"]),
        (&json!(660), &Value::from(next_monday))
    );
    let (until, from) = (
        format!("until {}", sunday.format("%A %-d %B %Y")),
        format!(
            "from {}",
            (sunday + chrono::Duration::days(1)).format("%A %-d %B %Y")
        ),
    );
    b.text_with(&format!("{TIMETABLE} ul"), &[&until, &from])
        .await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("admin").await;
    b.assert_accessible("admin").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
