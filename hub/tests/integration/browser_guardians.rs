//! Students' guardians in a real headless Chromium: on a student's page an admin adds a
//! Welsh-speaking mother and a grandfather who is not told of absences, moves him up and saves;
//! a bad e-mail is refused with the hub's message, the form kept as typed and nothing changed.
//! The Students page imports guardians from a CSV file and refuses a bad one by its line. A
//! teacher sees no guardians. At phone and desktop width with axe-core's WCAG rules.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;

const GUARDIANS_CSV: &str = "\
student_reference,name,relationship,email,phone,language,notices,responsibility
S2,Pat Smith,parent,pat@home.example,,en,yes,yes
S2,Lee Smith,carer,,07700 900456,pl,no,no
";
/// Line 3 names a student the school does not have.
const BAD_CSV: &str = "\
student_reference,name,relationship
S2,Kim Smith,parent
S9,Nobody Known,parent
";
const FIRST: &str = "#guardians-form fieldset:nth-of-type(1)";
const SECOND: &str = "#guardians-form fieldset:nth-of-type(2)";
const SAVE: &str = "#guardians-form > .actions > button[type=submit]";
const CANCEL: &str = "#guardians-form > .actions > button[type=button]";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_sets_and_imports_guardians_and_a_teacher_sees_none() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let ffion = student(&admin, "Ffion Jones", "S1").await;
    let sam = student(&admin, "Sam Smith", "S2").await;
    let path = format!("/classes/{}/students/{ffion}", school.class);
    let (status, _) = admin.put(&path, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "Ffion in Tess's class");
    let files = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.open(&format!("/#/students/{ffion}")).await;

    add_two_and_move_one_up(&b).await;
    saved_in_order(&admin, &ffion).await;
    a_bad_email_changes_nothing(&b, &admin, &ffion).await;
    import_files(&b, &admin, &sam, files.path()).await;

    b.click("#sign-out").await;
    b.visible("form.signin").await;
    b.sign_in("tess", "teacher password").await;
    as_a_teacher(&b, &school.teacher, &ffion).await;
    hub.stop().await;
}

