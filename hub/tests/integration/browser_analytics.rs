//! The analytics page in a real headless Chromium against a real hub: a class below the
//! threshold is named at risk, the chart draws each month, the table has the months' rates,
//! the CSV downloads; at desktop and phone width with axe-core's WCAG rules.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_sees_their_class_month_by_month() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = &s.students[0];
    let present = json!({"mark": "present", "reason": "register taken by hand"});
    for day in [
        "2026-10-19",
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
    ] {
        let path = format!("/sessions/{}/{day}/marks/{ada}", s.slot);
        let (status, body) = s.teacher.put(&path, present.clone()).await;
        assert_eq!(status, StatusCode::OK, "{day}: {body}");
    }

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    b.click("#nav a[data-page=analytics]").await;
    b.visible("table.analytics tbody tr[data-risky=true]").await;
    // From October: the year of months before it is all Bo's and Ada's absences.
    b.js(
        "document.querySelector('input[name=from]').value = '2026-10-01';",
        vec![],
    )
    .await;
    b.click("form.filters button[type=submit]").await;
    let october =
        "return !document.querySelector('table.analytics thead').textContent.includes('Sep');";
    b.wait("the range from October", october, vec![]).await;
    let risk = b.text(".at-risk-classes").await;
    assert!(risk.contains("7B") && risk.contains("36 %"), "{risk}");
    let months = b.text("table.analytics thead").await;
    assert!(
        months.contains("Oct 2026") && months.contains("Nov 2026"),
        "{months}"
    );
    let drawn = "return document.querySelectorAll('svg.months path.class-line').length === 1 \
        && document.querySelectorAll('svg.months circle.dot').length >= 2;";
    b.wait("a line and the months' dots", drawn, vec![]).await;
    b.js(
        "document.querySelector('.range-figures').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("analytics").await;
    b.assert_accessible("analytics").await;

    b.click("#analytics-csv").await;
    let file = downloads.path().to_owned();
    wait_for("the CSV downloaded", Duration::from_secs(10), || {
        let file = file.clone();
        async move {
            std::fs::read_dir(&file)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".csv"))
        }
    })
    .await;

    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("analytics").await;
    b.assert_accessible("analytics on a phone").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
