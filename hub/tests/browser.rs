//! The teacher and admin pages in a real headless Chromium against a real hub: real face
//! models, real enrolment photos, a real Mosquitto, and a door unit that recognises real
//! photos and publishes its records over MQTT as it would in a classroom.
//!
//! A teacher signs in, watches the Today roster change while a colleague reviews, approves a
//! record with the keyboard, reassigns one by searching a name, sees new records arrive
//! without reloading, rejects a visitor, bulk-approves the likely matches, marks a student by hand, and downloads
//! the class report's CSV. An admin uploads a photo without a face and reads why it was
//! refused, deletes a photo after confirming, and re-syncs a door unit. Every page is checked
//! at 375 px for sideways scrolling. `ROLLCALL_SCREENSHOTS=1` also saves a screenshot of each
//! page, faces blurred, in `docs/screenshots/`.

#[path = "browser/chrome.rs"]
mod chrome;
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrome::Browser;
use common::camera::Camera;
use common::door::Door;
use common::faces::{faces_dir, photo, start_faces_hub};
use common::*;
use fantoccini::Locator;
use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::json;

const TEACHER: (&str, &str) = ("tess", "teacher password");
/// Students, the photos enrolled for them, and the test photos standing in for them.
const ADA: &str = "Ada Moreau";
const BO: &str = "Bo Lindqvist";
const CY: &str = "Cy Okafor";
const DI: &str = "Di Santos";
const ENROLLED: [(&str, &[&str]); 4] = [
    (
        ADA,
        &[
            "identities/Colin_Powell/Colin_Powell_0056.jpg",
            "identities/Colin_Powell/Colin_Powell_0065.jpg",
        ],
    ),
    (
        BO,
        &[
            "identities/Serena_Williams/Serena_Williams_0002.jpg",
            "identities/Serena_Williams/Serena_Williams_0006.jpg",
        ],
    ),
    (CY, &[]),
    (
        DI,
        &[
            "identities/Laura_Bush/Laura_Bush_0001.jpg",
            "identities/Laura_Bush/Laura_Bush_0003.jpg",
        ],
    ),
];
/// Photos with no face at all (see shared/faces/MANIFEST.tsv).
const NO_FACE: &str = "negatives/skimage_brick.png";
const NO_FACE_2: &str = "negatives/skimage_coffee.png";
/// Someone who is not in the class.
const VISITOR: &str = "identities/Junichiro_Koizumi/Junichiro_Koizumi_0012.jpg";

/// The school as the admin set it up.
struct School {
    slot: String,
    device: DeviceId,
    /// Student ids by name.
    ids: Vec<(String, String)>,
}

impl School {
    fn id(&self, name: &str) -> &str {
        &self.ids.iter().find(|(n, _)| n == name).unwrap().1
    }
}