/// A student with the school reference `reference`; their id.
async fn student(admin: &Api, name: &str, reference: &str) -> String {
    let body = json!({"name": name, "external_ref": reference});
    admin.created("/students", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Types `value` into the field `name` of the guardian `set`, replacing what it held.
async fn fill_in(b: &Browser, set: &str, name: &str, value: &str) {
    let css = format!("{set} [name={name}]");
    let clear = "document.querySelector(arguments[0]).value = '';";
    b.js(clear, vec![json!(css)]).await;
    b.type_into(&css, value).await;
}

/// Picks `value` in the select `name` of the guardian `set`.
async fn pick(b: &Browser, set: &str, name: &str, value: &str) {
    let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
        s.dispatchEvent(new Event('change'));";
    let css = format!("{set} select[name={name}]");
    b.js(script, vec![json!(css), json!(value)]).await;
}

/// The legends and names of the guardians in the form, in order.
async fn in_the_form(b: &Browser) -> Value {
    let script = "return [...document.querySelectorAll('#guardians-form fieldset')] \
        .map(f => [f.querySelector('legend').textContent, f.querySelector('[name=name]').value]);";
    b.js(script, vec![]).await
}

/// The mother first, then the grandfather (a phone, not told of absences), moved up before
/// her: the form numbers them again and keeps the focus on him. Then saved.
async fn add_two_and_move_one_up(b: &Browser) {
    b.text_with("#guardians", &["No guardians recorded yet."])
        .await;
    b.click("#guardians-edit").await;
    fill_in(b, FIRST, "name", "Mari Jones").await;
    fill_in(b, FIRST, "email", "mari@cartref.example").await;
    fill_in(b, FIRST, "language", "cy").await;
    b.click("#guardian-add").await;
    fill_in(b, SECOND, "name", "Emrys Jones").await;
    pick(b, SECOND, "relationship", "relative").await;
    fill_in(b, SECOND, "phone", "07700 900123").await;
    b.click(&format!("{SECOND} input[name=notices]")).await;
    b.click(&format!("{SECOND} button[data-action=up]")).await;
    b.said("Emrys Jones is now guardian 1.").await;
    let order = json!([
        ["Guardian 1 (contacted first)", "Emrys Jones"],
        ["Guardian 2", "Mari Jones"]
    ]);
    assert_eq!(in_the_form(b).await, order);
    let focus = "return document.activeElement.closest('fieldset') === \
        document.querySelector(arguments[0]);";
    assert_eq!(b.js(focus, vec![json!(FIRST)]).await, json!(true));
    b.assert_fits_and_accessible("a student's guardians, being changed")
        .await;
    b.viewport(1280, 1400).await;
    let card = "document.getElementById('guardians').scrollIntoView();";
    b.js(card, vec![]).await;
    b.screenshot("guardians").await;
    b.viewport(1280, 900).await;

    b.click(SAVE).await;
    b.said("Guardians saved: 2.").await;
    let shown = [
        "Emrys Jones",
        "Relative",
        "07700 900123",
        "Mari Jones",
        "mari@cartref.example",
        "Welsh (cy)",
    ];
    b.text_with("#guardian-list", &shown).await;
    b.assert_fits_and_accessible("a student's guardians").await;
}

/// The hub keeps them in the order of the form, with every field as typed or ticked.
async fn saved_in_order(admin: &Api, student: &str) {
    let (status, mut kept) = admin.get(&format!("/students/{student}/guardians")).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    for g in kept.as_array_mut().unwrap() {
        g.as_object_mut().unwrap().remove("id");
    }
    let want = json!([
        {"priority": 1, "name": "Emrys Jones", "relationship": "relative", "email": null,
         "phone": "07700 900123", "language": "en", "notices": false, "responsibility": true},
        {"priority": 2, "name": "Mari Jones", "relationship": "parent",
         "email": "mari@cartref.example", "phone": null, "language": "cy", "notices": true,
         "responsibility": true}
    ]);
    assert_eq!(kept, want);
}

/// An e-mail address the hub refuses: its message names the guardian and the field, which is
/// marked and focused; the form keeps what was typed (a third guardian added and removed
/// again), Cancel shows the list as it was, and the hub still has it.
async fn a_bad_email_changes_nothing(b: &Browser, admin: &Api, student: &str) {
    let path = format!("/students/{student}/guardians");
    let (_, before) = admin.get(&path).await;
    b.click("#guardians-edit").await;
    b.click("#guardian-add").await;
    b.click("#guardians-form fieldset:nth-of-type(3) button[data-action=remove]")
        .await;
    b.said("The guardian removed").await;
    fill_in(b, SECOND, "email", "mari at cartref").await;
    b.click(SAVE).await;
    b.text_with(
        "#guardians-error",
        &["guardian 2: email: \"mari at cartref\" is not an e-mail address"],
    )
    .await;
    let script = "const e = document.querySelector(arguments[0]); \
        return [e.value, e.getAttribute('aria-invalid'), document.activeElement === e];";
    let email = format!("{SECOND} [name=email]");
    let kept = b.js(script, vec![json!(email)]).await;
    assert_eq!(kept, json!(["mari at cartref", "true", true]));
    assert_eq!(in_the_form(b).await.as_array().unwrap().len(), 2);
    b.click(CANCEL).await;
    b.text_with("#guardian-list", &["mari@cartref.example"])
        .await;
    let (_, after) = admin.get(&path).await;
    assert_eq!(after, before, "nothing changed");
}

/// A good file sets Sam's two guardians; a file with a bad row is refused with its line
/// number, and Sam keeps the two.
async fn import_files(b: &Browser, admin: &Api, sam: &str, dir: &Path) {
    let (good, bad) = (dir.join("guardians.csv"), dir.join("bad.csv"));
    std::fs::write(&good, GUARDIANS_CSV).unwrap();
    std::fs::write(&bad, BAD_CSV).unwrap();
    b.open("/#/students").await;
    let picker = "#guardians-import input[type=file]";
    b.type_into(picker, good.to_str().unwrap()).await;
    b.click("#guardians-import button[type=submit]").await;
    let done = "Guardians set for 1 student (2 guardians).";
    b.text_with("#guardians-import-result", &[done]).await;
    let names = |list: &Value| -> Vec<Value> {
        let kept = list.as_array().unwrap().iter();
        kept.map(|g| json!([g["name"], g["language"], g["notices"]]))
            .collect()
    };
    let path = format!("/students/{sam}/guardians");
    let want = vec![
        json!(["Pat Smith", "en", true]),
        json!(["Lee Smith", "pl", false]),
    ];
    assert_eq!(names(&admin.get(&path).await.1), want);

    b.type_into(picker, bad.to_str().unwrap()).await;
    b.click("#guardians-import button[type=submit]").await;
    let line = "Line 3: no student has the reference \"S9\"";
    let refused = b
        .text_with("#guardians-import-result .bad-rows", &[line])
        .await;
    assert!(!refused.contains("Line 2"), "{refused}");
    assert_eq!(names(&admin.get(&path).await.1), want, "nothing imported");
    b.assert_fits_and_accessible("students, a guardians file refused")
        .await;
}

/// A teacher sees Ffion's page, her consent card included, but no guardians; the hub would
/// not tell them either.
async fn as_a_teacher(b: &Browser, teacher: &Api, ffion: &str) {
    b.open(&format!("/#/students/{ffion}")).await;
    b.visible("#student-details").await;
    b.visible("#consent").await;
    let none = "return document.querySelector('#guardians, #guardians-edit') === null;";
    assert_eq!(b.js(none, vec![]).await, json!(true));
    let main = b.text("main").await;
    assert!(!main.contains("Mari Jones"), "{main}");
    let (status, _) = teacher.get(&format!("/students/{ffion}/guardians")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
