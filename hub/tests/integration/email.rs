//! E-mail against a real SMTP server (aiosmtpd, started by the test): users' addresses
//! through the API, the daily digest at its local time (once, never again after a restart,
//! none for a teacher with nothing to say), and the admin's test message over STARTTLS with
//! the relay's certificate trusted through `ca_file`.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_hub::config::{Config, DigestConfig, EmailConfig, Security};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;
use crate::support::smtp::{Mode, SmtpSink};

const PATCH: reqwest::Method = reqwest::Method::PATCH;

const FROM: &str = "Rollcall <rollcall@school.test>";

fn relay(smtp: String, security: Security) -> EmailConfig {
    EmailConfig {
        smtp,
        security,
        username: None,
        password_file: None,
        from: FROM.into(),
        ca_file: None,
        pages_url: Some("https://rollcall.school.test".into()),
        digest: DigestConfig {
            at: "07:30".into(),
            days: vec!["tue".into()],
            check_every_secs: 1,
        },
    }
}

fn tuesday_at(hh: u16, mm: u16) -> UnixMillis {
    UnixMillis(monday_at(hh, mm) + 24 * 3600 * 1000)
}

/// A mail sink, and the settings that point a hub at it (with every schedule looked at each
/// second).
async fn sink_and_settings(
    dir: &std::path::Path,
) -> (SmtpSink, impl FnOnce(&mut Config) + Clone + Send + 'static) {
    let sink = SmtpSink::start(dir, None).await;
    let smtp = format!("127.0.0.1:{}", sink.port);
    let configure = move |c: &mut Config| {
        c.register.check_every_secs = 1;
        c.email = Some(relay(smtp, Security::None));
    };
    (sink, configure)
}

/// Sets the hub's clock and signs in again (a jump of hours expires access tokens).
async fn at(hub: &TestHub, when: UnixMillis) -> Api {
    hub.clock.set(when);
    hub.admin().await
}

async fn user_id(admin: &Api, username: &str) -> String {
    let (_, users) = admin.get("/users").await;
    let user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username);
    user.unwrap()["id"].as_str().unwrap().to_owned()
}

/// A pending record (a door unsure between candidates) in Lab 3 during Monday's 7B lesson.
async fn pending_record(hub: &TestHub, s: &School) {
    let device = s.device.parse().unwrap();
    let r = record(
        device,
        Decision::Uncertain,
        &[(s.students[0].as_str(), 0.5)],
        monday_at(9, 20),
    );
    store(hub, r).await;
}

