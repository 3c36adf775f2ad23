//! A photographer's folder enrolled from the Students page, in a real headless Chromium
//! against a hub with the real face models: each photo's outcome as it comes (enrolled, no
//! consent, no such reference), the table downloaded as CSV, the same folder again as a zip
//! (nothing enrolled twice), at phone and desktop width with axe-core's WCAG rules.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::faces::{faces_dir, start_faces_hub};
use crate::common::{ADMIN, PASSWORD};

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_enrols_a_photographers_folder_from_the_students_page() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    for (name, reference, consent) in [
        ("Colin Powell", "S001", true),
        ("Serena Williams", "S002", false),
    ] {
        let s = admin
            .created(
                "/students",
                json!({"name": name, "external_ref": reference}),
            )
            .await;
        if consent {
            admin.give_consent(s["id"].as_str().unwrap()).await;
        }
    }
    let downloads = tempfile::tempdir().unwrap();
    let folder = downloads.path().join("photographer");
    std::fs::create_dir(&folder).unwrap();
    let mut paths = Vec::new();
    for (name, source) in [
        ("S001.jpg", "Colin_Powell/Colin_Powell_0056.jpg"),
        ("S001-2.jpg", "Colin_Powell/Colin_Powell_0065.jpg"),
        ("S002.jpg", "Serena_Williams/Serena_Williams_0002.jpg"),
        ("S777.jpg", "Jackie_Chan/Jackie_Chan_0004.jpg"),
    ] {
        let path = folder.join(name);
        std::fs::copy(faces_dir().join("identities").join(source), &path).unwrap();
        // Chromium takes a file only by its canonical path.
        paths.push(path.canonicalize().unwrap().to_string_lossy().into_owned());
    }

    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.open("/#/students").await;
    b.visible("#enrol-folder").await;
    b.type_into("#enrol-folder input[name=photos]", &paths.join("\n"))
        .await;
    b.click("#enrol-folder button[type=submit]").await;
    b.said("2 of 4 photos enrolled").await;
    let outcomes = b
        .js(
            "return [...document.querySelectorAll('#folder-outcomes tbody tr')]
                .map(r => [r.cells[0].textContent, r.dataset.outcome]);",
            vec![],
        )
        .await;
    assert_eq!(
        outcomes,
        json!([
            ["S001-2.jpg", "enrolled"],
            ["S001.jpg", "enrolled"],
            ["S002.jpg", "no_consent"],
            ["S777.jpg", "no_such_reference"]
        ])
    );
    assert_eq!(b.text("#folder-status").await, "4 of 4 photos done");
    let (_, students) = admin.get("/students?q=S001").await;
    let colin = students[0]["id"].as_str().unwrap();
    let (_, faces) = admin.get(&format!("/students/{colin}/faces")).await;
    assert_eq!(faces.as_array().unwrap().len(), 2, "{faces}");

    b.click("#folder-csv").await;
    let csv = downloads.path().join("enrolment-outcomes.csv");
    // Wait for the whole file: it may be seen before Chromium has written it all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = String::new();
    while text.lines().count() < 5 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = std::fs::read_to_string(&csv).unwrap_or_default();
    }
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.contains(r#""S002.jpg","S002","student","Serena Williams","no_consent","not_asked""#),
        "{text}"
    );

    // The same folder again as a zip: the hub reads it whole and answers for each photo.
    let zip = downloads.path().join("photographer.zip");
    {
        use std::io::Write as _;
        let mut out = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for name in ["S001-2.jpg", "S777.jpg"] {
            out.start_file(format!("photographer/{name}"), options)
                .unwrap();
            out.write_all(&std::fs::read(folder.join(name)).unwrap())
                .unwrap();
        }
        out.finish().unwrap();
    }
    b.js(
        "document.querySelector('#enrol-folder input[name=photos]').value = '';",
        vec![],
    )
    .await;
    let zip_path = zip.canonicalize().unwrap().to_string_lossy().into_owned();
    b.type_into("#enrol-folder input[name=zip]", &zip_path)
        .await;
    b.click("#enrol-folder button[type=submit]").await;
    b.said("0 of 2 photos enrolled").await;
    let outcomes = b
        .js(
            "return [...document.querySelectorAll('#folder-outcomes tbody tr')]
                .map(r => [r.cells[0].textContent, r.dataset.outcome]);",
            vec![],
        )
        .await;
    assert_eq!(
        outcomes,
        json!([
            ["S001-2.jpg", "already_enrolled"],
            ["S777.jpg", "no_such_reference"]
        ])
    );

    b.assert_fits_and_accessible("enrolling a folder").await;
    b.js(
        "document.getElementById('enrol-folder').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("enrol-folder").await;
    hub.stop().await;
}
