//! The calendar page in a real headless Chromium against a real hub: an admin adds a holiday on
//! a Monday with a lesson, is told before saving that it removes 7B's lesson in Lab 3 (the
//! hub's own preview), cancels and nothing is saved, confirms and it is; deleting it says the
//! lesson comes back; the page fits 375 px.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

async fn asked(b: &Browser, text: &str) {
    let script = "const d = document.getElementById('confirm'); \
        return d.open && d.textContent.includes(arguments[0]);";
    b.wait(&format!("the question {text:?}"), script, vec![json!(text)])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sees_the_lessons_a_holiday_removes_before_saving_it() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    seed_school(&admin).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.type_into("input[name=username]", ADMIN).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.signin button[type=submit]").await;
    b.click("#nav a[data-page=calendar]").await;
    b.visible("#add-holiday").await;

    let set_day = "document.querySelector('#add-holiday input[name=day]').value = arguments[0];";
    b.js(set_day, vec![json!("2026-11-30")]).await;
    b.type_into("#add-holiday input[name=name]", "Snow day")
        .await;
    b.click("#add-holiday button[type=submit]").await;
    let removes =
        "This removes 1 lesson (first: Mon 30 Nov 2026, 7B, Lab 3 09:00–10:00) and adds 0.";
    asked(&b, removes).await;
    assert!(b.text("#calendar-preview").await.contains(removes));
    b.click("#confirm-cancel").await;
    b.said("Nothing saved").await;
    assert_eq!(admin.get("/calendar/holidays").await.1, json!([]));

    // The status line now covers the button at the foot of the window: submit as Enter would.
    let again = "document.getElementById('add-holiday').requestSubmit();";
    b.js(again, vec![]).await;
    asked(&b, removes).await;
    b.click("#confirm-ok").await;
    b.said("Added Snow day").await;
    let row = "li[data-holiday='2026-11-30']";
    b.visible(row).await;
    assert_eq!(
        admin.get("/calendar/holidays").await.1[0]["name"],
        "Snow day"
    );
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("calendar").await;
    b.assert_accessible("calendar").await;
    b.viewport(1280, 900).await;
    b.assert_accessible("calendar").await;

    b.click(&format!("{row} button.danger")).await;
    asked(&b, "This removes 0 lessons and adds 1").await;
    b.click("#confirm-ok").await;
    b.said("Deleted Snow day").await;
    assert_eq!(admin.get("/calendar/holidays").await.1, json!([]));
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
