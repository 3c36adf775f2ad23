//! The teacher and admin pages in a real headless Chromium against a real hub: real face
//! models, real enrolment photos, a real Mosquitto, and a door unit that recognises real
//! photos and publishes its records over MQTT as it would in a classroom.
//!
//! A teacher signs in, watches the Today roster change while a colleague reviews, approves a
//! record with the keyboard, reassigns one by searching a name, sees new records arrive
//! without reloading, rejects a visitor, bulk-approves the likely matches, marks a student
//! by hand, and downloads the class report's CSV. An admin uploads a photo without a face and
//! reads why it was refused, deletes a photo after confirming, re-syncs a door unit and adds a
//! teacher. Every page is checked at 375 px for sideways scrolling. `ROLLCALL_SCREENSHOTS=1`
//! also saves a screenshot of each page, faces blurred, in `docs/screenshots/`.

pub(crate) mod school;

use fantoccini::Locator;
use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::camera::Camera;
use crate::common::door::Door;
use crate::common::faces::start_faces_hub_with;
use crate::common::*;
use school::{
    ADA, BO, CY, DI, NO_FACE, NO_FACE_2, School, TEACHER, VISITOR, assert_not_reloaded,
    at_phone_width, best, downloaded, gallery_of, go, mark_page, path_of, seen, set_up_school,
    status_of, tall_screenshot, wait_count, wait_status,
};

/// What the stages of the round share.
struct Round {
    b: Browser,
    admin: Api,
    school: School,
    door: Door,
    camera: Camera,
    gallery: GalleryVersion,
    downloads: tempfile::TempDir,
}

impl Round {
    fn ids(&self) -> [String; 4] {
        [ADA, BO, CY, DI].map(|n| self.school.id(n).to_owned())
    }
}

/// The records the door unit sent as the lesson began.
struct Arrivals {
    ada: AttendanceRecord,
    cy: AttendanceRecord,
    di: AttendanceRecord,
}

fn describe(r: &AttendanceRecord) -> String {
    format!("{:?} at {:.3}", r.decision, r.candidates[0].distance)
}

