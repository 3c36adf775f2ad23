//! Students' own accounts in a real headless Chromium: an admin invites a teacher, and again,
//! then class 7B from the Admin page (Ada, who has an address, is invited; Bo, who has none,
//! is not) and reads Ada's link there, since this hub has no mail relay. Ada opens it, is refused a short password,
//! chooses one and signs in. She sees her own page only (her name, her class, her Monday
//! lesson in Lab 3), whatever the address says, with no staff navigation and no review count
//! asked for; her link, opened again, says it was used. At phone and desktop width with
//! axe-core's WCAG rules.

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

const ADA_EMAIL: &str = "ada@pupils.test";
const ADA_PASSWORD: &str = "my own marks, please";

#[tokio::test(flavor = "multi_thread")]
async fn an_invited_student_chooses_a_password_and_sees_only_her_own_page() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let (ada, bo) = (&school.students[0], &school.students[1]);
    let (status, body) = admin
        .patch(&format!("/students/{ada}"), json!({"email": ADA_EMAIL}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let downloads = tempfile::tempdir().unwrap();
    let base = format!("http://{}", hub.addr);
    let b = Browser::start(&base, downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=admin]").await;
    invite_a_teacher(&b, &base).await;
    let link = invite_the_class(&b, &school.class, ada, bo).await;
    let token = link
        .strip_prefix(&format!("{base}/#/welcome/"))
        .unwrap_or_else(|| panic!("a link to this hub's Welcome page: {link}"))
        .to_owned();
    assert_eq!(token.len(), 64, "{link}");
    let welcome = format!("/#/welcome/{token}");
    b.click("#sign-out").await;
    b.visible("form.signin").await;

    choose_a_password(&b, &welcome, &token).await;
    her_own_page_only(&b).await;
    b.open(&welcome).await;
    b.text_with("#welcome-error", &["has been used"]).await;
    let form = "return document.getElementById('welcome-form') === null;";
    assert_eq!(
        b.js(form, vec![]).await,
        json!(true),
        "no form for a used link"
    );
    b.assert_fits_and_accessible("a used invitation").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}

/// "Invite someone" makes a teacher's account whose link is shown under their name; "Invite
/// again" gives another.
async fn invite_a_teacher(b: &Browser, base: &str) {
    b.type_into("#invite-form input[name=display_name]", "Rui Costa")
        .await;
    b.type_into("#invite-form input[name=email]", "rui@school.test")
        .await;
    b.click("#invite-form button[type=submit]").await;
    b.said("Invitation made").await;
    let row = "li[data-user='rui@school.test']";
    let link = format!("{row} .issued input.invitation-link");
    let value = "const i = document.querySelector(arguments[0]); return i && i.value;";
    let first = b.wait("Rui's link", value, vec![json!(link)]).await;
    assert!(first.as_str().unwrap().starts_with(base), "{first}");
    b.text_with(row, &["teacher", "Not e-mailed"]).await;
    b.click(&format!("{row} button.invite-again")).await;
    let other =
        "const i = document.querySelector(arguments[0]); return !!i && i.value !== arguments[1];";
    b.wait("Rui's second link", other, vec![json!(link), first])
        .await;
}

/// The Admin page invites class 7B: Ada is invited, her e-mail not sent (no relay), and Bo,
/// who has no address, is not. Returns Ada's link as the page shows it.
async fn invite_the_class(b: &Browser, class: &str, ada: &str, bo: &str) -> String {
    let class = format!("details[data-class='{class}']");
    b.click(&format!("{class} summary")).await;
    b.click(&format!("{class} button.invite-class")).await;
    b.said("1 of the 2 students of 7B invited.").await;
    let row =
        |s: &str, outcome: &str| format!("{class} tr[data-student='{s}'][data-outcome={outcome}]");
    b.text_with(
        &row(ada, "invited"),
        &["Invited", "Not e-mailed", "no e-mail relay"],
    )
    .await;
    b.text_with(&row(bo, "no_address"), &["no e-mail address"])
        .await;
    let field = json!(format!("{} input.invitation-link", row(ada, "invited")));
    let link = b
        .js(
            "return document.querySelector(arguments[0]).value;",
            vec![field],
        )
        .await;
    // Her account and its invitation are listed with the users, drawn again.
    b.text_with(&format!("li[data-user='{ADA_EMAIL}']"), &["student"])
        .await;
    b.text_with("#invitations summary", &["(3)"]).await;
    b.click("#invitations summary").await;
    b.text_with("#invitations", &[ADA_EMAIL, "student", "not e-mailed"])
        .await;
    b.js(
        "document.querySelector('details[open][data-class]').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("admin-invite").await;
    b.assert_fits_and_accessible("admin, a class invited").await;
    // Bo, invited alone from his page, still has no address for a link.
    b.open(&format!("/#/students/{bo}")).await;
    b.click("#invite-student").await;
    b.said("Could not invite Bo: the office keeps no e-mail address for Bo")
        .await;
    link.as_str().unwrap().to_owned()
}

/// The Welcome page greets Ada with the user name she signs in with, having taken the token
/// out of the address; a short password is refused with the hub's reason; a good one is set.
async fn choose_a_password(b: &Browser, welcome: &str, token: &str) {
    b.open(welcome).await;
    b.text_with("h1", &["Welcome, Ada"]).await;
    let address = b.js("return location.href;", vec![]).await;
    let address = address.as_str().unwrap();
    assert!(
        address.ends_with("#/welcome") && !address.contains(token),
        "the token left the address bar: {address}"
    );
    let username = "return document.querySelector('#welcome-form input[name=username]').value;";
    assert_eq!(b.js(username, vec![]).await, json!(ADA_EMAIL));
    b.viewport(375, 812).await;
    b.screenshot("welcome").await;
    b.assert_fits_and_accessible("welcome").await;

    set_password(b, "too short").await;
    b.text_with("#welcome-error", &["12"]).await;
    for field in ["password", "again"] {
        let css = format!("#welcome-form input[name={field}]");
        let input = b.client.find(Locator::Css(&css)).await.unwrap();
        input.clear().await.unwrap();
    }
    set_password(b, ADA_PASSWORD).await;
    b.text_with("#welcome-done", &["Your password is set", ADA_EMAIL])
        .await;
    assert_eq!(b.text("#welcome-error").await, "");
    b.assert_fits_and_accessible("welcome, password set").await;
}

async fn set_password(b: &Browser, password: &str) {
    b.type_into("#welcome-form input[name=password]", password)
        .await;
    b.type_into("#welcome-form input[name=again]", password)
        .await;
    b.click("#welcome-form button[type=submit]").await;
}

/// Ada signs in and sees her page: her name, her consent, her class and her lesson; the only
/// navigation item is hers, the review count is never asked for, and #/review shows her page.
async fn her_own_page_only(b: &Browser) {
    b.click("#welcome-sign-in").await;
    b.visible("form.signin").await;
    b.js("performance.clearResourceTimings();", vec![]).await;
    b.sign_in(ADA_EMAIL, ADA_PASSWORD).await;
    her_page_drawn(b).await;
    let items = "return [...document.querySelectorAll('#nav li')] \
        .filter(li => li.getClientRects().length > 0).map(li => li.innerText.trim());";
    assert_eq!(b.js(items, vec![]).await, json!(["My attendance"]));
    assert!(b.text("#who").await.contains("ada@pupils.test (student)"));
    let asked = "return performance.getEntriesByType('resource') \
        .filter(e => e.name.includes('/api/v1/review')).length;";
    assert_eq!(b.js(asked, vec![]).await, json!(0), "no review count asked");

    b.js(
        "document.getElementById('my-student').dataset.drawn = 'before'; location.hash = '#/review';",
        vec![],
    )
    .await;
    let again = "const s = document.getElementById('my-student'); \
        return location.hash === '#/review' && !!s && s.dataset.drawn === undefined;";
    b.wait("her page drawn again at #/review", again, vec![])
        .await;
    her_page_drawn(b).await;
    b.viewport(1280, 1400).await;
    b.screenshot("my-attendance").await;
    b.assert_fits_and_accessible("my attendance").await;
}

async fn her_page_drawn(b: &Browser) {
    b.wait(
        "her page",
        "return document.getElementById('main').dataset.page === 'mine';",
        vec![],
    )
    .await;
    b.text_with("#my-student", &["Ada", "the door cameras recognise you"])
        .await;
    b.text_with("#my-classes", &["7B"]).await;
    b.text_with("#my-timetable", &["Monday", "09:00–10:00", "7B", "Lab 3"])
        .await;
    b.visible("#rates-title").await;
}
