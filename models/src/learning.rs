//! When a face a door unit saw may become one of a student's gallery templates. Pure rules, no
//! I/O: the hub's `learn` gathers the evidence from the record and the store, and the doorway
//! benchmark (`examples/doorway`) learns over days by the same rules.
//!
//! Only two kinds of face are learned: one a teacher confirmed (approved or reassigned in
//! review) and a door unit's Confident capture very close to the student it named. Never an
//! unreviewed Uncertain one. Either must be near enough to the student's own templates to be
//! them, clearly farther from every other student the door compared it with, not a copy of a
//! template already held, and at most one a day per student. Only students an admin enrolled
//! learn: a first face is never taken from a door, so a week of mornings spreads
//! over the year's changes rather than one morning's light. And only a face the shipped door
//! grades good ([`good_enough`]): a template learned from a blurred or doubtful capture sits
//! where degraded strangers land (docs/ACCURACY.md, "Learning over days").

/// Distances in unit-embedding units, as the door units' thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    /// The face must lie at most this far from the student's nearest template.
    pub band: f32,
    /// Every other student must be at least this much farther than the student.
    pub margin: f32,
    /// Closer than this to a template already held, the face adds nothing.
    pub redundant: f32,
}

/// A face a teacher confirmed: as far as the door's Uncertain band (0.40).
pub const REVIEWED: Rules = Rules {
    band: 0.40,
    margin: 0.08,
    redundant: 0.04,
};

/// A Confident capture nobody looked at: well inside the door's Confident band (0.295).
pub const CONFIDENT: Rules = Rules {
    band: 0.22,
    margin: 0.08,
    redundant: 0.04,
};

/// Most learned templates a student keeps (enrolment photos are kept besides, always); past
/// it the oldest learned one goes.
pub const MAX_LEARNED: usize = 7;

/// At most one learned template per student in this long.
pub const SPACING_MS: i64 = 20 * 3_600_000;

/// The least chip sharpness (at a standard contrast) of a face that may be learned: the
/// shipped door's `weak_below_sharpness`.
pub const MIN_SHARPNESS: f32 = 30.0;

/// The least detector score of a face that may be learned: the shipped door's
/// `weak_below_score`.
pub const MIN_DETECTOR_SCORE: f32 = 0.99;

/// Whether a face with this sharpness and detector score is good enough to learn: what the
/// shipped door grades good. On the doorway benchmark, learning weak captures too let a
/// stranger be named on the third day; learning only good ones did not.
pub fn good_enough(sharpness: f32, detector_score: f32) -> bool {
    sharpness >= MIN_SHARPNESS && detector_score >= MIN_DETECTOR_SCORE
}

/// What is known about one face and the student it would be learned for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    /// Distance to the student's nearest template; `None` when they have none yet.
    pub own: Option<f32>,
    /// Distance to the nearest other student the door compared the face with, if any.
    pub other: Option<f32>,
    /// When the student last learned a template (Unix ms).
    pub last_learned_at: Option<i64>,
    pub now: i64,
}

/// Why a face is not learned.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum Skip {
    #[error("{own:.3} from the student's templates, beyond {band:.2}")]
    TooFar { own: f32, band: f32 },
    #[error("another student is {other:.3} away, within {margin:.2} of the student's {own:.3}")]
    NearOther { own: f32, other: f32, margin: f32 },
    #[error("{own:.3} from a template already held: nothing new")]
    Redundant { own: f32 },
    #[error("the student learned a template less than a day ago")]
    TooSoon,
    #[error("the student has no enrolment yet: only an admin enrols a first face")]
    NotEnrolled,
}

/// Whether a face with `e` may be learned under `r`.
pub fn judge(e: &Evidence, r: &Rules) -> Result<(), Skip> {
    if e.last_learned_at
        .is_some_and(|at| e.now.saturating_sub(at) < SPACING_MS)
    {
        return Err(Skip::TooSoon);
    }
    let own = e.own.ok_or(Skip::NotEnrolled)?;
    // NaN fails too: only a measured distance inside the band passes.
    if own.is_nan() || own > r.band {
        return Err(Skip::TooFar { own, band: r.band });
    }
    if own < r.redundant {
        return Err(Skip::Redundant { own });
    }
    match e.other {
        Some(other) if other < own + r.margin => Err(Skip::NearOther {
            own,
            other,
            margin: r.margin,
        }),
        _ => Ok(()),
    }
}

/// How many of `held` learned templates (oldest first) to drop before adding one.
pub fn surplus(held: usize) -> usize {
    (held + 1).saturating_sub(MAX_LEARNED)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    fn e(own: Option<f32>, other: Option<f32>) -> Evidence {
        Evidence {
            own,
            other,
            last_learned_at: None,
            now: NOW,
        }
    }

    #[test]
    fn a_face_near_its_student_and_clear_of_the_others_is_learned() {
        assert_eq!(judge(&e(Some(0.30), Some(0.45)), &REVIEWED), Ok(()));
        assert_eq!(judge(&e(Some(0.18), None), &CONFIDENT), Ok(()));
    }

    #[test]
    fn far_close_to_another_or_a_copy_is_not() {
        assert!(matches!(
            judge(&e(Some(0.30), None), &CONFIDENT),
            Err(Skip::TooFar { .. })
        ));
        assert!(matches!(
            judge(&e(Some(f32::NAN), None), &REVIEWED),
            Err(Skip::TooFar { .. })
        ));
        assert!(matches!(
            judge(&e(Some(0.30), Some(0.35)), &REVIEWED),
            Err(Skip::NearOther { .. })
        ));
        assert_eq!(
            judge(&e(Some(0.01), None), &REVIEWED),
            Err(Skip::Redundant { own: 0.01 })
        );
    }

    #[test]
    fn only_enrolled_students_learn() {
        assert_eq!(judge(&e(None, None), &REVIEWED), Err(Skip::NotEnrolled));
        assert_eq!(
            judge(&e(None, Some(0.9)), &CONFIDENT),
            Err(Skip::NotEnrolled)
        );
    }

    #[test]
    fn only_good_faces_are_good_enough() {
        assert!(good_enough(65.0, 0.999));
        assert!(!good_enough(20.0, 0.999), "blurred");
        assert!(!good_enough(65.0, 0.95), "doubtful");
        assert!(!good_enough(f32::NAN, 0.999));
    }

    #[test]
    fn one_a_day_and_the_oldest_go_past_the_cap() {
        let mut recent = e(Some(0.2), None);
        recent.last_learned_at = Some(NOW - 3_600_000);
        assert_eq!(judge(&recent, &REVIEWED), Err(Skip::TooSoon));
        recent.last_learned_at = Some(NOW - SPACING_MS);
        assert_eq!(judge(&recent, &REVIEWED), Ok(()));
        assert_eq!(surplus(0), 0);
        assert_eq!(surplus(MAX_LEARNED - 1), 0);
        assert_eq!(surplus(MAX_LEARNED), 1);
        assert_eq!(surplus(MAX_LEARNED + 2), 3);
    }
}
