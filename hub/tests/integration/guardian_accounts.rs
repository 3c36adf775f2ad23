//! Guardians' own accounts, against the real SMTP sink (aiosmtpd) and the fake SMS gateway: a
//! guardian with parental responsibility is invited by the address the office keeps for her,
//! chooses a password through the mailed link, sees her child's lessons today and history,
//! and nothing else (every other operation of the API, read from openapi.json, answers her
//! 403, and another child's routes too); she reports a future absence, the office accepts it,
//! no message is sent about it that morning, and the closed register carries its code.
//! Removed from the child's contacts, she sees the child no more.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_runtime::Clock;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::common::*;
use crate::support::families::{Families, start_families_hub, unfolded};
use crate::support::sweep::refused_all_but;

const WEEK: i64 = 7 * 24 * 3_600_000;
const MARY: &str = "mary@family.test";
const MARYS_PASSWORD: &str = "Mary's own long phrase";

/// The operations a guardian's account may call besides the open ones.
const OWN: [&str; 2] = ["GET /auth/me", "GET /me/children"];

fn message_of(out: &Value) -> &str {
    out["error"]["message"].as_str().unwrap_or_default()
}

/// The token of the one invitation link in `mail`.
fn welcome_token(mail: &str) -> String {
    let text = unfolded(mail);
    let (_, rest) = text
        .split_once("/#/welcome/")
        .unwrap_or_else(|| panic!("no invitation link in {text}"));
    rest.chars().take_while(char::is_ascii_hexdigit).collect()
}

