//! The gallery learns from what teachers confirm and from the door's surest captures (issue
//! 15), through a real Mosquitto and the API: an approved record becomes a template of its
//! student (`source: review`) and reaches the door unit as a gallery delta; an unreviewed
//! Uncertain record never does; a close Confident capture does (`source: door`); a student
//! learns at most one template a day; erasing the student erases what was learned.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::*;

/// A unit vector along `axis`, turned towards `toward` by `distance` (Euclidean, between unit
/// vectors): a face that far from the student enrolled along `axis`.
fn face(axis: usize, toward: usize, distance: f32) -> Vec<f32> {
    let angle = 2.0 * (distance / 2.0).asin();
    let mut v = vec![0.0; 128];
    v[axis] = angle.cos();
    v[toward] = angle.sin();
    v
}

struct Class {
    teacher: Api,
    ada: String,
    bo: String,
    device: DeviceId,
}

/// Tess's class in Lab 3 (Mondays 09:00-10:00) with Ada and Bo, enrolled along axes 0 and 1,
/// and the door unit in Lab 3.
async fn class(hub: &TestHub, admin: &Api) -> Class {
    let tess = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    let tess = admin.created("/users", tess).await;
    let class = admin
        .created("/classes", json!({"name": "7B", "teacher_id": tess["id"]}))
        .await["id"]
        .clone();
    let mut ids = Vec::new();
    for (axis, name) in [(0, "Ada"), (1, "Bo")] {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let member = format!("/classes/{}/students/{id}", class.as_str().unwrap());
        assert_eq!(
            admin.put(&member, json!({})).await.0,
            StatusCode::NO_CONTENT
        );
        admin.give_consent(&id).await;
        let embedding = face(axis, 2, 0.0);
        let body = json!({"model": "dlib-resnet-v1", "embedding": embedding});
        admin
            .created(&format!("/students/{id}/embeddings"), body)
            .await;
        ids.push(id);
    }
    let slot =
        json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"});
    admin.created("/timetable", slot).await;
    let device = admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let [ada, bo] = <[String; 2]>::try_from(ids).unwrap();
    Class {
        teacher: hub.api().login("tess", "teacher password").await,
        ada,
        bo,
        device: device["device"]["id"].as_str().unwrap().parse().unwrap(),
    }
}

/// A record the door unit sends: `embedding`, its decision and candidates.
fn seen(
    c: &Class,
    decision: Decision,
    embedding: Vec<f32>,
    candidates: &[(&str, f32)],
) -> AttendanceRecord {
    let mut r = record(c.device, decision, candidates, monday_at(9, 2));
    r.embedding = Embedding::try_from(embedding).unwrap();
    r
}

async fn send(door: &mut Door, r: &AttendanceRecord) {
    door.publish(Channel::Records, &Message::Record(r.clone()))
        .await;
    loop {
        if let Message::Ack(ack) = door.next(Channel::Acks).await
            && ack.records.contains(&r.id)
        {
            return;
        }
    }
}

async fn faces(admin: &Api, student: &str) -> Vec<Value> {
    let (status, faces) = admin.get(&format!("/students/{student}/faces")).await;
    assert_eq!(status, StatusCode::OK, "{faces}");
    faces.as_array().unwrap().clone()
}

