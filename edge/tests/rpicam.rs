//! The Raspberry Pi camera source against `fake-rpicam`, a stand-in for `rpicam-vid` that
//! writes real MJPEG frames made from `shared/faces` and can die or stall on cue.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rollcall_e2e::faces::faces_dir;
use rollcall_e2e::process::binary;
use rollcall_edge::config::{Exposure, RpicamConfig};
use rollcall_edge::daemon::FrameSource;
use rollcall_edge::daemon::capture::camera_rpicam::RpicamSource;

/// A person with many photos: the frames then differ from one to the next.
const PERSON: &str = "Angelina_Jolie";

fn config(stall: Duration) -> RpicamConfig {
    RpicamConfig {
        program: binary("fake-rpicam").expect("fake-rpicam is built with the workspace"),
        width: 640,
        height: 480,
        fps: 20.0,
        exposure: Exposure::Sport,
        shutter: Some(Duration::from_millis(8)),
        stall,
    }
}

/// Sets the stand-in's photo folder and misbehaviour, read by the programs the test starts.
/// Every test here holds the returned guard for its whole run, so no two of them touch the
/// environment or start programs at the same time.
fn with_env(vars: &[(&str, Option<&str>)]) -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let photos: PathBuf = faces_dir().join("identities").join(PERSON);
    // SAFETY: only these tests run in this process, and they hold LOCK while they set the
    // variables and while their programs start, so nothing reads the environment meanwhile.
    unsafe {
        std::env::set_var("FAKE_RPICAM_DIR", photos);
        for (name, value) in vars {
            match value {
                Some(v) => std::env::set_var(name, v),
                None => std::env::remove_var(name),
            }
        }
    }
    guard
}

#[test]
fn frames_arrive_at_the_size_asked_for_and_each_grab_is_a_new_one() {
    let _env = with_env(&[
        ("FAKE_RPICAM_DIE_AFTER", None),
        ("FAKE_RPICAM_STALL_AFTER", None),
    ]);
    let mut camera = RpicamSource::open(&config(Duration::from_secs(3))).unwrap();
    let frames: Vec<_> = (0..5).map(|_| camera.grab().unwrap()).collect();
    for frame in &frames {
        assert_eq!(frame.dimensions(), (640, 480));
    }
    for pair in frames.windows(2) {
        assert_ne!(
            pair[0].as_raw(),
            pair[1].as_raw(),
            "a grab handed out the same frame"
        );
    }
    assert_eq!(camera.restarts(), 0);
}

#[test]
fn a_program_that_dies_is_started_again_and_frames_keep_coming() {
    let _env = with_env(&[
        ("FAKE_RPICAM_DIE_AFTER", Some("4")),
        ("FAKE_RPICAM_STALL_AFTER", None),
    ]);
    let mut camera = RpicamSource::open(&config(Duration::from_secs(3))).unwrap();
    for i in 0..12 {
        let frame = camera.grab().unwrap_or_else(|e| panic!("grab {i}: {e}"));
        assert_eq!(frame.width(), 640);
    }
    assert!(camera.restarts() >= 2, "restarts: {}", camera.restarts());
}

#[test]
fn a_program_that_stalls_is_killed_and_started_again() {
    let _env = with_env(&[
        ("FAKE_RPICAM_DIE_AFTER", None),
        ("FAKE_RPICAM_STALL_AFTER", Some("3")),
    ]);
    let mut camera = RpicamSource::open(&config(Duration::from_millis(400))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut frames, mut errors) = (0, Vec::new());
    while frames < 9 && Instant::now() < deadline {
        match camera.grab() {
            Ok(_) => frames += 1,
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert_eq!(frames, 9, "frames stopped coming; errors: {errors:?}");
    assert!(camera.restarts() >= 2, "restarts: {}", camera.restarts());
    for e in &errors {
        assert!(e.contains("sent no frame"), "{e}");
    }
}

#[test]
fn a_missing_program_is_a_clear_error_at_once() {
    let _env = with_env(&[]);
    let mut config = config(Duration::from_secs(3));
    config.program = "/nonexistent/rpicam-vid".into();
    let mut camera = RpicamSource::open(&config).unwrap();
    let started = Instant::now();
    let err = camera.grab().unwrap_err().to_string();
    assert!(
        err.contains("cannot start /nonexistent/rpicam-vid"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
