//! The Staff page in a real headless Chromium: an admin adds a member through the form and two
//! more from a CSV file (one inactive); a bad file is refused with its line and imports nothing.
//! One member is signed in from their row, another by code at reception, where the inactive one
//! is refused with the hub's reason; both are counted on site, found by the search box, and the
//! day's log downloads as CSV. Next day a teacher sees the one never signed out still in, with
//! the date, and no contact details. At phone and desktop width with axe-core's WCAG rules.
//!
//! Face recognition at the gates (real face models): an admin records a member's written
//! consent, her photo is refused without a face and enrolled from a real one, a gate logs her
//! in and the page says so; the photo is deleted and her consent withdrawn.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::door::Door;
use crate::common::faces::{faces_dir, start_faces_hub};
use crate::common::*;

const STAFF_CSV: &str = "\
personnel_code,name,department,position,email,phone,active
T002,Bob Baker,Site,Caretaker,,,yes
T003,Cy Cole,Office,Bursar,,,no
";
/// Line 3 says neither yes nor no.
const BAD_CSV: &str = "\
personnel_code,name,active
T004,Dee Dale,yes
T005,Eve Ross,maybe
";
const ANN: &str = "tr[data-code=T001]";
const BOB: &str = "tr[data-code=T002]";
const GATES: &str = "#staff-gates";
const PHOTO: &str = "identities/Jennifer_Aniston/Jennifer_Aniston_0004.jpg";
const NO_FACE: &str = "negatives/skimage_brick.png";

#[tokio::test(flavor = "multi_thread")]
async fn staff_are_added_imported_signed_in_and_out_and_their_day_downloaded() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    seed_school(&admin).await;
    let files = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=staff]").await;

    add_ann(&b).await;
    import_files(&b, &admin, files.path()).await;
    sign_ann_in_from_her_row(&b).await;
    // Past the access token's 15 minutes: the page renews it unseen.
    hub.clock.set(UnixMillis(monday_at(9, 40)));
    sign_in_at_reception(&b).await;
    two_on_site(&b).await;
    hub.clock.set(UnixMillis(monday_at(12, 15)));
    sign_ann_out_and_edit_her(&b).await;
    download_the_day(&b, downloads.path()).await;
    a_code_clash_from_before(&b, &hub).await;

    // Tuesday morning: Bob never signed out, and a teacher sees the page without contacts.
    hub.clock.set(UnixMillis(monday_at(8, 0) + 24 * 3_600_000));
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    b.sign_in("tess", "teacher password").await;
    b.click("#nav a[data-page=staff]").await;
    as_a_teacher(&b).await;
    hub.stop().await;
}

/// A personnel code that names two people (kept from before codes were compared whatever their
/// case, written here straight into the store) is listed at the top of the page.
async fn a_code_clash_from_before(b: &Browser, hub: &TestHub) {
    hub.staff_written_straight("t002", "Tam Twin").await;
    b.click("#nav a[data-page=reception]").await;
    b.click("#nav a[data-page=staff]").await;
    b.text_with(
        "#code-clashes",
        &[
            "Personnel codes that name two people",
            "Bob Baker (T002) and Tam Twin (t002)",
        ],
    )
    .await;
    b.assert_fits_and_accessible("staff, a code naming two people")
        .await;
}

/// The admin's form adds Ann, with every field; her row shows them and that she is out.
async fn add_ann(b: &Browser) {
    b.text_with("#staff-title", &["Monday 23 November 2026"])
        .await;
    let fields = [
        ("personnel_code", "T001"),
        ("name", "Ann Able"),
        ("department", "Science"),
        ("position", "Teacher"),
        ("email", "ann@school.test"),
        ("phone", "555-0100"),
    ];
    for (name, value) in fields {
        b.type_into(&format!("#staff-form input[name={name}]"), value)
            .await;
    }
    b.click("#staff-form button[type=submit]").await;
    b.said("Ann Able added.").await;
    let parts = [
        "Ann Able",
        "T001 · Science · Teacher",
        "Out",
        "ann@school.test",
    ];
    b.text_with(ANN, &parts).await;
    assert_eq!(b.text("#staff-count").await, "0 on site now");
}

