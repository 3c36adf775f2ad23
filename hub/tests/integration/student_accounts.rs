//! Accounts opened by invitation, against a real SMTP server (aiosmtpd): a class's students
//! invited in one go, each link mailed, used once to choose a password; the student's account
//! then sees its own attendance and nothing else (every other operation of the API, read from
//! openapi.json, answers it 403); staff invited, a link that expires and is sent again, a
//! relay that refuses, and accounts that must not be made.

use reqwest::StatusCode;
use rollcall_hub::config::{Config, DigestConfig, EmailConfig, Security};
use rollcall_runtime::clock::Clock as _;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::common::*;
use crate::support::smtp::SmtpSink;
use crate::support::sweep::refused_all_but;

const PATCH: reqwest::Method = reqwest::Method::PATCH;
const DELETE: reqwest::Method = reqwest::Method::DELETE;
const HOUR: i64 = 3_600_000;

/// The operations a student's account may call besides the open ones.
const OWN: [&str; 3] = ["GET /auth/me", "GET /me/student", "GET /me/history"];

async fn hub_with_relay(dir: &std::path::Path) -> (TestHub, SmtpSink) {
    let sink = SmtpSink::start(dir, None).await;
    let smtp = format!("127.0.0.1:{}", sink.port);
    let hub = start_hub_with(None, move |c: &mut Config| {
        c.email = Some(EmailConfig {
            smtp,
            security: Security::None,
            username: None,
            password_file: None,
            from: "Rollcall <rollcall@school.test>".into(),
            ca_file: None,
            pages_url: Some("https://rollcall.school.test".into()),
            digest: DigestConfig::default(),
        });
    })
    .await;
    (hub, sink)
}

/// The token of the one link in `message` (quoted-printable: long lines are folded).
fn token_in(message: &str) -> String {
    let message = message.replace("=\r\n", "").replace("=\n", "");
    let at = message
        .find("https://rollcall.school.test/#/welcome/")
        .unwrap_or_else(|| panic!("no link in {message}"));
    let rest = &message[at + "https://rollcall.school.test/#/welcome/".len()..];
    rest.chars().take_while(char::is_ascii_hexdigit).collect()
}

