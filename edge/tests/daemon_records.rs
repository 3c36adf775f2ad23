//! The whole pipeline on replayed real photos against a real Mosquitto: an enrolled person
//! yields a Confident record naming them, a stranger an Unknown one, and one burst never
//! counts a person twice; the status light shows both. A school that keeps no unknown faces
//! gets a count of them instead. A face seen only after the burst is marked while the sensor
//! holds.

mod common;

use std::time::Duration;

use common::hub::{self, Hub, enrol};
use common::{Daemon, config, outbox_depth, photos_of, replay_dir, school_zone, wait_for};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::{ClockSync, Decision, GalleryVersion, UnknownFaces};

const ENROLLED: &str = "Abdullah_Gul";
const ALSO_ENROLLED: &str = "Aaron_Peirsol";
const STRANGER: &str = "Abdoulaye_Wade";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_face_is_confident_and_a_stranger_unknown() {
    let broker = Mosquitto::start().expect("mosquitto");
    let gul = photos_of(ENROLLED);
    let peirsol = photos_of(ALSO_ENROLLED);
    let (probe, enrolment_photos) = gul.split_last().unwrap();
    let enrolment = enrol(&[
        (ENROLLED, enrolment_photos.to_vec()),
        (ALSO_ENROLLED, peirsol[1..].to_vec()),
    ]);
    let hub = Hub::start(broker.addr(), Some(enrolment.update.clone()));

    // frames of one burst: the enrolled person, the stranger, the enrolled person again
    let stranger = photos_of(STRANGER)[0].clone();
    let replay = replay_dir(&[probe.clone(), stranger]);
    let data = tempfile::tempdir().unwrap();
    let mut config = config(data.path(), replay.path(), broker.addr().port(), &[]);
    // Liveness is off by default (LIVENESS_BY_DEFAULT); this door turns it on, so the real
    // networks judge the real faces it marks.
    config.liveness.enabled = true;
    let daemon = Daemon::start(config, None);

    wait_for("gallery v1 in a heartbeat", Duration::from_secs(60), || {
        hub.seen(|s| {
            s.statuses
                .iter()
                .any(|st| st.gallery_version == GalleryVersion(1))
        })
    })
    .await;
    assert!(hub.seen(|s| {
        s.requests
            .first()
            .is_some_and(|r| r.have == GalleryVersion(0))
    }));
    assert_eq!(
        school_zone(data.path()).as_deref(),
        Some(hub::SCHOOL_ZONE),
        "the hub's time zone is kept on disk before the gallery applies"
    );
    daemon.trigger().await;
    wait_for("two records", Duration::from_secs(60), || {
        hub.seen(|s| s.records().len() >= 2)
    })
    .await;
    wait_for("outbox drained", Duration::from_secs(20), || {
        outbox_depth(data.path()) == 0
    })
    .await;
    let lamps = daemon.lamps.clone();
    daemon.stop().await;

    // The status light flashed green (one beep) for the mark and amber for the stranger, and
    // is off once the daemon has stopped.
    let shown = lamps.shown.lock().unwrap().clone();
    assert!(shown.iter().any(|l| l.green && l.buzzer), "{shown:?}");
    assert!(shown.iter().any(|l| l.amber && !l.green), "{shown:?}");
    assert!(
        shown.iter().all(|l| !l.red),
        "no trouble while connected: {shown:?}"
    );
    assert_eq!(shown.last().copied(), Some(Default::default()));

    let records = hub.seen(|s| s.records());
    assert_eq!(
        records.len(),
        2,
        "one record per person, not per frame: {records:#?}"
    );
    let known = records
        .iter()
        .find(|r| r.decision == Decision::Confident)
        .expect("a Confident record");
    assert_eq!(known.candidates[0].student, enrolment.students[ENROLLED]);
    assert_eq!(
        known.quality.frames, 2,
        "the two frames of the enrolled person were combined"
    );
    assert!(
        known.thumbnail.is_none(),
        "Confident records carry no thumbnail"
    );
    // The real networks judged the real face of the person the door marked; nobody else is
    // judged.
    assert_eq!(
        known.liveness.map(|l| l.live),
        Some(true),
        "{:?}",
        known.liveness
    );
    let unknown = records
        .iter()
        .find(|r| r.decision == Decision::Unknown)
        .expect("an Unknown record");
    assert_eq!(unknown.quality.frames, 1);
    assert_eq!(
        unknown.liveness, None,
        "only a face the door would mark is judged"
    );
    assert!(
        unknown
            .thumbnail
            .as_ref()
            .is_some_and(|t| t.validate().is_ok()),
        "Unknown records carry a thumbnail"
    );
    for r in &records {
        assert_eq!(
            (r.gallery_version, r.room.as_str()),
            (GalleryVersion(1), "Lab 3")
        );
        assert_eq!(r.id.0.get_version_num(), 7);
        assert_eq!(
            r.clock,
            ClockSync::Synchronised,
            "stamped with what the clock check found"
        );
    }
    eprintln!(
        "distances: enrolled {:.3}, stranger best {:.3}; liveness of the enrolled {:?}",
        known.candidates[0].distance,
        unknown.candidates.first().map_or(f32::NAN, |c| c.distance),
        known.liveness
    );
}

