//! Families told the same morning (issue 57) in a real headless Chromium. On a phone, with no
//! account, a family opens the link from the morning's notice: the page says who is away and
//! offers the school's reasons; "Something else" with no note is refused on the page, before
//! anything is sent; a reason with a note is sent and thanked for. The same link again says it
//! was used, and a forged one that it is unknown, each with the hub's message and no form. An
//! admin then finds the reply on the Families page, refuses to reject it without a note,
//! accepts it with one, sees who accepted it, and downloads the day as CSV. At phone and
//! desktop width with axe-core's WCAG rules.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;
use crate::support::families::{start_families_hub, told_this_morning};

const NOTE: &str = "Dentist at half past nine; back after lunch.";
const OFFICE_NOTE: &str = "Appointment card seen.";
const FORGED: &str = "not-a-link-the-school-sent";

#[tokio::test(flavor = "multi_thread")]
async fn a_family_gives_a_reason_by_phone_and_the_office_accepts_it() {
    let f = start_families_hub().await;
    let (token, student, day) = told_this_morning(&f).await;
    // Signed in again: the clock has moved past the first sign-in's token.
    let admin = f.hub.admin().await;
    let family = f.hub.api();
    let (status, found) = family
        .post("/replies/look-up", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", f.hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;

    the_reply_page_asks_why(&b, &token, &found).await;
    something_else_needs_a_note(&b).await;
    a_reason_is_sent(&b, &found).await;
    let (_, kept) = admin.get(&format!("/notices?day={day}")).await;
    let reply = &notice_of(&kept, &student)["reply"];
    assert_eq!(
        (&reply["reason"], &reply["note"]),
        (&json!("medical"), &json!(NOTE))
    );
    links_that_do_not_work(&b, &family, &token).await;

    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    the_office_accepts_it(&b, &admin, &student, &day).await;
    the_day_as_csv(&b, downloads.path(), &found).await;
    b.client.clone().close().await.unwrap();
    f.hub.stop().await;
}

/// The notice of `student` in the Families answer `list`.
fn notice_of<'a>(list: &'a Value, student: &str) -> &'a Value {
    let notices = list["notices"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"));
    let found = notices.iter().find(|n| n["student"] == student);
    found.unwrap_or_else(|| panic!("{student} told: {list}"))
}