/// Requests the gallery and returns the embeddings it holds for `student`.
async fn door_templates(door: &mut Door, student: &str) -> usize {
    let request = GalleryRequest {
        device: door.device,
        have: GalleryVersion(0),
        full: true,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    loop {
        if let Message::Gallery(update) = door.next(Channel::Gallery).await
            && update.base.is_none()
        {
            let model = ModelId::new("dlib-resnet-v1").unwrap();
            let state = GalleryState::empty(model).apply(&update).unwrap();
            let id: StudentId = student.parse().unwrap();
            return state.entries.get(&id).map_or(0, |e| e.embeddings.len());
        }
    }
}

#[tokio::test]
async fn approved_faces_and_close_confident_ones_become_templates_and_nothing_else() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let c = class(&hub, &admin).await;
    let mut door = Door::connect(&broker, &hub.site, c.device).await;

    // Ada, Uncertain at 0.30 (Bo 1.3 away): a teacher approves her, and she is learned.
    let uncertain = seen(
        &c,
        Decision::Uncertain,
        face(0, 3, 0.30),
        &[(&c.ada, 0.30), (&c.bo, 1.3)],
    );
    send(&mut door, &uncertain).await;
    // Another Uncertain face of Ada nobody reviews: never learned.
    let unreviewed = seen(&c, Decision::Uncertain, face(0, 4, 0.25), &[(&c.ada, 0.25)]);
    send(&mut door, &unreviewed).await;
    assert_eq!(
        faces(&admin, &c.ada).await.len(),
        1,
        "nothing learned before a review"
    );
    // A face as close, but judged not live by the door (a photo of Ada held up to it?): the
    // teacher approves it, yet the face is never learned.
    let mut held_up = seen(
        &c,
        Decision::Uncertain,
        face(0, 6, 0.30),
        &[(&c.ada, 0.30), (&c.bo, 1.3)],
    );
    held_up.liveness = Some(LivenessCheck {
        live: false,
        real_score: 0.05,
    });
    send(&mut door, &held_up).await;
    let (status, body) = c
        .teacher
        .post(&format!("/records/{}/approve", held_up.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        faces(&admin, &c.ada).await.len(),
        1,
        "a possible photo or screen is never learned"
    );
    let (status, body) = c
        .teacher
        .post(&format!("/records/{}/approve", uncertain.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let learned = faces(&admin, &c.ada).await;
    assert_eq!(learned.len(), 2, "{learned:?}");
    assert_eq!(learned[1]["source"], "review");
    assert_eq!(learned[1]["record_id"], uncertain.id.to_string());
    assert!(
        learned[1]["thumbnail_url"].is_string(),
        "the crop the teacher saw"
    );
    assert_eq!(
        door_templates(&mut door, &c.ada).await,
        2,
        "the door units get it"
    );
    let (_, audit) = admin.get("/audit?limit=10").await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "gallery.learn")
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert_eq!(entry["actor"], "user:tess");

    // A second approval the same day teaches nothing more: one a day per student.
    let again = seen(&c, Decision::Uncertain, face(0, 5, 0.28), &[(&c.ada, 0.28)]);
    send(&mut door, &again).await;
    c.teacher
        .post(&format!("/records/{}/approve", again.id), json!({}))
        .await;
    assert_eq!(faces(&admin, &c.ada).await.len(), 2);

    // Bo, Confident and close (0.15): learned from the door; a Confident face at 0.30 is not.
    let far = seen(
        &c,
        Decision::Confident,
        face(1, 6, 0.30),
        &[(&c.bo, 0.30), (&c.ada, 1.3)],
    );
    send(&mut door, &far).await;
    assert_eq!(
        faces(&admin, &c.bo).await.len(),
        1,
        "not close enough to learn unseen"
    );
    let close = seen(
        &c,
        Decision::Confident,
        face(1, 7, 0.15),
        &[(&c.bo, 0.15), (&c.ada, 1.3)],
    );
    send(&mut door, &close).await;
    wait_for("Bo's learned template", Duration::from_secs(10), || async {
        faces(&admin, &c.bo).await.len() == 2
    })
    .await;
    assert_eq!(faces(&admin, &c.bo).await[1]["source"], "door");
    assert_eq!(metrics(&hub).await["templates_learned"], 1);

    // Erasing Ada erases what was learned from her faces too.
    assert_eq!(
        admin.delete(&format!("/students/{}", c.ada)).await.0,
        StatusCode::NO_CONTENT
    );
    let conn =
        rusqlite::Connection::open(hub.data_dir.join(rollcall_store::DATABASE_FILE)).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT count(*) FROM embeddings WHERE student_id = ?1",
            [&c.ada],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    hub.stop().await;
}
