//! Visitors at reception through the real hub: signed in with a badge code, listed, on the
//! on-site list, signed out by code, by name or from the list, refused clearly when what they
//! give is wrong, in the school's export, and named in the audit log only by their visit.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

async fn sign_in(api: &Api, name: &str) -> Value {
    let body = json!({"name": name, "organisation": "County IT", "visiting": "Mr Bell", "vehicle": "ab12 cde"});
    api.created("/visitors", body).await
}

#[tokio::test]
async fn a_visitor_is_signed_in_with_a_badge_counted_on_site_and_signed_out() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ann = sign_in(&s.teacher, "Ann Lee").await;
    let code = ann["badge"].as_str().unwrap();
    assert_eq!(code.len(), 6, "{ann}");
    assert_eq!(ann["vehicle"], "AB12 CDE");
    let bob = sign_in(&admin, "Bob Ray").await;
    assert_ne!(bob["badge"], ann["badge"]);

    let (_, on_site) = s.teacher.get("/on-site").await;
    assert_eq!(on_site["visitors_on_site"], 2, "{on_site}");
    let (_, day) = admin.get("/visitors").await;
    assert_eq!(
        (
            day["on_site"].as_u64(),
            day["visitors"].as_array().map(Vec::len)
        ),
        (Some(2), Some(2))
    );

    // By the badge's code, typed in lower case.
    let leave = json!({"badge": code.to_lowercase()});
    let (status, left) = s.teacher.post("/visitors/sign-out", leave.clone()).await;
    assert_eq!(status, StatusCode::OK, "{left}");
    assert_eq!(left["name"], "Ann Lee");
    assert!(left["signed_out_at"].is_i64());
    let (status, body) = s.teacher.post("/visitors/sign-out", leave).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "once: {body}");

    // Two visitors of one name: the name alone is not enough.
    sign_in(&admin, "Cy Day").await;
    let twin = sign_in(&admin, "cy day").await;
    let (status, body) = admin
        .post("/visitors/sign-out", json!({"name": "Cy Day"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let path = format!("/visitors/{}/sign-out", twin["id"].as_str().unwrap());
    assert_eq!(admin.post(&path, json!({})).await.0, StatusCode::OK);
    let (status, _) = admin
        .post("/visitors/sign-out", json!({"name": " cy DAY "}))
        .await;
    assert_eq!(status, StatusCode::OK, "now one Cy Day: by name");

    let (_, on_site) = admin.get("/on-site").await;
    assert_eq!(on_site["visitors_on_site"], 1, "Bob is still here");
    let (_, audit) = admin.get("/audit").await;
    let visits = (audit.as_array().unwrap().iter())
        .filter(|e| e["target"].as_str().unwrap_or("").starts_with("visitor:"));
    assert_eq!(visits.count(), 7, "four sign-ins, three sign-outs");
    assert!(
        !audit.to_string().contains("Ann Lee"),
        "the audit log names the visit only"
    );
    hub.stop().await;
}

#[tokio::test]
async fn what_a_visitor_gives_is_refused_clearly_and_nothing_is_kept() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    for (body, says) in [
        (
            json!({"name": "x".repeat(10 * 1024), "visiting": "Mr Bell"}),
            "name: at most 200 characters",
        ),
        (
            json!({"name": "  ", "visiting": "Mr Bell"}),
            "name: must not be empty",
        ),
        (
            json!({"name": "Ann", "visiting": ""}),
            "visiting: must not be empty",
        ),
        (
            json!({"name": "Ann", "visiting": "Mr Bell", "vehicle": "a very long registration"}),
            "vehicle: at most 16",
        ),
    ] {
        let (status, answer) = admin.post("/visitors", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    let (status, _) = admin
        .post(
            "/visitors/sign-out",
            json!({"badge": "K7P2QX", "name": "Ann"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one or the other");
    let (_, day) = admin.get("/visitors").await;
    assert_eq!(day["visitors"], json!([]));
    hub.stop().await;
}