fn message_of(out: &Value) -> &str {
    out["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_class_invited_by_mail_chooses_passwords_and_each_student_sees_only_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sink) = hub_with_relay(dir.path()).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (&s.students[0], &s.students[1]);
    let (status, out) = admin
        .send(
            PATCH,
            &format!("/students/{ada}"),
            Some(json!({"email": "ada@pupils.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");

    let (status, out) = admin
        .post(&format!("/classes/{}/invitations", s.class), json!({}))
        .await;
    assert_eq!(
        (status, &out["invited"]),
        (StatusCode::OK, &json!(1)),
        "{out}"
    );
    let outcome = |id: &str| {
        let rows = out["students"].as_array().unwrap();
        let row = rows.iter().find(|r| r["student"] == id).unwrap();
        row["outcome"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        (outcome(ada), outcome(bo)),
        ("invited".into(), "no_address".into())
    );
    let sent = out["students"][0]["invitation"].clone();
    assert!(sent["invitation"]["sent_at"].is_i64(), "{sent}");
    let mail = sink.to("ada@pupils.test");
    assert_eq!(mail.len(), 1, "one message");
    assert!(
        mail[0].contains("Your user name: ada@pupils.test"),
        "{}",
        mail[0]
    );
    let token = token_in(&mail[0]);
    assert_eq!(token.len(), 64);
    assert!(
        sent["link"].as_str().unwrap().ends_with(&token),
        "the office sees the link"
    );
    let (status, again) = admin
        .post(&format!("/classes/{}/invitations", s.class), json!({}))
        .await;
    assert_eq!((status, &again["invited"]), (StatusCode::OK, &json!(0)));
    assert_eq!(
        sink.to("ada@pupils.test").len(),
        1,
        "no second account, no second mail"
    );

    let open = hub.api();
    let (status, found) = open
        .post("/invitations/look-up", json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (&found["username"], &found["role"]),
        (&json!("ada@pupils.test"), &json!("student"))
    );
    let weak = json!({"token": token, "password": "password1"});
    let (status, out) = open.post("/invitations/accept", weak).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(message_of(&out).starts_with("password:"), "{out}");
    let forged = format!(
        "{}{}",
        &token[..63],
        if token.ends_with('0') { '1' } else { '0' }
    );
    let (status, out) = open
        .post(
            "/invitations/accept",
            json!({"token": forged, "password": "Ada's own long phrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{out}");
    let good = json!({"token": token, "password": "Ada's own long phrase"});
    let (status, out) = open.post("/invitations/accept", good.clone()).await;
    assert_eq!(
        (status, &out["username"]),
        (StatusCode::OK, &json!("ada@pupils.test"))
    );
    let (status, out) = open.post("/invitations/accept", good).await;
    assert_eq!(status, StatusCode::GONE, "single use: {out}");
    assert!(message_of(&out).contains("has been used"), "{out}");

    let student = hub
        .api()
        .login("ada@pupils.test", "Ada's own long phrase")
        .await;
    let (_, me) = student.get("/auth/me").await;
    assert_eq!(
        (&me["role"], &me["student"]),
        (&json!("student"), &json!(ada))
    );
    let (status, mine) = student.get("/me/student").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["student"]["name"], "Ada");
    assert_eq!(mine["consent"], "given");
    assert_eq!(mine["classes"][0]["name"], "7B");
    assert_eq!(mine["timetable"][0]["slot"]["room"], "Lab 3");
    let (status, history) = student.get("/me/history").await;
    assert_eq!(
        (status, &history["student"]["id"]),
        (StatusCode::OK, &json!(ada))
    );
    let (status, _) = s.teacher.get("/me/student").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a teacher has no own attendance"
    );

    // Every other operation, as the route table has them, with Ada's own ids where a path
    // takes one.
    let user_id = me["user_id"].as_str().unwrap();
    let refused = refused_all_but(&hub, &student, &OWN, user_id, ada).await;
    assert!(refused >= 120, "only {refused} operations tried");

    let (status, out) = student
        .get(&format!("/reports/students/{ada}/history"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");

    // Her archive holds her account and its invitation, never a password or a link.
    let (status, _, zip) = admin.bytes(&format!("/students/{ada}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let name = format!("rollcall-student-{ada}/account.json");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name(&name).unwrap(), &mut text).unwrap();
    let account: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(account[0]["username"], "ada@pupils.test", "{account}");
    assert!(account[0]["used_at"].is_string(), "used: {account}");
    assert!(!text.contains(&token) && !text.contains("argon2"), "{text}");

    let (status, _) = admin.send(DELETE, &format!("/students/{ada}"), None).await;
    assert!(status.is_success(), "{status}");
    let (status, _) = hub
        .api()
        .post(
            "/auth/login",
            json!({"username": "ada@pupils.test", "password": "Ada's own long phrase"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the account went with the student"
    );
    let (status, _) = student.get("/me/student").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_are_invited_links_expire_and_are_sent_again_and_a_refusing_relay_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sink) = hub_with_relay(dir.path()).await;
    let admin = hub.admin().await;
    let start = hub.clock.now();

    let tess = json!({"role": "teacher", "display_name": "Tess Ting", "email": "Tess@school.test"});
    let out = admin.created("/invitations", tess).await;
    let invitation = &out["invitation"];
    assert_eq!(
        (&invitation["username"], &invitation["role"]),
        (&json!("Tess@school.test"), &json!("teacher"))
    );
    assert_eq!(
        invitation["expires_at"],
        json!(start.0 + 72 * HOUR),
        "[auth] invitation_hours"
    );
    let first = token_in(&sink.to("Tess@school.test")[0]);
    let (status, out) = hub
        .api()
        .post(
            "/auth/login",
            json!({"username": "Tess@school.test", "password": ""}),
        )
        .await;
    assert_ne!(
        status,
        StatusCode::OK,
        "no password works before the link is used: {out}"
    );

    hub.clock.set(UnixMillis(start.0 + 73 * HOUR));
    let admin = hub.admin().await;
    let (status, out) = hub
        .api()
        .post("/invitations/look-up", json!({"token": first}))
        .await;
    assert_eq!(status, StatusCode::GONE, "{out}");
    assert!(message_of(&out).contains("expired"), "{out}");
    let id = invitation["user_id"].as_str().unwrap();
    admin
        .created(&format!("/users/{id}/invitation"), json!({}))
        .await;
    let mails = sink.to("Tess@school.test");
    assert_eq!(mails.len(), 2);
    let second = mails
        .iter()
        .map(|m| token_in(m))
        .find(|t| *t != first)
        .unwrap();
    let accept = json!({"token": second, "password": "Tess chose this one"});
    let (status, out) = hub.api().post("/invitations/accept", accept).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let tess = hub
        .api()
        .login("Tess@school.test", "Tess chose this one")
        .await;
    assert_eq!(tess.get("/auth/me").await.1["role"], "teacher");
    let (_, listed) = admin.get("/invitations").await;
    let spent = listed.as_array().unwrap();
    assert_eq!(spent.len(), 2);
    assert!(
        spent.iter().all(|i| i["used_at"].is_i64()),
        "both links spent: {listed}"
    );

    sink.refuse(true);
    let cy = json!({"role": "admin", "display_name": "Cy", "email": "cy@school.test"});
    let out = admin.created("/invitations", cy).await;
    assert!(out["invitation"]["sent_at"].is_null(), "{out}");
    assert!(out["invitation"]["send_error"].as_str().is_some(), "{out}");
    assert!(
        out["link"].as_str().unwrap().contains("/#/welcome/"),
        "given by hand instead"
    );
    sink.refuse(false);

    let refusals = [
        json!({"role": "student"}),
        json!({"role": "teacher", "email": "no-name@school.test"}),
        json!({"role": "teacher", "display_name": "X", "email": "not an address"}),
        json!({"role": "teacher", "display_name": "X", "email": "x@school.test", "unknown": 1}),
    ];
    for body in refusals {
        let (status, out) = admin.post("/invitations", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
    }
    let again = json!({"role": "teacher", "display_name": "T2", "email": "Tess@school.test"});
    let (status, out) = admin.post("/invitations", again).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an address with an account: {out}"
    );
    assert_eq!(message_of(&out), "the user name Tess@school.test is taken");
    let by_hand = json!({"username": "stu", "role": "student", "password": "a long password 1"});
    let (status, out) = admin.post("/users", by_hand).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(message_of(&out).contains("inviting the student"), "{out}");
    let (status, out) = hub
        .api()
        .post(
            "/invitations/accept",
            json!({"token": "../x", "password": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
}
