//! The roll call page in a real headless Chromium against a real hub, on a phone: a teacher
//! sees who is on site (a member of staff and a visitor signed in at reception, each in a group
//! of their own), starts a fire drill, ticks a student, the member of staff and the visitor off; a colleague's tick from
//! another phone appears within seconds; "missing only" empties; the drill is ended and read
//! back as its record; axe-core's WCAG rules on each state, and no sideways scrolling.

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::{self, *};

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_runs_a_fire_drill_from_a_phone() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    store(
        &hub,
        common::record(
            s.device.parse().unwrap(),
            Decision::Confident,
            &[(&ada, 0.3)],
            monday_at(9, 1),
        ),
    )
    .await;
    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (status, _) = s
        .teacher
        .put(
            &format!("{session}/marks/{bo}"),
            json!({"mark": "present", "reason": "came with a note"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let visit = json!({"name": "Vera Visitor", "organisation": "County IT", "visiting": "Tess"});
    let vera = s.teacher.created("/visitors", visit).await;
    let vera = vera["id"].as_str().unwrap();
    let sam = admin
        .created(
            "/staff",
            json!({"personnel_code": "S1", "name": "Sam Staff"}),
        )
        .await;
    let sam = sam["id"].as_str().unwrap();
    let (status, _) = s
        .teacher
        .post("/staff/sign-in", json!({"code": "S1"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    b.open("/#/roll-call").await;
    b.visible(".roll-group[data-group='7B']").await;
    let before = b.text("main").await;
    assert!(before.contains("2 students on site now"), "{before}");
    assert!(
        before.contains("1 visitor signed in at reception"),
        "{before}"
    );
    assert!(before.contains("1 staff signed in"), "{before}");
    assert!(before.contains("Ada") && before.contains("Bo"), "{before}");
    b.visible(&format!(
        ".roll-group[data-group='Visitors'] li[data-visitor='{vera}']"
    ))
    .await;
    b.assert_accessible("roll call, none under way").await;

    b.click("button.big.primary").await;
    b.said("Fire drill started").await;
    b.visible(".roll-under-way").await;
    assert!(
        b.text(".roll-count")
            .await
            .contains("0 of 2 students accounted for")
    );
    b.click(&format!("li[data-visitor='{vera}'] input[type=checkbox]"))
        .await;
    b.said("Vera Visitor is here.").await;
    b.click(&format!("li[data-staff='{sam}'] input[type=checkbox]"))
        .await;
    b.said("Sam Staff is here.").await;
    let visitor = "return document.querySelector('.roll-visitor-count').textContent.includes('1 of 1 visitor');";
    b.wait("Vera counted", visitor, vec![]).await;
    b.click(&format!("li[data-student='{ada}'] input[type=checkbox]"))
        .await;
    b.said("Ada is here.").await;
    let one = "return document.querySelector('.roll-count').textContent.includes('1 of 2');";
    b.wait("Ada counted", one, vec![]).await;

    // A colleague ticks Bo off on another phone: this one shows it within a few seconds.
    let (_, now) = admin.get("/roll-call").await;
    let id = now["roll_call"]["id"].as_str().unwrap();
    let (status, _) = admin
        .put(
            &format!("/roll-calls/{id}/people/{bo}"),
            json!({"here": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let both = "return document.querySelector('.roll-count').textContent.includes('2 of 2');";
    b.wait("Bo's tick from the other phone", both, vec![]).await;
    b.click("input[name=missing]").await;
    b.wait(
        "nobody missing",
        "return document.querySelector('.roll-list').textContent.includes('Everyone is accounted for');",
        vec![],
    )
    .await;
    b.click("input[name=missing]").await;
    b.visible(&format!("li[data-student='{bo}'][data-here=true]"))
        .await;
    b.screenshot("roll-call-phone").await;
    b.assert_accessible("roll call under way").await;
    b.assert_no_sideways_scroll("roll call").await;

    // Someone found by name is left on the page when the roll call ends: the list is cleared
    // (issue 73: tapping it after the end failed with an error in the page).
    admin
        .created("/students", json!({"name": "Cy Latecomer"}))
        .await;
    b.type_into("form.roll-add input[name=find]", "Latecomer")
        .await;
    b.click("form.roll-add button[type=submit]").await;
    b.visible("#roll-found li button").await;

    b.click(".roll-banner button.danger").await;
    b.click("#confirm-ok").await;
    b.said("Roll call ended: 2 of 2 students, 1 of 1 staff and 1 of 1 visitor accounted for")
        .await;
    let left = "return document.querySelectorAll('#roll-found li').length;";
    assert_eq!(b.js(left, vec![]).await, json!(0), "nothing left to tap");
    b.click(&format!("a[href='#/roll-call/{id}']")).await;
    b.visible("table.roll-record").await;
    let record = b.text("main").await;
    assert!(
        record.contains("Everyone was ticked off")
            && record.contains("Visitors: everyone was ticked off")
            && record.contains("Staff: everyone was ticked off")
            && record.contains("user:tess"),
        "{record}"
    );
    b.assert_accessible("a past roll call").await;
    b.assert_no_sideways_scroll("a past roll call").await;
    b.viewport(1280, 900).await;
    b.screenshot("roll-call").await;
    b.assert_accessible("a past roll call, desktop").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