/// When the school keeps no unknown faces, the stranger of the same burst leaves nothing but a
/// count: no record is published or written to the outbox, the heartbeat says one face was
/// discarded, and the enrolled person is marked as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_that_keeps_no_unknown_faces_gets_only_a_count_of_them() {
    let broker = Mosquitto::start().expect("mosquitto");
    let gul = photos_of(ENROLLED);
    let (probe, enrolment_photos) = gul.split_last().unwrap();
    let enrolment = enrol(&[(ENROLLED, enrolment_photos.to_vec())]);
    let gallery = Some(enrolment.update.clone());
    let hub = Hub::start_with(broker.addr(), gallery, UnknownFaces::Discard);

    let stranger = photos_of(STRANGER)[0].clone();
    let replay = replay_dir(&[probe.clone(), stranger]);
    let data = tempfile::tempdir().unwrap();
    let config = config(data.path(), replay.path(), broker.addr().port(), &[]);
    let daemon = Daemon::start(config, None);
    wait_for("gallery v1 in a heartbeat", Duration::from_secs(60), || {
        hub.seen(|s| {
            s.statuses
                .iter()
                .any(|st| st.gallery_version == GalleryVersion(1))
        })
    })
    .await;
    daemon.trigger().await;
    wait_for(
        "a discarded face in a heartbeat",
        Duration::from_secs(60),
        || hub.seen(|s| s.statuses.iter().any(|st| st.unknown_discarded == 1)),
    )
    .await;
    wait_for("outbox drained", Duration::from_secs(20), || {
        outbox_depth(data.path()) == 0
    })
    .await;
    daemon.stop().await;

    let records = hub.seen(|s| s.records());
    let decisions: Vec<_> = records.iter().map(|r| r.decision).collect();
    assert_eq!(decisions, [Decision::Confident], "{records:#?}");
    assert_eq!(
        records[0].candidates[0].student,
        enrolment.students[ENROLLED]
    );
}

/// The burst's frames see nobody (a child still turning the corner); the sensor holds, the
/// door follows the walk-in, and the face that comes after the burst is marked, from the best
/// frames kept and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_seen_only_after_the_burst_is_marked_while_the_sensor_holds() {
    let broker = Mosquitto::start().expect("mosquitto");
    let gul = photos_of(ENROLLED);
    let (probe, enrolment_photos) = gul.split_last().unwrap();
    let enrolment = enrol(&[(ENROLLED, enrolment_photos.to_vec())]);
    let hub = Hub::start(broker.addr(), Some(enrolment.update.clone()));
    let nobody = rollcall_e2e::faces::faces_dir().join("negatives/dlib_test_dog.jpg");
    let replay = replay_dir(&[nobody.clone(), nobody.clone(), nobody, probe.clone()]);
    let data = tempfile::tempdir().unwrap();
    let mut config = config(data.path(), replay.path(), broker.addr().port(), &[]);
    config.burst.spacing = Duration::from_millis(100);
    config.burst.follow = Duration::from_secs(3);
    config.burst.keep = Some(2);
    let daemon = Daemon::start(config, None);
    wait_for("gallery v1 in a heartbeat", Duration::from_secs(60), || {
        hub.seen(|s| {
            s.statuses
                .iter()
                .any(|st| st.gallery_version == GalleryVersion(1))
        })
    })
    .await;
    daemon.trigger_holding(Some(Duration::from_secs(4))).await;
    wait_for("a record", Duration::from_secs(60), || {
        hub.seen(|s| !s.records().is_empty())
    })
    .await;
    wait_for("outbox drained", Duration::from_secs(20), || {
        outbox_depth(data.path()) == 0
    })
    .await;
    daemon.stop().await;

    let records = hub.seen(|s| s.records());
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].decision, Decision::Confident);
    assert_eq!(
        records[0].candidates[0].student,
        enrolment.students[ENROLLED]
    );
    assert!(
        records[0].quality.frames <= 2,
        "decided from the 2 best frames kept: {}",
        records[0].quality.frames
    );
}
