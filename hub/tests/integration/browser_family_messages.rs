//! Messages to families (issue 57, point 3) in a real headless Chromium. An admin finds the
//! built-in English and Welsh words listed, opens the Welsh absence notice (focus on its
//! heading) and previews it as the hub fills it in. An SMS with a placeholder the notice does
//! not have is refused, the hub's reason shown beside the form and nothing kept; fixed, it is
//! saved and listed as the school's own; then the built-in words come back after a
//! confirmation. Polish is added from the English words, saved, and given up. A teacher has
//! no link to the page and the API refuses them. At phone and desktop width with axe-core's
//! WCAG rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;

const SCHOOL: &str = "Ysgol y Bryn";
const REFUSED_SMS: &str = "{school}: {record_id} {reply_link}";
const OWN_SMS: &str =
    "{school}: nid yw {first_name} yma heddiw ({date}). Rhowch wybod: {reply_link}";
const POLISH_SUBJECT: &str = "{first_name} nie ma dziś w szkole";
const POLISH_EMAIL: &str =
    "{first_name} nie ma dziś ({date}) w szkole. Prosimy o powód: {reply_link} {school}";
const POLISH_SMS: &str = "{school}: {first_name} nie ma dziś w szkole ({date}). {reply_link}";
const WELSH_ROW: &str = "li[data-kind=absence][data-language=cy]";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_writes_the_school_s_own_words_for_families_and_previews_them() {
    let hub = start_hub_with(None, |c| {
        c.notices.school_name = SCHOOL.into();
        c.notices.pages_url = "https://rollcall.school.test".into();
    })
    .await;
    let admin = hub.admin().await;
    let tess = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    admin.created("/users", tess).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;

    let welsh = the_built_in_words_are_listed(&b, &admin).await;
    the_welsh_notice_is_previewed(&b, &admin, &welsh).await;
    a_placeholder_it_lacks_is_refused(&b, &admin, &welsh).await;
    the_school_s_own_words_are_saved(&b, &admin).await;
    back_to_the_built_in_words(&b, &admin, &welsh).await;
    polish_is_added(&b, &admin).await;
    polish_is_given_up(&b, &admin).await;
    a_teacher_has_no_such_page(&b, &hub).await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}

/// The template of `kind` in `language` in the hub's list, if it is in force.
fn in_force(list: &Value, kind: &str, language: &str) -> Option<Value> {
    let templates = list["templates"].as_array().unwrap();
    let found = templates
        .iter()
        .find(|t| t["kind"] == kind && t["language"] == language);
    found.cloned()
}

async fn words(admin: &Api, kind: &str, language: &str) -> Value {
    let (status, list) = admin.get("/family-messages").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    in_force(&list, kind, language).unwrap_or_else(|| panic!("{kind} in {language}: {list}"))
}

/// Types `text` into the field `css`, replacing what it held.
async fn replace(b: &Browser, css: &str, text: &str) {
    b.js(
        "document.querySelector(arguments[0]).value = '';",
        vec![json!(css)],
    )
    .await;
    b.type_into(css, text).await;
}

async fn value(b: &Browser, css: &str) -> Value {
    let script = "return document.querySelector(arguments[0]).value;";
    b.js(script, vec![json!(css)]).await
}

/// Waits for the editor whose heading says `parts`, with the focus on that heading.
async fn editor_opened(b: &Browser, parts: &[&str]) {
    b.text_with("#page-title", parts).await;
    let focused = "return document.activeElement === document.getElementById('page-title');";
    b.wait("the focus on the editor's heading", focused, vec![])
        .await;
}

/// The admin's navigation leads to the page; English and Welsh of both kinds are listed as
/// built in. Returns the Welsh absence notice as the hub has it.
async fn the_built_in_words_are_listed(b: &Browser, admin: &Api) -> Value {
    b.click("#nav a[data-page=family-messages]").await;
    b.visible(WELSH_ROW).await;
    for kind in ["absence", "arrived"] {
        for language in ["en", "cy"] {
            let row = format!("li[data-kind={kind}][data-language={language}][data-edited=false]");
            b.text_with(&row, &["built-in words"]).await;
        }
    }
    b.text_with("#fm-count", &["4 in force · 0 in the school's own words"])
        .await;
    b.assert_fits_and_accessible("messages to families").await;
    words(admin, "absence", "cy").await
}

