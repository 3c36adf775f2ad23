//! Turning a search result into a decision: confident, uncertain (ask a human / try another
//! frame) or unknown.
//!
//! Rules, in order:
//! 1. best distance ≤ the confident band → [`Decision::Confident`] (the band is `confident`, or
//!    `confident_weak` for a face of [`Grade::Weak`]: [`Thresholds::at`]);
//!    best distance ≤ `uncertain` → [`Decision::Uncertain`]; otherwise [`Decision::Unknown`].
//! 2. Margin: a `Confident` result is downgraded to `Uncertain` when the second-best **different**
//!    student is closer than `best + min_margin`, because two enrolled people then both explain
//!    the face about equally well. The margin never upgrades or rejects.
//!
//! 3. The size of the search: the bands are calibrated on a class of [`CALIBRATED_SEARCH`]
//!    students; a door that searches more narrows them ([`Thresholds::for_searched`]), since a
//!    stranger measured against N students finds one close about N times as often.
//!
//! There is deliberately no `Default` for [`Thresholds`]: dlib's folklore 0.6 is wrong for some
//! populations, so values must come from calibration on real data.

pub use rollcall_shared::Decision;
use serde::{Deserialize, Serialize};

use super::gallery::{Match, MatchError};
use crate::quality::Grade;

/// How many students the confident bands are calibrated for: one class at its door.
pub const CALIBRATED_SEARCH: usize = 30;

/// How much both confident bands narrow each time the number of students searched doubles
/// past [`CALIBRATED_SEARCH`]: the doorway benchmark's impostor distances put the band that
/// keeps N × (the share of impostors within it) constant 0.011 lower at 60 students, 0.023 at
/// 120 and 0.048 at 240; the least-squares step through those is 0.0144, rounded up
/// (docs/ACCURACY.md "Bands for the size of the search").
pub const NARROWING_PER_DOUBLING: f32 = 0.015;

/// Distance thresholds, in Euclidean descriptor units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or below this distance the best match is accepted.
    pub confident: f32,
    /// The same for a face of [`Grade::Weak`] (blurred, a doubtful detection): at most
    /// `confident`, calibrated per grade on the doorway benchmark.
    pub confident_weak: f32,
    /// At or below this distance (and above `confident`) the best match needs confirmation.
    pub uncertain: f32,
    /// The runner-up must be at least this much farther than the best for `Confident`.
    pub min_margin: f32,
}

impl Thresholds {
    /// The door's shipped calibration, in [`super::MatchMode::Centroid`] (`[matching]` of the
    /// door unit's default configuration, docs/ACCURACY.md "The door at a doorway"): the
    /// nearest stranger the doorway benchmark named at any distance (0.307) less 0.01, one step
    /// stricter for weak faces. A class photo keeps the margin and `uncertain`, with a wider
    /// band of its own (the hub's `Rule::CLASS_PHOTO`).
    pub const DOOR: Thresholds = Thresholds {
        confident: 0.295,
        confident_weak: 0.285,
        uncertain: 0.40,
        min_margin: 0.08,
    };

    /// A lesson's cards named as one closed set on the hub
    /// ([`super::name_among_unmarked`]), in centroid mode, for a lesson of
    /// [`CALIBRATED_SEARCH`] students still unmarked (narrowed for more, as the door's are):
    /// the search is among the lesson's unmarked students only and each is named once, so the
    /// band is a little wider than the door's. Chosen on the doorway benchmark's lessons
    /// (docs/ACCURACY.md, "The lesson as one closed set"): 0.32 named no stranger on the
    /// calibration half but one in 1,592 walk-bys of the held-out half at 120 students, so one
    /// step back. The margin and `uncertain` are the door's.
    pub const LESSON: Thresholds = Thresholds {
        confident: 0.31,
        confident_weak: 0.30,
        ..Thresholds::DOOR
    };

    /// Checks `0 ≤ confident_weak ≤ confident ≤ uncertain`, `min_margin ≥ 0`, all finite.
    pub fn validate(&self) -> Result<(), MatchError> {
        let all = [
            self.confident,
            self.confident_weak,
            self.uncertain,
            self.min_margin,
        ];
        if !all.iter().all(|v| v.is_finite() && *v >= 0.0) {
            return Err(MatchError::InvalidThresholds(
                "values must be finite and non-negative",
            ));
        }
        if self.confident > self.uncertain {
            return Err(MatchError::InvalidThresholds(
                "confident must not exceed uncertain",
            ));
        }
        if self.confident_weak > self.confident {
            return Err(MatchError::InvalidThresholds(
                "confident_weak must not exceed confident",
            ));
        }
        Ok(())
    }

    /// The thresholds for a face of `grade`: its confident band in `confident` (`confident_weak`
    /// for a weak face; none for a worse one, which is never Confident).
    pub fn at(&self, grade: Grade) -> Thresholds {
        let confident = match grade {
            Grade::Good => self.confident,
            Grade::Weak => self.confident_weak,
            Grade::Unclear | Grade::Out => f32::NEG_INFINITY,
        };
        Thresholds { confident, ..*self }
    }

