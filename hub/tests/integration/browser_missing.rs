//! Missing now and pupils leaving at reception in a real headless Chromium at phone width with
//! axe-core's WCAG rules: Ada, through the gate at 08:40, is missing from period 2 at 10:10 with
//! its register not taken; her teacher's review page says so above the queue; reception signs
//! Bo out for the dentist and back in.

use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn missing_now_names_ada_and_reception_signs_bo_out_and_back_in() {
    let hub = start_hub_at(UnixMillis(monday_at(8, 30)), |c| {
        c.register.check_every_secs = 1;
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    admin
        .created("/timetable", json!({"class_id": s.class, "room": "Lab 4", "weekday": 1, "start": "10:00", "end": "11:00", "from": "2026-09-01"}))
        .await;
    let gate = admin
        .created(
            "/devices",
            json!({"name": "gate", "room": "Main gate", "direction": "in"}),
        )
        .await;
    let gate = gate["device"]["id"].as_str().unwrap().parse().unwrap();
    let mut at_gate = record(
        gate,
        rollcall_shared::Decision::Confident,
        &[(s.students[0].as_str(), 0.3)],
        monday_at(8, 40),
    );
    at_gate.room = "Main gate".into();
    at_gate.direction = Some(rollcall_shared::Direction::In);
    store(&hub, at_gate).await;
    door_saw(&hub, &s.device, &s.students[0], monday_at(9, 2)).await;
    door_saw(&hub, &s.device, &s.students[1], monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 10)));

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.open("/#/missing").await;
    b.text_with(
        "#missing-now",
        &[
            "Missing now (2)",
            "Ada",
            "is not in 7B (Lab 4, from 10:00)",
            "seen at Main gate at 08:40",
        ],
    )
    .await;
    b.text_with(
        "#not-taken",
        &["Registers not taken (1)", "7B", "2 to mark"],
    )
    .await;
    b.screenshot("missing").await;
    b.assert_fits_and_accessible("missing now").await;

    // Reception: Bo leaves for the dentist; Missing now has Ada alone; Bo comes back.
    b.click("#nav a[data-page=reception]").await;
    b.visible("#pupil-sign-out").await;
    b.type_into("#pupil-sign-out input[name=pupil]", "Bo").await;
    b.js(
        "document.querySelector('#pupil-sign-out select[name=reason]').value = 'medical';",
        vec![],
    )
    .await;
    b.type_into("#pupil-sign-out input[name=note]", "dentist")
        .await;
    b.click("#pupil-sign-out button[type=submit]").await;
    b.said("Bo is signed out at 10:10").await;
    b.text_with(
        "#pupils-out",
        &["Bo", "medical appointment (dentist)", "out 10:10"],
    )
    .await;
    b.assert_fits_and_accessible("reception, a pupil signed out")
        .await;
    b.open("/#/missing").await;
    let now = b
        .text_with("#missing-now", &["Missing now (1)", "Ada"])
        .await;
    assert!(!now.contains("Bo"), "signed out, never missing: {now}");
    b.click("#nav a[data-page=reception]").await;
    b.click("#pupils-out button").await;
    b.said("Bo is signed back in").await;
    b.text_with("#pupils-out", &["back 10:10"]).await;

    // Tess's review page shows her lesson's missing pupils above the queue; her bar is the
    // lesson's pages and a menu, grouped by what people do.
    let tess = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    tess.viewport(375, 812).await;
    tess.open("/").await;
    tess.sign_in("tess", "teacher password").await;
    tess.text_with(
        "#missing-mine",
        &["Missing from a lesson", "Ada", "Registers not taken"],
    )
    .await;
    tess.assert_fits_and_accessible("review with a missing pupil")
        .await;
    let bar = "return [...document.querySelectorAll('#nav > li')] \
        .filter(li => li.getClientRects().length > 0).map(li => li.innerText.trim().split('\\n')[0]);";
    assert_eq!(
        tess.js(bar, vec![]).await,
        json!(["Review", "Today", "Missing now", "Menu"])
    );
    tess.click("#nav-menu > summary").await;
    tess.text_with(
        "#nav-menu",
        &[
            "REGISTER",
            "PEOPLE",
            "FAMILIES",
            "OFFICE",
            "Reception",
            "My account",
        ],
    )
    .await;
    tess.screenshot("menu").await;
    tess.assert_fits_and_accessible("the menu open").await;
    tess.click("#nav a[data-page=reception]").await;
    tess.visible("#pupil-sign-out").await;
    let closed = "return !document.getElementById('nav-menu').open;";
    assert_eq!(
        tess.js(closed, vec![]).await,
        json!(true),
        "the menu closes"
    );
    hub.stop().await;
}
