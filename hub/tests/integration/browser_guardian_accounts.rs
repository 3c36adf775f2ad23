//! Guardians' own accounts (issue 57, point 7) in a real headless Chromium. On Ada's page an
//! admin invites her father Gus, who has parental responsibility, to sign in (a neighbour
//! without it is offered no invitation); the link is e-mailed and shown, and a second try is
//! refused with the hub's reason. Gus chooses a password through the link and signs in: he
//! sees "My children" only, Ada's lesson today with its mark, and his page whatever the address
//! says. He tells the school Ada has the dentist tomorrow; the same day again shows the hub's
//! refusal beside the form, the fields kept. The office finds the reason among tomorrow's
//! notices and accepts it, and Gus sees it accepted. At phone and desktop width with axe-core's
//! WCAG rules.

use std::time::Duration;

use chrono::Duration as Days;
use reqwest::StatusCode;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;
use crate::support::families::{Families, start_families_hub, unfolded};

const GUS: &str = "gus@family.test";
const GUS_PASSWORD: &str = "Gus's own long phrase";
const NOTE: &str = "Dentist at 10";
/// Gus, first of Ada's guardians, and the neighbour after him, on her page.
const GUS_ROW: &str = "#guardian-list li[data-priority='1']";
const NELL_ROW: &str = "#guardian-list li[data-priority='2']";

#[tokio::test(flavor = "multi_thread")]
async fn an_invited_guardian_tells_the_school_of_an_absence_and_sees_it_accepted() {
    let f = start_families_hub().await;
    let ada = f.school.students[0].clone();
    let tomorrow = (monday() + Days::days(1)).to_string();
    ada_and_her_guardians(&f, &ada).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", f.hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;

    let token = the_office_invites_gus(&b, &f, &ada).await;
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    gus_chooses_a_password(&b, &token).await;
    his_page_only(&b, &ada).await;
    he_tells_of_tomorrow(&b, &f, &ada, &tomorrow).await;
    the_office_accepts_it(&b, &f, &ada, &tomorrow).await;
    b.client.clone().close().await.unwrap();
    f.hub.stop().await;
}

