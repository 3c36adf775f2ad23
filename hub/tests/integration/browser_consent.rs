//! Consent to face recognition in a real headless Chromium against a real hub: an admin
//! records a parent's answer for two students of a class at once on the Consent page, then a
//! withdrawal on a student's page (which asks first, because it erases her faces), and the
//! page stops offering photo uploads; the class's teacher sees who to register by hand on
//! Today. Every page passes axe-core's rules at phone and desktop width.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;

async fn go(b: &Browser, page: &str) {
    b.click(&format!("#nav a[data-page={page}]")).await;
    let shown = "return document.getElementById('main').dataset.page === arguments[0];";
    b.wait(&format!("the {page} page"), shown, vec![json!(page)])
        .await;
}

/// Waits for the browser to finish downloading a file ending in `extension` into `dir`, and
/// returns its bytes.
async fn downloaded(dir: &Path, extension: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == extension));
        if let Some(bytes) = done.map(|f| std::fs::read(f).unwrap())
            && !bytes.is_empty()
        {
            return bytes;
        }
        assert!(Instant::now() < deadline, "no .{extension} downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn state(admin: &Api, student: &str) -> Value {
    admin.get(&format!("/students/{student}/consent")).await.1["state"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_records_consent_and_a_teacher_registers_the_others_by_hand() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let tess = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    let tess = admin.created("/users", tess).await;
    let class = admin
        .created("/classes", json!({"name": "7B", "teacher_id": tess["id"]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for name in ["Ada", "Bo", "Cy"] {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        admin
            .put(&format!("/classes/{class}/students/{id}"), json!({}))
            .await;
        ids.push(id);
    }
    let (ada, bo, cy) = (&ids[0], &ids[1], &ids[2]);
    admin.give_consent(ada).await;
    // The lesson the hub's clock is in (Monday 09:05).
    let slot =
        json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"});
    admin.created("/timetable", slot).await;

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;

    // The coverage: one of three given.
    go(&b, "consent").await;
    let row = format!("#coverage tr[data-class='{class}']");
    b.visible(&row).await;
    let cells = b.text(&row).await;
    assert!(cells.starts_with("7B\t3\t2\t0\t1"), "{cells:?}");
    b.assert_fits_and_accessible("consent").await;
    b.click("#consent-csv").await;
    let csv = String::from_utf8(downloaded(downloads.path(), "csv").await).unwrap();
    assert!(csv.contains("\n7B,3,2,0,1,0,0,0,0"), "{csv}");

    // Bo's and Cy's parents answered yes: recorded for both at once.
    b.click(&format!("{row} a")).await;
    b.visible("#class-students").await;
    for s in [bo, cy] {
        b.click(&format!("tr[data-student='{s}'] input[type=checkbox]"))
            .await;
    }
    // Sent without saying who answered: the field is named as the form labels it, and marked.
    b.click("form.consent-form button[type=submit]").await;
    b.said("fill in “Answered by”, “Date on the signed form”, “Form reference”")
        .await;
    let marked = "return document.querySelector('form.consent-form input[name=by]') \
        .getAttribute('aria-invalid');";
    assert_eq!(b.js(marked, vec![]).await, json!("true"));
    b.type_into("form.consent-form input[name=by]", "Their parents")
        .await;
    b.js(
        "document.querySelector('form.consent-form input[name=signed_on]').value = '2025-09-01';",
        vec![],
    )
    .await;
    b.type_into("form.consent-form input[name=reference]", "forms 7B")
        .await;
    b.click("form.consent-form button[type=submit]").await;
    b.said("Recorded for 2 students").await;
    assert_eq!(
        (state(&admin, bo).await, state(&admin, cy).await),
        (json!("given"), json!("given"))
    );
    b.visible(&format!("tr[data-student='{bo}'][data-consent=given]"))
        .await;
    b.screenshot("consent").await;

    // Ada's mother withdraws: the page asks first, then records it and offers no upload.
    b.open(&format!("/#/students/{ada}")).await;
    b.visible("#consent .consent.given").await;
    b.visible("#upload").await;
    b.js(
        "document.querySelector('#consent select[name=state]').value = 'withdrawn';",
        vec![],
    )
    .await;
    b.type_into("#consent input[name=by]", "Mary (mother)")
        .await;
    b.click("#consent button[type=submit]").await;
    b.click("#confirm-ok").await;
    b.said("Consent recorded: Withdrawn").await;
    b.visible("#consent .consent.withdrawn").await;
    b.visible("#no-upload").await;
    assert_eq!(state(&admin, ada).await, json!("withdrawn"));
    b.click("#archive").await;
    let zip = downloaded(downloads.path(), "zip").await;
    assert!(
        zip.starts_with(b"PK"),
        "everything held about Ada, as a zip"
    );
    let history = b.text("#consent table.history").await;
    assert!(
        history.contains("Mary (mother)") && history.contains("form 12"),
        "both answers are listed: {history}"
    );
    assert!(
        history.contains("by admin") && !history.contains("user:"),
        "who recorded each answer is said by account name: {history}"
    );
    b.assert_fits_and_accessible("students").await;

    // The teacher's Today: Ada is registered by hand, Bo and Cy are not.
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    b.sign_in("tess", "teacher password").await;
    go(&b, "today").await;
    let line = |s: &str| format!("tr[data-student='{s}']");
    b.visible(&format!("{} .tag.by-hand", line(ada))).await;
    let bo_line = b.text(&line(bo)).await;
    assert!(!bo_line.contains("register by hand"), "{bo_line:?}");
    assert!(b.text(&line(ada)).await.contains("Mark by hand"));
    b.assert_fits_and_accessible("today").await;
    hub.stop().await;
}
