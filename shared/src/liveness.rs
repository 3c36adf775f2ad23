//! Whether the face at the door was a live person: the one liveness type, from the door's
//! decision over the wire (protocol 6) to the hub's store, API and review card.

use serde::{Deserialize, Serialize};

use crate::invalid::Invalid;

/// What the door unit's anti-spoofing check made of a record's best face. A record carries
/// it as `Option`: `None` means the face was not checked (the unit's `[liveness]` is off, the
/// face was no Confident match, or the unit speaks protocol 5). One type rather than a bare
/// flag, so "checked and live" and "not checked" stay apart and the score that decided
/// reaches the hub, where the school can see how close a call was.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LivenessCheck {
    /// The networks judged the face real. `false` is a *possible photo or screen*: the door
    /// never makes such a record Confident, and the hub flags it for review.
    pub live: bool,
    /// The averaged probability that the face is real, 0 to 1.
    pub real_score: f32,
}

impl LivenessCheck {
    /// A check that judged the face not live: the record is flagged.
    pub fn suspects_spoof(&self) -> bool {
        !self.live
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if !(0.0..=1.0).contains(&self.real_score) {
            return Err(Invalid::new(format!(
                "liveness score {} is not between 0 and 1",
                self.real_score
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_outside_zero_to_one_or_not_a_number_is_refused() {
        for bad in [f32::NAN, -0.01, 1.01, f32::INFINITY] {
            let check = LivenessCheck {
                live: true,
                real_score: bad,
            };
            assert!(check.validate().is_err(), "{bad}");
        }
        let ok = LivenessCheck {
            live: false,
            real_score: 0.2,
        };
        assert!(ok.validate().is_ok() && ok.suspects_spoof());
    }
}
