//! The quality gate: minimum size, sharpness and score, maximum pose angles, and the typed
//! reason a face was turned down; and the [`Grade`] of a face, what its evidence is worth.
//!
//! The defaults are permissive starting points, not calibrated values: tune them on frames from
//! the real cameras (a face refused costs a retry on the next frame, a face accepted costs a
//! possible mismatch).

use serde::{Deserialize, Serialize};

use super::measure::FaceQuality;

/// Default [`QualityGate::max_landmark_disagreement`], measured on the developer face set
/// (docs/ACCURACY.md).
pub const MAX_LANDMARK_DISAGREEMENT: f32 = 0.35;

/// Default [`QualityGate::min_chip_face_score`], measured on the developer face set
/// (docs/ACCURACY.md).
pub const MIN_CHIP_FACE_SCORE: f32 = 0.9;

/// Which size figure failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeMeasure {
    /// Shorter side of the detector box.
    Box,
    /// Distance between the eye landmarks.
    InterOcular,
}

/// Which pose angle failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoseAxis {
    /// Left/right turn.
    Yaw,
    /// Up/down tilt.
    Pitch,
    /// In-plane tilt.
    Roll,
}

/// Why a face was refused; each variant carries the measured value and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum QualityIssue {
    /// The landmarks cannot be a face: no pose could be estimated, or RetinaFace and dlib's
    /// shape predictor disagree on where the eyes are.
    #[error("landmarks do not describe an upright human face")]
    BadLandmarks,
    /// The detector is not sure this is a face (in the frame, or found again in the aligned chip).
    #[error("detector score {score:.3} below {min:.3}")]
    LowScore { score: f32, min: f32 },
    /// Too few pixels on the face.
    #[error("face too small: {measure:?} {px:.1} px < {min:.1} px")]
    TooSmall {
        measure: SizeMeasure,
        px: f32,
        min: f32,
    },
    /// Head turned too far for a reliable embedding.
    #[error("face turned away: {axis:?} {degrees:.1}° beyond ±{max:.1}°")]
    TurnedAway {
        axis: PoseAxis,
        degrees: f32,
        max: f32,
    },
    /// Motion or focus blur.
    #[error("face blurry: sharpness {sharpness:.1} < {min:.1}")]
    Blurry { sharpness: f32, min: f32 },
}

/// What a face's evidence is worth, best first: the door decides a person on the faces of
/// their best grade, with that grade's confident band (`rollcall_models::burst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// Passes the gate, sharp and surely a face: the full confident band.
    Good,
    /// Passes the gate, but blurred or a doubtful detection ([`QualityGate::weak_below_sharpness`],
    /// [`QualityGate::weak_below_score`]): a narrower band, because under doorway blur genuine
    /// faces drift away and strangers drift closer (docs/ACCURACY.md, "The door at a doorway").
    Weak,
    /// Turned away by the gate only for its pose or blur: somebody is there, but the face
    /// never names them by itself (Uncertain at most).
    Unclear,
    /// Too small, not a face, bad landmarks: left out.
    Out,
}

/// Limits a face must meet before it is embedded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityGate {
    /// Minimum detector score (0 disables; the detector has its own threshold).
    pub min_detector_score: f32,
    /// Minimum shorter side of the detector box, px.
    pub min_box_px: f32,
    /// Minimum eye-to-eye distance, px.
    pub min_inter_ocular_px: f32,
    /// Minimum variance of the Laplacian on the chip, grey levels².
    pub min_sharpness: f32,
    /// Largest |yaw|, degrees.
    pub max_yaw_deg: f32,
    /// Largest |pitch|, degrees.
    pub max_pitch_deg: f32,
    /// Largest |roll|, degrees (alignment removes roll, but landmarks degrade with it).
    pub max_roll_deg: f32,
    /// Largest disagreement between RetinaFace's and dlib's eye positions, in eye distances
    /// (see [`FaceQuality::landmark_disagreement`]); beyond it the landmarks are refused as
    /// [`QualityIssue::BadLandmarks`]. Faces that are not human faces (animals) fail it.
    pub max_landmark_disagreement: f32,
    /// Minimum detector score for the face found again in its own aligned chip (see
    /// [`FaceQuality::chip_face_score`]); below it: [`QualityIssue::LowScore`].
    pub min_chip_face_score: f32,
    /// A face passing the gate with less sharpness than this is [`Grade::Weak`] (0: none is).
    pub weak_below_sharpness: f32,
    /// A face passing the gate with a lower detector score than this is [`Grade::Weak`]
    /// (0: none is).
    pub weak_below_score: f32,
}

impl Default for QualityGate {
    fn default() -> Self {
        QualityGate {
            min_detector_score: 0.0,
            min_box_px: 40.0,
            min_inter_ocular_px: 18.0,
            min_sharpness: 0.0,
            max_yaw_deg: 35.0,
            max_pitch_deg: 30.0,
            max_roll_deg: 40.0,
            max_landmark_disagreement: MAX_LANDMARK_DISAGREEMENT,
            min_chip_face_score: MIN_CHIP_FACE_SCORE,
            weak_below_sharpness: 0.0,
            weak_below_score: 0.0,
        }
    }
}

