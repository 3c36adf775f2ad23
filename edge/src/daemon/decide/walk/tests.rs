//! Taking a walk-in with the people tests' fake recognizer: a frame's pixels say who is in it
//! and how well they are seen (`1`: a clear face, `51`: the same person turned away, `201`: a
//! face too small for the gate).

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

use super::*;
use crate::daemon::decide::people::tests::{Fake, frame};

const TURNED: u8 = 51;
const CLEAR: u8 = 1;
const TOO_SMALL: u8 = 201;

fn following(first: usize, most: usize, keep: usize) -> (Follow, QualityGate) {
    let rule = Follow { first, most, keep };
    (rule, QualityGate::default())
}

/// A camera showing `codes` frame after frame (the last one again once they run out).
fn camera(codes: &[u8], grabbed: &AtomicUsize) -> impl FnMut() -> Result<RgbImage, CameraError> {
    move || {
        let i = grabbed.fetch_add(1, Ordering::Relaxed);
        Ok(frame(&[codes[i.min(codes.len() - 1)]]))
    }
}

fn codes(walk: &Walk) -> Vec<u8> {
    walk.frames.iter().map(|f| f.get_pixel(0, 0).0[0]).collect()
}

#[test]
fn a_trigger_that_cannot_say_takes_the_burst_only() {
    let (rule, gate) = following(3, 20, 3);
    let take = Following {
        rule,
        spacing: Duration::ZERO,
        gate: &gate,
    };
    let grabbed = AtomicUsize::new(0);
    let walk = take
        .take(camera(&[CLEAR], &grabbed), &Fake, &Presence::Unknown)
        .unwrap();
    assert_eq!(
        (walk.taken, grabbed.into_inner(), walk.frames.len()),
        (3, 3, 3)
    );
    assert_eq!(
        walk.faces.len(),
        3,
        "each frame's faces, found as it was taken"
    );
}

#[test]
fn a_held_sensor_is_followed_to_the_cap_and_only_the_best_frames_are_kept() {
    let (rule, gate) = following(2, 8, 3);
    let take = Following {
        rule,
        spacing: Duration::ZERO,
        gate: &gate,
    };
    let (_sensor, level) = watch::channel(true);
    let seen = [
        TURNED, TOO_SMALL, TURNED, CLEAR, TURNED, CLEAR, TOO_SMALL, CLEAR, CLEAR,
    ];
    let grabbed = AtomicUsize::new(0);
    let walk = take
        .take(camera(&seen, &grabbed), &Fake, &Presence::Sensor(level))
        .unwrap();
    assert_eq!(
        (walk.taken, grabbed.into_inner()),
        (8, 8),
        "the cap, not the 9th"
    );
    assert_eq!(codes(&walk), [CLEAR, CLEAR, CLEAR], "frames 3, 5 and 7");
}

#[test]
fn following_ends_when_the_sensor_lets_go() {
    let (rule, gate) = following(2, 20, 5);
    let take = Following {
        rule,
        spacing: Duration::ZERO,
        gate: &gate,
    };
    let (sensor, level) = watch::channel(true);
    let grabbed = AtomicUsize::new(0);
    let mut frames = camera(&[TURNED, TURNED, TURNED, CLEAR], &grabbed);
    let grab = || {
        let f = frames();
        if grabbed.load(Ordering::Relaxed) == 4 {
            sensor.send_replace(false);
        }
        f
    };
    let walk = take.take(grab, &Fake, &Presence::Sensor(level)).unwrap();
    assert_eq!(walk.taken, 4);
    assert_eq!(
        codes(&walk),
        [TURNED, TURNED, TURNED, CLEAR],
        "in the order taken"
    );
}

#[test]
fn a_camera_failing_past_the_burst_ends_the_following_not_the_walk_in() {
    let (rule, gate) = following(2, 20, 5);
    let take = Following {
        rule,
        spacing: Duration::ZERO,
        gate: &gate,
    };
    let (_sensor, level) = watch::channel(true);
    let fail_at = |n: usize| {
        let grabbed = AtomicUsize::new(0);
        move || match grabbed.fetch_add(1, Ordering::Relaxed) {
            i if i == n => Err(CameraError::Device("unplugged".into())),
            _ => Ok(frame(&[CLEAR])),
        }
    };
    let presence = Presence::Sensor(level);
    let walk = take.take(fail_at(3), &Fake, &presence).unwrap();
    assert_eq!((walk.taken, walk.frames.len()), (3, 3));
    let err = take.take(fail_at(1), &Fake, &presence).unwrap_err();
    assert!(err.to_string().contains("unplugged"), "{err}");
}