/// The Welsh absence notice opens with the hub's words and the placeholders explained; the
/// preview is the hub's, with the school's name and a Welsh date.
async fn the_welsh_notice_is_previewed(b: &Browser, admin: &Api, welsh: &Value) {
    b.click(&format!("{WELSH_ROW} a")).await;
    editor_opened(b, &["Absence notice in", "(cy)"]).await;
    assert_eq!(value(b, "#fm-sms").await, welsh["sms"]);
    assert_eq!(value(b, "#fm-subject").await, welsh["subject"]);
    b.text_with(
        "#fm-placeholders",
        &["{first_name} is the child's first name", "{reply_link}"],
    )
    .await;
    b.click("#fm-preview-button").await;
    let (status, want) = admin
        .post("/family-messages/absence/cy/preview", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{want}");
    let sms = want["sms"].as_str().unwrap();
    assert!(
        sms.starts_with("Ysgol y Bryn: nid yw Ada yn yr ysgol heddiw"),
        "{sms}"
    );
    assert!(sms.contains("Dydd Llun"), "{sms}");
    b.text_with("#fm-preview-sms", &[SCHOOL]).await;
    assert_eq!(b.text("#fm-preview-sms").await, sms);
    let parts = match want["sms_parts"].as_u64().unwrap() {
        1 => "1 SMS part".to_owned(),
        n => format!("{n} SMS parts"),
    };
    let size = format!("{} characters, {parts}", want["sms_characters"]);
    assert_eq!(b.text("#fm-sms-size").await, size);
    b.said(&size).await;
    b.assert_fits_and_accessible("the Welsh absence notice, previewed")
        .await;
    b.js("window.scrollTo(0, 0);", vec![]).await;
    b.screenshot("family-messages").await;
}

/// An SMS with {record_id}: the hub's reason beside the form, the SMS marked and focused, and
/// the hub still has the built-in words.
async fn a_placeholder_it_lacks_is_refused(b: &Browser, admin: &Api, welsh: &Value) {
    replace(b, "#fm-sms", REFUSED_SMS).await;
    b.click("#fm-save").await;
    let error = b
        .text_with("#fm-error", &["sms: {record_id} is not a placeholder"])
        .await;
    assert!(
        error.contains("{reply_link}"),
        "the allowed ones named: {error}"
    );
    let marked = "const s = document.getElementById('fm-sms'); \
        return [s.getAttribute('aria-invalid'), document.activeElement === s, \
          s.getAttribute('aria-describedby').includes('fm-error')];";
    assert_eq!(b.js(marked, vec![]).await, json!(["true", true, true]));
    let kept = words(admin, "absence", "cy").await;
    assert_eq!(
        (&kept["edited"], &kept["sms"]),
        (&json!(false), &welsh["sms"]),
        "nothing saved"
    );
    b.assert_fits_and_accessible("the Welsh absence notice, refused")
        .await;
}

/// The fixed SMS is saved: the editor and the list call it the school's own, as the hub does.
async fn the_school_s_own_words_are_saved(b: &Browser, admin: &Api) {
    replace(b, "#fm-sms", OWN_SMS).await;
    b.click("#fm-save").await;
    b.said("Saved the absence notice in").await;
    assert_eq!(b.text("#fm-error").await, "");
    let unmarked = "return document.getElementById('fm-sms').getAttribute('aria-invalid');";
    assert_eq!(b.js(unmarked, vec![]).await, Value::Null);
    b.text_with("#fm-state", &["The school's own words, saved by admin"])
        .await;
    b.visible("#fm-reset").await;
    let kept = words(admin, "absence", "cy").await;
    assert_eq!(
        (&kept["edited"], &kept["sms"], &kept["updated_by"]),
        (&json!(true), &json!(OWN_SMS), &json!("user:admin"))
    );

    b.click("#fm-back").await;
    let row = format!("{WELSH_ROW}[data-edited=true]");
    b.text_with(&row, &["the school's own words", "saved by admin"])
        .await;
    b.text_with("#fm-count", &["1 in the school's own words"])
        .await;
}

/// "Back to the built-in words" asks first, then the hub's built-in words are back.
async fn back_to_the_built_in_words(b: &Browser, admin: &Api, welsh: &Value) {
    b.click(&format!("{WELSH_ROW} a")).await;
    editor_opened(b, &["(cy)"]).await;
    b.click("#fm-reset").await;
    b.text_with("#confirm-text", &["built-in words"]).await;
    b.click("#confirm-ok").await;
    b.said("Back to the built-in words").await;
    let script = "return document.getElementById('fm-sms').value === arguments[0] \
        && document.getElementById('fm-reset').hidden;";
    b.wait(
        "the built-in words back",
        script,
        vec![welsh["sms"].clone()],
    )
    .await;
    b.text_with("#fm-state", &["The built-in words"]).await;
    let kept = words(admin, "absence", "cy").await;
    assert_eq!(
        (&kept["edited"], &kept["sms"]),
        (&json!(false), &welsh["sms"])
    );
}

/// "Add a language" needs a tag; pl opens on the English words, which are replaced and saved.
async fn polish_is_added(b: &Browser, admin: &Api) {
    b.click("#fm-back").await;
    b.click("#fm-add-form button[type=submit]").await;
    b.text_with("#fm-add-error", &["Give a language tag"]).await;
    b.type_into("#fm-language", "pl").await;
    b.click("#fm-add-form button[type=submit]").await;
    editor_opened(b, &["Absence notice in", "(pl)"]).await;
    let english = words(admin, "absence", "en").await;
    assert_eq!(value(b, "#fm-email").await, english["email"]);
    b.text_with(
        "#fm-state",
        &["Not written in", "English words to translate"],
    )
    .await;
    b.assert_fits_and_accessible("a new language").await;

    replace(b, "#fm-subject", POLISH_SUBJECT).await;
    replace(b, "#fm-email", POLISH_EMAIL).await;
    replace(b, "#fm-sms", POLISH_SMS).await;
    b.click("#fm-save").await;
    b.said("Saved the absence notice in").await;
    b.visible("#fm-remove").await;
    let polish = words(admin, "absence", "pl").await;
    assert_eq!(
        (&polish["edited"], &polish["built_in"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        (&polish["subject"], &polish["email"], &polish["sms"]),
        (
            &json!(POLISH_SUBJECT),
            &json!(POLISH_EMAIL),
            &json!(POLISH_SMS)
        )
    );
    b.click("#fm-back").await;
    b.text_with(
        "li[data-kind=absence][data-language=pl][data-edited=true]",
        &["the school's own words"],
    )
    .await;
    b.assert_fits_and_accessible("messages to families, Polish added")
        .await;
}

/// Polish has no built-in words to go back to: it can be given up after a confirmation, and
/// leaves the list and the hub.
async fn polish_is_given_up(b: &Browser, admin: &Api) {
    b.click("li[data-kind=absence][data-language=pl] a").await;
    editor_opened(b, &["(pl)"]).await;
    let reset = "return document.getElementById('fm-reset').hidden;";
    assert_eq!(b.js(reset, vec![]).await, json!(true));
    b.click("#fm-remove").await;
    b.click("#confirm-ok").await;
    b.said("Removed the absence notice in").await;
    let gone = "return document.querySelector(arguments[0]) !== null \
        && document.querySelector('li[data-language=pl]') === null;";
    b.wait("the list without Polish", gone, vec![json!(WELSH_ROW)])
        .await;
    let (_, list) = admin.get("/family-messages").await;
    assert_eq!(in_force(&list, "absence", "pl"), None, "{list}");
}

/// A teacher's navigation has no link to the page, its address shows the review queue, and
/// the API answers 403.
async fn a_teacher_has_no_such_page(b: &Browser, hub: &TestHub) {
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    b.sign_in("tess", "teacher password").await;
    let link = "return document.querySelector('#nav a[data-page=family-messages]') \
        .closest('li').hidden;";
    assert_eq!(b.js(link, vec![]).await, json!(true));
    b.open("/#/family-messages").await;
    let review = "return document.getElementById('main').dataset.page === 'review';";
    b.wait("the review queue instead", review, vec![]).await;
    let teacher = hub.api().login("tess", "teacher password").await;
    let (status, body) = teacher.get("/family-messages").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}
