//! "People the door did not know" in a real headless Chromium against a real hub: an admin
//! sees one card per stranger under the review queue, dismisses one after confirming, adds
//! one to a student found by name, and enrols one as a new student in a class; the page fits
//! a phone's width.

use rollcall_shared::*;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

/// Clicks `css` once it is in the middle of the window, clear of the status line at the
/// bottom (which shows the last action's message for a few seconds).
async fn press(b: &Browser, css: &str) {
    b.visible(css).await;
    let centre = "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});";
    b.js(centre, vec![json!(css)]).await;
    b.click(css).await;
}

/// Stores two Unknown faces of the person along `axis` this morning; returns the first's id.
async fn person(hub: &TestHub, device: &str, axis: usize) -> String {
    let mut first = None;
    for (i, minute) in [2, 7].into_iter().enumerate() {
        let mut r = record(
            device.parse().unwrap(),
            Decision::Unknown,
            &[],
            monday_at(9, minute),
        );
        let mut v = vec![0.0; 128];
        v[axis] = 0.99;
        v[60 + i] = 0.1;
        r.embedding = Embedding::try_from(v).unwrap();
        first.get_or_insert(r.id.to_string());
        hub.db()
            .write(move |sql| rollcall_school::arrival::store(sql, &r, r.captured_at))
            .await
            .unwrap();
    }
    first.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_dismisses_assigns_and_enrols_strangers_in_the_browser() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let xena = person(&hub, &s.device, 10).await;
    let yann = person(&hub, &s.device, 11).await;
    let zoe = person(&hub, &s.device, 12).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    let card = |id: &str| format!("li.stranger[data-id='{id}']");
    for id in [&xena, &yann, &zoe] {
        b.visible(&card(id)).await;
    }
    assert!(
        b.text(&card(&xena)).await.contains("Seen 2 times on 1 day"),
        "{}",
        b.text(&card(&xena)).await
    );
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("review").await;
    b.assert_accessible("review").await;
    b.viewport(1280, 900).await;
    b.assert_accessible("review").await;

    press(&b, &format!("{} button[data-action=dismiss]", card(&yann))).await;
    b.click("#confirm-ok").await;
    b.said("Dismissed").await;

    press(&b, &format!("{} button[data-action=assign]", card(&xena))).await;
    b.type_into(&format!("{} input[name=q]", card(&xena)), "Ada")
        .await;
    press(&b, &format!("{} button.pick", card(&xena))).await;
    b.said("Added the 2 faces to Ada").await;

    press(&b, &format!("{} button[data-action=enrol]", card(&zoe))).await;
    b.type_into(&format!("{} input[name=name]", card(&zoe)), "Zoe")
        .await;
    let consent = [
        ("consent_by", "Zara (mother)"),
        ("consent_reference", "form 31"),
    ];
    for (input, text) in consent {
        b.type_into(&format!("{} input[name={input}]", card(&zoe)), text)
            .await;
    }
    b.js(
        "document.querySelector(arguments[0]).value = '2025-09-01';",
        vec![json!(format!(
            "{} input[name=consent_signed_on]",
            card(&zoe)
        ))],
    )
    .await;
    b.visible(&format!("{} select[name=class_id]", card(&zoe)))
        .await;
    b.js(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![
            json!(format!("{} select[name=class_id]", card(&zoe))),
            json!(s.class),
        ],
    )
    .await;
    press(&b, &format!("{} form button[type=submit]", card(&zoe))).await;
    b.said("Enrolled Zoe").await;

    let (_, left) = admin.get("/strangers").await;
    assert_eq!(left["count"], 0, "{left}");
    let (_, members) = admin.get(&format!("/classes/{}/students", s.class)).await;
    let zoe = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Zoe")
        .unwrap_or_else(|| panic!("Zoe is not in 7B: {members}"));
    let (_, faces) = admin
        .get(&format!("/students/{}/faces", zoe["id"].as_str().unwrap()))
        .await;
    assert_eq!(faces.as_array().unwrap().len(), 2, "{faces}");
    let (_, ada) = admin
        .get(&format!("/students/{}/faces", s.students[0]))
        .await;
    assert_eq!(
        ada.as_array().unwrap().len(),
        3,
        "one enrolled and two added: {ada}"
    );
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
