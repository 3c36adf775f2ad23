//! Real photos and real face models for enrolment tests. Both must be present: a missing
//! directory fails the test with what to do, never skips it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use reqwest::StatusCode;
use rollcall_models::pipeline::model_id;
use serde_json::json;

use rollcall_hub::config::Config;

use super::{Api, TestHub, start_hub_with};

pub use rollcall_e2e::faces::faces_dir;

/// A photo under the faces directory, as (file name, bytes).
pub fn photo(relative: &str) -> (String, Vec<u8>) {
    let path = faces_dir().join(relative);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read test photo {}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    (name, bytes)
}

/// Fails at once, naming `scripts/dev-setup`, unless the face models are installed.
pub fn require_models() {
    rollcall_e2e::setup::models();
}

/// A hub with photo enrolment on (the real models) and the pipeline's model in the gallery.
pub async fn start_faces_hub(broker: Option<SocketAddr>) -> TestHub {
    start_faces_hub_with(broker, |_| {}).await
}

/// [`start_faces_hub`] with the configuration adjusted by `configure` as well.
pub async fn start_faces_hub_with(
    broker: Option<SocketAddr>,
    configure: impl FnOnce(&mut Config),
) -> TestHub {
    require_models();
    start_hub_with(broker, |c| {
        c.faces.enabled = true;
        c.gallery.model = model_id();
        configure(c);
    })
    .await
}

/// Up to three enrolment photos of `who` (the first ones, in name order).
fn enrolment_photos(who: &str) -> Vec<(String, Vec<u8>)> {
    let dir = faces_dir().join("identities").join(who);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .take(3)
        .map(|n| photo(&format!("identities/{who}/{n}")))
        .collect()
}

/// The lesson: tess's class 7B in Lab 3, Mondays 09:00–10:00, its students enrolled from
/// their photos (consent given). Returns the teacher, the slot and each student's id by name.
pub async fn lesson(
    hub: &TestHub,
    admin: &Api,
    people: &[&str],
) -> (Api, String, BTreeMap<String, String>) {
    let teacher = admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let class = admin
        .created(
            "/classes",
            json!({"name": "7B", "teacher_id": teacher["id"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = BTreeMap::new();
    for who in people {
        let id = admin.created("/students", json!({"name": who})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        admin.give_consent(&id).await;
        let (status, _) = admin
            .put(&format!("/classes/{class}/students/{id}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, out) = admin
            .upload(&format!("/students/{id}/faces"), enrolment_photos(who))
            .await;
        assert_eq!(status, StatusCode::CREATED, "enrolling {who}: {out}");
        ids.insert(who.to_string(), id);
    }
    let slot = admin
        .created("/timetable", json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let teacher = hub.api().login("tess", "teacher password").await;
    (teacher, slot, ids)
}