/// A good file adds Bob and Cy (inactive: no button to sign him in); a file with a bad row is
/// refused with its line number, and nothing of it is kept.
async fn import_files(b: &Browser, admin: &Api, dir: &Path) {
    let (good, bad) = (dir.join("staff.csv"), dir.join("bad.csv"));
    std::fs::write(&good, STAFF_CSV).unwrap();
    std::fs::write(&bad, BAD_CSV).unwrap();
    let picker = "#staff-import input[type=file]";
    b.type_into(picker, good.to_str().unwrap()).await;
    b.click("#staff-import button[type=submit]").await;
    b.text_with(
        "#staff-import-result",
        &["Imported: 2 created, 0 updated, 0 unchanged."],
    )
    .await;
    b.text_with(BOB, &["Bob Baker", "T002 · Site · Caretaker", "Out"])
        .await;
    b.text_with("tr[data-code=T003]", &["Cy Cole", "Inactive"])
        .await;
    let no_button = "return document.querySelector('tr[data-code=T003] button.sign-in') === null;";
    assert_eq!(b.js(no_button, vec![]).await, json!(true));

    b.type_into(picker, bad.to_str().unwrap()).await;
    b.click("#staff-import button[type=submit]").await;
    let refused = b
        .text_with("#staff-import-result .bad-rows", &["Line 3: active"])
        .await;
    assert!(!refused.contains("Line 2"), "{refused}");
    let (status, list) = admin.get("/staff").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["staff"].as_array().unwrap().len(),
        3,
        "nothing imported: {list}"
    );
}

/// Ann's row signs her in; the row says since when, and the focus stays on her row.
async fn sign_ann_in_from_her_row(b: &Browser) {
    b.click(&format!("{ANN} button.sign-in")).await;
    b.said("Ann Able signed in at 09:05.").await;
    b.text_with(ANN, &["On site since 09:05"]).await;
    b.text_with("#staff-count", &["1 on site now"]).await;
    let focus = "return document.activeElement.closest('tr').dataset.code;";
    assert_eq!(b.js(focus, vec![]).await, json!("T001"));
}

/// Reception signs Bob in by his code in lower case, and refuses Cy (inactive) and an unknown
/// code with the hub's reasons.
async fn sign_in_at_reception(b: &Browser) {
    b.click("#nav a[data-page=reception]").await;
    let (code, sign_in) = (
        "#staff-sign input[name=code]",
        "#staff-sign button[value=in]",
    );
    b.type_into(code, "t002").await;
    b.click(sign_in).await;
    b.said("Bob Baker signed in at 09:40.").await;
    b.type_into(code, "T003").await;
    b.click(sign_in).await;
    b.said("Could not sign in: Cy Cole is not active").await;
    let input = "return document.querySelector(arguments[0]).value;";
    assert_eq!(b.js(input, vec![json!(code)]).await, json!("T003"), "kept");
    b.js(
        "document.querySelector(arguments[0]).value = '';",
        vec![json!(code)],
    )
    .await;
    b.type_into(code, "T404").await;
    b.click(sign_in).await;
    b.said("Could not sign in: member of staff with this code not found")
        .await;
    b.assert_fits_and_accessible("reception with the staff card")
        .await;
}