async fn set_up_school(hub: &TestHub, admin: &Api) -> School {
    let teacher = admin
        .created(
            "/users",
            json!({"username": TEACHER.0, "display_name": "Tess Adler", "role": "teacher", "password": TEACHER.1}),
        )
        .await;
    let class = admin
        .created(
            "/classes",
            json!({"name": "7B", "teacher_id": teacher["id"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for (name, photos) in ENROLLED {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = admin
            .put(&format!("/classes/{class}/students/{id}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        if !photos.is_empty() {
            let files = photos.iter().map(|p| photo(p)).collect();
            let (status, body) = admin.upload(&format!("/students/{id}/faces"), files).await;
            assert_eq!(status, StatusCode::CREATED, "enrolling {name}: {body}");
        }
        ids.push((name.to_owned(), id));
    }
    let slot = admin
        .created(
            "/timetable",
            json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await["device"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let school = School { slot, device, ids };
    // Last Monday's register was taken on paper: only Ada was there.
    let (status, body) = admin
        .put(
            &format!(
                "/sessions/{}/2026-11-16/marks/{}",
                school.slot,
                school.id(ADA)
            ),
            json!({"mark": "present", "reason": "paper register"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let _ = hub;
    school
}

/// The gallery a door unit holds after asking the hub for it.
async fn gallery_of(door: &mut Door, device: DeviceId) -> GalleryState {
    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: true,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    loop {
        if let Message::Gallery(update) = door.next(Channel::Gallery).await
            && update.base.is_none()
        {
            let model = update.model.clone();
            return GalleryState::empty(model).apply(&update).unwrap();
        }
    }
}

/// The door unit sees `photo` at `hh:mm` and publishes its record; returns it once acked.
async fn seen(
    door: &mut Door,
    camera: &Camera,
    photo_path: &str,
    hh: u16,
    mm: u16,
) -> AttendanceRecord {
    let (_, bytes) = photo(photo_path);
    let record =
        tokio::task::block_in_place(|| camera.see(door.device, "Lab 3", &bytes, monday_at(hh, mm)));
    door.publish(Channel::Records, &Message::Record(record.clone()))
        .await;
    loop {
        if let Message::Ack(ack) = door.next(Channel::Acks).await
            && ack.records.contains(&record.id)
        {
            return record;
        }
    }
}

fn best(record: &AttendanceRecord) -> String {
    record.candidates[0].student.to_string()
}

fn path_of(relative: &str) -> String {
    let path = faces_dir().join(relative);
    let canonical = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    canonical.display().to_string()
}

/// Waits for the browser to finish a download into `dir` and returns the file's text.
async fn downloaded(dir: &Path) -> (PathBuf, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"));
        if let Some(file) = done {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.is_empty() {
                return (file, text);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no CSV downloaded into {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(b: &Browser, user: &str, password: &str) {
    b.type_into("input[name=username]", user).await;
    b.type_into("input[name=password]", password).await;
    b.click("form.signin button[type=submit]").await;
    b.visible("#nav").await;
}

async fn go(b: &Browser, page: &str) {
    b.click(&format!("#nav a[data-page={page}]")).await;
    b.wait(
        &format!("the {page} page"),
        "return document.getElementById('main').dataset.page === arguments[0];",
        vec![json!(page)],
    )
    .await;
}

/// Marks the page so a later check can tell it was not reloaded.
async fn mark_page(b: &Browser) {
    b.js("window.rollcallNotReloaded = true;", vec![]).await;
}

async fn assert_not_reloaded(b: &Browser) {
    let v = b
        .js("return window.rollcallNotReloaded === true;", vec![])
        .await;
    assert_eq!(v, json!(true), "the page was reloaded");
}

/// Checks the current page at 375 px, optionally screenshots it there, and goes back to 1280.
async fn at_phone_width(b: &Browser, page: &str, shot: Option<&str>) {
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll(page).await;
    if let Some(name) = shot {
        b.screenshot(name).await;
    }
    b.viewport(1280, 900).await;
}

/// A screenshot of a long page: the window is made taller for it.
async fn tall_screenshot(b: &Browser, name: &str) {
    b.viewport(1280, 1400).await;
    b.screenshot(name).await;
    b.viewport(1280, 900).await;
}

async fn status_of(b: &Browser, student: &str) -> String {
    let v = b
        .js(
            "const r = document.querySelector(`tr[data-student=\"${arguments[0]}\"]`); \
             return r ? r.dataset.status : null;",
            vec![json!(student)],
        )
        .await;
    v.as_str().unwrap_or_default().to_owned()
}

async fn wait_status(b: &Browser, student: &str, status: &str) {
    b.wait(
        &format!("roster status {status}"),
        "return !!document.querySelector(`tr[data-student=\"${arguments[0]}\"][data-status=\"${arguments[1]}\"]`);",
        vec![json!(student), json!(status)],
    )
    .await;
}

async fn wait_count(b: &Browser, text: &str, badge: &str) {
    b.wait(
        &format!("queue count {text:?}"),
        "return document.getElementById('queue-count').textContent === arguments[0] \
            && document.getElementById('review-count').textContent === arguments[1];",
        vec![json!(text), json!(badge)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_reviews_a_round_and_an_admin_looks_after_photos_and_devices() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_faces_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = set_up_school(&hub, &admin).await;
    let (ada, bo, cy, di) = (school.id(ADA), school.id(BO), school.id(CY), school.id(DI));

    // The door unit in Lab 3 takes its gallery and sees four students come in.
    let mut door = Door::connect(&broker, &hub.site, school.device).await;
    let gallery = gallery_of(&mut door, school.device).await;
    assert_eq!(gallery.entries.len(), 3, "Cy has no photo yet");
    let camera = tokio::task::block_in_place(|| Camera::new(&gallery));
    let r_bo = seen(
        &mut door,
        &camera,
        "identities/Serena_Williams/Serena_Williams_0017.jpg",
        9,
        1,
    )
    .await;
    let r_ada = seen(
        &mut door,
        &camera,
        "identities/Colin_Powell/Colin_Powell_0200.jpg",
        9,
        2,
    )
    .await;
    let r_cy = seen(
        &mut door,
        &camera,
        "identities/Tony_Blair/Tony_Blair_0102.jpg",
        9,
        3,
    )
    .await;
    let r_di = seen(
        &mut door,
        &camera,
        "identities/Laura_Bush/Laura_Bush_0015.jpg",
        9,
        4,
    )
    .await;
    let d = |r: &AttendanceRecord| format!("{:?} at {:.3}", r.decision, r.candidates[0].distance);
    assert_eq!(
        (r_bo.decision, best(&r_bo)),
        (Decision::Confident, bo.to_owned()),
        "Bo: {}",
        d(&r_bo)
    );
    assert_eq!(
        (r_ada.decision, best(&r_ada)),
        (Decision::Uncertain, ada.to_owned()),
        "Ada: {}",
        d(&r_ada)
    );
    assert_ne!(
        r_cy.decision,
        Decision::Confident,
        "Cy is not enrolled: {}",
        d(&r_cy)
    );
    assert_eq!(
        (r_di.decision, best(&r_di)),
        (Decision::Uncertain, di.to_owned()),
        "Di: {}",
        d(&r_di)
    );
    let status = DeviceStatus {
        device: school.device,
        sent_at: UnixMillis(monday_at(9, 5)),
        uptime_s: 3600,
        outbox_depth: 2,
        gallery_version: gallery.version,
        software_version: "0.1.0".into(),
        last_error: None,
    };
    door.publish(Channel::Status, &Message::Status(status))
        .await;

    let downloads = tempfile::tempdir().unwrap();
    let base = format!("http://{}", hub.addr);
    let b = Browser::start(&base, downloads.path()).await;

    // Sign in.
    b.open("/").await;
    b.visible("form.signin").await;
    b.screenshot("sign-in").await;
    at_phone_width(&b, "sign-in", None).await;
    b.type_into("input[name=username]", TEACHER.0).await;
    b.type_into("input[name=password]", "wrong password").await;
    b.click("form.signin button[type=submit]").await;
    b.wait(
        "the wrong-password message",
        "return document.getElementById('signin-error').textContent.includes('Wrong');",
        vec![],
    )
    .await;
    b.client
        .find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    sign_in(&b, TEACHER.0, TEACHER.1).await;

    // The review queue: three faces wait, each beside its candidates' enrolled photos.
    wait_count(&b, "3 records waiting", "3").await;
    b.faces_loaded().await;
    let cards = b
        .js(
            "return [...document.querySelectorAll('#queue li.record')].map(li => li.dataset.id);",
            vec![],
        )
        .await;
    let newest_first = json!([r_di.id, r_cy.id, r_ada.id].map(|id| id.to_string()));
    assert_eq!(cards, newest_first);
    let ada_card = format!("#queue li[data-id=\"{}\"]", r_ada.id);
    let names = b.text(&format!("{ada_card} .candidates")).await;
    assert!(names.contains(ADA) && names.contains("% alike"), "{names}");
    let photos = b
        .js(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(format!("{ada_card} .candidate.best img.face"))],
        )
        .await;
    assert_eq!(photos, json!(2), "Ada's two enrolment photos are shown");
    b.screenshot("review").await;
    at_phone_width(&b, "review queue", Some("review-phone")).await;

    // Today: Ada and Di wait for review, Bo was recognised, Cy not yet.
    go(&b, "today").await;
    wait_status(&b, ada, "waiting").await;
    assert_eq!(
        [
            status_of(&b, bo).await,
            status_of(&b, cy).await,
            status_of(&b, di).await
        ],
        ["present", "unseen", "waiting"]
    );
    // A colleague approves Di's record on another device: the roster follows without a reload.
    mark_page(&b).await;
    let (status, _) = admin
        .post(&format!("/records/{}/approve", r_di.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait_status(&b, di, "present").await;
    assert_not_reloaded(&b).await;
    at_phone_width(&b, "today", None).await;

    // Review: approve Ada with the keyboard, reassign Cy's face by searching her name.
    go(&b, "review").await;
    wait_count(&b, "2 records waiting", "2").await;
    mark_page(&b).await;
    let cy_card = format!("#queue li[data-id=\"{}\"]", r_cy.id);
    let first = b.client.find(Locator::Css(&cy_card)).await.unwrap();
    first.send_keys("j").await.unwrap();
    let focused = "return document.activeElement.dataset.id;";
    assert_eq!(
        b.js(focused, vec![]).await,
        json!(r_ada.id.to_string()),
        "j moves to the next face"
    );
    let card = b.client.find(Locator::Css(&ada_card)).await.unwrap();
    card.send_keys("a").await.unwrap();
    wait_count(&b, "1 record waiting", "1").await;
    b.click(&format!("{cy_card} [data-action=reassign]")).await;
    b.type_into(&format!("#search-{}", r_cy.id), "oka").await;
    b.wait(
        "the search result",
        "return document.querySelector(arguments[0])?.textContent === arguments[1];",
        vec![json!(format!("{cy_card} .results button.pick")), json!(CY)],
    )
    .await;
    b.click(&format!("{cy_card} .results button.pick")).await;
    wait_count(&b, "0 records waiting", "0").await;
    b.visible("#queue-empty").await;

    // A new face arrives over MQTT: the queue and its count grow without a reload.
    let r_di2 = seen(
        &mut door,
        &camera,
        "identities/Laura_Bush/Laura_Bush_0036.jpg",
        9,
        6,
    )
    .await;
    assert_eq!(
        (r_di2.decision, best(&r_di2)),
        (Decision::Uncertain, di.to_owned()),
        "Di: {}",
        d(&r_di2)
    );
    wait_count(&b, "1 record waiting", "1").await;
    b.visible(&format!("#queue li[data-id=\"{}\"]", r_di2.id))
        .await;
    assert_not_reloaded(&b).await;
    // A visitor walks in: nobody from the class, rejected with the keyboard.
    let r_visitor = seen(&mut door, &camera, VISITOR, 9, 7).await;
    assert_ne!(
        r_visitor.decision,
        Decision::Confident,
        "visitor: {}",
        d(&r_visitor)
    );
    wait_count(&b, "2 records waiting", "2").await;
    let visitor_card = format!("#queue li[data-id=\"{}\"]", r_visitor.id);
    b.visible(&visitor_card).await;
    let card = b.client.find(Locator::Css(&visitor_card)).await.unwrap();
    card.send_keys("r").await.unwrap();
    wait_count(&b, "1 record waiting", "1").await;
    b.click("#approve-likely").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-ok").await;
    wait_count(&b, "0 records waiting", "0").await;
    for (record, status, student) in [
        (&r_ada, "approved", ada),
        (&r_cy, "reassigned", cy),
        (&r_di2, "approved", di),
    ] {
        let (_, r) = admin.get(&format!("/records/{}", record.id)).await;
        assert_eq!(
            (r["status"].as_str(), r["final_student"].as_str()),
            (Some(status), Some(student)),
            "{r}"
        );
    }
    let (_, r) = admin.get(&format!("/records/{}", r_visitor.id)).await;
    assert_eq!(
        (&r["status"], &r["final_student"]),
        (&json!("rejected"), &json!(null))
    );

    // Today again: everyone is in; Bo leaves for the dentist and is marked Excused by hand.
    go(&b, "today").await;
    for s in [ada, bo, cy, di] {
        wait_status(&b, s, "present").await;
    }
    b.click(&format!("tr[data-student=\"{bo}\"] button")).await;
    let mark = b
        .client
        .find(Locator::Css(&format!("#mark-{bo}")))
        .await
        .unwrap();
    mark.select_by_value("excused").await.unwrap();
    b.click(".mark-form button[type=submit]").await;
    b.visible(".mark-form .error").await;
    assert!(
        b.text(".mark-form .error").await.contains("reason"),
        "a reason is required"
    );
    b.type_into(&format!("#reason-{bo}"), "dentist").await;
    b.click(".mark-form button[type=submit]").await;
    wait_status(&b, bo, "excused").await;
    assert!(
        b.text(&format!("tr[data-student=\"{bo}\"]"))
            .await
            .contains("dentist")
    );
    b.screenshot("today").await;

    // Class report over two Mondays: only Ada is at 75 % or more; the CSV says the same.
    go(&b, "report").await;
    b.visible("table.matrix").await;
    b.js(
        "const f = document.querySelector('input[name=from]'); f.value = '2026-11-16';",
        vec![],
    )
    .await;
    b.click("form.filters button[type=submit]").await;
    b.wait(
        "two sessions",
        "return document.querySelectorAll('table.matrix th.day').length === 2;",
        vec![],
    )
    .await;
    let under = b.js("return [...document.querySelectorAll('table.matrix tr.under')].map(r => r.dataset.student);", vec![]).await;
    assert_eq!(
        under,
        json!([bo, cy, di]),
        "students under 75 % are highlighted"
    );
    let dots = b
        .js(
            "return document.querySelectorAll('svg.rate-chart circle.dot').length;",
            vec![],
        )
        .await;
    assert_eq!(dots, json!(2), "one point per session in the rate chart");
    tall_screenshot(&b, "report").await;
    at_phone_width(&b, "class report", None).await;
    b.click("#download-csv").await;
    let (file, csv) = downloaded(downloads.path()).await;
    assert_eq!(file.file_name().unwrap(), "class-2026-11-16-2026-11-23.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "student_id,name,2026-11-16 09:00,2026-11-23 09:00".to_owned(),
            format!("{ada},{ADA},present,present"),
            format!("{bo},{BO},absent,excused"),
            format!("{cy},{CY},absent,present"),
            format!("{di},{DI},absent,present"),
        ]
    );

    // Sign out: nothing about the teacher stays in the browser.
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    let stored = b
        .js(
            "return sessionStorage.length + localStorage.length;",
            vec![],
        )
        .await;
    assert_eq!(stored, json!(0));

    // An admin adds photos for Cy: a wall is refused with the reason, at once.
    sign_in(&b, ADMIN, PASSWORD).await;
    go(&b, "students").await;
    b.type_into("input[name=q]", "oka").await;
    b.wait("one search result", "return document.querySelectorAll('#student-list a').length === 1 && document.querySelector('#student-list a').textContent === arguments[0];", vec![json!(CY)]).await;
    b.click("#student-list a").await;
    b.visible("#faces .empty").await;
    let input = b
        .client
        .find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap();
    input.send_keys(&path_of(NO_FACE)).await.unwrap();
    b.visible("#upload-outcome li.refused[data-code=no_face]")
        .await;
    let refusal = b.text("#upload-outcome").await;
    assert!(
        refusal.contains("skimage_brick.png") && refusal.contains("no face"),
        "{refusal}"
    );
    assert!(
        b.text("#faces").await.contains("No photos yet"),
        "nothing was enrolled"
    );
    let input = b
        .client
        .find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap();
    let both = format!(
        "{}\n{}",
        path_of("identities/Tony_Blair/Tony_Blair_0004.jpg"),
        path_of(NO_FACE_2)
    );
    input.send_keys(&both).await.unwrap();
    b.visible("#upload-outcome li.accepted").await;
    b.visible("#faces img.face").await;
    b.faces_loaded().await;
    assert!(
        b.text("#faces").await.contains("Sharpness"),
        "quality figures are shown"
    );
    assert!(
        b.text("#upload-outcome li.refused")
            .await
            .contains("skimage_coffee.png")
    );
    tall_screenshot(&b, "student").await;
    at_phone_width(&b, "student", None).await;
    let (_, faces) = admin.get(&format!("/students/{cy}/faces")).await;
    assert_eq!(faces.as_array().unwrap().len(), 1);

    // Deleting a photo asks first; Cancel keeps it.
    b.click("#faces .face-card button.danger").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-cancel").await;
    assert_eq!(
        admin
            .get(&format!("/students/{cy}/faces"))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    b.click("#faces .face-card button.danger").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-ok").await;
    b.visible("#faces .empty").await;
    assert_eq!(
        admin.get(&format!("/students/{cy}/faces")).await.1,
        json!([])
    );

    // Devices: the door unit is online with its outbox and gallery; re-sync reaches it.
    go(&b, "devices").await;
    let row = format!("tr[data-device=\"{}\"]", school.device);
    b.visible(&format!("{row}[data-state=online]")).await;
    let text = b.text(&row).await;
    assert!(
        text.contains("2 waiting") && text.contains(&format!("v{}", gallery.version.0)),
        "{text}"
    );
    b.click(&format!("{row} button")).await;
    assert_eq!(
        door.next(Channel::Commands).await,
        Message::Command(DeviceCommand::ResyncGallery)
    );
    b.wait(
        "the re-sync message",
        "return document.getElementById('status').textContent.includes('whole gallery');",
        vec![],
    )
    .await;
    b.screenshot("devices").await;
    at_phone_width(&b, "devices", None).await;

    // Admin: a new teacher account from the form.
    go(&b, "admin").await;
    b.visible("#users-title").await;
    b.type_into("#users-title ~ form input[name=username]", "otto")
        .await;
    b.type_into(
        "#users-title ~ form input[name=password]",
        "a long password",
    )
    .await;
    b.click("#users-title ~ form button[type=submit]").await;
    b.wait(
        "the new user",
        "return document.querySelector('#users-title + ul').textContent.includes('otto');",
        vec![],
    )
    .await;
    hub.api().login("otto", "a long password").await;
    tall_screenshot(&b, "admin").await;
    at_phone_width(&b, "admin", None).await;

    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
