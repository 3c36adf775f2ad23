//! Whether a face the door would mark is a live person, behind a small trait so the burst's
//! logic is testable without the networks. The real judge is `rollcall_models::liveness`
//! (MiniFASNet, embedded weights, about 4 ms a face on the pipeline thread); what the door
//! does with a verdict is `people.rs`'s.

use image::RgbImage;
use rollcall_models::liveness::{Liveness, REAL_CLASS};
use rollcall_shared::LivenessCheck;

use super::recognizer::RecognizeError;

/// Judges one face, given its frame and its box (`[x1, y1, x2, y2]`, frame pixels).
pub trait Judge: Send + 'static {
    fn judge(&self, frame: &RgbImage, bbox: [f32; 4]) -> Result<LivenessCheck, RecognizeError>;
}

impl Judge for Liveness {
    fn judge(&self, frame: &RgbImage, bbox: [f32; 4]) -> Result<LivenessCheck, RecognizeError> {
        let verdict =
            Liveness::judge(self, frame, bbox).map_err(|e| RecognizeError::new(e.to_string()))?;
        check(verdict.live(), verdict.probs[REAL_CLASS])
    }
}

/// The wire's check of a verdict; a score that is not a probability is an error, not a record
/// the hub would refuse.
pub fn check(live: bool, real_score: f32) -> Result<LivenessCheck, RecognizeError> {
    let check = LivenessCheck { live, real_score };
    check
        .validate()
        .map_err(|e| RecognizeError::new(format!("liveness: {e}")))?;
    Ok(check)
}

/// The liveness networks, loaded once (from the weights in the binary).
pub fn load() -> Result<Box<dyn Judge>, RecognizeError> {
    let liveness = Liveness::load(&candle_core::Device::Cpu)
        .map_err(|e| RecognizeError::new(format!("liveness networks: {e}")))?;
    Ok(Box::new(liveness))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_frame_is_judged_with_a_probability_and_a_bad_box_is_an_error() {
        let judge = load().unwrap();
        let frame = RgbImage::from_pixel(160, 200, image::Rgb([120, 100, 90]));
        let c = judge.judge(&frame, [40.0, 50.0, 120.0, 150.0]).unwrap();
        assert!((0.0..=1.0).contains(&c.real_score));
        assert!(judge.judge(&frame, [40.0, 50.0, 40.0, 150.0]).is_err());
        assert!(check(true, f32::NAN).is_err());
    }
}
