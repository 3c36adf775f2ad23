//! A lesson's cards named together (issue 68, point 1), through a real Mosquitto, the hub's
//! ingest and its API: a card the door could not tell between two students becomes a mark the
//! moment the other is marked present, audited and undoable by the teacher; a stranger's
//! card and a teacher's decision are left alone; with `[attendance] name_lessons_jointly =
//! false` every card waits; a late card is named a last time before the register closes.

use reqwest::StatusCode;
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::*;
use rollcall_hub::config::Config;

/// Ada's template at 0 rad, Bo's at 0.30 rad in the plane of axes 0 and 1 (0.30 apart).
fn template(k: usize) -> Vec<f32> {
    in_plane(0.30 * k as f32, 0.0)
}

/// The unit vector at `angle` rad in the plane, turned `out` rad out of it (towards axis 50).
fn in_plane(angle: f32, out: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIM];
    (v[0], v[1], v[50]) = (angle.cos() * out.cos(), angle.sin() * out.cos(), out.sin());
    v
}

/// Somebody of no lesson: a unit vector out of the plane.
fn nobody(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIM];
    v[axis] = 1.0;
    v
}

struct Lesson {
    teacher: Api,
    ada: String,
    bo: String,
    session: String,
    door: Door,
}

/// Tess's class 7B in Lab 3 (Mondays 09:00–10:00) with Ada and Bo, and its door unit.
async fn lesson(hub: &TestHub, broker: &Mosquitto, admin: &Api) -> Lesson {
    let tess = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    let tess = admin.created("/users", tess).await;
    let class = admin
        .created("/classes", json!({"name": "7B", "teacher_id": tess["id"]}))
        .await["id"]
        .clone();
    let class = class.as_str().unwrap();
    let mut ids = Vec::new();
    for (k, name) in ["Ada", "Bo"].into_iter().enumerate() {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let member = format!("/classes/{class}/students/{id}");
        assert_eq!(
            admin.put(&member, json!({})).await.0,
            StatusCode::NO_CONTENT
        );
        admin.give_consent(&id).await;
        let body = json!({"model": "dlib-resnet-v1", "embedding": template(k)});
        admin
            .created(&format!("/students/{id}/embeddings"), body)
            .await;
        ids.push(id);
    }
    let slot =
        json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"});
    let slot = admin.created("/timetable", slot).await;
    let device = admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let device: DeviceId = device["device"]["id"].as_str().unwrap().parse().unwrap();
    let [ada, bo] = <[String; 2]>::try_from(ids).unwrap();
    Lesson {
        teacher: hub.api().login("tess", "teacher password").await,
        ada,
        bo,
        session: format!("{}/{}", slot["id"].as_str().unwrap(), monday()),
        door: Door::connect(broker, &hub.site, device).await,
    }
}

/// A hub configured by `configure` on a real Mosquitto, its admin, and the lesson.
async fn started(configure: impl FnOnce(&mut Config)) -> (Mosquitto, TestHub, Api, Lesson) {
    let broker = Mosquitto::start().unwrap();
    let hub = start_hub_with(Some(broker.addr()), configure).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let lesson = lesson(&hub, &broker, &admin).await;
    (broker, hub, admin, lesson)
}

impl Lesson {
    /// Bo's face, 0.156 from Bo and 0.232 from Ada: the door cannot tell them apart.
    async fn bo_or_ada(&mut self, at: (u16, u16)) -> AttendanceRecord {
        let (ada, bo) = (self.ada.clone(), self.bo.clone());
        let candidates = [(bo.as_str(), 0.156), (ada.as_str(), 0.232)];
        self.sees(in_plane(0.20, 0.12), Decision::Uncertain, &candidates, at)
            .await
    }

    /// Ada's own face, named by the door.
    async fn ada_walks_in(&mut self, at: (u16, u16)) -> AttendanceRecord {
        let ada = self.ada.clone();
        self.sees(
            in_plane(0.0, 0.05),
            Decision::Confident,
            &[(&ada, 0.05)],
            at,
        )
        .await
    }

