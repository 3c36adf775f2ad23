//! A rough head pose from the five landmarks alone, good enough to gate on, not to measure.
//!
//! Model: eyes and mouth corners lie on one plane; the nose tip sits `D` in front of it with
//! `D ≈ 0.5 ×` the inter-ocular distance (generic 3-D face models give 0.43–0.55). After undoing
//! the roll, a head turned by yaw `θ` moves the nose sideways by `D·sin θ` while the eye gap
//! shrinks by `cos θ`, so `offset / eye gap = 0.5·tan θ`. Pitch `φ` moves the nose along the
//! eye→mouth axis: `ratio = r₀ − (D / H)·tan φ`, with `H` the eye-to-mouth height and
//! `r₀ = 0.531` the frontal ratio of the dlib template. Expect ±10° near frontal; beyond
//! about 45° the detector's landmarks themselves stop being reliable.

use serde::{Deserialize, Serialize};

use crate::align::{Landmarks, Point};

/// Nose-tip depth in front of the eye/mouth plane, as a fraction of the eye distance.
const NOSE_DEPTH_PER_EYE_GAP: f32 = 0.5;

/// Nose height as a fraction of the eye→mouth height in a frontal face (dlib template:
/// eyes at y 46.60, nose 76.56, mouth 103.02).
const FRONTAL_NOSE_RATIO: f32 = (76.56 - 46.60) / (103.02 - 46.60);

/// Below this many pixels the eye gap or the eye-to-mouth height make no face.
const MIN_EXTENT_PX: f32 = 1e-3;

/// Head pose in degrees, image-based signs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// Left/right turn; positive when the nose points towards the image's right side (the
    /// subject turned to their own left).
    pub yaw_deg: f32,
    /// Up/down tilt; positive when the nose rises towards the eyes (chin up, looking up).
    pub pitch_deg: f32,
    /// In-plane tilt of the eye line; positive when the image-right eye is lower (clockwise).
    pub roll_deg: f32,
}

impl Pose {
    /// Estimates the pose, or `None` when the landmarks cannot describe an upright-ish face.
    pub fn from_landmarks(landmarks: &Landmarks) -> Option<Pose> {
        if !landmarks.iter().flatten().all(|v| v.is_finite()) {
            return None;
        }
        let [le, re, nose, lm, rm] = *landmarks;
        let eye_mid = midpoint(le, re);
        let eye_axis = sub(re, le);
        let eye_gap = eye_axis[0].hypot(eye_axis[1]);
        if eye_gap < MIN_EXTENT_PX {
            return None;
        }
        let across = [eye_axis[0] / eye_gap, eye_axis[1] / eye_gap];
        let down = [-across[1], across[0]];
        let height = dot(sub(midpoint(lm, rm), eye_mid), down);
        if height < MIN_EXTENT_PX {
            return None;
        }
        let nose_rel = sub(nose, eye_mid);
        let sideways = dot(nose_rel, across) / eye_gap;
        let drop = dot(nose_rel, down) / height;
        let depth = NOSE_DEPTH_PER_EYE_GAP * eye_gap;
        Some(Pose {
            yaw_deg: (sideways / NOSE_DEPTH_PER_EYE_GAP).atan().to_degrees(),
            pitch_deg: ((FRONTAL_NOSE_RATIO - drop) * height / depth)
                .atan()
                .to_degrees(),
            roll_deg: eye_axis[1].atan2(eye_axis[0]).to_degrees(),
        })
    }
}

fn midpoint(a: Point, b: Point) -> Point {
    [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
}

fn sub(a: Point, b: Point) -> Point {
    [a[0] - b[0], a[1] - b[1]]
}

fn dot(a: Point, b: Point) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::{Similarity, Template};

    const FRONTAL: Landmarks = Template::DLIB_150.points;

    fn with_nose(dx: f32, dy: f32) -> Landmarks {
        let mut l = FRONTAL;
        l[2] = [l[2][0] + dx, l[2][1] + dy];
        l
    }

    #[test]
    fn frontal_template_is_straight_ahead() {
        let p = Pose::from_landmarks(&FRONTAL).unwrap();
        assert!(
            p.yaw_deg.abs() < 0.1 && p.pitch_deg.abs() < 0.1 && p.roll_deg.abs() < 0.1,
            "{p:?}"
        );
    }

    #[test]
    fn nose_offset_gives_yaw_sign_and_size() {
        let right = Pose::from_landmarks(&with_nose(10.0, 0.0)).unwrap();
        let left = Pose::from_landmarks(&with_nose(-10.0, 0.0)).unwrap();
        assert!(
            right.yaw_deg > 15.0 && left.yaw_deg < -15.0,
            "{right:?} {left:?}"
        );
        assert!((right.yaw_deg + left.yaw_deg).abs() < 0.2);
        // tan θ = 2·(26.5 / 52.93) ≈ 1 → about 45°.
        let far = Pose::from_landmarks(&with_nose(26.465, 0.0)).unwrap();
        assert!((far.yaw_deg - 45.0).abs() < 0.5, "{far:?}");
    }

    #[test]
    fn nose_height_gives_pitch_sign() {
        let up = Pose::from_landmarks(&with_nose(0.0, -8.0)).unwrap();
        let down = Pose::from_landmarks(&with_nose(0.0, 8.0)).unwrap();
        assert!(
            up.pitch_deg > 10.0 && down.pitch_deg < -10.0,
            "{up:?} {down:?}"
        );
        assert!(up.yaw_deg.abs() < 0.1);
    }

    #[test]
    fn rotation_shows_as_roll_only() {
        let turn = Similarity::new(2.0, 20f32.to_radians(), [300.0, -40.0]).unwrap();
        let p = Pose::from_landmarks(&FRONTAL.map(|q| turn.apply(q))).unwrap();
        assert!((p.roll_deg - 20.0).abs() < 0.01, "{p:?}");
        assert!(p.yaw_deg.abs() < 0.1 && p.pitch_deg.abs() < 0.1, "{p:?}");
    }

    #[test]
    fn impossible_landmarks_have_no_pose() {
        assert_eq!(Pose::from_landmarks(&[[5.0, 5.0]; 5]), None);
        let mut upside_down = FRONTAL;
        upside_down[3][1] = 10.0;
        upside_down[4][1] = 10.0;
        assert_eq!(Pose::from_landmarks(&upside_down), None);
        let mut nan = FRONTAL;
        nan[0][0] = f32::NAN;
        assert_eq!(Pose::from_landmarks(&nan), None);
    }
}
