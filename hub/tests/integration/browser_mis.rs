//! The MIS page in a real headless Chromium against a real hub writing back to the Wonde
//! contract stand-in: before anything the page says which MIS, that no day is written yet and
//! which codes have no MIS code, and Try the connection shows the MIS's sentence; the admin
//! maps `/` in the code table; Bo, who has no MIS reference, is refused with why, and written
//! once the reference is set and "Write again" pressed; a mark changed at the MIS is found by
//! "Compare today now" and the MIS's taken into the register after a confirmation. The lesson
//! marks of 7B, a class made by hand, are refused for want of its MIS id, and written once the
//! admin gives it in the page. A teacher
//! has no MIS page. At desktop and phone width, with axe-core's WCAG rules.

use reqwest::StatusCode;
use rollcall_e2e::standin::launch::StandIn;
use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;
use crate::mis::{SCHOOL, changed_at_the_mis, kept, map_codes, mis_until, set_reference, wonde};
use crate::mis_lessons::{lesson_marks, lessons_written_back_to, timetable_at_the_mis};

/// The days the MIS refused.
const REFUSED: &str = "section[aria-labelledby=mis-refused]";
/// The lesson registers' card.
const LESSONS: &str = "section[aria-labelledby=mis-lessons]";
/// What the comparison with the MIS found.
const COMPARED: &str = "section[aria-labelledby=mis-compared]";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_maps_codes_writes_a_refused_day_again_and_takes_the_mis_mark() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    timetable_at_the_mis(&fake).await;
    let hub = start_hub_with(None, |c| lessons_written_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    set_reference(&admin, &ada, "9919").await;
    assert_eq!(s.teacher.get("/mis").await.0, StatusCode::FORBIDDEN);

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=mis]").await;
    before_anything(&b, &admin).await;
    map_present_in_the_page(&b).await;
    map_codes(&admin, &["N", "I"]).await;

    // Ada comes in at 09:02; the register closes after 10:30.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    bo_refused_then_written_again(&b, &admin, &fake, &bo).await;
    the_class_given_its_mis_id(&b, &admin, &fake, &s.class).await;
    the_mis_mark_taken(&b, &admin, &fake, &s.slot, &bo).await;
    a_teacher_has_no_mis_page(&b).await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}

