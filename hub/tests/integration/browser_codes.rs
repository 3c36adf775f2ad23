//! The attendance codes page in a real headless Chromium against a real hub: an admin adds a
//! school's own code, changes its meaning, retires it (an amendment with it is then refused,
//! and Today offers it no more) and offers it again, then deletes it; the codes the hub
//! writes cannot retire; at phone width too, with axe-core's WCAG rules on the page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;

fn code<'a>(codes: &'a Value, name: &str) -> Option<&'a Value> {
    codes.as_array().unwrap().iter().find(|c| c["code"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_adds_retires_and_deletes_a_schools_own_code() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=codes]").await;
    b.visible("table.codes tr[data-code='/']").await;
    assert!(
        b.text("table.codes tr[data-code='/']")
            .await
            .contains("the hub writes it"),
        "built-in codes are marked"
    );

    b.type_into("input[name=code]", "AM").await;
    b.type_into("section input[name=meaning]", "Music exam outside school")
        .await;
    b.js(
        "document.querySelector('section select[name=mark]').value = 'present';",
        vec![],
    )
    .await;
    b.click("section button[type=submit]").await;
    b.said("Added AM").await;
    let row = "table.codes tr[data-code='AM']";
    b.visible(row).await;
    b.js(
        "const i = document.querySelector(arguments[0] + ' input[name=meaning]'); i.value = 'Music exam';",
        vec![json!(row)],
    )
    .await;
    b.click(&format!("{row} form button[type=submit]")).await;
    b.said("Saved AM").await;
    let (_, codes) = admin.get("/codes").await;
    let am = code(&codes, "AM").unwrap();
    assert_eq!(
        (&am["meaning"], &am["mark"], &am["retired"]),
        (&json!("Music exam"), &json!("present"), &json!(false))
    );

    b.click(&format!("{row} button.retire")).await;
    b.said("AM retired").await;
    b.visible("table.codes tr[data-code='AM'][data-retired=true]")
        .await;
    let (_, codes) = admin.get("/codes").await;
    assert_eq!(code(&codes, "AM").unwrap()["retired"], true);
    b.assert_accessible("codes").await;
    b.js("window.scrollTo(0, 0);", vec![]).await;
    b.screenshot("codes").await;

    // The codes the hub writes cannot retire.
    let (status, out) = admin
        .put(
            "/codes",
            json!({"code": "N", "meaning": "No reason yet", "mark": "absent", "retired": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    // A meaning changed without saying `retired` keeps the code retired.
    let (_, out) = admin
        .put(
            "/codes",
            json!({"code": "AM", "meaning": "Music exam (grade 5)", "mark": "present"}),
        )
        .await;
    assert_eq!(out["retired"], true, "{out}");

    b.click(&format!("{row} button.retire")).await;
    b.said("AM is offered again").await;
    b.click(&format!("{row} button.danger")).await;
    b.click("#confirm-ok").await;
    b.said("Deleted AM").await;
    b.wait(
        "AM gone",
        "return !document.querySelector(\"table.codes tr[data-code='AM']\");",
        vec![],
    )
    .await;
    assert!(code(&admin.get("/codes").await.1, "AM").is_none());
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("codes").await;
    b.assert_accessible("codes").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
