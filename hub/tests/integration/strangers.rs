//! Strangers are grouped (issue 15, point 4), through the embedded broker and the API: the
//! faces a door unit matched to nobody come back as one card per person across days; a
//! dismissed stranger's next face is dismissed as it arrives; adding a stranger to a student
//! counts their faces for the student and gives them templates; enrolling one creates the
//! student; a teacher of another class can neither see nor act, and only admins enrol.

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::*;

const DAY_MS: i64 = 86_400_000;

/// A unit vector along `axis`, turned towards `toward` by `distance`: one person per axis.
fn face(axis: usize, toward: usize, distance: f32) -> Vec<f32> {
    let angle = 2.0 * (distance / 2.0).asin();
    let mut v = vec![0.0; 128];
    v[axis] = angle.cos();
    v[toward] = angle.sin();
    v
}

/// Publishes an Unknown record of `embedding` captured at `at` and waits for its ack.
async fn unknown(door: &mut Door, device: DeviceId, embedding: Vec<f32>, at: i64) -> String {
    let mut r = record(device, Decision::Unknown, &[], at);
    r.embedding = Embedding::try_from(embedding).unwrap();
    door.publish(Channel::Records, &Message::Record(r.clone()))
        .await;
    loop {
        if let Message::Ack(ack) = door.next(Channel::Acks).await
            && ack.records.contains(&r.id)
        {
            return r.id.to_string();
        }
    }
}

async fn strangers(api: &Api) -> Vec<Value> {
    let (status, body) = api.get("/strangers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["count"].as_u64(),
        Some(body["strangers"].as_array().unwrap().len() as u64)
    );
    body["strangers"].as_array().unwrap().clone()
}

/// The card holding record `id`.
fn card_of<'a>(cards: &'a [Value], id: &str) -> &'a Value {
    cards
        .iter()
        .find(|c| c["records"].as_array().unwrap().iter().any(|r| r == id))
        .unwrap_or_else(|| panic!("no card holds {id}: {cards:?}"))
}

