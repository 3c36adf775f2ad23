//! A child's face enrolled as another child (issue 73, point 3), in a real headless Chromium:
//! a photo of Colin Powell, enrolled in 7B, uploaded on a new student Alan Turing's page is
//! held, and the page asks "This face looks like Colin Powell, enrolled in 7B. Is … really
//! Alan Turing?". Cancelling enrols nothing; confirming enrols it.

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::school::path_of;
use crate::chrome::Browser;
use crate::common::faces::{photo, start_faces_hub};

const COLIN: &str = "identities/Colin_Powell/Colin_Powell_0056.jpg";

#[tokio::test(flavor = "multi_thread")]
async fn a_face_like_another_enrolled_childs_is_enrolled_only_once_the_admin_confirms() {
    let hub = start_faces_hub(None).await;
    let admin = hub.admin().await;
    let colin = admin
        .created("/students", json!({"name": "Colin Powell"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.give_consent(&colin).await;
    let class = admin.created("/classes", json!({"name": "7B"})).await;
    let member = format!(
        "/classes/{}/students/{colin}",
        class["id"].as_str().unwrap()
    );
    assert_eq!(
        admin.put(&member, json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let enrolled = admin
        .upload(&format!("/students/{colin}/faces"), vec![photo(COLIN)])
        .await;
    assert_eq!(enrolled.0, StatusCode::CREATED, "{}", enrolled.1);
    let alan = admin
        .created("/students", json!({"name": "Alan Turing"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.give_consent(&alan).await;
    let faces = |who: String| {
        let admin = admin.clone();
        async move {
            admin
                .get(&format!("/students/{who}/faces"))
                .await
                .1
                .as_array()
                .unwrap()
                .len()
        }
    };

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(crate::common::ADMIN, crate::common::PASSWORD)
        .await;
    b.open(&format!("/#/students/{alan}")).await;
    b.visible("#upload input[type=file]").await;
    let pick = || async {
        let input = b
            .client
            .find(fantoccini::Locator::Css("#upload input[type=file]"))
            .await
            .unwrap();
        input.send_keys(&path_of(COLIN)).await.unwrap();
    };
    pick().await;
    let question = b
        .text_with(
            "#confirm-text",
            &["This face looks like Colin Powell, enrolled in 7B."],
        )
        .await;
    assert!(question.contains("really Alan Turing?"), "{question}");
    b.assert_accessible("student, a face like another child's")
        .await;
    b.click("#confirm-cancel").await;
    b.visible("#upload-outcome li.refused[data-code=looks_like_another_student]")
        .await;
    assert_eq!(faces(alan.clone()).await, 0, "held: nothing enrolled");

    pick().await;
    b.text_with("#confirm-text", &["Colin Powell"]).await;
    b.click("#confirm-ok").await;
    b.visible("#upload-outcome li.accepted").await;
    assert_eq!(faces(alan.clone()).await, 1, "confirmed: enrolled");

    // A new student's page puts them in a class (issue 73, point 6).
    b.text_with("#student-classes", &["In no class yet"]).await;
    let class = class["id"].as_str().unwrap();
    b.js(
        "const s = document.getElementById('add-to-class'); s.value = arguments[0]; \
         s.dispatchEvent(new Event('change'));",
        vec![json!(class)],
    )
    .await;
    b.click("#class-form button[type=submit]").await;
    b.said("Alan Turing is in 7B from today.").await;
    b.text_with("#student-classes", &["7B"]).await;
    let members = admin.get(&format!("/classes/{class}/students")).await.1;
    assert!(members.to_string().contains(&alan), "{members}");
    b.assert_accessible("student, in a class").await;
}