/// The Staff page counts Ann and Bob on site; the search box finds Bob by name and no one by
/// a name nobody has.
async fn two_on_site(b: &Browser) {
    b.click("#nav a[data-page=staff]").await;
    b.text_with("#staff-count", &["2 on site now"]).await;
    b.text_with(BOB, &["On site since 09:40", "09:40"]).await;
    b.text_with(ANN, &["On site since 09:05"]).await;
    b.screenshot("staff").await;
    b.assert_fits_and_accessible("staff, two on site").await;
    b.viewport(375, 812).await;
    let list = "document.getElementById('staff-title').scrollIntoView();";
    b.js(list, vec![]).await;
    b.screenshot("staff-phone").await;
    b.viewport(1280, 900).await;

    let find = "#main input[name=find]";
    b.type_into(find, "bob").await;
    let shown = "return [...document.querySelectorAll('tr[data-staff]')] \
        .filter(tr => !tr.hidden).map(tr => tr.dataset.code);";
    assert_eq!(b.js(shown, vec![]).await, json!(["T002"]));
    b.type_into(find, "by").await;
    b.text_with("#staff-none", &["No member of staff matches “bobby”."])
        .await;
    let clear = "const f = document.querySelector(arguments[0]); f.value = ''; \
        f.dispatchEvent(new Event('input'));";
    b.js(clear, vec![json!(find)]).await;
    assert_eq!(b.js(shown, vec![]).await, json!(["T001", "T002", "T003"]));
}

/// Ann signs out from her row at 12:15: out, her first in and last out today shown. Her position is
/// changed through the form, which keeps her e-mail.
async fn sign_ann_out_and_edit_her(b: &Browser) {
    b.click(&format!("{ANN} button.sign-out")).await;
    b.said("Ann Able signed out at 12:15.").await;
    b.text_with("#staff-count", &["1 on site now"]).await;
    b.text_with(ANN, &["Out"]).await;
    for (label, at) in [("First in", "09:05"), ("Last out", "12:15")] {
        let cell = format!("{ANN} td[data-label='{label}']");
        assert_eq!(b.text(&cell).await, at, "{label}");
    }
    b.click(&format!("{ANN} button.edit")).await;
    b.text_with("#member-title", &["Change Ann Able"]).await;
    let position = "#staff-form input[name=position]";
    b.js(
        "document.querySelector(arguments[0]).value = '';",
        vec![json!(position)],
    )
    .await;
    b.type_into(position, "Head of Science").await;
    b.click("#staff-form button[type=submit]").await;
    b.said("Saved Ann Able.").await;
    b.text_with(
        ANN,
        &["T001 · Science · Head of Science", "ann@school.test"],
    )
    .await;
    b.text_with("#member-title", &["Add a member of staff"])
        .await;
}

/// "Download the day as CSV" saves the day's log: Ann in and out, Bob in.
async fn download_the_day(b: &Browser, downloads: &Path) {
    b.click("#staff-csv").await;
    b.said("Downloaded staff-2026-11-23.csv").await;
    let file = downloads.join("staff-2026-11-23.csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.is_file() {
        assert!(Instant::now() < deadline, "no CSV downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three entries: {csv}");
    let expected = [
        "T001,Ann Able,2026-11-23 09:05,in,reception,",
        "T002,Bob Baker,2026-11-23 09:40,in,reception,",
        "T001,Ann Able,2026-11-23 12:15,out,reception,",
    ];
    for (line, start) in lines[1..].iter().zip(expected) {
        assert!(line.starts_with(start), "{start} in {csv}");
    }
}

/// A teacher on Tuesday: Bob still in since Monday, with its date; no contact column, no
/// e-mail, no admin's forms.
async fn as_a_teacher(b: &Browser) {
    b.text_with("#staff-count", &["1 on site now"]).await;
    b.text_with("#staff-title", &["Tuesday 24 November 2026"])
        .await;
    b.text_with(BOB, &["On site: still signed in since Mon 23 Nov, 09:40"])
        .await;
    let heads = "return [...document.querySelectorAll('.staff-table thead th')] \
        .map(th => th.textContent);";
    assert_eq!(
        b.js(heads, vec![]).await,
        json!(["Name", "First in", "Last out", "Status", "Actions"])
    );
    let main = b.text("main").await;
    assert!(!main.contains("ann@school.test"), "{main}");
    let admins = "return document.querySelector('#staff-form, #staff-import, td.contact, \
        td.gates, button.gates, #staff-gates') === null;";
    assert_eq!(b.js(admins, vec![]).await, json!(true));
    b.text_with(ANN, &["Out"]).await;
    b.assert_fits_and_accessible("staff, as a teacher").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_records_a_members_consent_and_her_face_for_the_gates() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let unit = json!({"name": "gate-in", "room": "Main gate", "direction": "in"});
    let unit = admin.created("/devices", unit).await;
    let gate: DeviceId = unit["device"]["id"].as_str().unwrap().parse().unwrap();
    let ann = json!({"personnel_code": "T001", "name": "Ann Able"});
    let ann = admin.created("/staff", ann).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=staff]").await;
    b.text_with(ANN, &["Ann Able", "Not asked", "0 photos"])
        .await;

    consent_is_given(&b).await;
    her_photo_is_enrolled(&b, &admin).await;
    let mut door = Door::login(&hub, gate, unit["mqtt_password"].as_str().unwrap()).await;
    door.publish(Channel::Records, &Message::Record(at_the_gate(gate, &ann)))
        .await;
    door.next(Channel::Acks).await;
    the_page_says_the_gate_logged_her(&b).await;
    photo_deleted_and_consent_withdrawn(&b, &admin).await;
    hub.stop().await;
}

