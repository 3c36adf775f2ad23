//! The devices page in a real headless Chromium against a real hub with its embedded broker:
//! an admin registers a door unit and is shown its set-up code at once, with the command to
//! type on the unit and a QR code of it; the code shown is one the hub accepts. The unit is
//! then moved and turned to face in (an entrance), given settings of its own and its room's
//! (sent to it, waiting for it to say it took them), and retired.

use reqwest::StatusCode;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn registering_a_door_unit_shows_its_set_up_code_and_qr_code() {
    let hub = start_hub(None).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.type_into("input[name=username]", ADMIN).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.signin button[type=submit]").await;
    b.visible("#nav").await;
    b.click("#nav a[data-page=devices]").await;

    b.type_into("form input[name=name]", "door-lab3").await;
    b.type_into("form input[name=room]", "Lab 3").await;
    b.click("form button[type=submit]").await;
    b.visible("#setup-code .code").await;
    let shown = b.text("#setup-code").await;
    let code = b.text("#setup-code .code").await;
    assert!(code.len() == 14 && code.matches('-').count() == 2, "{code}");
    let command = format!(
        "sudo rollcall-edge enrol --hub http://{} --code {code}",
        hub.addr
    );
    assert!(shown.contains(&command), "{shown}");
    assert!(shown.contains("Set-up code for door-lab3"), "{shown}");
    let qr = "const i = document.querySelector('#setup-code img'); \
        return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:');";
    b.wait("the QR code", qr, vec![]).await;
    let listed = "return document.querySelector('#devices tr[data-device]') !== null;";
    b.wait("the new unit listed", listed, vec![]).await;
    b.screenshot("devices-setup-code").await;
    b.assert_accessible("devices, a setup code shown").await;

    // The code on the page is the one the hub takes, once.
    let (status, body) = hub.api().post("/provision", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["device_name"], json!("door-lab3"));
    b.click("#setup-code button").await;
    let gone = "return document.getElementById('setup-code').hidden;";
    b.wait("the code put away", gone, vec![]).await;

    // Moved to another room and turned to face in, then retired: the row says so, and the
    // unit is cut off.
    let row = format!(
        "tr[data-device=\"{}\"]",
        body["device_id"].as_str().unwrap()
    );
    b.click(&format!(
        "{row} summary[aria-label^='Rename, move or turn']"
    ))
    .await;
    let room = format!("{row} input[name=room]");
    b.js(
        "document.querySelector(arguments[0]).value = '';",
        vec![json!(room)],
    )
    .await;
    b.type_into(&room, "Lab 9").await;
    b.js(
        "document.querySelector(arguments[0]).value = 'in';",
        vec![json!(format!("{row} select[name=direction]"))],
    )
    .await;
    b.click(&format!("{row} details[open] button[type=submit]"))
        .await;
    b.said("moved to Lab 9").await;
    b.said("It now counts people coming in").await;
    let turned =
        format!("return document.querySelector('{row}').textContent.includes('people coming in');");
    b.wait("the unit facing in", &turned, vec![]).await;
    b.assert_accessible("devices, a unit turned").await;
    let moved = format!("return document.querySelector('{row}').textContent.includes('Lab 9');");
    b.wait("the unit in Lab 9", &moved, vec![]).await;

    // Its own burst, and its room's lamps off.
    b.click(&format!("{row} summary[aria-label^='Settings of']"))
        .await;
    let frames = format!("{row} details[open] input[name='burst.frames']");
    b.type_into(&frames, "3").await;
    // Below the fold, under the status line: brought to the middle first, as a user scrolls.
    let save = format!("{row} details[open] button[type=submit]");
    b.js(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        vec![json!(save)],
    )
    .await;
    b.click(&save).await;
    b.said("Settings sent to door-lab3").await;
    b.visible(&format!("{row} [data-settings=waiting]")).await;
    b.js(
        "const s = document.querySelector('#room-settings select[name=\"indicator.lamps\"]'); \
         s.value = 'false';",
        vec![],
    )
    .await;
    b.js(
        "document.querySelector('#room-settings button[type=submit]').scrollIntoView({block: 'center'});",
        vec![],
    )
    .await;
    b.click("#room-settings button[type=submit]").await;
    b.said("Settings sent to 1 door unit in Lab 9").await;
    let admin = hub.admin().await;
    let unit = body["device_id"].as_str().unwrap();
    let (_, settings) = admin.get(&format!("/devices/{unit}/settings")).await;
    assert_eq!(settings["own"], json!({"burst.frames": 3}), "{settings}");
    assert_eq!(settings["from_room"], json!({"indicator.lamps": false}));
    assert!(
        settings["state"]["version"].as_u64().unwrap() >= 2,
        "{settings}"
    );
    b.assert_fits_and_accessible("devices, settings").await;
    b.js(
        "document.getElementById('room-settings').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("devices-settings").await;
    b.click(&format!("{row} button[aria-label^='Retire']"))
        .await;
    b.click("#confirm-ok").await;
    b.said("retired").await;
    b.visible(&format!("{row}[data-state=retired]")).await;
    let (_, devices) = hub.admin().await.get("/devices").await;
    assert!(devices[0]["retired_at"].is_i64(), "{devices}");
    assert_eq!(devices[0]["room"], json!("Lab 9"));
    assert_eq!(devices[0]["direction"], json!("in"));
    hub.stop().await;
}