/// Nothing written yet: the MIS named, no day written, the codes with no MIS code listed; Try
/// the connection says what the MIS said, naming the school.
async fn before_anything(b: &Browser, admin: &Api) {
    b.visible("main[data-page=mis] #compare-now").await;
    assert_eq!(b.text("dd.connector").await, "Wonde");
    assert_eq!(b.text("dd.written").await, "0");
    let (_, mis) = admin.get("/mis").await;
    let unmapped: Vec<&str> = mis["unmapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(unmapped.contains(&"/") && unmapped.contains(&"N"), "{mis}");
    let warning = b.text("p.unmapped").await;
    let listed = format!("Codes with no MIS code yet: {}.", unmapped.join(" "));
    assert!(warning.contains(&listed), "{warning}");
    b.click("#try-connection").await;
    b.text_with(".try-answer.ok", &[SCHOOL]).await;
}

/// `/` mapped to the MIS's `/` in the page's code table.
async fn map_present_in_the_page(b: &Browser) {
    let row = "table.mis-codes tr[data-code='/']";
    assert_eq!(
        b.js(
            "return document.querySelector(arguments[0]).dataset.mapped;",
            vec![json!(row)]
        )
        .await,
        "false"
    );
    b.type_into(&format!("{row} input[name=mis_code]"), "/")
        .await;
    b.click(&format!("{row} button[type=submit]")).await;
    b.said("/ is written as /.").await;
    b.visible("table.mis-codes tr[data-code='/'][data-mapped=true]")
        .await;
}

/// Bo has no MIS reference: his day is refused with why. Given one, "Write again" writes it.
async fn bo_refused_then_written_again(b: &Browser, admin: &Api, fake: &StandIn, bo: &str) {
    mis_until(admin, "Ada written, Bo refused", |m| {
        m["counts"]["written"] == 1 && m["counts"]["refused"] == 1
    })
    .await;
    reopened(b).await;
    assert_eq!(b.text("dd.written").await, "1");
    let row = format!("{REFUSED} tr[data-student='{bo}']");
    let refused = b.text(&row).await;
    assert!(
        refused.contains("Bo") && refused.contains("no reference in the MIS"),
        "{refused}"
    );
    b.assert_fits_and_accessible("mis").await;

    set_reference(admin, bo, "9920").await;
    b.click(&format!("{row} button.again")).await;
    b.said("Bo's 2026-11-23 will be written again.").await;
    mis_until(admin, "both written", |m| {
        m["counts"]["written"] == 2 && m["counts"]["refused"] == 0
    })
    .await;
    reopened(b).await;
    assert_eq!(b.text("dd.written").await, "2");
    let refused = b.text(REFUSED).await;
    assert!(
        refused.contains("The MIS has refused nothing."),
        "{refused}"
    );
    let marks = kept(fake).await;
    assert_eq!(marks.len(), 2, "one mark each at the MIS: {marks:?}");
}

/// 7B's lesson marks wait for the class's MIS id; given in the page, both are written.
async fn the_class_given_its_mis_id(b: &Browser, admin: &Api, fake: &StandIn, class: &str) {
    mis_until(admin, "both lesson marks refused", |m| {
        m["lessons"]["counts"]["refused"] == 2
    })
    .await;
    reopened(b).await;
    let card = format!("{LESSONS} form.class-reference");
    let asked = b.text(&card).await;
    assert!(asked.contains("7B's id in the MIS"), "{asked}");
    let lessons = b.text(LESSONS).await;
    assert!(
        lessons.contains("class 7B has no reference in the MIS"),
        "{lessons}"
    );
    b.assert_fits_and_accessible("mis").await;
    let to_card = "document.querySelector(arguments[0]).scrollIntoView();";
    b.js(to_card, vec![json!(LESSONS)]).await;
    b.screenshot("mis-lessons").await;
    b.type_into(&format!("#class-ref-{class}"), "7B-2026").await;
    b.click(&format!("{card} button[type=submit]")).await;
    b.said("7B's MIS reference is set; 2 marks will be written again.")
        .await;
    mis_until(admin, "both lesson marks written", |m| {
        m["lessons"]["counts"]["written"] == 2
    })
    .await;
    reopened(b).await;
    b.text_with(LESSONS, &["2 lesson marks written, 0 waiting, 0 refused."])
        .await;
    assert_eq!(
        lesson_marks(fake).await.len(),
        2,
        "one mark each in the MIS's lesson"
    );
}

/// The MIS's office marks Bo ill; comparing now finds it, and the MIS's mark is taken into
/// Rollcall's register after a confirmation.
async fn the_mis_mark_taken(b: &Browser, admin: &Api, fake: &StandIn, slot: &str, bo: &str) {
    changed_at_the_mis(fake, "A1749191434", "I").await;
    b.click("#compare-now").await;
    b.said("Compared 2 pupils with the MIS: 1 difference.")
        .await;
    let line = format!("{COMPARED} tr[data-student='{bo}']");
    let found = b.text_with(&line, &["Bo", "N / –", "I / –"]).await;
    assert!(found.contains("2026-11-23"), "{found}");
    b.visible(&format!("{line} button.ours")).await;
    b.assert_fits_and_accessible("mis").await;
    b.js("window.scrollTo(0, 0);", vec![]).await;
    b.screenshot("mis").await;

    b.click(&format!("{line} button.theirs")).await;
    let asked = "const d = document.getElementById('confirm'); \
        return d.open && d.textContent.includes(arguments[0]);";
    let question = "Take the MIS's marks for Bo on 2026-11-23 into Rollcall's register?";
    b.wait("the question", asked, vec![json!(question)]).await;
    b.click("#confirm-ok").await;
    b.said("Bo's 2026-11-23 now has the MIS's marks.").await;
    let settled = b.text_with(&line, &["The MIS's taken by"]).await;
    assert!(settled.contains("The MIS's taken by admin"), "{settled}");
    b.visible(&format!("{line}[data-settled=theirs]")).await;
    let (_, session) = admin.get(&format!("/sessions/{slot}/2026-11-23")).await;
    let amended = row(&session, "Bo");
    assert_eq!(
        (&amended["code"], &amended["original_code"]),
        (&json!("I"), &json!("N")),
        "{session}"
    );
    assert!(
        session.to_string().contains("Taken from the MIS"),
        "{session}"
    );
}

/// A teacher has no MIS link, and the page's address leads them elsewhere.
async fn a_teacher_has_no_mis_page(b: &Browser) {
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    b.sign_in("tess", "teacher password").await;
    let hidden = "const a = document.querySelector('#nav a[data-page=mis]'); \
        return a.getClientRects().length === 0;";
    assert_eq!(b.js(hidden, vec![]).await, true, "the MIS link is hidden");
    b.js("location.hash = '#/mis';", vec![]).await;
    b.visible("main[data-page=review]").await;
    assert!(!b.text("main").await.contains("Write-back"));
}

/// The MIS page opened afresh (another page first, as a reload would), once it is drawn.
async fn reopened(b: &Browser) {
    b.click("#nav a[data-page=codes]").await;
    b.visible("main[data-page=codes]").await;
    b.click("#nav a[data-page=mis]").await;
    b.visible("main[data-page=mis] #compare-now").await;
}
