//! The quality gate for a door unit's record, which a reviewer may add to a student's gallery
//! when reassigning it. A record carries fewer figures than a photo (eye distance, sharpness,
//! detector score, yaw), so only those are checked, against the same limits. The same figures
//! give the record's [`Grade`] for rules that weigh a face by it (a lesson's cards named
//! together, `crate::closed_set`).

use rollcall_models::quality::{Grade, PoseAxis, QualityGate, QualityIssue, SizeMeasure};
use rollcall_shared::FaceQuality;

/// The first limit the record's figures miss: score, eye distance, yaw, then sharpness.
pub fn check_record(gate: &QualityGate, q: &FaceQuality) -> Result<(), QualityIssue> {
    if q.detector_score < gate.min_detector_score {
        let (score, min) = (q.detector_score, gate.min_detector_score);
        return Err(QualityIssue::LowScore { score, min });
    }
    if q.face_px < gate.min_inter_ocular_px {
        return Err(QualityIssue::TooSmall {
            measure: SizeMeasure::InterOcular,
            px: q.face_px,
            min: gate.min_inter_ocular_px,
        });
    }
    if q.yaw_deg.abs() > gate.max_yaw_deg {
        return Err(QualityIssue::TurnedAway {
            axis: PoseAxis::Yaw,
            degrees: q.yaw_deg,
            max: gate.max_yaw_deg,
        });
    }
    if q.sharpness < gate.min_sharpness {
        let (sharpness, min) = (q.sharpness, gate.min_sharpness);
        return Err(QualityIssue::Blurry { sharpness, min });
    }
    Ok(())
}

/// The grade `gate` gives a record's face from its figures: `Out` for one too small or too
/// unsure a detection, `Unclear` for one turned away or blurred, else `Weak` or `Good` by its
/// sharpness and detector score, as the door grades a face ([`QualityGate::grade`]).
pub fn grade_record(gate: &QualityGate, q: &FaceQuality) -> Grade {
    let weak_below = |value: f32, limit: f32| value.is_nan() || value < limit;
    match check_record(gate, q) {
        Err(QualityIssue::TurnedAway { .. } | QualityIssue::Blurry { .. }) => Grade::Unclear,
        Err(_) => Grade::Out,
        Ok(()) if weak_below(q.sharpness, gate.weak_below_sharpness) => Grade::Weak,
        Ok(()) if weak_below(q.detector_score, gate.weak_below_score) => Grade::Weak,
        Ok(()) => Grade::Good,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quality(face_px: f32, yaw_deg: f32) -> FaceQuality {
        FaceQuality {
            face_px,
            sharpness: 90.0,
            detector_score: 0.98,
            yaw_deg,
            frames: 3,
        }
    }

    #[test]
    fn small_or_turned_faces_are_refused_with_their_figures() {
        let gate = QualityGate::default();
        check_record(&gate, &quality(40.0, 5.0)).unwrap();
        let small = check_record(&gate, &quality(10.0, 5.0)).unwrap_err();
        assert!(matches!(small, QualityIssue::TooSmall { px: 10.0, .. }));
        let turned = check_record(&gate, &quality(40.0, -60.0)).unwrap_err();
        assert!(matches!(
            turned,
            QualityIssue::TurnedAway { degrees: -60.0, .. }
        ));
    }

    #[test]
    fn a_records_grade_is_the_doors_from_its_figures() {
        let gate = QualityGate::door();
        let sure = FaceQuality {
            detector_score: 0.999,
            ..quality(30.0, 5.0)
        };
        assert_eq!(grade_record(&gate, &sure), Grade::Good);
        assert_eq!(
            grade_record(&gate, &quality(30.0, 5.0)),
            Grade::Weak,
            "score 0.98"
        );
        let soft = FaceQuality {
            sharpness: 20.0,
            ..sure
        };
        assert_eq!(grade_record(&gate, &soft), Grade::Weak);
        let turned = FaceQuality {
            yaw_deg: 50.0,
            ..sure
        };
        assert_eq!(grade_record(&gate, &turned), Grade::Unclear);
        assert_eq!(grade_record(&gate, &quality(8.0, 5.0)), Grade::Out);
        let nan = FaceQuality {
            sharpness: f32::NAN,
            ..sure
        };
        assert_eq!(
            grade_record(&gate, &nan),
            Grade::Weak,
            "never better than known"
        );
    }
}
