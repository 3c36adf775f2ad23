//! Students' details in a real headless Chromium against a real hub: the list narrowed by year
//! group, found by reference, active students by default; an admin makes a student inactive on
//! their page (and the list shows it), and switches a bad enrolment photo off without deleting
//! it. Every page passes axe-core's rules at phone and desktop width.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

/// Waits until the student list names exactly `names`, in order.
async fn listed(b: &Browser, names: &[&str]) {
    let script = "const shown = [...document.querySelectorAll('#student-list li .student-name')] \
        .map(e => e.textContent); return JSON.stringify(shown) === arguments[0];";
    let want = serde_json::to_string(names).unwrap();
    b.wait(&format!("the list {want}"), script, vec![json!(want)])
        .await;
}

/// Picks `value` in the list's `name` filter.
async fn pick(b: &Browser, name: &str, value: &str) {
    let script = "const s = document.querySelector(`select[name=${arguments[0]}]`); \
        s.value = arguments[1]; s.dispatchEvent(new Event('change'));";
    b.js(script, vec![json!(name), json!(value)]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_finds_students_by_year_group_and_makes_one_inactive() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let mut ids = Vec::new();
    for (name, reference, year, form) in [
        ("Ada Lovelace", "S-0001", "Year 7", "7B"),
        ("Bo Diddley", "S-0002", "Year 7", "7L"),
        ("Cy Young", "S-0003", "Year 10", "10C"),
        ("Di Prima", "S-0004", "Year 8", "8P"),
    ] {
        let body = json!({"name": name, "external_ref": reference, "year_group": year,
                          "form": form, "born_on": "2014-03-02"});
        let s = admin.created("/students", body).await;
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    let (ada, bo) = (&ids[0], &ids[1]);
    admin.give_consent(ada).await;
    let embedding: Vec<f32> = (0..128).map(|k| k as f32 / 128.0).collect();
    let template = json!({"model": "dlib-resnet-v1", "embedding": embedding});
    admin
        .created(&format!("/students/{ada}/embeddings"), template)
        .await;

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.open("/#/students").await;
    listed(&b, &["Ada Lovelace", "Bo Diddley", "Cy Young", "Di Prima"]).await;
    let years = b
        .js(
            "return [...document.querySelectorAll('select[name=year_group] option')] \
             .map(o => o.value);",
            vec![],
        )
        .await;
    assert_eq!(
        years,
        json!(["", "Year 7", "Year 8", "Year 10"]),
        "year groups in their order"
    );
    pick(&b, "year_group", "Year 7").await;
    listed(&b, &["Ada Lovelace", "Bo Diddley"]).await;
    assert!(b.text("#student-list").await.contains("Year 7 · 7L"));
    pick(&b, "year_group", "").await;
    b.type_into("input[name=q]", "s-0003").await;
    listed(&b, &["Cy Young"]).await;
    b.assert_fits_and_accessible("students").await;

    // Bo has a long illness: his page makes him inactive.
    b.open(&format!("/#/students/{bo}")).await;
    b.visible("#student-details").await;
    assert!(b.text("#student-details").await.contains("2 March 2014"));
    b.click("details.edit summary").await;
    b.click("#details-form input[name=active]").await;
    b.type_into("#details-form input[name=phone]", "01632 960001")
        .await;
    b.click("#details-form button[type=submit]").await;
    b.said("Bo Diddley is inactive").await;
    let (_, bo_now) = admin.get(&format!("/students/{bo}")).await;
    assert_eq!(
        (&bo_now["active"], &bo_now["form"], &bo_now["phone"]),
        (&json!(false), &json!("7L"), &json!("01632 960001"))
    );
    b.text_with("#student-details", &["Phone", "01632 960001"])
        .await;
    b.assert_fits_and_accessible("student").await;

    b.open("/#/students").await;
    listed(&b, &["Ada Lovelace", "Cy Young", "Di Prima"]).await;
    pick(&b, "active", "false").await;
    listed(&b, &["Bo Diddley"]).await;
    b.visible("#student-list li[data-active=false] .inactive")
        .await;
    b.screenshot("students").await;

    // One of Ada's photos is bad: switched off, kept.
    b.open(&format!("/#/students/{ada}")).await;
    b.click("#faces li[data-active=true] button.small").await;
    b.said("Photo switched off").await;
    b.visible("#faces li.off[data-active=false]").await;
    let (_, faces) = admin.get(&format!("/students/{ada}/faces")).await;
    assert_eq!(faces.as_array().unwrap().len(), 1);
    assert_eq!(faces[0]["active"], json!(false));
    b.assert_fits_and_accessible("student with a photo switched off")
        .await;
    b.js(
        "document.querySelector('details.edit').open = true; window.scrollTo(0, 0);",
        vec![],
    )
    .await;
    b.viewport(1280, 1500).await;
    b.screenshot("student-details").await;
    hub.stop().await;
}
