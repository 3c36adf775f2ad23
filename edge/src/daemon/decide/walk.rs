//! The whole walk-in: the frames a trigger's person is decided from. The burst's frames are
//! always taken; past them the door goes on while the trigger says someone is still there
//! (`[burst] follow`), up to its cap, by `rollcall_models::burst::follow`'s rule, the one the
//! doorway benchmark measures. Each frame is searched for faces as it comes (detection,
//! alignment, measurement: well within the frames' spacing); only the best `keep` frames are
//! held, with their faces, for [`people::process`](super::people::process) to embed and
//! decide. Frames let go are dropped at once: memory is `keep` frames however long someone
//! stands in the doorway, and no frame is ever written anywhere.

use std::time::{Duration, Instant};

use image::RgbImage;
use rollcall_models::burst::follow::{Best, Follow, Worth};
use rollcall_models::burst::weight;
use rollcall_models::pipeline::Face;
use rollcall_models::quality::QualityGate;

use super::recognizer::{RecognizeError, Recognizer};
use crate::daemon::capture::camera::CameraError;
use crate::daemon::capture::trigger::Presence;

/// The frames a walk-in is decided from, in the order taken, and the faces found in each.
#[derive(Debug, Default)]
pub struct Walk {
    pub frames: Vec<RgbImage>,
    /// `faces[i]`: every face found in `frames[i]`, aligned and measured, not yet embedded.
    pub faces: Vec<Vec<Face>>,
    /// Frames taken and searched, kept or not.
    pub taken: usize,
}

/// Why a walk-in could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error(transparent)]
    Camera(#[from] CameraError),
    #[error(transparent)]
    Recognize(#[from] RecognizeError),
}

impl Walk {
    /// Every frame of a burst already taken, searched and kept.
    pub fn of(frames: Vec<RgbImage>, recognizer: &dyn Recognizer) -> Result<Walk, RecognizeError> {
        let faces = frames
            .iter()
            .map(|f| recognizer.faces(f))
            .collect::<Result<_, _>>()?;
        Ok(Walk {
            taken: frames.len(),
            frames,
            faces,
        })
    }
}

/// How one walk-in is taken: the rule, the frames' spacing, and what the gate makes of a face
/// (a frame's worth is its best face's).
#[derive(Debug, Clone, Copy)]
pub struct Following<'a> {
    pub rule: Follow,
    pub spacing: Duration,
    pub gate: &'a QualityGate,
}

impl Following<'_> {
    /// Takes the walk-in: frames from `grab`, `spacing` apart from the first (at once when
    /// searching a frame took longer), while [`Follow::another`] says so. A frame that cannot
    /// be grabbed or searched within the burst fails the walk-in; past the burst it ends the
    /// following, and the frames kept so far are decided from.
    pub fn take(
        &self,
        mut grab: impl FnMut() -> Result<RgbImage, CameraError>,
        recognizer: &dyn Recognizer,
        presence: &Presence,
    ) -> Result<Walk, WalkError> {
        let start = Instant::now();
        let mut best = Best::new(self.rule.keep);
        while self.rule.another(best.offered(), presence.now()) {
            let taken = best.offered();
            if taken > 0 {
                let due = start + self.spacing * taken as u32;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            let searched = grab()
                .map_err(WalkError::from)
                .and_then(|frame| Ok((recognizer.faces(&frame)?, frame)));
            match searched {
                Ok((faces, frame)) => {
                    best.offer(self.worth(&faces), (frame, faces));
                }
                Err(e) if taken < self.rule.first => return Err(e),
                Err(e) => {
                    tracing::warn!(
                        frame = taken,
                        "following stopped, deciding from the frames kept: {e}"
                    );
                    break;
                }
            }
        }
        let taken = best.offered();
        let (frames, faces) = best.kept().into_iter().map(|(_, kept)| kept).unzip();
        Ok(Walk {
            frames,
            faces,
            taken,
        })
    }

    /// What a frame with `faces` is worth to the decision.
    fn worth(&self, faces: &[Face]) -> Option<Worth> {
        Worth::of(faces.iter().map(|f| Worth {
            grade: self.gate.grade(&f.quality),
            weight: weight(f.quality.detector_score, f.quality.inter_ocular_px),
        }))
    }
}

#[cfg(test)]
mod tests;
