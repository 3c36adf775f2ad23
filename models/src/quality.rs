//! Quality figures for a detected face: size, sharpness, detector score, rough pose; and the
//! gate that decides whether a face is worth embedding.
//!
//! Owns: [`FaceQuality`] (what was measured), [`Pose`] (a landmark-only head-pose estimate),
//! [`sharpness`] (variance of the Laplacian) and [`QualityGate`]. It must not run networks or
//! alter images: every figure comes from the detector output and the aligned chip.
//!
//! Units and scales:
//! * sizes in source-image pixels: `inter_ocular_px` between the two eye landmarks,
//!   `box_px` the shorter side of the detector box;
//! * `sharpness` in grey levels² on the aligned chip at a standard contrast (see [`sharpness`]);
//! * `detector_score` passed through unchanged (RetinaFace: softmax face probability, 0..1);
//! * pose in degrees (see [`Pose`]).

mod gate;
mod measure;
mod pose;

pub use gate::{
    Grade, MAX_LANDMARK_DISAGREEMENT, MIN_CHIP_FACE_SCORE, PoseAxis, QualityGate, QualityIssue,
    SizeMeasure,
};
pub use measure::{FaceQuality, QualityInput, landmark_disagreement, sharpness};
pub use pose::Pose;
