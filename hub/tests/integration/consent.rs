//! Consent to face recognition with the real face models and a real broker: a student's photo
//! is refused until a parent's written consent is recorded; withdrawing it erases their
//! templates and crops on the hub at once (the database is read to check) and from the door
//! unit's gallery with the next push, which the hub follows until the unit confirms it; the
//! answers are recorded one by one and in bulk, checked, audited, and counted per class.

use reqwest::StatusCode;
use rollcall_e2e::faces::{prints_in_database, stored_prints, template_prints};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_models::pipeline::model_id;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::door::Door;
use crate::common::faces::{photo, start_faces_hub};
use crate::common::*;

const COLIN: [&str; 2] = [
    "identities/Colin_Powell/Colin_Powell_0056.jpg",
    "identities/Colin_Powell/Colin_Powell_0065.jpg",
];
const SERENA: &str = "identities/Serena_Williams/Serena_Williams_0002.jpg";

/// Rows of `table` naming `student` in the hub's database.
fn rows(hub: &TestHub, table: &str, student: &str) -> i64 {
    let path = hub.data_dir.join(rollcall_store::DATABASE_FILE);
    let conn = rusqlite::Connection::open(path).unwrap();
    let count = format!("SELECT COUNT(*) FROM {table} WHERE student_id = ?1");
    conn.query_row(&count, [student], |r| r.get(0)).unwrap()
}

/// Whether any gallery the hub remembers sending holds a template of `student`.
fn sent_galleries_hold(hub: &TestHub, student: StudentId) -> bool {
    let path = hub.data_dir.join(rollcall_store::DATABASE_FILE);
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut states = conn.prepare("SELECT state FROM device_galleries").unwrap();
    let blobs: Vec<Vec<u8>> = states
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let keys =
        rollcall_runtime::seal::FaceKeys::load(&hub.data_dir.join(rollcall_store::keys::KEY_FILE))
            .unwrap();
    blobs.iter().any(|b| {
        let state = keys
            .open(rollcall_runtime::seal::Purpose::Gallery, b)
            .unwrap();
        let (entries, _): (Vec<GalleryEntry>, Vec<TimetableSlot>) =
            postcard::from_bytes(&state).unwrap();
        entries
            .iter()
            .any(|e| e.student == student && !e.embeddings.is_empty())
    })
}

async fn next_state(door: &mut Door, held: &GalleryState) -> GalleryState {
    let Message::Gallery(delta) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    held.apply(&delta).expect("the delta applies")
}

/// The door unit's heartbeat, saying which gallery it holds.
async fn heartbeat(door: &Door, device: DeviceId, held: &GalleryState) {
    let status = DeviceStatus {
        device,
        sent_at: UnixMillis(monday_at(9, 1)),
        uptime_s: 60,
        outbox_depth: 0,
        gallery_version: held.version,
        software_version: "test".into(),
        last_error: None,
        model: Some(model_id()),
        free_disk_bytes: None,
        clock: ClockSync::Synchronised,
        unknown_discarded: 0,
    };
    door.publish(Channel::Status, &Message::Status(status))
        .await;
}

