//! A second look: how a large frame is searched within the door's budget.
//!
//! The detector's cost grows with the pixels it sees; a face must be about 16 px across
//! ([`super::SMALLEST_ANCHOR_PX`]) in what it sees to be found surely, and its box and
//! landmarks are measured best at a few times that. So a door camera's frame is searched in
//! two steps:
//!
//! 1. **The whole frame, shrunk** to [`super::DetectOptions::max_side`]: every face the
//!    network gives at least [`PROPOSAL_SCORE`] is a candidate, far below the detector's
//!    threshold, because a face 10–16 px across in the shrunk frame scores low there.
//! 2. **Each candidate again, in a square [`window`] of the full frame around it**
//!    ([`WINDOW_FACES`] face sizes across, at least [`MIN_WINDOW_PX`]), seen at the
//!    [`look_scale`] that makes the face at most [`LOOK_FACE_PX`] across and never scaled up:
//!    a small face gets every pixel the camera has, a large one is measured as sharply as the
//!    detector can, and what only looked like a face in the shrunk frame is usually not found
//!    again. Faces found there count when their centre lies in the window
//!    ([`centre_inside`]); then all of them are suppressed together.
//!
//! Every face is then aligned and embedded from the full-resolution frame (the pipeline cuts
//! chips from the image it was given), so a camera with more pixels gives sharper chips of
//! the same people for about the same detection cost.
//!
//! Pure geometry here; the network runs in [`super::RetinaFace::detect`].

use crate::detect::Detection;

/// A face in the shrunk frame with at least this score is looked at again.
pub const PROPOSAL_SCORE: f32 = 0.2;

/// The second look sees a face at most this many pixels across (four of the smallest anchors).
pub const LOOK_FACE_PX: f32 = 64.0;

/// The second look's window is this many face sizes across (the detector needs context)...
pub const WINDOW_FACES: f32 = 3.0;

/// ... and never smaller than this, full-resolution pixels.
pub const MIN_WINDOW_PX: u32 = 96;

/// A rectangle of the full-resolution frame, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The scale the window around `face` (full-resolution pixels) is seen at: the face at most
/// [`LOOK_FACE_PX`] across, never larger than it is.
pub fn look_scale(face: &Detection) -> f32 {
    let side = face.width().max(face.height());
    if side > LOOK_FACE_PX {
        LOOK_FACE_PX / side
    } else {
        1.0
    }
}

/// The window around `face` (full-resolution pixels) in a `width × height` frame: a square
/// [`WINDOW_FACES`] times the face's longer side, centred on it, moved inside the frame (and
/// cut to it when the frame is smaller).
pub fn window(face: &Detection, width: u32, height: u32) -> Window {
    let side = (face.width().max(face.height()) * WINDOW_FACES).ceil();
    let side = (side.max(MIN_WINDOW_PX as f32) as u32).max(1);
    let (cx, cy) = (
        (face.bbox[0] + face.bbox[2]) / 2.0,
        (face.bbox[1] + face.bbox[3]) / 2.0,
    );
    let place = |centre: f32, extent: u32| {
        let span = side.min(extent);
        let start = (centre - span as f32 / 2.0).round().max(0.0) as u32;
        (start.min(extent - span), span)
    };
    let (x, w) = place(cx, width.max(1));
    let (y, h) = place(cy, height.max(1));
    Window {
        x,
        y,
        width: w,
        height: h,
    }
}

/// Whether `face` (full-resolution pixels) has its box centre inside `window`: a face cut by
/// the window's edge belongs to the first step, or to the window of its own.
pub fn centre_inside(face: &Detection, window: &Window) -> bool {
    let cx = (face.bbox[0] + face.bbox[2]) / 2.0;
    let cy = (face.bbox[1] + face.bbox[3]) / 2.0;
    let (x0, y0) = (window.x as f32, window.y as f32);
    cx >= x0 && cx < x0 + window.width as f32 && cy >= y0 && cy < y0 + window.height as f32
}

#[cfg(test)]
mod tests;