impl QualityGate {
    /// The limits for enrolment photos: the default gate with the pose limits widened to where
    /// embeddings stop serving. On the developer face set, half the faces turned 45–60° embed
    /// too far from the person's other photos, against 6–15 % up to 45° (docs/ACCURACY.md,
    /// `examples/enrolment_rule.rs`); refusing a photo costs the admin a new one.
    pub fn enrolment() -> Self {
        QualityGate {
            max_yaw_deg: 45.0,
            max_pitch_deg: 35.0,
            ..QualityGate::default()
        }
    }

    /// The door's shipped gate (`[quality]` of the door unit's default configuration): faces
    /// from 26 px across, a sure detection, weak below sharpness 30 or score 0.99. The hub
    /// judges a class photo's faces by it too.
    pub fn door() -> Self {
        QualityGate {
            min_detector_score: 0.9,
            min_box_px: 26.0,
            min_inter_ocular_px: 12.0,
            weak_below_sharpness: 30.0,
            weak_below_score: 0.99,
            ..QualityGate::default()
        }
    }

    /// The first problem found, checked in the order of [`QualityGate::issues`].
    pub fn check(&self, q: &FaceQuality) -> Result<(), QualityIssue> {
        match self.issues(q).first() {
            Some(issue) => Err(*issue),
            None => Ok(()),
        }
    }

    /// The face's [`Grade`]: `Out` on any issue but pose and blur, `Unclear` on those alone,
    /// else `Weak` or `Good` by its sharpness and detector score.
    pub fn grade(&self, q: &FaceQuality) -> Grade {
        let issues = self.issues(q);
        let unclear = |issue: &QualityIssue| {
            matches!(
                issue,
                QualityIssue::TurnedAway { .. } | QualityIssue::Blurry { .. }
            )
        };
        if !issues.iter().all(unclear) {
            Grade::Out
        } else if !issues.is_empty() {
            Grade::Unclear
        } else if below(q.sharpness, self.weak_below_sharpness)
            || below(q.detector_score, self.weak_below_score)
        {
            Grade::Weak
        } else {
            Grade::Good
        }
    }

    /// Every problem: landmarks, score, size (box, eyes), pose (yaw, pitch, roll), sharpness.
    pub fn issues(&self, q: &FaceQuality) -> Vec<QualityIssue> {
        let mut found = Vec::new();
        let disagree = q
            .landmark_disagreement
            .is_some_and(|d| d.is_nan() || d > self.max_landmark_disagreement);
        if q.pose.is_none() || disagree {
            found.push(QualityIssue::BadLandmarks);
        }
        found.extend(self.score_issue(q));
        found.extend(self.size_issues(q));
        found.extend(self.pose_issues(q));
        found.extend(self.sharpness_issue(q));
        found
    }

    fn score_issue(&self, q: &FaceQuality) -> Option<QualityIssue> {
        let (score, min) = (q.detector_score, self.min_detector_score);
        if below(score, min) {
            return Some(QualityIssue::LowScore { score, min });
        }
        let (score, min) = (q.chip_face_score?, self.min_chip_face_score);
        below(score, min).then_some(QualityIssue::LowScore { score, min })
    }

    fn size_issues(&self, q: &FaceQuality) -> impl Iterator<Item = QualityIssue> {
        let checks = [
            (SizeMeasure::Box, q.box_px, self.min_box_px),
            (
                SizeMeasure::InterOcular,
                q.inter_ocular_px,
                self.min_inter_ocular_px,
            ),
        ];
        checks
            .into_iter()
            .filter(|&(_, px, min)| below(px, min))
            .map(|(measure, px, min)| QualityIssue::TooSmall { measure, px, min })
    }

    fn pose_issues(&self, q: &FaceQuality) -> impl Iterator<Item = QualityIssue> {
        let checks = q.pose.map(|p| {
            [
                (PoseAxis::Yaw, p.yaw_deg, self.max_yaw_deg),
                (PoseAxis::Pitch, p.pitch_deg, self.max_pitch_deg),
                (PoseAxis::Roll, p.roll_deg, self.max_roll_deg),
            ]
        });
        checks
            .into_iter()
            .flatten()
            .filter(|&(_, degrees, max)| degrees.is_nan() || degrees.abs() > max)
            .map(|(axis, degrees, max)| QualityIssue::TurnedAway { axis, degrees, max })
    }

    fn sharpness_issue(&self, q: &FaceQuality) -> Option<QualityIssue> {
        let (sharpness, min) = (q.sharpness, self.min_sharpness);
        below(sharpness, min).then_some(QualityIssue::Blurry { sharpness, min })
    }
}