async fn consent_of(admin: &Api, student: &str) -> Value {
    let (status, body) = admin.get(&format!("/students/{student}/consent")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_face_is_kept_only_with_consent_and_withdrawal_erases_it_everywhere() {
    let broker = Mosquitto::start().unwrap();
    let hub = start_faces_hub(Some(broker.addr())).await;
    wait_connected(&hub).await;
    let admin = hub.admin().await;
    let tess = json!({"username": "tess", "role": "teacher", "password": "teacher password"});
    let tess_id = admin.created("/users", tess).await["id"].clone();
    let class = admin
        .created("/classes", json!({"name": "7B", "teacher_id": tess_id}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut students = Vec::new();
    for name in ["Colin", "Serena"] {
        let s = admin.created("/students", json!({"name": name})).await;
        assert_eq!(s["consent"], "not_asked", "nobody is asked yet: {s}");
        let id = s["id"].as_str().unwrap().to_owned();
        let member = format!("/classes/{class}/students/{id}");
        assert_eq!(
            admin.put(&member, json!({})).await.0,
            StatusCode::NO_CONTENT
        );
        students.push(id);
    }
    let (colin, serena) = (students[0].clone(), students[1].clone());
    let slot =
        json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"});
    admin.created("/timetable", slot).await;
    let device = admin
        .created("/devices", json!({"name": "door", "room": "Lab 3"}))
        .await;
    let device: DeviceId = device["device"]["id"].as_str().unwrap().parse().unwrap();
    let mut door = Door::connect(&broker, &hub.site, device).await;
    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: false,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    let Message::Gallery(snapshot) = door.next(Channel::Gallery).await else {
        panic!("a gallery update")
    };
    let mut held = GalleryState::empty(model_id()).apply(&snapshot).unwrap();

    // Not asked: the photos are refused before they are looked at, and nothing is kept.
    let photos = || COLIN.iter().map(|p| photo(p)).collect::<Vec<_>>();
    let faces = format!("/students/{colin}/faces");
    let (status, body) = admin.upload(&faces, photos()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "consent_required");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Colin's consent is not_asked"),
        "{message}"
    );
    let embedding = json!({"model": model_id().as_str(), "embedding": vec![0.1; 128]});
    let (status, _) = admin
        .post(&format!("/students/{colin}/embeddings"), embedding)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(rows(&hub, "embeddings", &colin), 0);

    // A statement that does not say what the law needs is refused with what it lacks; a
    // teacher records nothing; an unknown student is not found.
    let path = format!("/students/{colin}/consent");
    let (status, body) = admin
        .put(&path, json!({"state": "given", "by": "Jane Doe (mother)"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signed_on")
    );
    let teacher = hub.api().login("tess", "teacher password").await;
    assert_eq!(
        teacher.put(&path, consent_given()).await.0,
        StatusCode::FORBIDDEN
    );
    let nobody = format!("/students/{}/consent", StudentId::random());
    assert_eq!(
        admin.put(&nobody, consent_given()).await.0,
        StatusCode::NOT_FOUND
    );

    // Given: the photos are taken and the door unit learns Colin.
    let (status, given) = admin.put(&path, consent_given()).await;
    assert_eq!(status, StatusCode::OK, "{given}");
    assert_eq!(
        (&given["before"], &given["state"]),
        (&json!("not_asked"), &json!("given"))
    );
    let (status, body) = admin.upload(&faces, photos()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    held = next_state(&mut door, &held).await;
    let colin_id: StudentId = colin.parse().unwrap();
    assert_eq!(held.entries[&colin_id].embeddings.len(), 2);
    heartbeat(&door, device, &held).await;
    assert_eq!(rows(&hub, "embeddings", &colin), 2);
    let seen = teacher.get(&path).await.1;
    assert_eq!(
        seen["state"], "given",
        "a teacher of the class reads it: {seen}"
    );
    assert_eq!(seen["register_by_hand"], false);

    let (_, templates) = admin.get(&format!("/students/{colin}/embeddings")).await;
    let db = hub.data_dir.join(rollcall_store::DATABASE_FILE);
    assert_eq!(
        prints_in_database(&db, &template_prints(&templates)),
        0,
        "the hub's files hold no template in the clear"
    );
    let sealed = "SELECT embedding FROM embeddings WHERE student_id = ?1";
    let prints = stored_prints(&db, sealed, &colin);
    let in_hub_files = || prints_in_database(&db, &prints);
    assert_eq!(
        in_hub_files(),
        2,
        "both sealed templates are in the hub's files"
    );

    // Withdrawn: every face goes at once on the hub, and from the door with the next push;
    // the hub says the unit may hold them until its heartbeat confirms that gallery.
    let withdrawal = json!({"state": "withdrawn", "by": "Jane Doe (mother)", "note": "by letter"});
    let (status, done) = admin.put(&path, withdrawal).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["erased"]["templates"], 2, "{done}");
    assert_eq!(rows(&hub, "embeddings", &colin), 0);
    assert!(
        !sent_galleries_hold(&hub, colin_id),
        "no copy kept on the hub"
    );
    assert_eq!(in_hub_files(), 0, "no byte of them left in the hub's files");
    held = next_state(&mut door, &held).await;
    assert!(
        !held.entries.contains_key(&colin_id),
        "the door unit drops Colin"
    );
    let waiting = consent_of(&admin, &colin).await;
    assert_eq!(waiting["door_units_holding"], json!(["door"]), "{waiting}");
    assert_eq!(waiting["register_by_hand"], true);
    heartbeat(&door, device, &held).await;
    wait_for(
        "the door unit's confirmation",
        std::time::Duration::from_secs(10),
        || async { consent_of(&admin, &colin).await["door_units_holding"] == json!([]) },
    )
    .await;
    let after = consent_of(&admin, &colin).await;
    assert_eq!(after["templates_held"], 0);
    let history: Vec<&Value> = after["history"].as_array().unwrap().iter().collect();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (&history[0]["state"], &history[0]["reference"]),
        (&json!("given"), &json!("form 12"))
    );
    assert_eq!(
        (&history[1]["state"], &history[1]["note"]),
        (&json!("withdrawn"), &json!("by letter"))
    );
    let (status, body) = admin.upload(&faces, photos()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no face again without consent: {body}"
    );

    // A door unit that has not yet dropped Colin may still name him: the record counts, his
    // face is not kept.
    let stale = record(
        device,
        Decision::Uncertain,
        &[(&colin, 0.31)],
        monday_at(9, 5),
    );
    door.publish(Channel::Records, &Message::Record(stale.clone()))
        .await;
    let ack = RecordAck {
        records: vec![stale.id],
    };
    assert_eq!(door.next(Channel::Acks).await, Message::Ack(ack));
    let (_, kept) = admin.get(&format!("/records/{}", stale.id)).await;
    assert_eq!(kept["has_thumbnail"], false, "{kept}");
    let path = hub.data_dir.join(rollcall_store::DATABASE_FILE);
    let conn = rusqlite::Connection::open(path).unwrap();
    let length: i64 = conn
        .query_row(
            "SELECT length(embedding) FROM records WHERE id = ?1",
            [stale.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(length, 0, "no embedding of Colin's face is kept");
    let (_, audit) = admin.get("/audit").await;
    let changes = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "consent.set")
        .count();
    assert_eq!(changes, 2, "both changes are audited");

    // In bulk: one unknown student refuses the whole request; then both are given at once.
    let unknown = StudentId::random().to_string();
    let bulk = |ids: Vec<&str>| json!({"students": ids, "consent": consent_given()});
    let (status, body) = admin
        .post("/consent", bulk(vec![serena.as_str(), &unknown]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&unknown)
    );
    assert_eq!(
        consent_of(&admin, &serena).await["state"],
        "not_asked",
        "nothing changed"
    );
    let (status, body) = admin.post("/consent", bulk(vec![&colin, &serena])).await;
    assert_eq!(
        (status, &body["changed"]),
        (StatusCode::OK, &json!(2)),
        "{body}"
    );
    let (status, body) = admin
        .upload(&format!("/students/{serena}/faces"), vec![photo(SERENA)])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Coverage per class, as JSON and CSV; a teacher sees their own class.
    let (_, coverage) = teacher.get("/reports/consent").await;
    let c = &coverage["classes"][0];
    assert_eq!(
        (&c["class_name"], &c["students"]),
        (&json!("7B"), &json!(2)),
        "{coverage}"
    );
    assert_eq!(
        (&c["by_state"]["given"], &c["faces_without_consent"]),
        (&json!(2), &json!(0))
    );
    let (status, kind, csv) = admin.bytes("/reports/consent?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "class,students,not_asked,requested,given,refused,withdrawn,objected,faces_without_consent"
        )
    );
    assert_eq!(lines.next(), Some("7B,2,0,0,2,0,0,0,0"));
    hub.stop().await;
}
