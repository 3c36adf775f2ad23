//! Decisions a phone queued without a network and sends when it returns, each with its own
//! `Idempotency-Key`, over a real hub: a decision sent twice is done once and answered the
//! same; a queue entry changed on the phone is refused; a card another teacher decided first
//! is refused, and the refusal is the same when sent again; a day's 500 decisions sent at once,
//! each twice, with the hub's pace telling some to wait, decide 500 cards once each.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use rollcall_shared::{Decision, UnixMillis};
use serde_json::{Value, json};

use crate::common::*;

/// Sends a queued decision until the hub answers it for good (waiting when told to wait),
/// as the phone's queue does.
async fn flushed(api: &Api, path: &str, body: Value, key: &str) -> (StatusCode, Value) {
    loop {
        let (status, out, wait) = api.keyed(Method::POST, path, body.clone(), key).await;
        if status != StatusCode::TOO_MANY_REQUESTS {
            return (status, out);
        }
        tokio::time::sleep(Duration::from_secs(wait.unwrap_or(1))).await;
    }
}

async fn approvals(admin: &Api) -> usize {
    let (status, audit) = admin.get("/audit?action=record.approve&limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    audit["entries"]
        .as_array()
        .or(audit.as_array())
        .unwrap_or_else(|| panic!("{audit}"))
        .len()
}

#[tokio::test]
async fn a_queued_decision_is_done_once_a_changed_one_refused_and_a_refusal_kept() {
    let hub = start_hub_at(UnixMillis(monday_at(9, 30)), |c| {
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let device = s.device.parse().unwrap();
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    let card = |student, minute| {
        record(
            device,
            Decision::Uncertain,
            &[(student, 0.5)],
            monday_at(9, minute),
        )
    };
    let ada_card = store(&hub, card(ada, 5)).await;
    let bo_card = store(&hub, card(bo, 6)).await;

    // Sent, the answer lost, sent again: approved once, answered the same both times.
    let key = "0191a0e8-0000-7000-8000-00000000a001";
    let approve = format!("/records/{ada_card}/approve");
    let (status, first) = flushed(&s.teacher, &approve, json!({}), key).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) = flushed(&s.teacher, &approve, json!({}), key).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(approvals(&admin).await, 1);

    // The queue entry changed on the phone (a note added), the same key: refused.
    let (status, out) = flushed(&s.teacher, &approve, json!({"note": "changed"}), key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["code"], "idempotency_key_reused");

    // The admin rejects Bo's card first; the teacher's approval, queued on the card as it
    // was (if_pending), is refused, and the same refusal is heard when sent again.
    let (status, _) = admin
        .post(&format!("/records/{bo_card}/reject"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = "0191a0e8-0000-7000-8000-00000000a002";
    let approve = format!("/records/{bo_card}/approve");
    let queued = json!({"if_pending": true});
    let (status, refused) = flushed(&s.teacher, &approve, queued.clone(), key).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "this face was decided first (rejected by admin): look at it again before changing it"
    );
    hub.clock.set(UnixMillis(monday_at(7, 0)));
    let (status, again) = flushed(&s.teacher, &approve, queued.clone(), key).await;
    assert_eq!(
        (status, &again),
        (StatusCode::CONFLICT, &refused),
        "a clock gone back changes nothing"
    );
    hub.clock.set(UnixMillis(monday_at(9, 30)));

    // A key is the teacher's own: the admin's request with it is a request of its own.
    let (status, out, _) = admin
        .keyed(Method::POST, &approve, queued.clone(), key)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "decided already: {out}");
    assert_eq!(
        s.teacher.get(&format!("/records/{bo_card}")).await.1["status"],
        "rejected",
        "the refused approvals changed nothing"
    );

    // Bad keys are refused before anything is done.
    for bad in ["", "has space", &"k".repeat(65)] {
        let (status, out, _) = s
            .teacher
            .keyed(Method::POST, &approve, queued.clone(), bad)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {out}");
    }
    assert_eq!(approvals(&admin).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_decisions_sent_at_once_each_twice_decide_five_hundred_cards_once() {
    // The hub's pace as a school sets it, refilled five times faster so the test is quick:
    // 1,000 sends at once still find the bucket empty.
    let hub = start_hub_at(UnixMillis(monday_at(9, 30)), |c| {
        c.auth.access_token_minutes = 1440;
        c.http.limits.account.per_minute *= 5;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let device = s.device.parse().unwrap();
    let mut cards = Vec::new();
    for i in 0..500 {
        let student = s.students[i % 2].as_str();
        let at = monday_at(9, 0) + i as i64 * 1_000;
        cards.push(
            store(
                &hub,
                record(device, Decision::Uncertain, &[(student, 0.5)], at),
            )
            .await,
        );
    }
    let sends = cards.iter().enumerate().flat_map(|(i, card)| {
        let key = format!("day-offline-{i:04}");
        let path = format!("/records/{card}/approve");
        let teacher = &s.teacher;
        [0, 1].map(move |_| {
            let (key, path) = (key.clone(), path.clone());
            async move { flushed(teacher, &path, json!({}), &key).await }
        })
    });
    let answers = join_all(sends).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
    let odd: Vec<_> = answers
        .iter()
        .filter(|(s, _)| !matches!(*s, StatusCode::OK | StatusCode::CONFLICT))
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    // Two sends of one key at the same moment: one decides, the other is told it is being
    // answered (409) and the phone's next send hears the answer.
    let told_to_wait: Vec<usize> = statuses
        .chunks(2)
        .enumerate()
        .filter(|(_, two)| two.contains(&StatusCode::CONFLICT))
        .map(|(i, _)| i)
        .collect();
    let pending = told_to_wait.len();
    for i in told_to_wait {
        let key = format!("day-offline-{i:04}");
        let path = format!("/records/{}/approve", cards[i]);
        let (status, out) = flushed(&s.teacher, &path, json!({}), &key).await;
        assert_eq!(status, StatusCode::OK, "card {i}: {out}");
    }
    assert_eq!(
        approvals(&admin).await,
        500,
        "{pending} sends were told to wait"
    );
    let (status, left) = s.teacher.get("/records?status=pending").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(left.as_array().map(Vec::len), Some(0), "{left}");
}