/// Ada (Year 7, form 7B) has Gus (told of absences, parental responsibility) and Nell, a
/// neighbour without it; 7B has a lesson on Tuesdays too, in a term that began a week ago. At
/// 09:05 on Monday Tess marks Ada present.
async fn ada_and_her_guardians(f: &Families, ada: &str) {
    f.hub.clock.set(UnixMillis(monday_at(9, 5)));
    // Signed in again: the clock has moved past the first sign-in's token.
    let admin = f.hub.admin().await;
    let term = json!({"id": uuid::Uuid::now_v7().to_string(), "name": "Autumn 2",
        "first_day": "2026-11-16", "last_day": "2026-12-18"});
    admin.created("/calendar/terms", term).await;
    let guardians = json!({"guardians": [
        {"name": "Gus Guardian", "relationship": "parent", "email": GUS, "language": "en",
         "notices": true, "responsibility": true},
        {"name": "Nell Neighbour", "relationship": "other", "email": "nell@family.test",
         "notices": true, "responsibility": false},
    ]});
    let (status, out) = admin
        .put(&format!("/students/{ada}/guardians"), guardians)
        .await;
    assert!(status.is_success(), "{out}");
    let group = json!({"year_group": "Year 7", "form": "7B"});
    let (status, out) = admin.patch(&format!("/students/{ada}"), group).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let tuesday = json!({"class_id": f.school.class, "room": "Lab 4", "weekday": 2,
        "start": "11:00", "end": "12:00"});
    admin.created("/timetable", tuesday).await;
    let teacher = f.hub.api().login("tess", "teacher password").await;
    let mark = format!("/sessions/{}/{}/marks/{ada}", f.school.slot, monday());
    let present = json!({"mark": "present", "reason": "seen in class"});
    let (status, out) = teacher.put(&mark, present).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

/// On Ada's page only Gus has "Invite to sign in"; it e-mails him the link the page shows. A
/// second invitation is refused (his account exists) with the hub's reason in the card.
/// Returns the link's token.
async fn the_office_invites_gus(b: &Browser, f: &Families, ada: &str) -> String {
    b.open(&format!("/#/students/{ada}")).await;
    b.text_with(NELL_ROW, &["Nell Neighbour", "nell@family.test"])
        .await;
    let none = "return document.querySelector(arguments[0] + ' button.invite-guardian') === null;";
    let offered = b.js(none, vec![json!(NELL_ROW)]).await;
    assert_eq!(offered, json!(true), "Nell has no parental responsibility");
    b.click(&format!("{GUS_ROW} button.invite-guardian")).await;
    b.said(&format!("Invitation sent to {GUS}.")).await;
    let link = format!("{GUS_ROW} input.invitation-link");
    let value = "const i = document.querySelector(arguments[0]); return i && i.value;";
    let link = b.wait("Gus's link", value, vec![json!(link)]).await;
    b.text_with(GUS_ROW, &[&format!("E-mailed to {GUS}")]).await;
    let (_, token) = link
        .as_str()
        .and_then(|l| l.split_once("/#/welcome/"))
        .unwrap_or_else(|| panic!("a link to the Welcome page: {link}"));
    wait_for("Gus's invitation", Duration::from_secs(20), || {
        let mailed = f.sink.to(GUS).iter().any(|m| unfolded(m).contains(token));
        async move { mailed }
    })
    .await;
    b.assert_fits_and_accessible("a student's guardians, one invited")
        .await;

    b.click(&format!("{GUS_ROW} button.invite-guardian")).await;
    let taken = format!("the user name {GUS} is taken");
    let error = format!("{GUS_ROW} .error");
    b.text_with(&error, &["Could not invite Gus Guardian", &taken])
        .await;
    let alert = "return document.querySelector(arguments[0]).getAttribute('role');";
    assert_eq!(b.js(alert, vec![json!(error)]).await, json!("alert"));
    b.assert_fits_and_accessible("a student's guardians, an invitation refused")
        .await;
    token.to_owned()
}

/// The Welcome page greets Gus by the name the office keeps, with his address as his user
/// name; he chooses a password and goes on to sign in.
async fn gus_chooses_a_password(b: &Browser, token: &str) {
    b.open(&format!("/#/welcome/{token}")).await;
    b.text_with("h1", &["Welcome, Gus Guardian"]).await;
    let username = "return document.querySelector('#welcome-form input[name=username]').value;";
    assert_eq!(b.js(username, vec![]).await, json!(GUS));
    for field in ["password", "again"] {
        b.type_into(&format!("#welcome-form input[name={field}]"), GUS_PASSWORD)
            .await;
    }
    b.click("#welcome-form button[type=submit]").await;
    b.text_with("#welcome-done", &["Your password is set", GUS])
        .await;
    b.click("#welcome-sign-in").await;
    b.visible("form.signin").await;
}

/// Gus signs in and sees Ada's card: her year and form, today's lesson with its room and mark,
/// and no absence yet. His only navigation item is his page, the review count is never asked
/// for, #/review shows his page again and the public pages stay open to him.
async fn his_page_only(b: &Browser, ada: &str) {
    b.js("performance.clearResourceTimings();", vec![]).await;
    b.sign_in(GUS, GUS_PASSWORD).await;
    his_page_drawn(b).await;
    let card = format!("section[data-child='{ada}']");
    let today = [
        "Ada",
        "Year 7 · 7B",
        "Today, Monday 23 November 2026",
        "09:00–10:00",
        "Lab 3",
        "Present",
        "None from today on.",
    ];
    b.text_with(&card, &today).await;
    let items = "return [...document.querySelectorAll('#nav li')] \
        .filter(li => li.getClientRects().length > 0).map(li => li.innerText.trim());";
    assert_eq!(b.js(items, vec![]).await, json!(["My children"]));
    assert!(b.text("#who").await.contains("gus@family.test (guardian)"));
    let asked = "return performance.getEntriesByType('resource') \
        .filter(e => e.name.includes('/api/v1/review')).length;";
    assert_eq!(b.js(asked, vec![]).await, json!(0), "no review count asked");

    let mark = "document.querySelector(arguments[0]).dataset.drawn = 'before'; \
        location.hash = '#/review';";
    b.js(mark, vec![json!(card)]).await;
    let again = "const c = document.querySelector(arguments[0]); \
        return location.hash === '#/review' && !!c && c.dataset.drawn === undefined;";
    b.wait("his page drawn again at #/review", again, vec![json!(card)])
        .await;
    his_page_drawn(b).await;
    b.js("location.hash = '#/privacy';", vec![]).await;
    let privacy = "return document.getElementById('main').dataset.page === 'privacy';";
    b.wait("the privacy page", privacy, vec![]).await;
    b.js("location.hash = '#/children';", vec![]).await;
    his_page_drawn(b).await;
    b.text_with(&card, &["Present"]).await;
}

async fn his_page_drawn(b: &Browser) {
    let page = "return document.getElementById('main').dataset.page === 'children';";
    b.wait("his page", page, vec![]).await;
}

/// Sets the value of the control `css` as a person would pick it, and says it changed.
async fn set(b: &Browser, css: &str, value: &str) {
    let script = "const c = document.querySelector(arguments[0]); c.value = arguments[1]; \
        c.dispatchEvent(new Event('input')); c.dispatchEvent(new Event('change'));";
    b.js(script, vec![json!(css), json!(value)]).await;
}

/// The day, reason and note in the form, as they stand.
async fn in_the_form(b: &Browser, form: &str) -> Value {
    let script = "const f = document.querySelector(arguments[0]); \
        return ['day', 'reason', 'note'].map(n => f.querySelector(`[name=${n}]`).value);";
    b.js(script, vec![json!(form)]).await
}

/// "Other" needs a note, says the page before sending anything. Tomorrow, a medical
/// appointment with a note: announced, listed as waiting, the form emptied. The same day
/// again (ill, this time) shows the hub's 409 beside the button, the day and reason kept.
async fn he_tells_of_tomorrow(b: &Browser, f: &Families, ada: &str, tomorrow: &str) {
    let form = format!("#child-{ada}-form");
    let bounds = "const d = document.querySelector(arguments[0] + ' input[name=day]'); \
        return [d.min, d.max];";
    let until = (monday() + Days::days(60)).to_string();
    let bounds = b.js(bounds, vec![json!(form)]).await;
    assert_eq!(bounds, json!([monday().to_string(), until]));
    set(b, &format!("{form} input[name=day]"), tomorrow).await;
    set(b, &format!("{form} select[name=reason]"), "other").await;
    b.text_with(&form, &["Needed for “Other”"]).await;
    b.click(&format!("{form} button[type=submit]")).await;
    b.text_with(
        &format!("{form} .error"),
        &["Tell the school the reason in the note."],
    )
    .await;
    let marked = "const n = document.querySelector(arguments[0] + ' textarea'); \
        return [n.getAttribute('aria-invalid'), document.activeElement === n];";
    assert_eq!(b.js(marked, vec![json!(form)]).await, json!(["true", true]));
    set(b, &format!("{form} input[name=day]"), tomorrow).await;
    set(b, &format!("{form} select[name=reason]"), "medical").await;
    b.type_into(&format!("{form} textarea[name=note]"), NOTE)
        .await;
    b.click(&format!("{form} button[type=submit]")).await;
    b.said("The school has been told: Ada, Tuesday 24 November 2026.")
        .await;
    let row = format!("section[data-child='{ada}'] li[data-day='{tomorrow}']");
    let listed = [
        "Tuesday 24 November 2026",
        "Medical appointment",
        NOTE,
        "Waiting for the school",
    ];
    b.text_with(&row, &listed).await;
    assert_eq!(in_the_form(b, &form).await, json!(["", "", ""]));

    set(b, &format!("{form} input[name=day]"), tomorrow).await;
    set(b, &format!("{form} select[name=reason]"), "ill").await;
    b.click(&format!("{form} button[type=submit]")).await;
    let gus = f.hub.api().login(GUS, GUS_PASSWORD).await;
    let again = json!({"day": tomorrow, "reason": "ill"});
    let (status, out) = gus
        .post(&format!("/me/children/{ada}/absences"), again)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    let message = out["error"]["message"].as_str().unwrap();
    b.text_with(&format!("{form} .error[role=alert]"), &[message])
        .await;
    assert_eq!(in_the_form(b, &form).await, json!([tomorrow, "ill", ""]));
    b.assert_fits_and_accessible("my children, an absence refused")
        .await;
}

/// The office finds Gus's reason among tomorrow's notices and accepts it; Gus, the page
/// loaded again, sees it accepted, and Ada's history below.
async fn the_office_accepts_it(b: &Browser, f: &Families, ada: &str, tomorrow: &str) {
    let admin = f.hub.admin().await;
    let (status, list) = admin.get(&format!("/notices?day={tomorrow}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let notices = list["notices"].as_array().unwrap();
    let notice = notices.iter().find(|n| n["student"] == ada);
    let reply = &notice.unwrap_or_else(|| panic!("Ada's notice: {list}"))["reply"];
    assert_eq!(
        (&reply["reason"], &reply["note"]),
        (&json!("medical"), &json!(NOTE))
    );
    let accept = format!("/notices/{ada}/{tomorrow}/accept");
    let (status, out) = admin.post(&accept, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");

    b.client.refresh().await.unwrap();
    his_page_drawn(b).await;
    let row = format!("section[data-child='{ada}'] li[data-day='{tomorrow}']");
    b.text_with(&row, &["Medical appointment", "Accepted by the school"])
        .await;
    let history = format!("details[data-child='{ada}']");
    let lessons = ["Attendance by term", "Monday 23 November 2026", "Present"];
    b.text_with(&history, &lessons).await;
    b.visible(&format!("#child-{ada}-sessions-title")).await;
    b.assert_fits_and_accessible("my children").await;
    b.viewport(1280, 1400).await;
    b.screenshot("children").await;
    // On a phone each lesson of the history wraps under its date, labelled.
    b.viewport(375, 812).await;
    let scroll = format!("document.getElementById('child-{ada}-sessions-title').scrollIntoView();");
    b.js(&scroll, vec![]).await;
    let shown = "return [...document.querySelectorAll(arguments[0] + ' td')]\
        .filter((td) => getComputedStyle(td).display !== 'none').map((td) => td.dataset.label);";
    let labels = b.js(shown, vec![json!(history)]).await;
    let labels: Vec<&str> = labels
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(labels.contains(&"Mark"), "{labels:?}");
    assert!(
        !labels.contains(&"Amendments") && !labels.contains(&"First seen"),
        "a lesson no door saw, without amendments, says nothing of them on a phone: {labels:?}"
    );
    b.screenshot("children-phone").await;
    b.viewport(1280, 900).await;
}
