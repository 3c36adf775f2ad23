//! The audit log page in a real headless Chromium against a real hub: an admin finds the
//! changes made to one user by filtering on what and on whom, each with what it was before and
//! after, pages back to older changes, and a teacher never sees the page; at phone width too,
//! with axe-core's WCAG rules on the page.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

const PATCH: reqwest::Method = reqwest::Method::PATCH;

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_finds_who_changed_what_in_the_audit_log() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let nora = admin
        .created(
            "/users",
            json!({"username": "nora", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let path = format!("/users/{}", nora["id"].as_str().unwrap());
    admin
        .send(PATCH, &path, Some(json!({"email": "nora@school.test"})))
        .await;
    // Enough classes to fill more than a page of 50 changes.
    for i in 0..55 {
        admin
            .created("/classes", json!({"name": format!("C{i}")}))
            .await;
    }
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=audit]").await;
    b.visible("table.audit tbody tr").await;
    let rows = "return document.querySelectorAll('table.audit tbody tr').length;";
    assert_eq!(b.js(rows, vec![]).await, json!(50), "one page at first");
    b.click("main > button").await;
    b.wait(
        "older changes",
        "return document.querySelectorAll('table.audit tbody tr').length > 50;",
        vec![],
    )
    .await;

    // What was done to nora: created, then given an address (before → after).
    b.type_into("input[name=action]", "user.").await;
    b.type_into("input[name=target]", nora["id"].as_str().unwrap())
        .await;
    b.click("form.filters button[type=submit]").await;
    let shown = "const r = [...document.querySelectorAll('table.audit tbody tr')];
        return r.length === 2 && r.every(t => t.dataset.action.startsWith('user.'));";
    b.wait("nora's two changes", shown, vec![]).await;
    let update = b.text("table.audit tr[data-action='user.update']").await;
    assert!(update.contains("email: — → nora@school.test"), "{update}");
    // People by name, their account in the cell's title; instants as the school's times.
    let who = "const td = document.querySelector(\"table.audit tr[data-action='user.update'] td:nth-child(2)\"); \
        return [td.title, td.textContent];";
    let who = b.js(who, vec![]).await;
    assert_eq!(who[0], "user:admin", "{who}");
    assert!(
        !who[1].as_str().unwrap().contains("user:"),
        "by name: {who}"
    );
    let created = b.text("table.audit tr[data-action='user.create']").await;
    let raw_instant = created
        .split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() >= 13);
    assert!(!raw_instant, "no raw milliseconds: {created}");
    assert!(b.text("h1 + .count, .count").await.contains("2 changes"));
    b.assert_accessible("audit log").await;
    b.screenshot("audit").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("audit log").await;
    b.assert_accessible("audit log").await;

    // Nobody else's changes match another name; a teacher has no such page.
    b.js(
        "document.querySelector('input[name=target]').value = 'nobody';",
        vec![],
    )
    .await;
    b.click("form.filters button[type=submit]").await;
    b.wait(
        "no change",
        "return document.querySelector('.count').textContent.includes('No change');",
        vec![],
    )
    .await;
    let teacher = hub.api().login("nora", "teacher password").await;
    assert_eq!(
        teacher.get("/audit").await.0,
        reqwest::StatusCode::FORBIDDEN
    );
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
