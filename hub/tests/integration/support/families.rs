//! A school that tells families the same morning, for the notices' tests: the real SMTP sink
//! (aiosmtpd) and the fake SMS gateway as a separate process (`rollcall-fake-sms`), the hub's
//! clock on Monday morning, the seeded class 7B (Ada, Bo; Monday 09:00–10:00) with
//! guardians, notices due at 09:30.

use std::time::Duration;

use rollcall_e2e::sms::FakeSms;
use rollcall_hub::config::{
    Channel, DigestConfig, EmailConfig, NoticesConfig, Security, SmsConfig,
};
use rollcall_shared::UnixMillis;
use serde_json::json;

use super::smtp::SmtpSink;
use crate::common::{
    Api, School, TestHub, monday, monday_at, seed_school, start_hub_with, wait_for,
};

/// The header the fake gateway is sent.
pub const GATEWAY_KEY: &str = "Bearer test-gateway-key";

/// A hub telling families, with its sinks.
pub struct Families {
    pub hub: TestHub,
    pub admin: Api,
    pub school: School,
    pub sink: SmtpSink,
    pub sms: FakeSms,
    _dir: tempfile::TempDir,
}

/// Starts the hub at 08:00 on Monday with `[notices]` on (e-mail and SMS, the second contact
/// after 20 minutes, tries 3, a pass every second). Ada's contacts: Mary (e-mail and mobile,
/// English), then Tom (mobile); Bo's: Gwen (e-mail, Welsh).
pub async fn start_families_hub() -> Families {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), None).await;
    let sms = FakeSms::start().unwrap();
    let header = dir.path().join("sms-auth");
    std::fs::write(&header, format!("Authorization: {GATEWAY_KEY}\n")).unwrap();
    let (smtp, url) = (format!("127.0.0.1:{}", sink.port), sms.url());
    let hub = start_hub_with(None, move |c| {
        c.register.check_every_secs = 1;
        c.email = Some(EmailConfig {
            smtp,
            security: Security::None,
            username: None,
            password_file: None,
            from: "Ysgol y Bryn <office@school.test>".into(),
            ca_file: None,
            pages_url: None,
            digest: DigestConfig::default(),
        });
        c.notices = NoticesConfig {
            enabled: true,
            school_name: "Ysgol y Bryn".into(),
            pages_url: "https://rollcall.school.test".into(),
            after_first_lesson_minutes: 30,
            channels: vec![Channel::Email, Channel::Sms],
            second_contact_after_minutes: 20,
            arrived_message: true,
            tries: 3,
            check_every_secs: 1,
            sms: Some(SmsConfig {
                url,
                auth_header_file: Some(header),
                body: r#"{"to": {to}, "text": {text}, "sender": "YSGOL"}"#.into(),
                timeout_secs: 2,
            }),
        };
    })
    .await;
    hub.clock.set(UnixMillis(monday_at(8, 0)));
    let admin = hub.admin().await;
    let school = seed_school(&admin).await;
    let guardians = [
        json!([
            {"name": "Mary Lovelace", "relationship": "parent", "email": "mary@family.test",
             "phone": "07700 900123", "language": "en", "notices": true},
            {"name": "Tom Lovelace", "relationship": "parent", "phone": "07700 900456",
             "notices": true},
        ]),
        json!([
            {"name": "Gwen Morgan", "relationship": "parent", "email": "gwen@family.test",
             "language": "cy", "notices": true},
        ]),
    ];
    for (student, list) in school.students.iter().zip(guardians) {
        let path = format!("/students/{student}/guardians");
        let (status, out) = admin.put(&path, json!({"guardians": list})).await;
        assert!(status.is_success(), "{out}");
    }
    Families {
        hub,
        admin,
        school,
        sink,
        sms,
        _dir: dir,
    }
}

/// An e-mail's text with quoted-printable's folds undone.
pub fn unfolded(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The reply link's token in a message's text.
pub fn token_in(text: &str) -> String {
    let (_, rest) = text
        .split_once("/#/reply/")
        .unwrap_or_else(|| panic!("no reply link in {text}"));
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Moves the clock to 09:31 on Monday and waits for Ada's notice to reach Mary by e-mail;
/// returns its link's token, Ada's id and the day.
pub async fn told_this_morning(f: &Families) -> (String, String, String) {
    f.hub.clock.set(UnixMillis(monday_at(9, 31)));
    wait_for("Mary's e-mail", Duration::from_secs(20), || {
        let got = !f.sink.to("mary@family.test").is_empty();
        async move { got }
    })
    .await;
    let mail = f.sink.to("mary@family.test").remove(0);
    let token = token_in(&unfolded(&mail));
    (token, f.school.students[0].clone(), monday().to_string())
}