/// `value < min`, counting NaN as failing.
fn below(value: f32, min: f32) -> bool {
    value.is_nan() || value < min
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::pose::Pose;

    fn good() -> FaceQuality {
        FaceQuality {
            inter_ocular_px: 40.0,
            box_px: 100.0,
            sharpness: 300.0,
            detector_score: 0.99,
            pose: Some(Pose {
                yaw_deg: 5.0,
                pitch_deg: -3.0,
                roll_deg: 2.0,
            }),
            landmark_disagreement: Some(0.05),
            chip_face_score: Some(0.99),
        }
    }

    #[test]
    fn a_good_face_passes() {
        assert_eq!(QualityGate::default().check(&good()), Ok(()));
    }

    #[test]
    fn each_limit_names_its_reason() {
        let gate = QualityGate {
            min_sharpness: 100.0,
            min_detector_score: 0.5,
            ..QualityGate::default()
        };
        let small = FaceQuality {
            box_px: 30.0,
            ..good()
        };
        let expected = QualityIssue::TooSmall {
            measure: SizeMeasure::Box,
            px: 30.0,
            min: 40.0,
        };
        assert_eq!(gate.check(&small), Err(expected));
        let blurry = FaceQuality {
            sharpness: 20.0,
            ..good()
        };
        assert_eq!(
            gate.check(&blurry),
            Err(QualityIssue::Blurry {
                sharpness: 20.0,
                min: 100.0
            })
        );
        let turned = FaceQuality {
            pose: Some(Pose {
                yaw_deg: -50.0,
                ..good().pose.unwrap()
            }),
            ..good()
        };
        let expected = QualityIssue::TurnedAway {
            axis: PoseAxis::Yaw,
            degrees: -50.0,
            max: 35.0,
        };
        assert_eq!(gate.check(&turned), Err(expected));
        let doubtful = FaceQuality {
            detector_score: 0.2,
            ..good()
        };
        assert!(matches!(
            gate.check(&doubtful),
            Err(QualityIssue::LowScore { .. })
        ));
        let no_pose = FaceQuality {
            pose: None,
            ..good()
        };
        assert_eq!(gate.check(&no_pose), Err(QualityIssue::BadLandmarks));
        let dog = FaceQuality {
            landmark_disagreement: Some(0.9),
            ..good()
        };
        assert_eq!(gate.check(&dog), Err(QualityIssue::BadLandmarks));
        let not_measured = FaceQuality {
            landmark_disagreement: None,
            ..good()
        };
        assert_eq!(gate.check(&not_measured), Ok(()));
        let not_found_again = FaceQuality {
            chip_face_score: Some(0.7),
            ..good()
        };
        let expected = QualityIssue::LowScore {
            score: 0.7,
            min: 0.9,
        };
        assert_eq!(gate.check(&not_found_again), Err(expected));
    }

    #[test]
    fn issues_lists_everything_and_nan_fails() {
        let bad = FaceQuality {
            inter_ocular_px: 5.0,
            sharpness: f32::NAN,
            ..good()
        };
        let gate = QualityGate {
            min_sharpness: 10.0,
            ..QualityGate::default()
        };
        let issues = gate.issues(&bad);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(
            issues[0].to_string().contains("InterOcular"),
            "{}",
            issues[0]
        );
    }

    #[test]
    fn grades_from_good_to_out() {
        let gate = QualityGate {
            min_sharpness: 5.0,
            weak_below_sharpness: 15.0,
            weak_below_score: 0.99,
            ..QualityGate::default()
        };
        assert_eq!(gate.grade(&good()), Grade::Good);
        let soft = FaceQuality {
            sharpness: 12.0,
            ..good()
        };
        assert_eq!(gate.grade(&soft), Grade::Weak);
        let unsure = FaceQuality {
            detector_score: 0.95,
            ..good()
        };
        assert_eq!(gate.grade(&unsure), Grade::Weak);
        let smeared = FaceQuality {
            sharpness: 3.0,
            ..good()
        };
        assert_eq!(gate.grade(&smeared), Grade::Unclear);
        let turned_and_smeared = FaceQuality {
            pose: Some(Pose {
                yaw_deg: 50.0,
                ..good().pose.unwrap()
            }),
            ..smeared
        };
        assert_eq!(gate.grade(&turned_and_smeared), Grade::Unclear);
        let small_and_turned = FaceQuality {
            inter_ocular_px: 5.0,
            ..turned_and_smeared
        };
        assert_eq!(gate.grade(&small_and_turned), Grade::Out);
        let nan = FaceQuality {
            sharpness: f32::NAN,
            ..good()
        };
        assert_eq!(gate.grade(&nan), Grade::Unclear);
        assert!(Grade::Good < Grade::Weak && Grade::Weak < Grade::Unclear);
        assert_eq!(
            QualityGate::default().grade(&soft),
            Grade::Good,
            "off by default"
        );
    }
}
