//! The API reference page in a real headless Chromium against a real hub, signed in or not:
//! every operation of the hub's own openapi.json is listed (and every route of the hub is
//! documented, by the openapi test), a search narrows them, and an operation opens to its
//! parameters, request body and answers; at phone width too, with axe-core's WCAG rules.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn anyone_reads_the_api_reference_from_the_hubs_own_document() {
    let hub = start_hub(None).await;
    let (_, doc) = hub.api().get("/openapi.json").await;
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            ["get", "post", "put", "patch", "delete"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .count()
        })
        .sum();
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/#/api").await;
    b.visible("details.api-op").await;
    let listed = b
        .js(
            "return document.querySelectorAll('details.api-op').length;",
            vec![],
        )
        .await;
    assert_eq!(listed, json!(operations), "every operation, signed out");

    b.type_into("#api-filter", "photos taken_at").await;
    let one =
        "const shown = [...document.querySelectorAll('details.api-op')].filter(d => !d.hidden);
        return shown.length === 1 && shown[0].textContent.includes('/photos');";
    b.wait("only the class photo operation", one, vec![]).await;
    b.click("details.api-op:not([hidden]) summary").await;
    let opened = b.text("details.api-op[open]").await;
    for part in [
        "slot",
        "date",
        "(required)",
        "photo",
        "taken_at",
        "ClassPhotoFace",
        "otherwise",
    ] {
        assert!(opened.contains(part), "{part} in {opened}");
    }
    b.assert_accessible("api reference").await;
    b.screenshot("api").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("api reference").await;
    b.assert_accessible("api reference").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
