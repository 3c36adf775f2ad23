//! The register from a class photo on Today, in a real headless Chromium against a hub with
//! the real face models: a teacher uploads a photo of the lesson, sees it with a box and a
//! name on every face (the stranger's too), and the roster marks the two students in it
//! present; at phone width too, with axe-core's WCAG rules on the page.

use serde_json::json;

use crate::chrome::Browser;
use crate::common::faces::{faces_dir, lesson, start_faces_hub};
use crate::common::monday_at;

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_takes_the_register_from_a_class_photo() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let people = ["Barack_Obama", "Joseph_Biden", "Colin_Powell", "Laura_Bush"];
    let (_, slot, ids) = lesson(&hub, &admin, &people).await;
    // The photo as a phone leaves it: its file dated when it was taken, 09:04 in the lesson
    // (the page sends the file's time; the hub's clock reads 09:05 on the harness's Monday).
    let downloads = tempfile::tempdir().unwrap();
    let photo = downloads.path().join("7B.jpg");
    let group = faces_dir().join("groups/face_recognition_obama_and_biden.jpg");
    std::fs::copy(group, &photo).unwrap();
    let taken = std::time::UNIX_EPOCH + std::time::Duration::from_millis(monday_at(9, 4) as u64);
    std::fs::File::options()
        .write(true)
        .open(&photo)
        .unwrap()
        .set_modified(taken)
        .unwrap();
    // Chromium takes a file only by its canonical path.
    let photo = photo.canonicalize().unwrap();

    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    b.click("#nav a[data-page=today]").await;
    let card = format!("[data-slot=\"{slot}\"]");
    b.visible(&format!("{card} .class-photo label.button"))
        .await;
    b.type_into(
        &format!("{card} .class-photo input[type=file][multiple]"),
        photo.to_str().unwrap(),
    )
    .await;
    b.visible(&format!("{card} .photo-result .face-box")).await;
    b.said("2 students marked from the photo").await;

    // A box on every face: the two students by name, the child at the edge unnamed.
    let boxes = b
        .js(
            "return [...document.querySelectorAll(arguments[0] + ' .face-box')]
                .map(b => [b.className, b.textContent]);",
            vec![json!(card)],
        )
        .await;
    let boxes = boxes.as_array().unwrap();
    let marked: Vec<&str> = boxes
        .iter()
        .filter(|b| b[0].as_str().unwrap().contains("marked"))
        .map(|b| b[1].as_str().unwrap())
        .collect();
    assert_eq!(marked.len(), 2, "{boxes:?}");
    assert!(
        marked.contains(&"Barack_Obama") && marked.contains(&"Joseph_Biden"),
        "{boxes:?}"
    );
    assert!(
        boxes.len() >= 3,
        "the third face has its box too: {boxes:?}"
    );
    let caption = b.text(&format!("{card} .photo-result figcaption")).await;
    assert!(caption.contains("2 marked"), "{caption}");
    // The boxes sit on the photo: inside its frame, each with a size.
    let inside = b
        .js(
            "const f = document.querySelector(arguments[0] + ' .photo-frame').getBoundingClientRect();
             return [...document.querySelectorAll(arguments[0] + ' .face-box')].every(b => {
               const r = b.getBoundingClientRect();
               return r.width > 4 && r.height > 4 && r.left >= f.left - 1 && r.right <= f.right + 1
                 && r.top >= f.top - 1 && r.bottom <= f.bottom + 1; });",
            vec![json!(card)],
        )
        .await;
    assert_eq!(inside, json!(true));

    // The roster marks both present once Today refreshes.
    for who in ["Barack_Obama", "Joseph_Biden"] {
        let row = format!(
            "{card} tr[data-student=\"{}\"][data-status=present]",
            ids[who]
        );
        b.visible(&row).await;
    }
    let row = format!("{card} tr[data-student=\"{}\"]", ids["Colin_Powell"]);
    let text = b.text(&row).await;
    assert!(text.contains("Not seen yet"), "{text}");

    b.assert_accessible("today with a class photo").await;
    b.screenshot("class-photo").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("today with a class photo")
        .await;
    b.assert_accessible("today with a class photo").await;
    b.screenshot("class-photo-phone").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
