//! Faces the door judged not live, in a real headless Chromium: the teacher's review card says
//! *Possible photo or screen*, and the admin's Devices page counts them for the unit.

use rollcall_shared::{Decision, LivenessCheck};
use serde_json::json;

use crate::chrome::Browser;
use crate::common::{self, *};

async fn go(b: &Browser, page: &str) {
    b.click(&format!("#nav a[data-page={page}]")).await;
    let shown = "return document.getElementById('main').dataset.page === arguments[0];";
    b.wait(&format!("the {page} page"), shown, vec![json!(page)])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_face_judged_not_live_is_flagged_for_the_teacher_and_counted_for_the_unit() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let device = s.device.parse().unwrap();
    let ada = s.students[0].as_str();
    let photo = rollcall_shared::AttendanceRecord {
        liveness: Some(LivenessCheck {
            live: false,
            real_score: 0.04,
        }),
        ..common::record(device, Decision::Uncertain, &[(ada, 0.2)], monday_at(9, 2))
    };
    let doubtful = common::record(device, Decision::Uncertain, &[(ada, 0.45)], monday_at(9, 3));
    let (photo_id, doubtful_id) = (store(&hub, photo).await, store(&hub, doubtful).await);

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    let flagged = format!("#queue li[data-id=\"{photo_id}\"]");
    b.visible(&format!("{flagged} .tag.spoof")).await;
    assert!(
        b.text(&flagged).await.contains("Possible photo or screen"),
        "{}",
        b.text(&flagged).await
    );
    let other = format!("#queue li[data-id=\"{doubtful_id}\"]");
    b.visible(&other).await;
    let tags = "return document.querySelectorAll(arguments[0]).length;";
    let other_tags = json!(format!("{other} .tag.spoof"));
    assert_eq!(b.js(tags, vec![other_tags]).await, json!(0), "not checked");
    b.assert_accessible("review, a face flagged").await;

    b.click("#sign-out").await;
    b.sign_in(ADMIN, PASSWORD).await;
    go(&b, "devices").await;
    let row = format!("tr[data-device=\"{}\"]", s.device);
    b.visible(&row).await;
    let text = b.text(&row).await;
    assert!(
        text.contains("1 possible photo or screen (7 days)"),
        "{text}"
    );
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
