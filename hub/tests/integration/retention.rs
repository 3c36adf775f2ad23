//! Two retentions on a real hub's database: faces go early (decided crops and embeddings,
//! undecided faces, leavers' enrolments), the register stays for years; erasing a student
//! removes their faces at once and leaves their register entries.

use reqwest::StatusCode;
use rollcall_hub::config::RetentionConfig;
use rollcall_school::attendance::Rules;
use rollcall_shared::*;
use serde_json::json;

use crate::common::*;

const DAY: i64 = 86_400_000;

fn rules() -> Rules {
    Rules {
        zone: zone(),
        late_after_minutes: 10,
        early_minutes: 10,
    }
}

/// Runs the retention policy on the hub's database as the hub would at `now`.
async fn retention_at(hub: &TestHub, now: i64) -> rollcall_school::retention::Purged {
    hub.db()
        .write(move |tx| {
            rollcall_school::retention::run(
                tx,
                &RetentionConfig::default(),
                &rules(),
                UnixMillis(now),
            )
        })
        .await
        .unwrap()
}

async fn close_registers(hub: &TestHub, now: i64) -> usize {
    hub.db()
        .write(move |tx| {
            let closed = rollcall_school::register::close_due(
                tx,
                &rules(),
                30 * 60_000,
                UnixMillis(now),
                None,
            )?;
            Ok::<_, rollcall_store::StoreError>(closed.len())
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn faces_go_early_the_register_stays_and_erasure_keeps_the_register() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let device: DeviceId = s.device.parse().unwrap();
    let seen = store(
        &hub,
        record(device, Decision::Confident, &[(&ada, 0.3)], monday_at(9, 2)),
    )
    .await;
    let waiting = store(
        &hub,
        record(
            device,
            Decision::Uncertain,
            &[(&bo, 0.45)],
            monday_at(9, 10),
        ),
    )
    .await;
    assert_eq!(close_registers(&hub, monday_at(10, 31)).await, 1);
    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (_, roster) = admin.get(&session).await;
    assert_eq!(roster["session"]["locked"], true, "{roster}");

    // Bo leaves the class; a month later the faces have gone and the register has not.
    let (status, _) = admin
        .delete(&format!("/classes/{}/students/{bo}", s.class))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let now = monday_at(11, 0);
    let first = retention_at(&hub, now).await;
    assert_eq!(first.leavers_templates, 0, "Bo has only just left");
    let later = retention_at(&hub, now + 31 * DAY).await;
    assert_eq!(
        (later.faces, later.undecided, later.leavers_templates),
        (1, 1, 1),
        "{later:?}"
    );
    let admin = hub.admin().await;
    let (_, bo_faces) = admin.get(&format!("/students/{bo}/embeddings")).await;
    assert_eq!(
        bo_faces.as_array().unwrap().len(),
        0,
        "a leaver's enrolment goes"
    );
    let (_, ada_faces) = admin.get(&format!("/students/{ada}/embeddings")).await;
    assert_eq!(ada_faces.as_array().unwrap().len(), 1, "Ada is still in 7B");
    let (_, set_aside) = admin.get(&format!("/records/{waiting}")).await;
    assert_eq!(set_aside["status"], "rejected", "{set_aside}");
    let (status, _, _) = admin.bytes(&format!("/records/{waiting}/thumbnail")).await;
    assert_ne!(status, StatusCode::OK, "its crop is gone");
    let (_, roster) = admin.get(&session).await;
    assert_eq!(
        roster["session"]["locked"], true,
        "the register stays: {roster}"
    );

    // Erasure: Ada's faces go at once; her register entry stays.
    let (status, _) = admin.delete(&format!("/students/{ada}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.get(&format!("/records/{seen}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the record of her face is gone"
    );
    let (_, ada_faces) = admin.get(&format!("/students/{ada}/embeddings")).await;
    assert_eq!(
        ada_faces.as_array().map_or(0, Vec::len),
        0,
        "her templates are gone"
    );
    let (_, roster) = admin.get(&session).await;
    let ada_entry = roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Ada")
        .cloned();
    assert_eq!(
        ada_entry.map(|r| r["code"].clone()),
        Some(json!("/")),
        "{roster}"
    );

    // Six years on, the register goes too.
    let purged = retention_at(&hub, now + (6 * 366 + 2) * DAY).await;
    assert_eq!(purged.register_sessions, 1, "{purged:?}");
    hub.stop().await;
}
