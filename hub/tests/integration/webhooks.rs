//! Signed webhooks against a real HTTP receiver: a session closing and a door unit going
//! offline are POSTed with a signature the receiver can check; a receiver that fails is tried
//! again later, and nothing is lost meanwhile.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use rollcall_hub::config::WebhookConfig;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::Value;
use sha2::Sha256;
use warp::Filter;

use crate::common::door::Door;
use crate::common::*;

pub const SECRET: &str = "a shared secret of the school";

/// What the receiver got: event header, signature header, body.
pub type Got = Arc<Mutex<Vec<(String, String, String)>>>;

/// A receiver on a free port that answers 500 to the first `fail_first` posts, then 200.
pub async fn receiver(fail_first: usize) -> (std::net::SocketAddr, Got) {
    let got: Got = Arc::default();
    let seen = got.clone();
    let route = warp::post()
        .and(warp::path("hook"))
        .and(warp::header::<String>("x-rollcall-event"))
        .and(warp::header::<String>("x-rollcall-signature"))
        .and(warp::body::bytes())
        .map(move |event: String, sig: String, body: bytes::Bytes| {
            let mut got = seen.lock().unwrap();
            got.push((event, sig, String::from_utf8_lossy(&body).into_owned()));
            match got.len() <= fail_first {
                true => warp::http::StatusCode::INTERNAL_SERVER_ERROR,
                false => warp::http::StatusCode::OK,
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (addr, got)
}

/// Checks `t=…,v1=…` over the body with the shared secret, as a receiver would.
fn verify(signature: &str, body: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

pub async fn wait_posts(got: &Got, n: usize) -> Vec<(String, String, String)> {
    wait_for("webhook posts", Duration::from_secs(20), || {
        let len = got.lock().unwrap().len();
        async move { len >= n }
    })
    .await;
    got.lock().unwrap().clone()
}

#[tokio::test]
async fn closings_and_offline_door_units_are_posted_signed_and_retried() {
    let (addr, got) = receiver(1).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let hook = WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret_file,
        events: vec!["session.closed".into(), "device.offline".into()],
    };
    let hub = start_hub_with(None, move |c| {
        c.register.check_every_secs = 1;
        c.webhooks = vec![hook];
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;

    // The session closes; the receiver fails the first post.
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let first = wait_posts(&got, 1).await;
    assert_eq!(first[0].0, "session.closed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "no retry before its time");

    // Half a minute later by the hub's clock it is sent again, and taken.
    hub.clock.advance(Duration::from_secs(31));
    let posts = wait_posts(&got, 2).await;
    let (event, signature, body) = &posts[1];
    assert_eq!(event, "session.closed");
    assert_eq!(body, &first[0].2, "the same delivery, again");
    assert!(
        verify(signature, body),
        "signed with the shared secret: {signature}"
    );
    assert!(
        !verify(signature, &body.replace("N", "/")),
        "a changed body fails"
    );
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent["event"], "session.closed");
    assert_eq!(sent["school"], hub.site.as_str(), "which school's: {body}");
    assert_eq!(sent["data"]["slot_id"], s.slot.as_str());
    let codes: Vec<&Value> = sent["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["code"])
        .collect();
    assert_eq!(codes.len(), 2);
    assert!(!body.contains("Ada"), "no names leave the hub: {body}");

    // A door unit that drops off is reported too.
    let device: DeviceId = s.device.parse().unwrap();
    let door = Door::login(&hub, device, &s.device_secret).await;
    door.publish(Channel::Status, &Message::Offline(DeviceOffline { device }))
        .await;
    let posts = wait_posts(&got, 3).await;
    let (event, signature, body) = &posts[2];
    assert_eq!(event, "device.offline");
    assert!(verify(signature, body));
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent["data"]["room"], "Lab 3");
    hub.stop().await;
}

#[tokio::test]
async fn a_bad_webhook_setting_is_refused_with_what_is_wrong() {
    let hook = |url: &str, events: &[&str]| WebhookConfig {
        url: url.into(),
        secret_file: "/nonexistent".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    for (h, says) in [
        (hook("http://example.org/x", &["session.closed"]), "https"),
        (hook("https://example.org/x", &[]), "at least one"),
        (
            hook("https://example.org/x", &["session.opened"]),
            "not an event",
        ),
        (hook("not a url", &["session.closed"]), "webhooks.url"),
    ] {
        let e = h.validate().unwrap_err();
        assert!(e.contains(says), "{e}");
    }
    let site = SiteId::new("north").unwrap();
    let hooks = [hook("https://example.org/x", &["device.offline"])];
    let e = rollcall_hub::notify::Hooks::load(&hooks, &site).unwrap_err();
    assert!(e.contains("/nonexistent"), "{e}");
}

#[tokio::test]
async fn a_student_falling_below_the_at_risk_threshold_is_posted_once() {
    let (addr, got) = receiver(0).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let hook = WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret_file,
        events: vec!["student.at_risk".into()],
    };
    let hub = start_hub_with(None, move |c| {
        c.register.check_every_secs = 1;
        c.webhooks = vec![hook];
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;

    // Nobody came to Monday's lesson: both fall from no rate at all to 0 %, below 90 %.
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let posts = wait_posts(&got, 2).await;
    let mut names = Vec::new();
    for (event, signature, body) in &posts {
        assert_eq!(event, "student.at_risk");
        assert!(verify(signature, body));
        let sent: Value = serde_json::from_str(body).unwrap();
        let data = &sent["data"];
        assert_eq!(data["class_id"], s.class.as_str());
        assert_eq!(data["class_name"], "7B");
        assert_eq!(data["attendance_rate"], 0.0);
        assert_eq!(data["threshold"], 0.9);
        assert!(s.students.iter().any(|id| data["student"] == id.as_str()));
        names.push(data["name"].as_str().unwrap().to_owned());
    }
    names.sort();
    assert_eq!(names, ["Ada", "Bo"]);

    // Still below after next Monday's lesson: not posted again.
    hub.clock
        .set(UnixMillis(monday_at(10, 31) + 7 * 24 * 3600 * 1000));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(got.lock().unwrap().len(), 2, "once per crossing");
    hub.stop().await;
}
