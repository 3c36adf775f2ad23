//! The roster import on the Admin page in a real headless Chromium against a real hub: an
//! admin picks a CSV, checks it (what would change, and nothing changes), imports it (the
//! classes appear), and a file with a bad row is refused with the row named. A file that would
//! make half the school leavers is shown with a warning, and imports only once the number is
//! confirmed. Then the school's export downloads as one zip.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

const PLAIN: &str = "\
student_id,student_name,class_id,class_name
S1,Ada Lovelace,C7B,7B
S2,Bo Diddley,C7B,7B
";

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_checks_then_imports_a_roster_file() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("roster.csv");
    std::fs::write(&good, PLAIN).unwrap();
    let fewer = files.path().join("fewer.csv");
    std::fs::write(&fewer, PLAIN.replace("S2,Bo Diddley,C7B,7B\n", "")).unwrap();
    let bad = files.path().join("bad.csv");
    std::fs::write(&bad, format!("{PLAIN}S3,,C7B,7B\n")).unwrap();

    let b = Browser::start(&format!("http://{}", hub.addr), files.path()).await;
    b.open("/").await;
    b.type_into("input[name=username]", ADMIN).await;
    b.type_into("input[name=password]", PASSWORD).await;
    b.click("form.signin button[type=submit]").await;
    b.visible("#nav").await;
    b.click("#nav a[data-page=admin]").await;

    b.type_into(
        "#roster-title ~ .grid input[type=file]",
        bad.to_str().unwrap(),
    )
    .await;
    b.click("#roster-title ~ .row-actions button").await;
    b.visible("#roster-result .bad-rows").await;
    let text = b.text("#roster-result").await;
    assert!(text.contains("line 4: student_name is empty"), "{text}");

    b.js(
        "document.querySelector('#roster-title ~ .grid input[type=file]').value = '';",
        vec![],
    )
    .await;
    b.type_into(
        "#roster-title ~ .grid input[type=file]",
        good.to_str().unwrap(),
    )
    .await;
    b.click("#roster-title ~ .row-actions button").await;
    b.visible("#roster-result table").await;
    let text = b.text("#roster-result").await;
    assert!(
        text.contains("If imported") && text.contains("Ada Lovelace"),
        "{text}"
    );
    let (_, classes) = admin.get("/classes").await;
    assert_eq!(classes, json!([]), "a check changes nothing");

    b.click("#roster-title ~ .row-actions button.primary").await;
    b.said("Roster imported").await;
    let (_, classes) = admin.get("/classes").await;
    assert_eq!(classes[0]["name"], json!("7B"));

    // Half the school leaving is past the 10 % gate: the page asks for the number.
    let picker = "#roster-title ~ .grid input[type=file]";
    b.js(
        &format!("document.querySelector('{picker}').value = '';"),
        vec![],
    )
    .await;
    b.type_into(picker, fewer.to_str().unwrap()).await;
    b.click("#roster-title ~ .row-actions button").await;
    b.visible("#roster-result .warning").await;
    b.assert_accessible("admin, the leavers' warning").await;
    let text = b.text("#roster-result").await;
    assert!(
        text.contains("1 of the school's 2 students would become leavers"),
        "{text}"
    );
    let import_disabled =
        "return document.querySelector('#roster-title ~ .row-actions button.primary').disabled";
    assert_eq!(
        b.js(import_disabled, vec![]).await,
        json!(true),
        "not before confirming"
    );
    b.click("input[name=confirm_leavers]").await;
    assert_eq!(b.js(import_disabled, vec![]).await, json!(false));
    b.click("#roster-title ~ .row-actions button.primary").await;
    let done = "return document.querySelector('#roster-result').textContent.includes('Imported:')";
    b.wait("the import", done, vec![]).await;
    let (_, students) = admin.get("/students").await;
    assert_eq!(students.as_array().unwrap().len(), 2, "the leaver is kept");
    let (_, members) = admin
        .get(&format!(
            "/classes/{}/students",
            classes[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(members.as_array().unwrap().len(), 1, "and out of the class");

    // And the school's data leaves in one archive.
    b.click("#export-title ~ button").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let archive = loop {
        let found = std::fs::read_dir(files.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "zip"));
        if let Some(path) = found {
            break path;
        }
        assert!(std::time::Instant::now() < deadline, "no export downloaded");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let name = archive.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("rollcall-export-test-site-"), "{name}");
    hub.stop().await;
}
