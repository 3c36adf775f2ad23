//! A student's history page in a real headless Chromium against a real hub: after the register
//! closes Monday's lesson, a teacher follows Ada's name on the Today page to her history and
//! sees the term's rate and the lesson with its mark, code and source; the crop of a
//! confident record (never kept) is not shown; her day through the school's entrance and exit
//! is listed; the page fits 375 px.

use std::time::Duration;

use rollcall_shared::*;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::{self, *};

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_reads_a_students_history_from_the_today_page() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = s.students[0].clone();
    let term = json!({"name": "Autumn 2026", "first_day": "2026-11-23", "last_day": "2026-12-18"});
    admin.created("/calendar/terms", term).await;
    let r = common::record(
        s.device.parse().unwrap(),
        Decision::Confident,
        &[(&ada, 0.3)],
        monday_at(9, 2),
    );
    let stored = hub
        .db()
        .write(move |sql| rollcall_school::arrival::store(sql, &r, r.captured_at))
        .await
        .unwrap();
    assert!(stored);
    // The school's gate: Ada came in before the lesson and left after it.
    for (name, direction, at) in [
        ("gate-in", Direction::In, monday_at(8, 40)),
        ("gate-out", Direction::Out, monday_at(10, 20)),
    ] {
        let unit = admin
            .created(
                "/devices",
                json!({"name": name, "room": "Main gate", "direction": direction}),
            )
            .await;
        let r = AttendanceRecord {
            room: "Main gate".into(),
            direction: Some(direction),
            liveness: None,
            ..common::record(
                unit["device"]["id"].as_str().unwrap().parse().unwrap(),
                Decision::Confident,
                &[(&ada, 0.3)],
                at,
            )
        };
        store(&hub, r).await;
    }
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let teacher = hub.api().login("tess", "teacher password").await;
    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (t, path) = (&teacher, &session);
    wait_for(
        "the register closed",
        Duration::from_secs(15),
        move || async move { t.get(path).await.1["session"]["locked"] == true },
    )
    .await;

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.type_into("input[name=username]", "tess").await;
    b.type_into("input[name=password]", "teacher password")
        .await;
    b.click("form.signin button[type=submit]").await;
    b.click("#nav a[data-page=today]").await;
    b.click(&format!("a[href='#/history/{ada}']")).await;
    let row = "#history tr[data-day='2026-11-23']";
    b.visible(row).await;
    assert!(b.text("h1").await.contains("Ada: attendance"));
    let rates = b.text(".term-rates").await;
    assert!(rates.contains("Autumn 2026: 100 %"), "{rates}");
    let lesson = b.text(row).await;
    for part in [
        "Present",
        "code /",
        "seen at the door",
        "7B",
        "Lab 3",
        "09:00–10:00",
    ] {
        assert!(lesson.contains(part), "{part} in {lesson}");
    }
    let doors = b.text(".doors").await;
    assert!(
        doors.contains("In 08:40") && doors.contains("Out 10:20") && doors.contains("Main gate"),
        "{doors}"
    );
    b.screenshot("history").await;
    let gone = "const i = document.querySelector(arguments[0] + ' .evidence img'); \
        return !!i && i.classList.contains('missing') && i.getClientRects().length === 0;";
    b.wait(
        "the crop that was never kept hidden",
        gone,
        vec![json!(row)],
    )
    .await;
    b.assert_accessible("history").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("history").await;
    b.assert_accessible("history").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