#[tokio::test]
async fn addresses_are_checked_listed_changed_and_cleared() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let new = |email: Value| json!({"username": "nora", "role": "teacher", "password": "teacher password", "email": email});
    let (status, out) = admin.post("/users", new(json!("not an address"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("email:"),
        "{out}"
    );
    let nora = admin
        .created("/users", new(json!("nora@school.test")))
        .await;
    assert_eq!(nora["email"], "nora@school.test");
    let path = format!("/users/{}", nora["id"].as_str().unwrap());
    let (status, out) = admin
        .send(PATCH, &path, Some(json!({"email": "a@@b"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (status, out) = admin
        .send(PATCH, &path, Some(json!({"display_name": "Nora N"})))
        .await;
    assert_eq!(
        (status, &out["email"]),
        (StatusCode::OK, &json!("nora@school.test")),
        "absent: kept"
    );
    let nora_api = hub.api().login("nora", "teacher password").await;
    assert_eq!(
        nora_api.get("/auth/me").await.1["email"],
        "nora@school.test"
    );
    let (status, out) = admin.send(PATCH, &path, Some(json!({"email": null}))).await;
    assert_eq!(
        (status, &out["email"]),
        (StatusCode::OK, &Value::Null),
        "null clears"
    );
    let (_, users) = admin.get("/users").await;
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"].is_null())
    );
    hub.stop().await;
}

#[tokio::test]
async fn each_teacher_with_something_to_say_gets_one_digest_at_its_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, configure) = sink_and_settings(dir.path()).await;
    let hub = start_hub_with(None, configure.clone()).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let tess = user_id(&admin, "tess").await;
    let (status, _) = admin
        .send(
            PATCH,
            &format!("/users/{tess}"),
            Some(json!({"email": "tess@school.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Nora teaches a class with nothing to review and nobody at risk.
    let nora = admin
        .created(
            "/users",
            json!({"username": "nora", "role": "teacher",
            "password": "teacher password", "email": "nora@school.test"}),
        )
        .await;
    admin
        .created("/classes", json!({"name": "8C", "teacher_id": nora["id"]}))
        .await;
    let me = user_id(&admin, ADMIN).await;
    admin
        .send(
            PATCH,
            &format!("/users/{me}"),
            Some(json!({"email": "head@school.test"})),
        )
        .await;
    pending_record(&hub, &s).await;

    let (status, preview) = admin
        .post("/email/digest/preview", json!({"user": tess}))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["would_send"], true);
    assert!(
        preview["text"].as_str().unwrap().contains("  7B: 1\n"),
        "{preview}"
    );

    // Not before 07:30 on Tuesday, school time.
    at(&hub, tuesday_at(7, 29)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sink.messages().is_empty(), "nothing before its time");
    let admin = at(&hub, tuesday_at(7, 31)).await;
    wait_for("tess's digest", Duration::from_secs(20), || {
        let n = sink.to("tess@school.test").len();
        async move { n >= 1 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mine = sink.to("tess@school.test");
    assert_eq!(mine.len(), 1, "one digest: {mine:?}");
    let text = &mine[0];
    assert!(
        text.contains("Subject: Rollcall 2026-11-24: 1 to review"),
        "{text}"
    );
    assert!(text.contains("Waiting for review: 1"), "{text}");
    assert!(text.contains("  7B: 1"), "{text}");
    assert!(
        text.contains("https://rollcall.school.test/#/review"),
        "{text}"
    );
    assert!(
        text.contains("Ada (7B)"),
        "at risk after Monday's unexplained absence: {text}"
    );
    assert!(
        sink.to("nora@school.test").is_empty(),
        "nothing to say, no message"
    );
    let head = sink.to("head@school.test");
    assert_eq!(head.len(), 1, "{head:?}");
    assert!(head[0].contains("Rollcall for the school"), "{}", head[0]);
    let (_, listed) = admin.get("/email/digests").await;
    let statuses: Vec<_> = listed["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["username"].as_str().unwrap(),
                d["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("tess", "sent")) && statuses.contains(&("nora", "empty")),
        "{listed}"
    );

    // A restart later that morning sends nothing again.
    hub.clock.set(tuesday_at(9, 0));
    let hub = restart_hub_with(hub, configure).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        sink.to("tess@school.test").len(),
        1,
        "not resent after a restart"
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_test_message_goes_over_starttls_and_failures_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let pki = rollcall_e2e::pki::Pki::new(dir.path()).unwrap();
    let sink = SmtpSink::start(dir.path(), Some((&pki.server_cert, &pki.server_key))).await;
    let mut email = relay(format!("localhost:{}", sink.port), Security::Starttls);
    email.ca_file = Some(pki.ca.clone());
    let hub = start_hub_with(None, move |c| c.email = Some(email)).await;
    let admin = hub.admin().await;

    let (status, out) = admin.post("/email/test", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "no address yet: {out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no e-mail address")
    );
    let me = user_id(&admin, ADMIN).await;
    admin
        .send(
            PATCH,
            &format!("/users/{me}"),
            Some(json!({"email": "head@school.test"})),
        )
        .await;
    let (status, out) = admin.post("/email/test", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let got = sink.to("head@school.test");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("test message from Rollcall"), "{}", got[0]);

    // The relay gone: a 502 that says why.
    drop(sink);
    let (status, out) = admin.post("/email/test", json!({})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mail relay"),
        "{out}"
    );
    hub.stop().await;

    let plain = start_hub(None).await;
    let (status, out) = plain.admin().await.post("/email/test", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[email]"),
        "{out}"
    );
    plain.stop().await;
}

#[test]
fn plain_smtp_to_another_machine_is_refused() {
    let c = relay("smtp.school.test:25".into(), Security::None);
    let e = c.validate().unwrap_err();
    assert!(e.contains("only to a relay on this machine"), "{e}");
}

#[tokio::test]
async fn a_relay_that_refuses_is_tried_again_later_and_the_failure_is_visible() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), None).await;
    let smtp = format!("127.0.0.1:{}", sink.port);
    let hub = start_hub_with(None, move |c| c.email = Some(relay(smtp, Security::None))).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let tess = user_id(&admin, "tess").await;
    admin
        .send(
            PATCH,
            &format!("/users/{tess}"),
            Some(json!({"email": "tess@school.test"})),
        )
        .await;
    pending_record(&hub, &s).await;

    // 07:31 on Tuesday with the relay refusing: tried, failed, remembered, audited.
    sink.refuse(true);
    let admin = at(&hub, tuesday_at(7, 31)).await;
    wait_for("the failed digest", Duration::from_secs(20), || {
        let admin = admin.clone();
        async move {
            let (_, listed) = admin.get("/email/digests").await;
            listed["digests"][0]["status"] == "retrying"
        }
    })
    .await;
    let (_, listed) = admin.get("/email/digests").await;
    let first = &listed["digests"][0];
    assert_eq!(
        (first["username"].as_str(), first["attempts"].as_u64()),
        (Some("tess"), Some(1))
    );
    let error = first["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("refused for the test"),
        "the relay's own words: {listed}"
    );
    let (_, audit) = admin.get("/audit?limit=20").await;
    assert!(audit.to_string().contains("email.digest_failed"), "{audit}");

    // The admin's test message gets the relay's answer too.
    let me = user_id(&admin, ADMIN).await;
    admin
        .send(
            PATCH,
            &format!("/users/{me}"),
            Some(json!({"email": "head@school.test"})),
        )
        .await;
    let (status, out) = admin.post("/email/test", json!({})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused for the test"),
        "{out}"
    );

    // The relay takes mail again, and five minutes later the digest goes, once.
    sink.refuse(false);
    hub.clock.set(tuesday_at(7, 37));
    wait_for("the digest, retried", Duration::from_secs(20), || {
        let n = sink.to("tess@school.test").len();
        async move { n >= 1 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.to("tess@school.test").len(), 1);
    let (_, listed) = hub.admin().await.get("/email/digests").await;
    let tess_row = listed["digests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["username"] == "tess");
    assert_eq!(tess_row.unwrap()["status"], "sent", "{listed}");
    hub.stop().await;
}

#[tokio::test]
async fn implicit_tls_works_and_a_relay_certificate_nobody_trusts_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = rollcall_e2e::pki::Pki::new(dir.path()).unwrap();
    let sink = SmtpSink::start_in(dir.path(), Mode::Tls(&pki.server_cert, &pki.server_key)).await;
    let smtp = format!("localhost:{}", sink.port);
    for (ca_file, expect) in [
        (Some(pki.ca.clone()), StatusCode::OK),
        (None, StatusCode::BAD_GATEWAY),
    ] {
        let mut email = relay(smtp.clone(), Security::Tls);
        email.ca_file = ca_file;
        let hub = start_hub_with(None, move |c| c.email = Some(email)).await;
        let admin = hub.admin().await;
        let me = user_id(&admin, ADMIN).await;
        admin
            .send(
                PATCH,
                &format!("/users/{me}"),
                Some(json!({"email": "head@school.test"})),
            )
            .await;
        let (status, out) = admin.post("/email/test", json!({})).await;
        assert_eq!(status, expect, "{out}");
        hub.stop().await;
    }
    assert_eq!(
        sink.to("head@school.test").len(),
        1,
        "only the trusted one went"
    );
}

#[tokio::test]
async fn the_command_line_adds_a_user_with_a_checked_address() {
    let hub = start_hub(None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "teacher password\n").unwrap();
    let add = |email: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
            .args(["user", "add", "--username", "nora", "--role", "teacher"])
            .args(["--email", email, "--password-file"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&hub.data_dir)
            .output()
            .unwrap()
    };
    let refused = add("nora at school");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("not an e-mail address"), "{said}");
    let added = add("nora@school.test");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let (_, users) = hub.admin().await.get("/users").await;
    let nora = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "nora");
    assert_eq!(nora.unwrap()["email"], "nora@school.test");
    hub.stop().await;
}

#[tokio::test]
async fn each_user_chooses_their_own_digest_time_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, configure) = sink_and_settings(dir.path()).await;
    let hub = start_hub_with(None, configure).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let nora = admin
        .created(
            "/users",
            json!({"username": "nora", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let other = admin
        .created("/classes", json!({"name": "8C", "teacher_id": nora["id"]}))
        .await;
    pending_record(&hub, &s).await;

    // Tess sets her own address, a later time and her class; what is refused says why.
    let (status, account) = s.teacher.get("/account").await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["user"]["digest"], true, "on unless turned off");
    assert_eq!(account["school_digest_at"], "07:30");
    assert_eq!(
        account["classes"].as_array().unwrap().len(),
        1,
        "her own only"
    );
    for (body, status) in [
        (json!({"digest_at": "25:00"}), StatusCode::BAD_REQUEST),
        (json!({"digest_at": "24:00"}), StatusCode::BAD_REQUEST),
        (json!({"email": "a@@b"}), StatusCode::BAD_REQUEST),
        (json!({"role": "admin"}), StatusCode::BAD_REQUEST),
        (json!({"default_class": other["id"]}), StatusCode::FORBIDDEN),
    ] {
        let (got, out) = s.teacher.send(PATCH, "/account", Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {out}");
    }
    let body = json!({"email": "tess@school.test", "digest_at": "16:15", "default_class": s.class});
    let (status, account) = s.teacher.send(PATCH, "/account", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(
        (
            &account["user"]["digest_at"],
            &account["user"]["default_class"]
        ),
        (&json!("16:15"), &json!(s.class))
    );
    assert_eq!(
        s.teacher.get("/auth/me").await.1["default_class"],
        json!(s.class)
    );
    // The head has an address but wants no digest.
    let me = user_id(&admin, ADMIN).await;
    admin
        .send(
            PATCH,
            &format!("/users/{me}"),
            Some(json!({"email": "head@school.test"})),
        )
        .await;
    let (status, _) = admin
        .send(PATCH, "/account", Some(json!({"digest": false})))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Admins see who receives what.
    let (_, users) = admin.get("/users").await;
    let row = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (&row("tess")["digest"], &row("tess")["digest_at"]),
        (&json!(true), &json!("16:15"))
    );
    assert_eq!(row(ADMIN)["digest"], false);
    let (_, preview) = admin
        .post("/email/digest/preview", json!({"user": me}))
        .await;
    assert_eq!(preview["would_send"], false, "{preview}");
    let (_, audit) = admin.get("/audit?limit=1000").await;
    assert!(audit.to_string().contains("account.update"), "{audit}");

    // At the school's time nobody gets one; at hers, Tess does; the head never.
    at(&hub, tuesday_at(7, 31)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sink.messages().is_empty(), "{:?}", sink.messages());
    at(&hub, tuesday_at(16, 16)).await;
    wait_for("tess's digest at 16:15", Duration::from_secs(20), || {
        let n = sink.to("tess@school.test").len();
        async move { n >= 1 }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        sink.to("head@school.test").is_empty(),
        "the head turned it off"
    );
    hub.stop().await;
}