async fn act(api: &Api, card: &Value, action: &str, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({"records": card["records"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    api.post(
        &format!("/strangers/{}/{action}", card["id"].as_str().unwrap()),
        body,
    )
    .await
}

async fn faces(admin: &Api, student: &str) -> Vec<Value> {
    let (status, faces) = admin.get(&format!("/students/{student}/faces")).await;
    assert_eq!(status, StatusCode::OK, "{faces}");
    faces.as_array().unwrap().clone()
}

#[tokio::test]
async fn strangers_are_grouped_dismissed_for_good_added_to_a_student_or_enrolled() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let device: DeviceId = s.device.parse().unwrap();
    let mut door = Door::login(&hub, device, &s.device_secret).await;
    // Another teacher, of a class with no lessons in Lab 3.
    let otto = json!({"username": "otto", "role": "teacher", "password": "teacher password"});
    let otto = admin.created("/users", otto).await;
    admin
        .created("/classes", json!({"name": "8C", "teacher_id": otto["id"]}))
        .await;
    let otto = hub.api().login("otto", "teacher password").await;

    // Xena three times over two Monday lessons a week apart, Yann twice this morning.
    let last_week = monday_at(9, 30) - 7 * DAY_MS;
    let mut xena = Vec::new();
    for (i, at) in [last_week, last_week + 600_000, monday_at(9, 2)]
        .into_iter()
        .enumerate()
    {
        xena.push(unknown(&mut door, device, face(10, 20 + i, 0.15), at).await);
    }
    let mut yann = Vec::new();
    for i in 0..2 {
        yann.push(unknown(&mut door, device, face(11, 30 + i, 0.12), monday_at(9, 3)).await);
    }

    let cards = strangers(&s.teacher).await;
    assert_eq!(cards.len(), 2, "{cards:?}");
    let (x, y) = (card_of(&cards, &xena[0]), card_of(&cards, &yann[0]));
    assert_eq!((x["size"].as_u64(), x["days"].as_u64()), (Some(3), Some(2)));
    assert_eq!(x["id"], xena[0], "named by the first face");
    assert_eq!((y["size"].as_u64(), y["days"].as_u64()), (Some(2), Some(1)));
    assert_eq!(y["last_room"], "Lab 3");
    let crop = y["crops"][0]["thumbnail_url"].as_str().unwrap();
    let crop = crop.strip_prefix("/api/v1").unwrap();
    let (status, _, jpeg) = s.teacher.bytes(crop).await;
    assert_eq!((status, &jpeg[..2]), (StatusCode::OK, &[0xFF, 0xD8][..]));
    assert!(y["nearest"]["distance"].as_f64().unwrap() > 0.6);

    // The other class's teacher sees none of it and may not act.
    assert!(strangers(&otto).await.is_empty());
    assert_eq!(
        act(&otto, y, "dismiss", json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    // An action names the card's own face among the faces it covers.
    let (status, _) = s
        .teacher
        .post(
            &format!("/strangers/{}/dismiss", x["id"].as_str().unwrap()),
            json!({"records": yann}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Dismissed: Yann's faces leave the strangers and the review queue, and so does the next.
    let (status, out) = act(&s.teacher, y, "dismiss", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["records"], 2);
    let again = unknown(&mut door, device, face(11, 40, 0.15), monday_at(9, 4)).await;
    let cards = strangers(&s.teacher).await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    let (_, record) = admin.get(&format!("/records/{again}")).await;
    assert_eq!(record["status"], "rejected", "{record}");
    assert_eq!(record["reviewed_by"], "hub:dismissed-stranger");
    let (_, queue) = s.teacher.get("/review").await;
    assert_eq!(queue["count"], 3, "Xena's faces only: {queue}");
    // Acting again on what was dismissed is a conflict, not a second review.
    assert_eq!(
        act(&s.teacher, y, "dismiss", json!({})).await.0,
        StatusCode::CONFLICT
    );

    // Xena is Ada: her faces count for Ada and three crops become Ada's templates.
    let ada = s.students[0].as_str();
    let before = faces(&admin, ada).await.len();
    let x = &cards[0];
    let (status, out) = act(
        &s.teacher,
        x,
        "assign",
        json!({"student": ada, "add_to_gallery": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (out["records"].as_u64(), out["templates"].as_u64()),
        (Some(3), Some(3))
    );
    let after = faces(&admin, ada).await;
    assert_eq!(after.len(), before + 3, "{after:?}");
    assert!(after.iter().filter(|f| f["source"] == "review").count() == 3);
    assert!(strangers(&s.teacher).await.is_empty());
    let (_, record) = admin.get(&format!("/records/{}", xena[2])).await;
    assert_eq!(
        (record["status"].as_str(), record["final_student"].as_str()),
        (Some("reassigned"), Some(ada))
    );
    let (_, audit) = admin.get("/audit?limit=50").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "stranger.dismiss",
        "stranger.assign",
        "record.reassign",
        "record.reject",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }

    // Zoe is new: only an admin enrols her, into 7B, with her crops as templates.
    let zoe = [
        unknown(&mut door, device, face(12, 50, 0.1), monday_at(9, 4)).await,
        unknown(&mut door, device, face(12, 51, 0.1), monday_at(9, 4)).await,
    ];
    let cards = strangers(&admin).await;
    let z = card_of(&cards, &zoe[0]);
    let body = json!({"name": "Zoe", "class_id": s.class});
    assert_eq!(
        act(&s.teacher, z, "enrol", body.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    // Without a parent's written consent nothing is created and no face is kept.
    let (status, out) = act(&admin, z, "enrol", body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert_eq!(out["error"]["code"], "consent_required", "{out}");
    let (_, all) = admin.get("/students?q=Zoe").await;
    assert_eq!(all, json!([]), "nobody was created");
    let body = json!({"name": "Zoe", "class_id": s.class, "consent": consent_given()});
    let (status, out) = act(&admin, z, "enrol", body).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let student = out["student"]["id"].as_str().unwrap();
    assert_eq!(faces(&admin, student).await.len(), 2);
    let (_, members) = s
        .teacher
        .get(&format!("/classes/{}/students", s.class))
        .await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "Zoe"),
        "{members}"
    );
    assert!(strangers(&admin).await.is_empty());
    hub.stop().await;
}