    /// The thresholds for a search among `students` students: both confident bands narrowed
    /// by [`NARROWING_PER_DOUBLING`] for each doubling past [`CALIBRATED_SEARCH`] (never
    /// widened for a smaller search, never below zero); `uncertain` and the margin unchanged.
    pub fn for_searched(&self, students: usize) -> Thresholds {
        self.narrowed_for(students, NARROWING_PER_DOUBLING)
    }

    /// [`Self::for_searched`] with another step per doubling (the benchmark measures several).
    pub fn narrowed_for(&self, students: usize, per_doubling: f32) -> Thresholds {
        let doublings = (students as f32 / CALIBRATED_SEARCH as f32).log2().max(0.0);
        let narrowing = per_doubling.max(0.0) * doublings;
        Thresholds {
            confident: (self.confident - narrowing).max(0.0),
            confident_weak: (self.confident_weak - narrowing).max(0.0),
            ..*self
        }
    }
}

/// Decides on a best distance and, if any, the runner-up's distance (a different student).
/// A NaN distance gives [`Decision::Unknown`].
pub fn decide(best: f32, second: Option<f32>, thresholds: &Thresholds) -> Decision {
    if best <= thresholds.confident {
        let crowded = second.is_some_and(|s| s - best < thresholds.min_margin);
        if crowded {
            Decision::Uncertain
        } else {
            Decision::Confident
        }
    } else if best <= thresholds.uncertain {
        Decision::Uncertain
    } else {
        Decision::Unknown
    }
}

/// [`decide`] on the output of a search (distinct students, closest first); empty → `Unknown`.
pub fn decide_matches<Id>(matches: &[Match<Id>], thresholds: &Thresholds) -> Decision {
    match matches {
        [] => Decision::Unknown,
        [best] => decide(best.distance, None, thresholds),
        [best, second, ..] => decide(best.distance, Some(second.distance), thresholds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        confident: 0.4,
        confident_weak: 0.35,
        uncertain: 0.55,
        min_margin: 0.05,
    };

    #[test]
    fn distance_bands() {
        assert_eq!(decide(0.3, None, &T), Decision::Confident);
        assert_eq!(decide(0.4, None, &T), Decision::Confident);
        assert_eq!(decide(0.5, None, &T), Decision::Uncertain);
        assert_eq!(decide(0.55, None, &T), Decision::Uncertain);
        assert_eq!(decide(0.56, None, &T), Decision::Unknown);
        assert_eq!(decide(f32::NAN, None, &T), Decision::Unknown);
    }

    #[test]
    fn close_runner_up_downgrades_confident_only() {
        assert_eq!(decide(0.30, Some(0.34), &T), Decision::Uncertain);
        assert_eq!(decide(0.30, Some(0.36), &T), Decision::Confident);
        assert_eq!(decide(0.50, Some(0.50), &T), Decision::Uncertain);
        assert_eq!(decide(0.70, Some(0.70), &T), Decision::Unknown);
    }

    #[test]
    fn decide_matches_uses_the_first_two() {
        let m = |distance| Match { id: 1u8, distance };
        assert_eq!(decide_matches::<u8>(&[], &T), Decision::Unknown);
        assert_eq!(decide_matches(&[m(0.2)], &T), Decision::Confident);
        assert_eq!(
            decide_matches(&[m(0.2), m(0.21), m(0.9)], &T),
            Decision::Uncertain
        );
    }

    #[test]
    fn each_grade_has_its_band() {
        assert_eq!(decide(0.38, None, &T.at(Grade::Good)), Decision::Confident);
        assert_eq!(decide(0.38, None, &T.at(Grade::Weak)), Decision::Uncertain);
        assert_eq!(decide(0.34, None, &T.at(Grade::Weak)), Decision::Confident);
        assert_eq!(
            decide(0.01, None, &T.at(Grade::Unclear)),
            Decision::Uncertain
        );
        assert_eq!(decide(0.6, None, &T.at(Grade::Unclear)), Decision::Unknown);
    }

    #[test]
    fn bands_narrow_with_each_doubling_of_the_search_and_never_widen() {
        let at = |n| T.for_searched(n);
        assert_eq!(at(1), T);
        assert_eq!(at(CALIBRATED_SEARCH), T);
        let step = NARROWING_PER_DOUBLING;
        for (n, doublings) in [(60, 1.0), (120, 2.0), (240, 3.0)] {
            let t = at(n);
            assert!(
                (T.confident - t.confident - step * doublings).abs() < 1e-6,
                "{n}: {t:?}"
            );
            assert!((T.confident_weak - t.confident_weak - step * doublings).abs() < 1e-6);
            assert_eq!((t.uncertain, t.min_margin), (T.uncertain, T.min_margin));
            assert_eq!(t.validate(), Ok(()));
        }
        assert!(at(45).confident < T.confident && at(45).confident > at(60).confident);
        assert_eq!(at(usize::MAX).validate(), Ok(()));
    }

    #[test]
    fn validation() {
        assert_eq!(T.validate(), Ok(()));
        let swapped = Thresholds {
            confident: 0.6,
            ..T
        };
        assert!(swapped.validate().is_err());
        let nan = Thresholds {
            min_margin: f32::NAN,
            ..T
        };
        assert!(nan.validate().is_err());
        let weak_above = Thresholds {
            confident_weak: 0.45,
            ..T
        };
        assert!(weak_above.validate().is_err());
    }
}
