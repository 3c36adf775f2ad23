//! Families' messages in the school's words, through the API: the built-in English and Welsh
//! words listed and previewed (a Welsh date in Welsh), the school's own words for another
//! language checked (a placeholder the message does not have is refused naming it, nothing
//! kept), saved, chosen, previewed as a draft and removed; teachers change nothing.

use reqwest::StatusCode;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::common::*;

fn in_force<'a>(list: &'a Value, kind: &str, language: &str) -> Option<&'a Value> {
    list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == kind && t["language"] == language)
}

#[tokio::test]
async fn the_school_writes_its_own_words_checked_and_previews_them_in_the_family_s_language() {
    let hub = start_hub_with(None, |c| {
        c.notices.school_name = "Ysgol y Bryn".into();
        c.notices.pages_url = "https://rollcall.school.example".into();
    })
    .await;
    hub.clock.set(UnixMillis(monday_at(9, 0)));
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;

    let (status, list) = admin.get("/family-messages").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    for (kind, language) in [("absence", "en"), ("absence", "cy"), ("arrived", "cy")] {
        let t = in_force(&list, kind, language).unwrap_or_else(|| panic!("{kind} {language}"));
        assert_eq!(
            (&t["edited"], &t["built_in"]),
            (&json!(false), &json!(true))
        );
    }
    assert_eq!(
        list["placeholders"]["absence"],
        json!(["school", "first_name", "date", "reply_link"])
    );

    let (status, welsh) = admin
        .post(
            "/family-messages/absence/cy/preview",
            json!({"first_name": "Dafydd"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{welsh}");
    let sms = welsh["sms"].as_str().unwrap();
    assert!(
        sms.starts_with("Ysgol y Bryn: nid yw Dafydd yn yr ysgol heddiw"),
        "{sms}"
    );
    assert!(sms.contains("Dydd Llun"), "a Welsh date: {sms}");
    assert!(
        sms.contains("https://rollcall.school.example/#/reply/"),
        "{sms}"
    );
    assert!(welsh["sms_parts"].as_u64().unwrap() >= 1, "{welsh}");

    // A Polish notice: a placeholder it does not have is refused, saying which.
    let polish = json!({
        "subject": "{first_name} nie ma dziś w szkole",
        "email": "{first_name} nie ma dziś ({date}) w szkole.\n{reply_link}\n{school}",
        "sms": "{school}: {first_name} nie ma dziś w szkole ({date}). {reply_link}",
    });
    let mut bad = polish.clone();
    bad["sms"] = json!("{school}: {record_id} {reply_link}");
    let (status, out) = admin.put("/family-messages/absence/pl", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("{record_id}"),
        "{out}"
    );
    let mut no_link = polish.clone();
    no_link["email"] = json!("{first_name} nie ma dziś w szkole.");
    let (status, _) = admin.put("/family-messages/absence/pl", no_link).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the reply link is required"
    );
    let (status, _) = admin
        .put("/family-messages/absence/not%20a%20tag", polish.clone())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin
        .put("/family-messages/letter/pl", polish.clone())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = admin.get("/family-messages").await;
    assert!(
        in_force(&list, "absence", "pl").is_none(),
        "nothing kept: {list}"
    );

    let (status, saved) = s
        .teacher
        .put("/family-messages/absence/pl", polish.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only: {saved}");
    let (status, saved) = admin
        .put("/family-messages/absence/pl", polish.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (&saved["edited"], &saved["built_in"]),
        (&json!(true), &json!(false))
    );
    let (_, preview) = admin
        .post("/family-messages/absence/pl/preview", json!({}))
        .await;
    assert!(
        preview["sms"]
            .as_str()
            .unwrap()
            .starts_with("Ysgol y Bryn: Ada nie ma dziś"),
        "{preview}"
    );
    let draft =
        json!({"subject": "x", "email": "{reply_link}", "sms": "{first_name}! {reply_link}"});
    let (status, preview) = admin
        .post("/family-messages/absence/pl/preview", draft)
        .await;
    assert_eq!(
        (
            status,
            preview["sms"].as_str().unwrap().starts_with("Ada! https")
        ),
        (StatusCode::OK, true),
        "{preview}"
    );

    let (status, _) = admin.delete("/family-messages/absence/pl").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.delete("/family-messages/absence/pl").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = admin.get("/family-messages").await;
    assert!(in_force(&list, "absence", "pl").is_none(), "{list}");
}