#[tokio::test]
async fn a_guardian_sees_only_her_child_and_reports_an_absence_the_office_accepts() {
    let f = start_families_hub().await;
    let (ada, bo) = (f.school.students[0].clone(), f.school.students[1].clone());
    let mary = invited_and_signed_in(&f).await;

    let (_, me) = mary.get("/auth/me").await;
    assert_eq!(me["role"], "guardian", "{me}");
    let (status, mine) = mary.get("/me/children").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["today"], monday().to_string());
    let children = mine["children"].as_array().unwrap();
    assert_eq!(children.len(), 1, "only Ada: {mine}");
    assert_eq!(
        (&children[0]["id"], &children[0]["name"]),
        (&json!(ada), &json!("Ada"))
    );
    let lessons = children[0]["today"].as_array().unwrap();
    assert_eq!(lessons.len(), 1, "Monday 09:00 in 7B: {mine}");
    assert_eq!(lessons[0]["session"]["room"], "Lab 3");
    let (status, history) = mary.get(&format!("/me/children/{ada}/history")).await;
    assert_eq!(
        (status, &history["student"]["id"]),
        (StatusCode::OK, &json!(ada))
    );

    nothing_else_is_hers(&f, &mary, &me, &bo).await;
    let next_monday = reports_next_monday(&mary, &ada).await;

    // The office sees it among that day's notices, reported by the family, and accepts it.
    let (status, list) = f.admin.get(&format!("/notices?day={next_monday}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let text = list.to_string();
    assert!(
        text.contains("\"reason\":\"medical\"") && text.contains("Dentist at 10"),
        "{list}"
    );
    let accept = format!("/notices/{ada}/{next_monday}/accept");
    let (status, out) = f.admin.post(&accept, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");

    let admin = on_the_day(&f, &ada).await;

    // Removed from Ada's contacts, Mary sees her no more.
    let only_tom = json!({"guardians": [{"name": "Tom Lovelace", "relationship": "parent",
        "phone": "07700 900456", "notices": true}]});
    let (status, out) = admin
        .put(&format!("/students/{ada}/guardians"), only_tom)
        .await;
    assert!(status.is_success(), "{out}");
    let mary = f.hub.api().login(MARY, MARYS_PASSWORD).await;
    let (_, mine) = mary.get("/me/children").await;
    assert_eq!(mine["children"], json!([]), "{mine}");
    let (status, _) = mary.get(&format!("/me/children/{ada}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // With no child left to see, the next retention pass deletes her account.
    let now = f.hub.clock.now();
    let purged = f
        .hub
        .db()
        .write(move |tx| {
            let rules = rollcall_school::attendance::Rules {
                zone: zone(),
                late_after_minutes: 10,
                early_minutes: 10,
            };
            let policy = rollcall_hub::config::RetentionConfig::default();
            rollcall_school::retention::run(tx, &policy, &rules, now)
        })
        .await
        .unwrap();
    assert_eq!(purged.guardian_accounts, 1, "{purged:?}");
    let (status, _) = mary.get("/me/children").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her sign-in ended");
    let again = json!({"username": MARY, "password": MARYS_PASSWORD});
    let (status, _) = f.hub.api().post("/auth/login", again).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, users) = admin.get("/users").await;
    assert!(!users.to_string().contains(MARY), "{users}");
    f.hub.stop().await;
}

/// The admin invites Mary by her address in another case (one who is not a guardian with
/// parental responsibility, or a guardian made without an invitation, is refused); the
/// link is mailed, and used once to choose a password.
async fn invited_and_signed_in(f: &Families) -> Api {
    let (status, out) = f
        .admin
        .post(
            "/invitations",
            json!({"role": "guardian", "email": "MARY@family.test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let invited = out["invitation"]["user_id"].as_str().unwrap().to_owned();
    let (_, users) = f.admin.get("/users").await;
    let user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == invited.as_str())
        .unwrap_or_else(|| panic!("no account {invited} in {users}"));
    assert_eq!(
        (&user["role"], &user["display_name"], &user["username"]),
        (&json!("guardian"), &json!("Mary Lovelace"), &json!(MARY)),
        "named as the office keeps her"
    );

    let refused = [
        (
            json!({"role": "guardian", "email": "nobody@family.test"}),
            "no student has a guardian",
        ),
        (json!({"role": "guardian"}), "needs the address"),
        (
            json!({"role": "guardian", "email": "gwen@family.test", "student": f.school.students[1]}),
            "only a student's account",
        ),
    ];
    for (body, why) in refused {
        let (status, out) = f.admin.post("/invitations", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert!(message_of(&out).contains(why), "{body}: {out}");
    }
    let twice = json!({"role": "guardian", "email": MARY});
    let (status, out) = f.admin.post("/invitations", twice).await;
    assert_eq!(status, StatusCode::CONFLICT, "invited twice: {out}");
    assert_eq!(message_of(&out), format!("the user name {MARY} is taken"));
    let by_hand =
        json!({"username": "gwen", "role": "guardian", "password": "a long password here"});
    let (status, out) = f.admin.post("/users", by_hand).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(message_of(&out).contains("by inviting"), "{out}");

    wait_for("Mary's invitation", Duration::from_secs(20), || {
        let got = f
            .sink
            .to(MARY)
            .iter()
            .any(|m| unfolded(m).contains("/#/welcome/"));
        async move { got }
    })
    .await;
    let mail = f
        .sink
        .to(MARY)
        .into_iter()
        .find(|m| unfolded(m).contains("/#/welcome/"));
    let token = welcome_token(&mail.unwrap());
    let accept = json!({"token": token, "password": MARYS_PASSWORD});
    let (status, out) = f
        .hub
        .api()
        .post("/invitations/accept", accept.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, _) = f.hub.api().post("/invitations/accept", accept).await;
    assert_eq!(status, StatusCode::GONE, "a link works once");
    f.hub.api().login(MARY, MARYS_PASSWORD).await
}

/// Every other operation, as the route table has them (openapi.json lists the same ones,
/// tested), with Bo's id (not her child) wherever a path takes one: 403, and her own
/// password reached.
async fn nothing_else_is_hers(f: &Families, mary: &Api, me: &Value, bo: &str) {
    let user_id = me["user_id"].as_str().unwrap();
    let refused = refused_all_but(&f.hub, mary, &OWN, user_id, bo).await;
    assert!(refused >= 120, "only {refused} operations tried");
    let (status, out) = mary.get(&format!("/me/children/{bo}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");
    assert!(message_of(&out).contains("not your child"), "{out}");
}

/// Mary tells the school Ada will miss next Monday for the dentist. A day without Ada's
/// lessons, a day gone, a day too far, an unknown reason and "other" without a note are
/// refused and keep nothing; the same day twice is a conflict. Returns the day.
async fn reports_next_monday(mary: &Api, ada: &str) -> String {
    let path = format!("/me/children/{ada}/absences");
    let day = |offset: i64| (monday() + chrono::Duration::days(offset)).to_string();
    let refused = [
        (
            json!({"day": day(1), "reason": "ill"}),
            "no lessons on Tuesday 24 November 2026",
        ),
        (json!({"day": day(-7), "reason": "ill"}), "from today"),
        (json!({"day": day(63), "reason": "ill"}), "60 days ahead"),
        (json!({"day": day(7), "reason": "holiday"}), "reason:"),
        (json!({"day": day(7), "reason": "other"}), "note:"),
    ];
    for (body, why) in refused {
        let (status, out) = mary.post(&path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert!(message_of(&out).contains(why), "{body}: {out}");
    }
    let dentist = json!({"day": day(7), "reason": "medical", "note": "Dentist at 10"});
    let (status, notice) = mary.post(&path, dentist.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{notice}");
    assert_eq!(notice["reply"]["reason"], "medical", "{notice}");
    let (status, out) = mary.post(&path, dentist).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(message_of(&out).contains("already has a reason"), "{out}");

    let (_, mine) = mary.get("/me/children").await;
    let ahead = &mine["children"][0]["absences"];
    assert_eq!(ahead.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(ahead[0]["day"], day(7));
    assert!(ahead[0]["decision"].is_null(), "waiting: {mine}");
    day(7)
}

/// Next Monday: Bo's family is told at 09:30 (the pass ran), Ada's is not (the school knows
/// why); the closed register gives Ada the accepted reason's code, and Mary sees it accepted.
/// Returns an admin signed in on the day.
async fn on_the_day(f: &Families, ada: &str) -> Api {
    let before = f.sink.to(MARY).len();
    f.hub.clock.set(UnixMillis(monday_at(9, 31) + WEEK));
    wait_for("Gwen's notice about Bo", Duration::from_secs(20), || {
        let told = f
            .sink
            .to("gwen@family.test")
            .iter()
            .any(|m| unfolded(m).contains("Dydd Llun 30 Tachwedd 2026"));
        async move { told }
    })
    .await;
    f.hub.clock.set(UnixMillis(monday_at(10, 30) + WEEK));
    let next_monday = (monday() + chrono::Duration::days(7)).to_string();
    let admin = f.hub.admin().await;
    wait_locked(
        &admin,
        &format!("/sessions/{}/{next_monday}", f.school.slot),
    )
    .await;
    let path = format!("/reports/students/{ada}/history?from={next_monday}&to={next_monday}");
    let (_, history) = admin.get(&path).await;
    assert_eq!(
        history["sessions"][0]["code"], "M",
        "the medical reason's code: {history}"
    );
    assert_eq!(
        f.sink.to(MARY).len(),
        before,
        "nothing sent to Mary about next Monday"
    );
    let texts = f.sms.messages().await.unwrap();
    assert!(texts.is_empty(), "no text message about Ada: {texts:?}");

    let mary = f.hub.api().login(MARY, MARYS_PASSWORD).await;
    let (_, mine) = mary.get("/me/children").await;
    let absence = &mine["children"][0]["absences"][0];
    assert_eq!(absence["decision"]["state"], "accepted", "{mine}");
    assert!(
        absence["decision"].get("by").is_none(),
        "not who decided: {mine}"
    );
    admin
}
