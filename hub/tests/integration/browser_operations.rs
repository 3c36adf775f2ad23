//! The Deliveries page in a real headless Chromium against a real hub: a webhook receiver that
//! is down shows its delivery waiting for a retry with the error, e-mail that is not set up
//! says so, and the scheduled backup taken at start is listed with its size and when the next
//! is due; only admins may read either; at phone width too, with axe-core's WCAG rules.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_hub::config::WebhookConfig;
use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sees_deliveries_that_fail_and_the_backups_taken() {
    // A receiver that is down: a port nobody listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, "a shared secret of some length\n").unwrap();
    let hook = WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret_file,
        events: vec!["session.closed".into()],
    };
    let backups = dir.path().join("backups");
    let backup_dir = backups.clone();
    let hub = start_hub_with(None, move |c| {
        c.register.check_every_secs = 1;
        c.webhooks = vec![hook];
        c.backup.dir = Some(backup_dir);
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    assert_eq!(s.teacher.get("/backups").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        s.teacher.get("/webhooks/deliveries").await.0,
        StatusCode::FORBIDDEN
    );

    // The lesson closes at 10:30: its register goes to the receiver, which is down.
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let admin = hub.admin().await;
    wait_for("a failed try", Duration::from_secs(30), || {
        let admin = admin.clone();
        async move {
            let (_, out) = admin.get("/webhooks/deliveries").await;
            out["deliveries"][0]["last_error"].is_string()
        }
    })
    .await;
    let (_, out) = admin.get("/webhooks/deliveries").await;
    let d = &out["deliveries"][0];
    assert_eq!(
        (&d["event"], &d["standing"]),
        (&json!("session.closed"), &json!("waiting")),
        "{out}"
    );
    assert!(d["attempts"].as_u64().unwrap() >= 1, "{out}");
    let error = d["last_error"].as_str().unwrap();
    assert!(
        error.contains("onnect"),
        "the cause, not only reqwest's first line: {error}"
    );
    assert_eq!(out["receivers"], 1);
    let (_, b) = admin.get("/backups").await;
    assert_eq!(b["configured"], true, "{b}");
    let taken = b["backups"].as_array().unwrap();
    assert_eq!(taken.len(), 1, "the backup taken at start: {b}");
    assert!(taken[0]["bytes"].as_u64().unwrap() > 0);
    assert!(backups.join(taken[0]["file"].as_str().unwrap()).is_file());
    assert_eq!(
        b["next_at"].as_i64().unwrap(),
        taken[0]["at"].as_i64().unwrap() + 24 * 3_600_000
    );
    assert_eq!(b["overdue"], false);

    let downloads = tempfile::tempdir().unwrap();
    let br = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    br.viewport(1280, 900).await;
    br.open("/").await;
    br.sign_in(ADMIN, PASSWORD).await;
    br.click("#nav a[data-page=operations]").await;
    br.visible("tr[data-standing=waiting]").await;
    let row = br.text("tr[data-standing=waiting]").await;
    assert!(
        row.contains("session.closed") && row.contains("next try"),
        "{row}"
    );
    assert!(row.contains(&addr.to_string()), "{row}");
    let mail = br.text("section[aria-labelledby=ops-email]").await;
    assert!(mail.contains("E-mail is not set up"), "{mail}");
    let listed = br.text("section[aria-labelledby=ops-backups]").await;
    assert!(
        listed.contains("Every 24 h") && listed.contains("Next due") && listed.contains(".sqlite3"),
        "{listed}"
    );
    br.assert_accessible("deliveries").await;
    br.screenshot("deliveries").await;
    br.viewport(375, 812).await;
    br.assert_no_sideways_scroll("deliveries").await;
    br.assert_accessible("deliveries").await;
    br.client.clone().close().await.unwrap();
    hub.stop().await;
}