/// The page takes the token out of the address, says who is away and when in the notice's
/// words, and offers the school's reasons as radio buttons.
async fn the_reply_page_asks_why(b: &Browser, token: &str, found: &Value) {
    b.open(&format!("/#/reply/{token}")).await;
    let (name, date, school) = (
        str_of(found, "first_name"),
        str_of(found, "date"),
        str_of(found, "school"),
    );
    let headline = b.text_with("#reply-headline", &[name, date, school]).await;
    if found["language"] == "en" {
        let said = format!("{name} is not in school today, {date}. Please tell {school} why.");
        assert_eq!(headline, said);
    }
    let address = b.js("return location.href;", vec![]).await;
    let address = address.as_str().unwrap();
    assert!(
        address.ends_with("#/reply") && !address.contains(token),
        "the token left the address bar: {address}"
    );
    let offered = "return [...document.querySelectorAll('#reply-form input[type=radio]')] \
        .map(i => [i.value, i.closest('label').innerText.trim()]);";
    let reasons = found["reasons"].as_array().unwrap().iter();
    let want: Vec<Value> = reasons.map(|r| json!([r["code"], r["label"]])).collect();
    assert_eq!(b.js(offered, vec![]).await, json!(want));
    assert_eq!(
        b.js("return document.getElementById('top').hidden;", vec![])
            .await,
        json!(true)
    );
    let no_faces = "return document.querySelectorAll('#main img').length;";
    assert_eq!(b.js(no_faces, vec![]).await, json!(0));
    b.screenshot("reply-phone").await;
    b.assert_fits_and_accessible("the reply page").await;
    b.screenshot("reply").await;
    b.viewport(375, 812).await;
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// "Something else" with an empty note: the page says a note is needed, marks and focuses the
/// box, and sends nothing.
async fn something_else_needs_a_note(b: &Browser) {
    b.js("performance.clearResourceTimings();", vec![]).await;
    b.click("#reply-form input[value=other]").await;
    b.click("#reply-form button[type=submit]").await;
    b.text_with("#reply-error", &["Please tell us a little more"])
        .await;
    let marked = "const n = document.getElementById('reply-note'); \
        return [n.getAttribute('aria-invalid'), n.required, document.activeElement === n];";
    assert_eq!(b.js(marked, vec![]).await, json!(["true", true, true]));
    let sent = "return performance.getEntriesByType('resource') \
        .filter(e => e.name.endsWith('/api/v1/replies')).length;";
    assert_eq!(b.js(sent, vec![]).await, json!(0), "nothing sent");
    b.assert_accessible("the reply page, a note missing").await;
}

/// A medical appointment with a note is sent; the family is thanked by the child's name.
async fn a_reason_is_sent(b: &Browser, found: &Value) {
    b.click("#reply-form input[value=medical]").await;
    b.type_into("#reply-note", NOTE).await;
    b.click("#reply-form button[type=submit]").await;
    b.text_with("#reply-done", &["Thank you", str_of(found, "first_name")])
        .await;
    assert_eq!(b.text("#reply-error").await, "");
    let form = "return document.getElementById('reply-form') === null;";
    assert_eq!(b.js(form, vec![]).await, json!(true));
    b.assert_fits_and_accessible("the reply page, thanked")
        .await;
    b.viewport(375, 812).await;
}

/// The used link and a forged one each show the hub's own message, and no form.
async fn links_that_do_not_work(b: &Browser, family: &Api, token: &str) {
    for (link, status, code, what) in [
        (token, StatusCode::GONE, "reply_link_used", "a used link"),
        (
            FORGED,
            StatusCode::NOT_FOUND,
            "unknown_reply_link",
            "a forged link",
        ),
    ] {
        let (answer, body) = family
            .post("/replies/look-up", json!({"token": link}))
            .await;
        assert_eq!(
            (answer, &body["error"]["code"]),
            (status, &json!(code)),
            "{what}: {body}"
        );
        let message = str_of(&body["error"], "message");
        b.open(&format!("/#/reply/{link}")).await;
        b.text_with("#reply-error", &[message]).await;
        let form = "return document.getElementById('reply-form') === null;";
        assert_eq!(b.js(form, vec![]).await, json!(true), "no form for {what}");
        b.assert_fits_and_accessible(what).await;
        b.viewport(375, 812).await;
    }
}

/// The Families page opens on the hub's today with the counts, the reply and its buttons;
/// Reject needs a note; Accept with one shows who accepted it, and the hub agrees.
async fn the_office_accepts_it(b: &Browser, admin: &Api, student: &str, day: &str) {
    b.click("#nav a[data-page=notices]").await;
    let on_day = "return document.getElementById('notices-day').value === arguments[0];";
    b.wait("the day told", on_day, vec![json!(day)]).await;
    let row = format!("#notices li[data-student='{student}']");
    b.text_with(
        &row,
        &["Medical or dental appointment", NOTE, "Accept", "Reject"],
    )
    .await;
    let (_, list) = admin.get(&format!("/notices?day={day}")).await;
    let told = list["told"].as_u64().unwrap();
    let counts = format!("{told} told · 1 replied · 0 accepted");
    b.text_with("#notices-counts", &[&counts]).await;
    b.assert_fits_and_accessible("families, a reply waiting")
        .await;

    b.click(&format!("{row} button.reject")).await;
    b.text_with(&format!("{row} .decide .error"), &["to reject"])
        .await;
    b.type_into(&format!("{row} .decide input[name=note]"), OFFICE_NOTE)
        .await;
    b.click(&format!("{row} button.accept")).await;
    b.said("Accepted the reason for").await;
    b.text_with(
        &format!("{row} .decision"),
        &["Accepted by admin", OFFICE_NOTE],
    )
    .await;
    b.text_with("#notices-counts", &["1 replied · 1 accepted"])
        .await;
    let (_, list) = admin.get(&format!("/notices?day={day}")).await;
    let decided = &notice_of(&list, student)["decision"];
    assert_eq!(
        (&decided["state"], &decided["by"], &decided["note"]),
        (&json!("accepted"), &json!("admin"), &json!(OFFICE_NOTE))
    );
    b.assert_fits_and_accessible("families, a reply accepted")
        .await;
    b.screenshot("families").await;
}

/// "Download as CSV" saves the day's notices, the student among them.
async fn the_day_as_csv(b: &Browser, dir: &Path, found: &Value) {
    b.click("#notices-csv").await;
    let csv = downloaded(dir).await;
    assert!(csv.contains(str_of(found, "first_name")), "{csv}");
}

/// The first CSV file the browser finished saving into `dir`.
async fn downloaded(dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let file = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"));
        if let Some(text) = file.and_then(|f| std::fs::read_to_string(f).ok())
            && !text.is_empty()
        {
            return text;
        }
        assert!(Instant::now() < deadline, "no CSV downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
