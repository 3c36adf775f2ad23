//! Door units set from the hub, in real processes: `rollcall-hub` with its embedded broker and
//! `rollcall-edge` with the replay camera over one real face. An admin sets the unit's burst
//! on the hub; the unit takes it (its next burst has that many frames, each finding the face),
//! says so, and keeps it across a restart. Settings for its room that the unit's own rules
//! refuse (a confident distance past its uncertain one) are refused with the reason, shown on
//! the hub, and the last good settings stay in force.

use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::edge::EdgeSetup;
use rollcall_e2e::faces::stranger_replay;
use rollcall_e2e::hub::{ADMIN, ADMIN_PASSWORD, HubSetup};
use rollcall_e2e::process::Process;
use rollcall_e2e::wait_until;
use serde_json::{Value, json};

/// Waits until the hub shows `device`'s settings as `check` wants them.
async fn settings_until(admin: &Api, device: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let path = format!("/devices/{device}/settings");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = admin.get(&path).await.unwrap();
        if check(&view["state"]) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within 60 s: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Fires one burst and returns how many faces it found.
fn burst(door: &EdgeSetup, edge: &Process) -> usize {
    let before = edge.output().matches("burst done").count();
    assert!(door.trigger().unwrap(), "the trigger socket took it");
    wait_until("the burst", Duration::from_secs(60), || {
        edge.output().matches("burst done").count() > before
    })
    .unwrap();
    let out = edge.output();
    let line = out.lines().filter(|l| l.contains("burst done")).nth(before);
    let faces = line.and_then(|l| l.split("faces=").nth(1));
    let digits = faces.map(|f| {
        f.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    digits
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no face count:\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_takes_its_settings_from_the_hub_and_refuses_bad_ones_with_the_reason() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let setup = HubSetup::init(dir, false).unwrap();
    let device = setup.add_device("door-1", "Room 1").unwrap();
    let _hub = setup.serve("hub.log").unwrap();
    let admin = Api::login(&setup.api(), ADMIN, ADMIN_PASSWORD)
        .await
        .unwrap();
    let door = EdgeSetup::new(dir, &setup, &device, &stranger_replay(dir)).unwrap();
    let edge = door.start_ready("edge.log").unwrap();
    let id = device.id.as_str();
    settings_until(&admin, id, "the unit's first report", |s| {
        s["in_force"] == json!(0)
    })
    .await;
    assert_eq!(burst(&door, &edge), 1, "edge.toml: one frame a burst");

    // The admin sets this unit's burst, and switches its lamps off.
    let own = json!({"burst.frames": 3, "indicator.lamps": false});
    let view = admin
        .put(&format!("/devices/{id}/settings"), own)
        .await
        .unwrap();
    assert_eq!(view["state"]["version"], json!(1), "{view}");
    assert!(
        view["toml"].as_str().unwrap().contains("frames = 3"),
        "{view}"
    );
    settings_until(&admin, id, "version 1 in force", |s| {
        s["in_force"] == json!(1)
    })
    .await;
    assert_eq!(burst(&door, &edge), 3, "three frames, the face in each");

    // The hub refuses what it can tell is wrong, before any unit sees it.
    let (status, refused) = admin
        .call(
            reqwest::Method::PUT,
            &format!("/devices/{id}/settings"),
            Some(json!({"broker.url": "mqtt://elsewhere", "burst.frames": 70})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("broker.url"), "{refused}");

    // Settings for its room that the unit's own rules refuse: said why, the last good kept.
    let looser = json!({"matching.confident": 0.5});
    admin
        .put("/room-settings?room=Room%201", looser)
        .await
        .unwrap();
    settings_until(&admin, id, "version 2 refused", |s| {
        s["refused"]["version"] == json!(2)
    })
    .await;
    let state = admin.get(&format!("/devices/{id}/settings")).await.unwrap();
    let reason = state["state"]["refused"]["reason"].as_str().unwrap();
    assert!(reason.contains("matching"), "{reason}");
    assert_eq!(state["state"]["in_force"], json!(1));
    assert_eq!(burst(&door, &edge), 3, "the last good settings stay");

    // A restart keeps what the unit took; the room's settings put right are taken.
    drop(edge);
    let edge = door.start_ready("edge-2.log").unwrap();
    assert_eq!(burst(&door, &edge), 3, "kept across a restart");
    assert!(edge.output().contains("settings from the hub restored"));
    admin
        .put(
            "/room-settings?room=Room%201",
            json!({"matching.confident": 0.29}),
        )
        .await
        .unwrap();
    settings_until(&admin, id, "version 3 in force", |s| {
        s["in_force"] == json!(3) && s["refused"].is_null()
    })
    .await;
    let audit = admin.get("/audit?action=unit_settings").await.unwrap();
    assert_eq!(
        audit.as_array().unwrap().len(),
        3,
        "every change audited: {audit}"
    );
}
