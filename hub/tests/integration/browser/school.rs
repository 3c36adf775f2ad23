//! The school the browser round (`browser.rs`) is played in: its people and photos, setting it
//! up as an admin would, and the helpers the round's stages share.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rollcall_shared::topics::Channel;
use rollcall_shared::*;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::camera::Camera;
use crate::common::door::Door;
use crate::common::faces::{faces_dir, photo};
use crate::common::*;

pub const TEACHER: (&str, &str) = ("tess", "teacher password");
/// Students, the photos enrolled for them, and the test photos standing in for them.
pub const ADA: &str = "Ada Moreau";
pub const BO: &str = "Bo Lindqvist";
pub const CY: &str = "Cy Okafor";
pub const DI: &str = "Di Santos";
pub const ENROLLED: [(&str, &[&str]); 4] = [
    (
        ADA,
        &[
            "identities/Colin_Powell/Colin_Powell_0056.jpg",
            "identities/Colin_Powell/Colin_Powell_0065.jpg",
        ],
    ),
    (
        BO,
        &[
            "identities/Serena_Williams/Serena_Williams_0002.jpg",
            "identities/Serena_Williams/Serena_Williams_0006.jpg",
        ],
    ),
    (CY, &[]),
    (
        DI,
        &[
            "identities/Laura_Bush/Laura_Bush_0001.jpg",
            "identities/Laura_Bush/Laura_Bush_0003.jpg",
        ],
    ),
];
/// Photos with no face at all (see shared/faces/MANIFEST.tsv).
pub const NO_FACE: &str = "negatives/skimage_brick.png";
pub const NO_FACE_2: &str = "negatives/skimage_coffee.png";
/// Someone who is not in the class.
pub const VISITOR: &str = "identities/Junichiro_Koizumi/Junichiro_Koizumi_0012.jpg";

/// The school as the admin set it up.
pub struct School {
    pub slot: String,
    pub device: DeviceId,
    /// Student ids by name.
    pub ids: Vec<(String, String)>,
}

impl School {
    pub fn id(&self, name: &str) -> &str {
        &self.ids.iter().find(|(n, _)| n == name).unwrap().1
    }
}

pub async fn set_up_school(admin: &Api) -> School {
    let teacher = admin
        .created(
            "/users",
            json!({"username": TEACHER.0, "display_name": "Tess Adler", "role": "teacher", "password": TEACHER.1}),
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
    let mut ids = Vec::new();
    for (name, photos) in ENROLLED {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = admin
            .put(
                &format!("/classes/{class}/students/{id}"),
                json!({"from": "2026-09-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        admin.give_consent(&id).await;
        if !photos.is_empty() {
            let files = photos.iter().map(|p| photo(p)).collect();
            let (status, body) = admin.upload(&format!("/students/{id}/faces"), files).await;
            assert_eq!(status, StatusCode::CREATED, "enrolling {name}: {body}");
        }
        ids.push((name.to_owned(), id));
    }
    let slot = admin
        .created(
            "/timetable",
            json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00", "from": "2026-09-01"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await["device"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let school = School { slot, device, ids };
    // Last Monday's register was taken on paper: only Ada was there.
    let (status, body) = admin
        .put(
            &format!(
                "/sessions/{}/2026-11-16/marks/{}",
                school.slot,
                school.id(ADA)
            ),
            json!({"mark": "present", "reason": "paper register"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    school
}

/// The gallery a door unit holds after asking the hub for it.
pub async fn gallery_of(door: &mut Door, device: DeviceId) -> GalleryState {
    let request = GalleryRequest {
        device,
        have: GalleryVersion(0),
        full: true,
    };
    door.publish(Channel::Requests, &Message::GalleryRequest(request))
        .await;
    loop {
        if let Message::Gallery(update) = door.next(Channel::Gallery).await
            && update.base.is_none()
        {
            let model = update.model.clone();
            return GalleryState::empty(model).apply(&update).unwrap();
        }
    }
}

/// The door unit sees `photo` at `hh:mm` and publishes its record; returns it once acked.
pub async fn seen(
    door: &mut Door,
    camera: &Camera,
    photo_path: &str,
    hh: u16,
    mm: u16,
) -> AttendanceRecord {
    let (_, bytes) = photo(photo_path);
    let record =
        tokio::task::block_in_place(|| camera.see(door.device, "Lab 3", &bytes, monday_at(hh, mm)));
    door.publish(Channel::Records, &Message::Record(record.clone()))
        .await;
    loop {
        if let Message::Ack(ack) = door.next(Channel::Acks).await
            && ack.records.contains(&record.id)
        {
            return record;
        }
    }
}

pub fn best(record: &AttendanceRecord) -> String {
    record.candidates[0].student.to_string()
}

pub fn path_of(relative: &str) -> String {
    let path = faces_dir().join(relative);
    let canonical = path
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    canonical.display().to_string()
}

/// Waits for the browser to finish a download into `dir` and returns the file's text.
pub async fn downloaded(dir: &Path) -> (PathBuf, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"));
        if let Some(file) = done {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.is_empty() {
                return (file, text);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no CSV downloaded into {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn go(b: &Browser, page: &str) {
    b.click(&format!("#nav a[data-page={page}]")).await;
    b.wait(
        &format!("the {page} page"),
        "return document.getElementById('main').dataset.page === arguments[0];",
        vec![json!(page)],
    )
    .await;
}

/// Marks the page so a later check can tell it was not reloaded.
pub async fn mark_page(b: &Browser) {
    b.js("window.rollcallNotReloaded = true;", vec![]).await;
}

pub async fn assert_not_reloaded(b: &Browser) {
    let v = b
        .js("return window.rollcallNotReloaded === true;", vec![])
        .await;
    assert_eq!(v, json!(true), "the page was reloaded");
}

/// Checks the current page at 375 px (no sideways scrolling, accessible), optionally
/// screenshots it there, and goes back to 1280, where it checks it is accessible too.
pub async fn at_phone_width(b: &Browser, page: &str, shot: Option<&str>) {
    if let Some(name) = shot {
        b.viewport(375, 812).await;
        b.screenshot(name).await;
    }
    b.assert_fits_and_accessible(page).await;
}

/// A screenshot of a long page: the window is made taller for it.
pub async fn tall_screenshot(b: &Browser, name: &str) {
    b.viewport(1280, 1400).await;
    b.screenshot(name).await;
    b.viewport(1280, 900).await;
}

pub async fn status_of(b: &Browser, student: &str) -> String {
    let v = b
        .js(
            "const r = document.querySelector(`tr[data-student=\"${arguments[0]}\"]`); \
             return r ? r.dataset.status : null;",
            vec![json!(student)],
        )
        .await;
    v.as_str().unwrap_or_default().to_owned()
}

pub async fn wait_status(b: &Browser, student: &str, status: &str) {
    b.wait(
        &format!("roster status {status}"),
        "return !!document.querySelector(`tr[data-student=\"${arguments[0]}\"][data-status=\"${arguments[1]}\"]`);",
        vec![json!(student), json!(status)],
    )
    .await;
}

pub async fn wait_count(b: &Browser, text: &str, badge: &str) {
    b.wait(
        &format!("queue count {text:?}"),
        "return document.getElementById('queue-count').textContent === arguments[0] \
            && document.getElementById('review-count').textContent === arguments[1];",
        vec![json!(text), json!(badge)],
    )
    .await;
}
