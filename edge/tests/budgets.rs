//! Measurements for docs/EDGE.md, not pass/fail checks on a shared CI machine (hence
//! `#[ignore]`): resident memory with a 2,000-student gallery and trigger → committed latency
//! of a 3-frame burst with one face. Run with
//! `cargo test -p rollcall-edge --test budgets -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::hub::{Hub, enrol};
use common::{Daemon, config, outbox_depth, photos_of, replay_dir, wait_for};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::*;

const STUDENTS: usize = 2_000;
const EMBEDDINGS_EACH: usize = 5;

/// The enrolled person plus `STUDENTS - 1` synthetic students of `EMBEDDINGS_EACH` embeddings.
fn big_gallery(real: GalleryUpdate) -> GalleryUpdate {
    let mut state = GalleryState::empty(real.model.clone());
    state.version = real.version;
    for e in real.upserts {
        state.entries.insert(e.student, e);
    }
    let mut seed = 0x9E37_79B9_u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed as f32 / u32::MAX as f32 - 0.5) * 0.2
    };
    while state.entries.len() < STUDENTS {
        let embeddings = (0..EMBEDDINGS_EACH)
            .map(|_| Embedding(std::array::from_fn(|_| next())))
            .collect();
        let student = StudentId::random();
        state.entries.insert(
            student,
            GalleryEntry {
                student,
                classes: vec![ClassId::random()],
                embeddings,
            },
        );
    }
    GalleryUpdate::snapshot(&state)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run by hand"]
async fn memory_and_latency_with_a_2000_student_gallery() {
    let broker = Mosquitto::start().unwrap();
    let photos = photos_of("Abdullah_Gul");
    let (probe, enrolment) = photos.split_last().unwrap();
    let gallery = big_gallery(enrol(&[("Abdullah_Gul", enrolment.to_vec())]).update);
    let hub = Hub::start(broker.addr(), Some(gallery));
    let replay = replay_dir(std::slice::from_ref(probe));
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(
        config(data.path(), replay.path(), broker.addr().port(), &[]),
        None,
    );
    wait_for("gallery", Duration::from_secs(120), || {
        hub.seen(|s| {
            s.statuses
                .iter()
                .any(|st| st.gallery_version == GalleryVersion(1))
        })
    })
    .await;
    let mut latencies = Vec::new();
    for i in 0..6 {
        let started = Instant::now();
        daemon.trigger().await;
        wait_for("committed", Duration::from_secs(30), || {
            outbox_depth(data.path()) > 0 || hub.seen(|s| s.records().len()) > i
        })
        .await;
        latencies.push(started.elapsed().as_millis());
        wait_for("acked", Duration::from_secs(30), || {
            outbox_depth(data.path()) == 0
        })
        .await;
    }
    let rss = rss_mib();
    daemon.stop().await;
    println!("gallery: {STUDENTS} students × {EMBEDDINGS_EACH} embeddings");
    println!("trigger → committed (3 frames, one face), ms: {latencies:?}");
    println!(
        "resident memory of the test process (daemon + test hub + gallery copies): {rss:.0} MiB"
    );
}
