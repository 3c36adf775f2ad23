//! A morning of families told, through the real hub with the real SMTP sink and the fake SMS
//! gateway as a separate process, the hub's clock moved through Monday morning (7B meets
//! 09:00–10:00; notices at 09:30):
//!
//! - nothing before 09:30; then one notice per absent child, to their first contact, by each
//!   channel they can be reached by, in their language, with a working reply link and no face,
//!   photo or record id; never twice;
//! - the gateway failing: tried again with backoff, shown as failed after the last try, with
//!   the gateway's answer;
//! - Ada's family replies "ill" (a forged link, a reason not on the list, "other" without a
//!   note and a second reply are refused, changing nothing); her teacher accepts, and the
//!   register is written with `I` when the lesson closes;
//! - Bo arrives at 09:42: his family is told in Welsh, and no second contact is;
//! - Cy's family never answers: the second contact is told after 20 minutes;
//! - a rejected reason needs a note and leaves the register alone; the day's CSV lists it all.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::{Decision, UnixMillis};
use serde_json::{Value, json};

use crate::common::*;
use crate::support::families::{
    GATEWAY_KEY, start_families_hub, token_in, told_this_morning, unfolded,
};

/// The day's notices, as an admin signed in now sees them.
async fn notices(hub: &TestHub) -> Value {
    let (status, body) = hub
        .admin()
        .await
        .get(&format!("/notices?day={}", monday()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn of<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

#[tokio::test]
async fn a_morning_from_the_notice_to_the_accepted_code() {
    let f = start_families_hub().await;
    let admin = &f.admin;
    let (ada, bo) = (f.school.students[0].clone(), f.school.students[1].clone());
    // Cy, whose family never answers; Dai is told first, Eve second.
    let cy = admin
        .created("/students", json!({"name": "Cy Jones"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = admin
        .put(
            &format!("/classes/{}/students/{cy}", f.school.class),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cy_contacts = json!({"guardians": [
        {"name": "Dai Jones", "relationship": "parent", "email": "dai@family.test", "notices": true},
        {"name": "Eve Jones", "relationship": "carer", "phone": "+44 7700 900789", "notices": true},
    ]});
    let (status, out) = admin
        .put(&format!("/students/{cy}/guardians"), cy_contacts)
        .await;
    assert!(status.is_success(), "{out}");

    // 09:20: the lesson started, the notices are not due.
    f.hub.clock.set(UnixMillis(monday_at(9, 20)));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(notices(&f.hub).await["told"], json!(0));
    assert!(f.sink.messages().is_empty());

    // The gateway is down when the notices go out at 09:31.
    f.sms.set_mode("fail").await.unwrap();
    let (token, ada_id, day) = told_this_morning(&f).await;
    assert_eq!(ada_id, ada);
    let mary = unfolded(&f.sink.to("mary@family.test")[0]);
    assert!(
        mary.contains("Subject: Ada is not in school today"),
        "{mary}"
    );
    assert!(mary.contains("Monday 23 November 2026"), "{mary}");
    assert!(
        mary.contains("https://rollcall.school.test/#/reply/"),
        "{mary}"
    );
    for never in ["{reply_link}", &ada, "record", "photo"] {
        assert!(!mary.contains(never), "{never:?} in {mary}");
    }
    wait_for("Gwen's and Dai's e-mails", Duration::from_secs(10), || {
        let both =
            !f.sink.to("gwen@family.test").is_empty() && !f.sink.to("dai@family.test").is_empty();
        async move { both }
    })
    .await;
    let gwen = unfolded(&f.sink.to("gwen@family.test")[0]);
    assert!(
        gwen.contains("Nid yw Bo yn yr ysgol heddiw"),
        "in Welsh: {gwen}"
    );
    assert!(gwen.contains("Dydd Llun 23 Tachwedd 2026"), "{gwen}");

    // The SMS to Mary failed: tried again at 09:32 and 09:34, then failed for good.
    for minute in [33, 36] {
        f.hub.clock.set(UnixMillis(monday_at(9, minute)));
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    let list = notices(&f.hub).await;
    assert_eq!(list["told"], json!(3), "{list}");
    let sms = of(&list, "Ada")["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["channel"] == "sms")
        .cloned()
        .unwrap();
    assert_eq!(
        (&sms["status"], &sms["tries"]),
        (&json!("failed"), &json!(3)),
        "{sms}"
    );
    assert!(
        sms["last_error"].as_str().unwrap().contains("answered 500"),
        "{sms}"
    );
    assert_eq!(sms["address"], json!("•••123"), "masked");
    let received = f.sms.messages().await.unwrap();
    assert_eq!(
        received.len(),
        3,
        "three tries reached the gateway: {received:?}"
    );
    assert_eq!(received[0]["authorization"], json!(GATEWAY_KEY));
    assert_eq!(received[0]["body"]["to"], json!("+447700900123"));
    let text = received[0]["body"]["text"].as_str().unwrap();
    assert_eq!(token_in(text), token, "the same link by SMS and e-mail");
    f.sms.set_mode("ok").await.unwrap();
    assert_eq!(f.sink.to("mary@family.test").len(), 1, "never twice");

    // The reply page's look-up, then Ada's family's reason.
    let family = f.hub.api();
    let (status, found) = family
        .post("/replies/look-up", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (&found["first_name"], &found["school"], &found["day"]),
        (&json!("Ada"), &json!("Ysgol y Bryn"), &json!(day))
    );
    assert_eq!(found["reasons"].as_array().unwrap().len(), 4);
    let mut forged = token.clone().into_bytes();
    forged[30] = if forged[30] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for (body, status, code) in [
        (
            json!({"token": forged, "reason": "ill"}),
            StatusCode::NOT_FOUND,
            "unknown_reply_link",
        ),
        (
            json!({"token": token, "reason": "bored"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"token": token, "reason": "other"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let (got, out) = family.post("/replies", body.clone()).await;
        assert_eq!(
            (got, out["error"]["code"].as_str().unwrap()),
            (status, code),
            "{body}: {out}"
        );
    }
    assert_eq!(
        notices(&f.hub).await["replied"],
        json!(0),
        "nothing changed"
    );
    let (status, out) = family
        .post(
            "/replies",
            json!({"token": token, "reason": "ill", "note": "a fever"}),
        )
        .await;
    assert_eq!(
        (status, &out["received"]),
        (StatusCode::OK, &json!(true)),
        "{out}"
    );
    let (status, out) = family
        .post("/replies", json!({"token": token, "reason": "medical"}))
        .await;
    assert_eq!(
        (status, &out["error"]["code"]),
        (StatusCode::GONE, &json!("reply_link_used"))
    );

    // Bo arrives at 09:42: Gwen hears in Welsh, and the notice says when.
    store(
        &f.hub,
        record(
            f.school.device.parse().unwrap(),
            Decision::Confident,
            &[(&bo, 0.2)],
            monday_at(9, 42),
        ),
    )
    .await;
    f.hub.clock.set(UnixMillis(monday_at(9, 43)));
    wait_for("Gwen told Bo arrived", Duration::from_secs(10), || {
        let two = f.sink.to("gwen@family.test").len() == 2;
        async move { two }
    })
    .await;
    let gwen = f.sink.to("gwen@family.test");
    let arrived = gwen
        .iter()
        .map(|m| unfolded(m))
        .find(|m| m.contains("Subject: Mae Bo wedi cyrraedd yr ysgol"))
        .unwrap_or_else(|| panic!("the arrival note in {gwen:?}"));
    assert!(
        arrived.contains("Cyrhaeddodd Bo yr ysgol am 09:42"),
        "{arrived}"
    );

    // 09:52: twenty minutes without a word from Cy's family: Eve is told by SMS. Ada's and
    // Bo's second contacts are not (a reply; an arrival).
    f.hub.clock.set(UnixMillis(monday_at(9, 52)));
    wait_for("Eve's SMS", Duration::from_secs(10), || async {
        let got = f.sms.messages().await.unwrap();
        got.iter()
            .any(|m| m["body"]["to"] == json!("+447700900789"))
    })
    .await;
    let received = f.sms.messages().await.unwrap();
    assert!(
        !received
            .iter()
            .any(|m| m["body"]["to"] == json!("+447700900456")),
        "not Tom"
    );

    // The teacher accepts Ada's reason; the register says I when the lesson closes.
    let (admin, teacher) = (
        &f.hub.admin().await,
        &f.hub.api().login("tess", "teacher password").await,
    );
    let path = format!("/notices/{ada}/{day}/accept");
    let (status, out) = teacher.post(&path, json!({"note": "thank you"})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (&out["decision"]["state"], &out["decision"]["by"]),
        (&json!("accepted"), &json!("tess"))
    );
    let (status, _) = teacher.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");

    // Cy's family says "other" late; the admin rejects it, with the note it needs.
    let cy_token = {
        let dai = unfolded(&f.sink.to("dai@family.test")[0]);
        token_in(&dai)
    };
    let (status, _) = family
        .post(
            "/replies",
            json!({"token": cy_token, "reason": "other", "note": "overslept"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reject = format!("/notices/{cy}/{day}/reject");
    let (status, _) = admin.post(&reject, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a rejection says why");
    let (status, out) = admin.post(&reject, json!({"note": "not a reason"})).await;
    assert_eq!(
        (status, &out["decision"]["state"]),
        (StatusCode::OK, &json!("rejected"))
    );

    f.hub.clock.set(UnixMillis(monday_at(10, 30)));
    let (admin, teacher) = (
        &f.hub.admin().await,
        &f.hub.api().login("tess", "teacher password").await,
    );
    let roster = wait_locked(teacher, &format!("/sessions/{}/{day}", f.school.slot)).await;
    assert_eq!(row(&roster, "Ada")["code"], json!("I"), "{roster}");
    assert_eq!(row(&roster, "Bo")["code"], json!("L"), "{roster}");
    assert_eq!(row(&roster, "Cy Jones")["code"], json!("N"), "{roster}");

    let (_, today) = teacher.get(&format!("/today?date={day}")).await;
    assert_eq!(
        (&today["families_told"], &today["families_replied"]),
        (&json!(3), &json!(2)),
        "the Today page counts them"
    );
    let list = notices(&f.hub).await;
    assert_eq!(
        (&list["told"], &list["replied"], &list["accepted"]),
        (&json!(3), &json!(2), &json!(1))
    );
    assert!(of(&list, "Bo")["arrived_at"].as_i64().is_some());
    let csv = String::from_utf8(
        admin
            .bytes(&format!("/notices?day={day}&format=csv"))
            .await
            .2,
    )
    .unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("Ada,") && l.contains(",sms,failed,3,")),
        "{csv}"
    );
    assert!(csv.contains(",ill,a fever,accepted,tess,"), "{csv}");

    // A link used after midnight says so.
    f.hub.clock.set(UnixMillis(monday_at(23, 59) + 120_000));
    let (status, out) = family
        .post("/replies/look-up", json!({"token": cy_token}))
        .await;
    assert_eq!(
        (status, &out["error"]["code"]),
        (StatusCode::GONE, &json!("reply_link_expired"))
    );
}
