//! The register on a phone without a network, in a real headless Chromium at phone width with
//! axe-core's WCAG rules: Tess opens her review page and the trip's register, the network is
//! cut (Chromium's network emulation) and the hub restarted meanwhile; offline she reopens the
//! app, approves Ada's and Bo's faces and takes the trip's register, all saved on the phone;
//! the admin rejects Bo's face first; the network back, the phone sends its three decisions
//! once each, and shows the one the hub refused, with the hub's words, and an entry changed on
//! the phone, not sent.

use std::time::Duration;

use rollcall_shared::{Decision, UnixMillis};
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;
use crate::missing::narrate;

#[tokio::test(flavor = "multi_thread")]
async fn tess_decides_offline_and_the_phone_sends_each_decision_once_when_back() {
    let hub = start_hub_at(UnixMillis(monday_at(9, 30)), |c| {
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let device = s.device.parse().unwrap();
    let card = |student: &str, minute| {
        record(
            device,
            Decision::Uncertain,
            &[(student, 0.5)],
            monday_at(9, minute),
        )
    };
    let ada_card = store(&hub, card(&ada, 5)).await;
    let bo_card = store(&hub, card(&bo, 6)).await;
    let trip = s
        .teacher
        .created(
            "/activities",
            json!({"kind": "trip", "title": "Science Museum", "start": "10:30", "end": "15:00", "pupils": [ada, bo]}),
        )
        .await;
    let trip = trip["id"].as_str().unwrap().to_owned();

    // Online: the app is opened once, so the phone keeps its pages and the day's answers.
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    b.wait(
        "the service worker in charge",
        "return !!navigator.serviceWorker.controller;",
        vec![],
    )
    .await;
    b.text_with("#queue", &["Ada", "Bo"]).await;
    b.click("#nav a[data-page=activities]").await;
    b.text_with("#activities", &["Science Museum"]).await;
    b.click("#nav a[data-page=review]").await;
    b.text_with("#queue", &["Ada", "Bo"]).await;

    // The network goes, and the hub restarts while the phone is offline.
    b.network(false).await;
    narrate("offline", "Chromium's network cut; the hub stopped");
    let hub = restart_hub_after(hub, async {
        // The app reopened offline: the pages and the cards are the phone's copies.
        b.open("/").await;
        b.text_with("#queue", &["Ada", "Bo"]).await;
        b.click(&format!(
            ".record[data-id='{ada_card}'] [data-action=approve]"
        ))
        .await;
        b.text_with("#queue-bar", &["1 decision is saved on this phone"])
            .await;
        b.click(&format!(
            ".record[data-id='{bo_card}'] [data-action=approve]"
        ))
        .await;
        b.text_with("#queue-bar", &["2 decisions are saved on this phone"])
            .await;
        b.text_with(
            "#queue",
            &["Saved on this phone, sent when the hub can be reached"],
        )
        .await;
        b.js("window.scrollTo(0, 0);", vec![]).await;
        b.screenshot("offline").await;
        b.assert_fits_and_accessible("review offline, two decisions saved")
            .await;
        // The trip's register, taken at the coach with no signal.
        b.click("#nav a[data-page=activities]").await;
        b.click(&format!(".tap-pupil[data-student='{bo}']")).await;
        b.click(".activity-send").await;
        b.said("Science Museum: saved on this phone, 1 of 2 there.")
            .await;
        let bar = b
            .text_with("#queue-bar", &["3 decisions are saved on this phone"])
            .await;
        narrate(
            "offline",
            format!("two faces approved, the trip taken: {bar}"),
        );
        // An entry changed on the phone (by hand, or a bad write): never sent, but shown.
        let tamper = "const done = arguments[0]; const open = indexedDB.open('rollcall', 1); \
            open.onsuccess = () => { const tx = open.result.transaction('waiting', 'readwrite'); \
              tx.objectStore('waiting').put({key: 'not a key!', account: null, method: 'PATCH', \
                path: '/../users', what: 'Changed on the phone', made_at: Date.now()}); \
              tx.oncomplete = () => done(true); };";
        b.client.execute_async(tamper, vec![]).await.unwrap();
    })
    .await;

    // Meanwhile the admin rejects Bo's face at the hub.
    let admin = hub.admin().await;
    let (status, _) = admin
        .post(&format!("/records/{bo_card}/reject"), json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);

    // The hub is up, the phone still without a network: past its next tries, nothing is sent.
    tokio::time::sleep(Duration::from_secs(6)).await;
    b.text_with("#queue-bar", &["decisions are saved on this phone"])
        .await;
    let (_, still) = admin.get(&format!("/records/{ada_card}")).await;
    assert_eq!(still["status"], "pending", "nothing got through: {still}");

    // The network is back: each decision is sent once; the refused one is shown.
    narrate(
        "back",
        "the hub restarted; the admin rejects Bo's face; 6 s on, nothing sent; the network given back",
    );
    b.network(true).await;
    b.text_with(
        "#queue-bar",
        &[
            "Not accepted by the hub:",
            "Approved: Bo",
            "this face was decided first (rejected by admin)",
            "Changed on the phone",
            "this decision was damaged on the phone and was not sent",
        ],
    )
    .await;
    b.wait(
        "the queue empty",
        "return !document.querySelector('#queue-bar .waiting');",
        vec![],
    )
    .await;
    narrate(
        "back",
        format!(
            "the phone's bar: {}",
            b.text("#queue-bar").await.replace('\n', " ")
        ),
    );
    b.assert_fits_and_accessible("a refused decision shown")
        .await;

    let (_, ada_seen) = admin.get(&format!("/records/{ada_card}")).await;
    assert_eq!(
        (&ada_seen["status"], &ada_seen["reviewed_by"]),
        (&json!("approved"), &json!("user:tess"))
    );
    let (_, bo_seen) = admin.get(&format!("/records/{bo_card}")).await;
    assert_eq!(bo_seen["status"], "rejected", "the admin's decision stands");
    let (_, audit) = admin.get("/audit?action=record.approve").await;
    let approvals = audit["entries"].as_array().or(audit.as_array()).unwrap();
    assert_eq!(approvals.len(), 1, "Ada's face approved once: {audit}");
    let (_, taken) = s.teacher.get(&format!("/activities/{trip}")).await;
    let marks: Vec<_> = taken["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["mark"].clone()))
        .collect();
    assert_eq!(
        marks,
        [
            (json!("Ada"), json!("present")),
            (json!("Bo"), json!("absent"))
        ]
    );
    narrate(
        "back",
        format!(
            "GET /activities/{{trip}}: {:?}; audit: {} approval",
            marks,
            approvals.len()
        ),
    );

    // Seen: the refusals go; nothing is left on the phone.
    b.click("#queue-bar .refused button").await;
    b.text_with("#queue-bar .refused", &["Changed on the phone"])
        .await;
    b.click("#queue-bar .refused button").await;
    b.wait(
        "the bar gone",
        "return document.getElementById('queue-bar').hidden;",
        vec![],
    )
    .await;

    // Signing out takes what the phone kept of the day (names, faces) with it.
    let kept = "const done = arguments[0]; caches.has('rollcall-answers').then(done);";
    assert_eq!(
        b.client.execute_async(kept, vec![]).await.unwrap(),
        json!(true)
    );
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    // Past any poll that was in flight at the sign-out.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let gone = b.client.execute_async(kept, vec![]).await.unwrap();
    assert_eq!(gone, json!(false), "the answers kept on the phone deleted");
}