/// Checks the door unit decided `decision` with `student` as the best candidate.
fn expect(record: &AttendanceRecord, decision: Decision, student: &str) {
    assert_eq!(
        (record.decision, best(record)),
        (decision, student.to_owned()),
        "{}",
        describe(record)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_reviews_a_round_and_an_admin_looks_after_photos_and_devices() {
    let broker = Mosquitto::start().unwrap();
    // This round is the teacher's own review of each card. With the lesson's cards named
    // together (the default), the hub would name Ada and Di itself once Bo is marked:
    // `closed_set::a_lessons_real_faces_are_named_together_and_a_stranger_is_left_alone`.
    let hub = start_faces_hub_with(Some(broker.addr()), |c| {
        c.attendance.name_lessons_jointly = false;
    })
    .await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = set_up_school(&admin).await;
    let mut door = Door::connect(&broker, &hub.site, school.device).await;
    let gallery = gallery_of(&mut door, school.device).await;
    assert_eq!(gallery.entries.len(), 3, "Cy has no photo yet");
    let camera = tokio::task::block_in_place(|| Camera::new(&gallery));
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    let mut round = Round {
        b,
        admin,
        school,
        door,
        camera,
        gallery: gallery.version,
        downloads,
    };
    let arrivals = lesson_begins(&mut round).await;

    sign_in_as_teacher(&round.b).await;
    the_queue_shows_candidates(&round, &arrivals).await;
    today_follows_a_colleagues_review(&round, &arrivals).await;
    approve_and_reassign(&round, &arrivals).await;
    new_faces_arrive(&mut round).await;
    mark_by_hand(&round).await;
    class_report(&round).await;
    sign_out(&round.b).await;

    round.b.sign_in(ADMIN, PASSWORD).await;
    photos_are_checked_at_once(&round).await;
    devices_report_and_resync(&mut round).await;
    an_admin_adds_a_teacher(&round, &hub).await;
    round.b.client.clone().close().await.unwrap();
    hub.stop().await;
}

/// The door unit in Lab 3 sees four students come in, and reports its state.
async fn lesson_begins(r: &mut Round) -> Arrivals {
    let [ada, bo, cy, di] = r.ids();
    let photos = [
        "identities/Serena_Williams/Serena_Williams_0029.jpg",
        "identities/Colin_Powell/Colin_Powell_0200.jpg",
        "identities/Tony_Blair/Tony_Blair_0102.jpg",
        "identities/Laura_Bush/Laura_Bush_0015.jpg",
    ];
    let mut records = Vec::new();
    for (minute, photo) in (1..).zip(photos) {
        records.push(seen(&mut r.door, &r.camera, photo, 9, minute).await);
    }
    expect(&records[0], Decision::Confident, &bo);
    expect(&records[1], Decision::Uncertain, &ada);
    let cy_record = &records[2];
    assert_ne!(
        cy_record.decision,
        Decision::Confident,
        "Cy is not enrolled: {}",
        describe(cy_record)
    );
    assert_ne!(best(cy_record), cy);
    expect(&records[3], Decision::Uncertain, &di);
    let status = DeviceStatus {
        device: r.school.device,
        sent_at: UnixMillis(monday_at(9, 5)),
        uptime_s: 3600,
        outbox_depth: 2,
        gallery_version: r.gallery,
        software_version: "0.1.0".into(),
        last_error: None,
        model: None,
        free_disk_bytes: None,
        clock: rollcall_shared::ClockSync::Unknown,
        unknown_discarded: 0,
    };
    r.door
        .publish(Channel::Status, &Message::Status(status))
        .await;
    let [_, ada, cy, di] = <[AttendanceRecord; 4]>::try_from(records).unwrap();
    Arrivals { ada, cy, di }
}

/// A wrong password is refused with a message; the right one opens the review queue.
async fn sign_in_as_teacher(b: &Browser) {
    b.open("/").await;
    b.visible("form.signin").await;
    b.screenshot("sign-in").await;
    at_phone_width(b, "sign-in", None).await;
    b.type_into("input[name=username]", TEACHER.0).await;
    b.type_into("input[name=password]", "wrong password").await;
    b.click("form.signin button[type=submit]").await;
    let wrong = "return document.getElementById('signin-error').textContent.includes('Wrong');";
    b.wait("the wrong-password message", wrong, vec![]).await;
    for field in ["input[name=username]", "input[name=password]"] {
        let input = b.client.find(Locator::Css(field)).await.unwrap();
        input.clear().await.unwrap();
    }
    b.sign_in(TEACHER.0, TEACHER.1).await;
}

/// Three faces wait, newest first, each beside its candidates' enrolled photos.
async fn the_queue_shows_candidates(r: &Round, a: &Arrivals) {
    let b = &r.b;
    wait_count(b, "3 records waiting", "3").await;
    b.faces_loaded().await;
    let order =
        "return [...document.querySelectorAll('#queue li.record')].map(li => li.dataset.id);";
    let newest_first = json!([&a.di, &a.cy, &a.ada].map(|r| r.id.to_string()));
    assert_eq!(b.js(order, vec![]).await, newest_first);
    let ada_card = card_of(&a.ada);
    let names = b.text(&format!("{ada_card} .candidates")).await;
    assert!(names.contains(ADA) && names.contains("% alike"), "{names}");
    let count = "return document.querySelectorAll(arguments[0]).length;";
    let photos = json!(format!("{ada_card} .candidate.best img.face"));
    assert_eq!(
        b.js(count, vec![photos]).await,
        json!(2),
        "Ada's two enrolment photos"
    );
    b.screenshot("review").await;
    at_phone_width(b, "review queue", Some("review-phone")).await;
}

fn card_of(record: &AttendanceRecord) -> String {
    format!("#queue li[data-id=\"{}\"]", record.id)
}

/// Today: Ada and Di wait for review, Bo was recognised, Cy not yet. A colleague approves Di's
/// record on another device, and the roster follows without a reload.
async fn today_follows_a_colleagues_review(r: &Round, a: &Arrivals) {
    let (b, [ada, bo, cy, di]) = (&r.b, r.ids());
    go(b, "today").await;
    wait_status(b, &ada, "waiting").await;
    let others = [
        status_of(b, &bo).await,
        status_of(b, &cy).await,
        status_of(b, &di).await,
    ];
    assert_eq!(others, ["present", "unseen", "waiting"]);
    mark_page(b).await;
    let path = format!("/records/{}/approve", a.di.id);
    assert_eq!(r.admin.post(&path, json!({})).await.0, StatusCode::OK);
    wait_status(b, &di, "present").await;
    assert_not_reloaded(b).await;
    at_phone_width(b, "today", None).await;
}

/// `j` moves to Ada's face and `a` approves it; Cy's face is reassigned by searching her name.
async fn approve_and_reassign(r: &Round, a: &Arrivals) {
    let b = &r.b;
    go(b, "review").await;
    wait_count(b, "2 records waiting", "2").await;
    mark_page(b).await;
    let (ada_card, cy_card) = (card_of(&a.ada), card_of(&a.cy));
    let first = b.client.find(Locator::Css(&cy_card)).await.unwrap();
    first.send_keys("j").await.unwrap();
    let focused = b
        .js("return document.activeElement.dataset.id;", vec![])
        .await;
    assert_eq!(
        focused,
        json!(a.ada.id.to_string()),
        "j moves to the next face"
    );
    let card = b.client.find(Locator::Css(&ada_card)).await.unwrap();
    card.send_keys("a").await.unwrap();
    wait_count(b, "1 record waiting", "1").await;
    b.click(&format!("{cy_card} [data-action=reassign]")).await;
    b.type_into(&format!("#search-{}", a.cy.id), "oka").await;
    let pick = format!("{cy_card} .results button.pick");
    let found = "return document.querySelector(arguments[0])?.textContent === arguments[1];";
    b.wait("the search result", found, vec![json!(pick), json!(CY)])
        .await;
    b.click(&pick).await;
    wait_count(b, "0 records waiting", "0").await;
    b.visible("#queue-empty").await;
    assert_reviewed(r, &a.ada, "approved", ADA).await;
    assert_reviewed(r, &a.cy, "reassigned", CY).await;
}

async fn assert_reviewed(r: &Round, record: &AttendanceRecord, status: &str, student: &str) {
    let (_, got) = r.admin.get(&format!("/records/{}", record.id)).await;
    let want = (json!(status), json!(r.school.id(student)));
    assert_eq!(
        (got["status"].clone(), got["final_student"].clone()),
        want,
        "{got}"
    );
}

/// New faces arrive over MQTT and the queue grows without a reload: a visitor, rejected with
/// `r`, and Di again, approved with the other likely matches.
async fn new_faces_arrive(r: &mut Round) {
    let di2 = seen(
        &mut r.door,
        &r.camera,
        "identities/Laura_Bush/Laura_Bush_0005.jpg",
        9,
        6,
    )
    .await;
    expect(&di2, Decision::Uncertain, r.school.id(DI));
    let b = &r.b;
    wait_count(b, "1 record waiting", "1").await;
    b.visible(&card_of(&di2)).await;
    assert_not_reloaded(b).await;
    let visitor = seen(&mut r.door, &r.camera, VISITOR, 9, 7).await;
    assert_ne!(
        visitor.decision,
        Decision::Confident,
        "visitor: {}",
        describe(&visitor)
    );
    let b = &r.b;
    wait_count(b, "2 records waiting", "2").await;
    b.visible(&card_of(&visitor)).await;
    let card = b
        .client
        .find(Locator::Css(&card_of(&visitor)))
        .await
        .unwrap();
    card.send_keys("r").await.unwrap();
    wait_count(b, "1 record waiting", "1").await;
    b.click("#approve-likely").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-ok").await;
    wait_count(b, "0 records waiting", "0").await;
    assert_reviewed(r, &di2, "approved", DI).await;
    let (_, got) = r.admin.get(&format!("/records/{}", visitor.id)).await;
    assert_eq!(
        (&got["status"], &got["final_student"]),
        (&json!("rejected"), &json!(null))
    );
}

/// Everyone is in; Bo leaves for the dentist and is marked Excused by hand, with a reason.
async fn mark_by_hand(r: &Round) {
    let (b, [ada, bo, cy, di]) = (&r.b, r.ids());
    go(b, "today").await;
    for s in [&ada, &bo, &cy, &di] {
        wait_status(b, s, "present").await;
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
    let error = b.text(".mark-form .error").await;
    assert!(error.contains("reason"), "a reason is required: {error}");
    b.type_into(&format!("#reason-{bo}"), "dentist").await;
    b.click(".mark-form button[type=submit]").await;
    wait_status(b, &bo, "excused").await;
    let row = b.text(&format!("tr[data-student=\"{bo}\"]")).await;
    assert!(row.contains("dentist"), "{row}");
    b.screenshot("today").await;
}

/// Over two Mondays only Ada is at 90 % (the default threshold) or more; the chart has a point per lesson; the CSV
/// says the same as the page.
async fn class_report(r: &Round) {
    let (b, [ada, bo, cy, di]) = (&r.b, r.ids());
    go(b, "report").await;
    b.visible("table.matrix").await;
    b.js(
        "document.querySelector('input[name=from]').value = '2026-11-16';",
        vec![],
    )
    .await;
    b.click("form.filters button[type=submit]").await;
    let two = "return document.querySelectorAll('table.matrix th.day').length === 2;";
    b.wait("two sessions", two, vec![]).await;
    let under = "return [...document.querySelectorAll('table.matrix tr.under')].map(r => r.dataset.student);";
    assert_eq!(
        b.js(under, vec![]).await,
        json!([bo, cy, di]),
        "below 90 % highlighted"
    );
    let dots = "return document.querySelectorAll('svg.rate-chart circle.dot').length;";
    assert_eq!(b.js(dots, vec![]).await, json!(2), "one point per session");
    tall_screenshot(b, "report").await;
    at_phone_width(b, "class report", None).await;
    b.viewport(375, 812).await;
    // However many days the range holds, the rate comes before them, on screen.
    let rates_in_view = "return [...document.querySelectorAll('table.matrix td.rate')] \
        .every(c => c.getBoundingClientRect().right <= Math.min(window.innerWidth, \
          c.parentElement.querySelector('td.m').getBoundingClientRect().left));";
    assert_eq!(
        b.js(rates_in_view, vec![]).await,
        json!(true),
        "each student's rate is on screen at phone width, before the days that scroll"
    );
    b.viewport(1280, 900).await;
    b.click("#download-csv").await;
    let (file, csv) = downloaded(r.downloads.path()).await;
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
    std::fs::remove_file(&file).unwrap();

    // The morning and afternoon sessions: each pupil, each day, AM and PM; no lesson's register
    // is written yet (this Monday's is open, last Monday's from before the register), so
    // every session says it has no mark yet, and the CSV leaves them empty.
    let sessions = "return [...document.querySelectorAll('table.statutory tbody tr')] \
        .map(r => [r.dataset.student, r.querySelectorAll('td.sessions').length, \
          r.querySelectorAll('.code.none').length]);";
    assert_eq!(
        b.js(sessions, vec![]).await,
        json!([[ada, 2, 4], [bo, 2, 4], [cy, 2, 4], [di, 2, 4]])
    );
    b.click("#download-sessions-csv").await;
    let (file, csv) = downloaded(r.downloads.path()).await;
    assert_eq!(
        file.file_name().unwrap(),
        "sessions-2026-11-16-2026-11-23.csv"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "student,reference,name,day,am,pm");
    assert!(
        lines.contains(&format!("{ada},,{ADA},2026-11-23,,").as_str()),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 4 * 2, "a line per pupil and day: {csv}");
}

/// Signing out leaves nothing about the teacher in the browser.
async fn sign_out(b: &Browser) {
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    let stored = "return sessionStorage.length + localStorage.length;";
    assert_eq!(b.js(stored, vec![]).await, json!(0));
}

/// An admin adds photos for Cy, who has one already: the face the teacher named in the
/// review. A wall is refused with the reason at once, a face is accepted with its figures, and
/// deleting one asks first.
async fn photos_are_checked_at_once(r: &Round) {
    let (b, cy) = (&r.b, r.school.id(CY));
    let faces = |api: Api| async move { api.get(&format!("/students/{cy}/faces")).await.1 };
    let count = |api: Api| async move { faces(api).await.as_array().unwrap().len() };
    go(b, "students").await;
    b.type_into("input[name=q]", "oka").await;
    let one = "const a = document.querySelectorAll('#student-list a'); \
        return a.length === 1 && a[0].textContent === arguments[0];";
    b.wait("one search result", one, vec![json!(CY)]).await;
    b.click("#student-list a").await;
    b.visible("#faces img.face").await;
    assert_eq!(
        count(r.admin.clone()).await,
        1,
        "the face named in the review is one of Cy's photos"
    );
    upload(b, &[NO_FACE]).await;
    b.visible("#upload-outcome li.refused[data-code=no_face]")
        .await;
    let refusal = b.text("#upload-outcome").await;
    assert!(
        refusal.contains("skimage_brick.png") && refusal.contains("no face"),
        "{refusal}"
    );
    assert_eq!(count(r.admin.clone()).await, 1, "nothing was enrolled");
    upload(b, &["identities/Tony_Blair/Tony_Blair_0004.jpg", NO_FACE_2]).await;
    b.visible("#upload-outcome li.accepted").await;
    b.visible("#faces img.face").await;
    b.faces_loaded().await;
    assert!(
        b.text("#faces").await.contains("Sharpness"),
        "quality figures are shown"
    );
    let refused = b.text("#upload-outcome li.refused").await;
    assert!(refused.contains("skimage_coffee.png"), "{refused}");
    tall_screenshot(b, "student").await;
    at_phone_width(b, "student", None).await;
    assert_eq!(count(r.admin.clone()).await, 2);
    b.click("#faces .face-card button.danger").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-cancel").await;
    assert_eq!(count(r.admin.clone()).await, 2, "Cancel keeps it");
    b.click("#faces .face-card button.danger").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-ok").await;
    let one_left = "return document.querySelectorAll('#faces .face-card').length === 1;";
    b.wait("one photo left", one_left, vec![]).await;
    assert_eq!(count(r.admin.clone()).await, 1);
}

/// Picks `photos` in the upload form's file input (which uploads them at once).
async fn upload(b: &Browser, photos: &[&str]) {
    let input = b
        .client
        .find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap();
    let paths: Vec<String> = photos.iter().map(|p| path_of(p)).collect();
    input.send_keys(&paths.join("\n")).await.unwrap();
}

/// The door unit is online with its outbox and gallery version; re-sync reaches it. A record
/// it sends with its clock hours ahead is held back with the reason, and the admin lets it go.
async fn devices_report_and_resync(r: &mut Round) {
    let ahead = seen(
        &mut r.door,
        &r.camera,
        "identities/Tony_Blair/Tony_Blair_0102.jpg",
        23,
        0,
    )
    .await;
    let b = &r.b;
    go(b, "devices").await;
    let held = format!(
        "#quarantine li[data-record=\"{}\"][data-reason=clock_ahead]",
        ahead.id
    );
    b.visible(&held).await;
    let text = b.text(&held).await;
    assert!(
        text.contains("door-lab3") && text.contains("clock is ahead"),
        "{text}"
    );
    b.click(&format!("{held} button")).await;
    b.click("#confirm-ok").await;
    let gone = "return document.getElementById('quarantine').textContent.includes('None');";
    b.wait("the held record let go", gone, vec![]).await;
    let row = format!("tr[data-device=\"{}\"]", r.school.device);
    b.visible(&format!("{row}[data-state=online]")).await;
    let text = b.text(&row).await;
    let version = format!("v{}", r.gallery.0);
    assert!(
        text.contains("2 waiting") && text.contains(&version),
        "{text}"
    );
    b.click(&format!("{row} button")).await;
    let command = r.door.next(Channel::Commands).await;
    assert_eq!(command, Message::Command(DeviceCommand::ResyncGallery));
    let b = &r.b;
    b.said("whole gallery").await;

    // With the school's own broker, set-up codes are refused with the reason
    // (browser_devices.rs shows one made with the embedded broker).
    b.click(&format!("{row} button[aria-label^='Set-up code']"))
        .await;
    b.said("external broker").await;
    b.screenshot("devices").await;
    at_phone_width(b, "devices", None).await;
}

/// A new teacher account made with the form can sign in.
async fn an_admin_adds_a_teacher(r: &Round, hub: &TestHub) {
    let b = &r.b;
    go(b, "admin").await;
    b.visible("#users-title").await;
    b.type_into("#users-title ~ form input[name=username]", "otto")
        .await;
    b.type_into(
        "#users-title ~ form input[name=password]",
        "a long password",
    )
    .await;
    b.click("#users-title ~ form button[type=submit]").await;
    let listed = "return document.querySelector('#users-title + ul').textContent.includes('otto');";
    b.wait("the new user", listed, vec![]).await;
    hub.api().login("otto", "a long password").await;
    tall_screenshot(b, "admin").await;
    at_phone_width(b, "admin", None).await;
}