    /// Sends what the door made of `face` at `hh:mm` and waits for the hub's ack.
    async fn sees(
        &mut self,
        face: Vec<f32>,
        decision: Decision,
        candidates: &[(&str, f32)],
        (hh, mm): (u16, u16),
    ) -> AttendanceRecord {
        let mut r = record(self.door.device, decision, candidates, monday_at(hh, mm));
        r.embedding = Embedding::try_from(face).unwrap();
        self.door
            .publish(Channel::Records, &Message::Record(r.clone()))
            .await;
        loop {
            if let Message::Ack(ack) = self.door.next(Channel::Acks).await
                && ack.records.contains(&r.id)
            {
                return r;
            }
        }
    }

    async fn record(&self, r: &AttendanceRecord) -> Value {
        let (status, body) = self.teacher.get(&format!("/records/{}", r.id)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

#[tokio::test]
async fn a_card_becomes_a_mark_when_its_rival_is_marked_and_a_teacher_can_undo_it() {
    let (_broker, hub, admin, mut l) = started(|_| {}).await;
    let (ada, bo) = (l.ada.clone(), l.bo.clone());
    // The lesson's arrivals are in from 09:10 (late_after_minutes after its start).
    hub.clock.set(UnixMillis(monday_at(9, 12)));
    let teacher = hub.api().login("tess", "teacher password").await;
    l.teacher = teacher;

    // Bo's face, 0.156 from Bo and 0.232 from Ada: the door could not tell them apart.
    let card = l.bo_or_ada((9, 1)).await;
    // A stranger near nobody, and Ada's own face that the teacher rejects at once.
    let stranger = l
        .sees(nobody(70), Decision::Uncertain, &[(&ada, 0.39)], (9, 2))
        .await;
    assert_eq!(
        l.record(&card).await["status"],
        "pending",
        "Ada is not marked yet"
    );

    // Ada walks in, Confident: Bo is the only one the card can be.
    l.ada_walks_in((9, 3)).await;
    let named = l.record(&card).await;
    assert_eq!(named["status"], "approved", "{named}");
    assert_eq!(named["final_student"], bo.as_str());
    assert_eq!(named["reviewed_by"], "system");
    assert_eq!(
        named["review_note"],
        "named with the lesson's other arrivals"
    );
    assert_eq!(l.record(&stranger).await["status"], "pending");
    let (_, roster) = l.teacher.get(&format!("/sessions/{}", l.session)).await;
    assert_eq!(row(&roster, "Bo")["mark"], "present", "{roster}");
    let (_, audit) = admin.get("/audit?limit=20").await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "record.named_with_lesson")
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert_eq!(entry["target"], format!("record:{}", card.id));

    // The teacher knows better: she rejects it, and no later arrival names it again.
    let (status, body) = l
        .teacher
        .post(&format!("/records/{}/reject", card.id), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    l.sees(nobody(71), Decision::Uncertain, &[(&ada, 0.39)], (9, 4))
        .await;
    assert_eq!(l.record(&card).await["status"], "rejected");
    let (_, roster) = l.teacher.get(&format!("/sessions/{}", l.session)).await;
    assert_eq!(row(&roster, "Bo")["mark"], Value::Null, "{roster}");
    hub.stop().await;
}

#[tokio::test]
async fn with_joint_naming_off_every_card_waits_and_a_late_one_is_named_before_closing() {
    let (_broker, off, _, mut l) = started(|c| c.attendance.name_lessons_jointly = false).await;
    let card = l.bo_or_ada((9, 1)).await;
    l.ada_walks_in((9, 3)).await;
    assert_eq!(l.record(&card).await["status"], "pending", "off: it waits");
    let session = format!("/sessions/{}", l.session);
    drop(l);

    // Switched on, the hub names it a last time before the register is written.
    let on = restart_hub_with(off, |c| {
        c.attendance.name_lessons_jointly = true;
        c.register.check_every_secs = 1;
    })
    .await;
    wait_connected(&on).await;
    let teacher = on.api().login("tess", "teacher password").await;
    let (status, body) = teacher.get(&format!("/records/{}", card.id)).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("pending"))
    );
    on.clock.set(UnixMillis(monday_at(10, 45)));
    let teacher = on.api().login("tess", "teacher password").await;
    let closed = wait_locked(&teacher, &session).await;
    assert_eq!(row(&closed, "Bo")["code"], "/", "{closed}");
    let (_, body) = teacher.get(&format!("/records/{}", card.id)).await;
    assert_eq!(body["status"], "approved", "{body}");
    on.stop().await;
}

#[tokio::test]
async fn a_lessons_suggestion_is_shown_and_confirmed_in_one_request_or_refused_whole() {
    let (_broker, hub, _, mut l) = started(|_| {}).await;
    let (ada, bo) = (l.ada.clone(), l.bo.clone());
    hub.clock.set(UnixMillis(monday_at(9, 12)));
    l.teacher = hub.api().login("tess", "teacher password").await;
    // Bo's face, too close to Ada for the door or the hub to name while Ada is not here.
    let card = l.bo_or_ada((9, 1)).await;
    let (status, body) = l.teacher.get("/review/lessons").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lessons = body["lessons"].as_array().unwrap();
    assert_eq!(lessons.len(), 1, "{body}");
    let shown = &lessons[0];
    assert_eq!(shown["class_name"], "7B");
    assert_eq!(shown["cards"][0]["record"], card.id.to_string());
    assert_eq!(shown["cards"][0]["suggested"]["student"], bo.as_str());
    assert_eq!(shown["cards"][0]["suggested"]["name"], "Bo");
    assert_eq!(shown["unmarked"].as_array().unwrap().len(), 2);

    let path = format!("/sessions/{}/suggestion", l.session);
    let pair = |record: &RecordId, student: &str| json!({"record": record, "student": student});
    let twice = json!({"pairs": [pair(&card.id, &bo), pair(&card.id, &ada)]});
    let (status, body) = l.teacher.post(&path, twice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let none = json!({"pairs": []});
    assert_eq!(l.teacher.post(&path, none).await.0, StatusCode::BAD_REQUEST);
    let stranger = StudentId::random().to_string();
    let (status, body) = l
        .teacher
        .post(&path, json!({"pairs": [pair(&card.id, &stranger)]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not in this class")
    );
    // Ada walks in meanwhile; the hub now names the card by itself, so a confirmation of
    // it comes too late and changes nothing.
    let here = l.ada_walks_in((9, 3)).await;
    assert_eq!(l.record(&card).await["reviewed_by"], "system");
    let (status, body) = l
        .teacher
        .post(&path, json!({"pairs": [pair(&here.id, &ada)]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A second card, near nobody, given to Bo beside Ada's own record: refused whole (Bo is
    // marked now, and Ada's record waits for nobody), so the first pair is not applied.
    let unsure = l
        .sees(
            in_plane(0.9, 0.35),
            Decision::Uncertain,
            &[(&bo, 0.39)],
            (9, 4),
        )
        .await;
    let both = json!({"pairs": [pair(&unsure.id, &bo), pair(&here.id, &ada)]});
    let (status, body) = l.teacher.post(&path, both).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(l.record(&unsure).await["status"], "pending");
    let (status, body) = l
        .teacher
        .post(&path, json!({"pairs": [pair(&unsure.id, &bo)]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bo is already marked"),
        "{body}"
    );
    hub.stop().await;
}

/// With the real models: the door sees Bo (Confident), Ada and Di (each a card, Uncertain),
/// Cy (in the class, with no photo yet) and a visitor. The hub names Di's card itself,
/// rightly; Ada's is outside the lesson's band and is offered to the teacher as Ada; Cy's and
/// the visitor's faces are left to the teacher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lessons_real_faces_are_named_together_and_a_stranger_is_left_alone() {
    use crate::browser::school::{ADA, BO, CY, DI, VISITOR, best, gallery_of, seen, set_up_school};
    use crate::common::camera::Camera;
    use crate::common::faces::start_faces_hub;

    let broker = Mosquitto::start().unwrap();
    let hub = start_faces_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = set_up_school(&admin).await;
    let mut door = Door::connect(&broker, &hub.site, school.device).await;
    let gallery = gallery_of(&mut door, school.device).await;
    let camera = tokio::task::block_in_place(|| Camera::new(&gallery));
    hub.clock.set(UnixMillis(monday_at(9, 12)));
    let admin = hub.admin().await;
    let photos = [
        (BO, "identities/Serena_Williams/Serena_Williams_0029.jpg"),
        (ADA, "identities/Colin_Powell/Colin_Powell_0200.jpg"),
        (CY, "identities/Tony_Blair/Tony_Blair_0102.jpg"),
        (DI, "identities/Laura_Bush/Laura_Bush_0015.jpg"),
        ("a visitor", VISITOR),
    ];
    let mut seen_now = Vec::new();
    for (minute, (who, photo)) in (1..).zip(photos) {
        seen_now.push((who, seen(&mut door, &camera, photo, 9, minute).await));
    }
    let [(_, bo), (_, ada), (_, cy), (_, di), (_, visitor)] =
        <[(&str, AttendanceRecord); 5]>::try_from(seen_now).unwrap();
    assert_eq!(bo.decision, Decision::Confident);
    for (who, card) in [(ADA, &ada), (DI, &di)] {
        assert_eq!(
            card.decision,
            Decision::Uncertain,
            "{who}: the door was not sure"
        );
        assert_eq!(best(card), school.id(who));
    }
    // Di's face, 0.291 from her: named by the hub once her runner-up is out of the way.
    let (_, body) = admin.get(&format!("/records/{}", di.id)).await;
    assert_eq!(
        (
            &body["status"],
            &body["final_student"],
            &body["reviewed_by"]
        ),
        (&json!("approved"), &json!(school.id(DI)), &json!("system")),
        "{body}"
    );
    // Ada's, 0.339 from her: outside the lesson's band (0.31), so it waits for the teacher,
    // who is offered Ada for it.
    assert!(ada.candidates[0].distance > 0.31, "{:?}", ada.candidates);
    let (_, body) = admin.get(&format!("/records/{}", ada.id)).await;
    assert_eq!(body["status"], "pending", "{body}");
    let (_, lessons) = admin.get("/review/lessons").await;
    let cards = lessons["lessons"][0]["cards"].as_array().unwrap();
    let offered = cards
        .iter()
        .find(|c| c["record"] == ada.id.to_string())
        .unwrap_or_else(|| panic!("{lessons}"));
    assert_eq!(offered["suggested"]["student"], school.id(ADA), "{lessons}");
    for stranger in [&cy, &visitor] {
        let (status, body) = admin.get(&format!("/records/{}", stranger.id)).await;
        match status {
            // A face matching nobody is not kept (`[privacy] unknown_faces = "discard"`).
            StatusCode::NOT_FOUND => assert_eq!(stranger.decision, Decision::Unknown),
            _ => assert_eq!(body["status"], "pending", "{body}"),
        }
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_lessons_cards_are_named_when_its_arrivals_come_in_though_nobody_walks_in_after() {
    let (_broker, hub, _, mut l) = started(|c| c.register.check_every_secs = 1).await;
    let bo = l.bo.clone();
    let card = l.bo_or_ada((9, 1)).await;
    l.ada_walks_in((9, 3)).await;
    // 09:05: the lesson's arrivals are not in (09:10), so the card waits.
    assert_eq!(l.record(&card).await["status"], "pending");
    hub.clock.set(UnixMillis(monday_at(9, 11)));
    let teacher = hub.api().login("tess", "teacher password").await;
    let path = format!("/records/{}", card.id);
    wait_for("the card named", std::time::Duration::from_secs(10), || {
        let (teacher, path) = (teacher.clone(), path.clone());
        async move { teacher.get(&path).await.1["status"] == "approved" }
    })
    .await;
    let (_, body) = teacher.get(&path).await;
    assert_eq!(body["final_student"], bo.as_str(), "{body}");
    hub.stop().await;
}