/// The panel opens on its title, says what her face is for, and takes no photo before her
/// written consent is recorded; then it is, with the form's date and reference.
async fn consent_is_given(b: &Browser) {
    b.click(&format!("{ANN} button.gates")).await;
    b.visible(GATES).await;
    let focus = "return document.activeElement.id;";
    assert_eq!(b.js(focus, vec![]).await, json!("gates-title"));
    let why = [
        "only with their written consent",
        "erases their photos at once",
    ];
    b.text_with(GATES, &why).await;
    b.text_with(
        "#gates-upload",
        &["once the member’s written consent is recorded"],
    )
    .await;
    assert_eq!(b.js(PICKER_DISABLED, vec![]).await, json!(true));
    b.js(
        "document.querySelector('#gates-consent-form input[name=signed_on]').value = '2026-11-20';",
        vec![],
    )
    .await;
    b.type_into("#gates-consent-form input[name=reference]", "HR form 7")
        .await;
    b.type_into(
        "#gates-consent-form input[name=note]",
        "Signed at induction",
    )
    .await;
    b.click("#gates-consent-form button[type=submit]").await;
    b.said("Consent recorded for Ann Able: Given.").await;
    b.text_with(
        "#gates-history",
        &["Given", "2026-11-20", "HR form 7", "by admin"],
    )
    .await;
    b.text_with(ANN, &["Given", "0 photos"]).await;
    assert_eq!(b.js(PICKER_DISABLED, vec![]).await, json!(false));
}

const PICKER_DISABLED: &str =
    "return document.querySelector('#gates-upload input[type=file]').disabled;";

/// A photo without a face is refused with the hub's reason; a real one is enrolled, shown as
/// a thumbnail and counted on her row.
async fn her_photo_is_enrolled(b: &Browser, admin: &Api) {
    pick(b, NO_FACE).await;
    b.visible("#gates-outcome li.refused[data-code=no_face]")
        .await;
    b.said("1 photo refused.").await;
    b.text_with("#gates-faces", &["No photos"]).await;
    pick(b, PHOTO).await;
    b.visible("#gates-outcome li.accepted").await;
    b.said("1 photo of Ann Able added.").await;
    b.visible("#gates-faces img.face").await;
    b.faces_loaded().await;
    b.text_with(ANN, &["Given", "1 photo"]).await;
    assert_eq!(faces_of(admin).await["faces"].as_array().unwrap().len(), 1);
    b.viewport(1280, 1700).await;
    b.js("window.scrollTo(0, 0);", vec![]).await;
    b.screenshot("staff-faces").await;
    b.viewport(375, 812).await;
    b.js(
        "document.getElementById('staff-gates').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("staff-faces-phone").await;
    b.assert_fits_and_accessible("staff, face recognition at the gates")
        .await;
}

/// Picks `photo` in the panel's file input, which uploads it at once.
async fn pick(b: &Browser, photo: &str) {
    let path = faces_dir().join(photo).canonicalize().unwrap();
    let input = "#gates-upload input[type=file]";
    let input = b.client.find(Locator::Css(input)).await.unwrap();
    input.send_keys(path.to_str().unwrap()).await.unwrap();
}

/// A record of the gate naming member `m` Confident, at 08:55.
fn at_the_gate(gate: DeviceId, m: &Value) -> AttendanceRecord {
    AttendanceRecord {
        room: "Main gate".into(),
        direction: Some(Direction::In),
        liveness: None,
        thumbnail: None,
        staff: Some(StaffMatch {
            member: m["id"].as_str().unwrap().parse().unwrap(),
            distance: 0.2,
        }),
        ..record(gate, Decision::Confident, &[], monday_at(8, 55))
    }
}

/// Drawn again, the page has Ann on site since the gate saw her, and says a gate logged it.
async fn the_page_says_the_gate_logged_her(b: &Browser) {
    b.click("#nav a[data-page=reception]").await;
    b.click("#nav a[data-page=staff]").await;
    b.text_with(ANN, &["On site since 08:55"]).await;
    let first_in = format!("{ANN} td[data-label='First in']");
    assert_eq!(b.text(&first_in).await, "08:55 at a gate");
}

/// The photo goes after a confirmation, the focus on the photos' title; her withdrawal is
/// recorded, photos can no longer be added, and Close gives the focus back to her row.
async fn photo_deleted_and_consent_withdrawn(b: &Browser, admin: &Api) {
    b.click(&format!("{ANN} button.gates")).await;
    b.faces_loaded().await;
    b.click("#gates-faces .face-card button.danger").await;
    b.visible("#confirm[open]").await;
    b.click("#confirm-ok").await;
    b.said("Photo deleted.").await;
    b.visible("#gates-faces .empty").await;
    let focus = "return document.activeElement.id;";
    assert_eq!(b.js(focus, vec![]).await, json!("gates-faces-title"));
    b.text_with(ANN, &["0 photos"]).await;
    assert_eq!(faces_of(admin).await["faces"], json!([]));
    let withdrawn = "const s = document.querySelector('#gates-consent-form select[name=state]'); \
        s.value = 'withdrawn'; s.dispatchEvent(new Event('change'));";
    b.js(withdrawn, vec![]).await;
    b.click("#gates-consent-form button[type=submit]").await;
    b.said("Consent recorded for Ann Able: Withdrawn.").await;
    b.text_with("#gates-consent", &["Withdrawn"]).await;
    b.text_with(ANN, &["Withdrawn", "0 photos"]).await;
    assert_eq!(b.js(PICKER_DISABLED, vec![]).await, json!(true));
    let held = faces_of(admin).await;
    assert_eq!(held["consent"], json!("withdrawn"), "{held}");
    assert_eq!(held["consent_history"].as_array().unwrap().len(), 2);
    b.click("#gates-close").await;
    let back = "return document.activeElement.matches(arguments[0]) \
        && getComputedStyle(document.getElementById('staff-gates')).display === 'none';";
    let ann_button = json!(format!("{ANN} button.gates"));
    assert_eq!(b.js(back, vec![ann_button]).await, json!(true));
}

/// What the hub holds of Ann's faces and consent (the only member).
async fn faces_of(admin: &Api) -> Value {
    let (_, list) = admin.get("/staff").await;
    let id = list["staff"][0]["id"].as_str().unwrap().to_owned();
    let (status, held) = admin.get(&format!("/staff/{id}/faces")).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    held
}
