//! Detection options and the resize policy: how big an image the network sees.
//!
//! The network accepts any size, but its cost grows with the pixel count and it finds faces
//! from about 10 px up to several hundred pixels. So:
//!
//! * an image whose long side exceeds `max_side` is scaled down to exactly `max_side`;
//! * a smaller image is left alone, unless `min_face_px` asks for faces smaller than the
//!   smallest anchor (16 px): then it is scaled up just enough that a `min_face_px` face
//!   becomes 16 px, and never beyond `max_side`;
//! * boxes and landmarks are mapped back to the original pixels, and faces whose longer box
//!   side is below `min_face_px` there are dropped;
//! * with `second_look`, every face a shrunk image shows, even faintly, is looked at again in
//!   the full image (`retinaface/second_look.rs`): the door searches its camera's frame so.

use super::error::DetectorError;

/// Side of the smallest anchor: the smallest face the network is trained to find.
pub const SMALLEST_ANCHOR_PX: f32 = 16.0;

/// Tunables of [`super::RetinaFace::detect`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectOptions {
    /// Minimum face probability, in (0, 1).
    pub score_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped, in (0, 1].
    pub nms_iou: f32,
    /// Longest side, in pixels, of the image given to the network.
    pub max_side: u32,
    /// Smallest face (longer box side, original pixels) worth reporting.
    pub min_face_px: f32,
    /// When the image is shrunk, look again in the full image around each face the shrunk
    /// one showed, even faintly (see `retinaface/second_look.rs`).
    pub second_look: bool,
}

impl Default for DetectOptions {
    /// Tuned on the developer face set: see `models/parity/detector/README.md`.
    fn default() -> Self {
        Self {
            score_threshold: 0.6,
            nms_iou: 0.4,
            max_side: 1024,
            min_face_px: 12.0,
            second_look: false,
        }
    }
}

impl DetectOptions {
    /// Checks every field is in its range.
    pub fn validate(&self) -> Result<(), DetectorError> {
        let bad = |what| Err(DetectorError::InvalidOptions(what));
        if !(self.score_threshold > 0.0 && self.score_threshold < 1.0) {
            return bad("score_threshold must be in (0, 1)");
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return bad("nms_iou must be in (0, 1]");
        }
        if self.max_side < 32 {
            return bad("max_side must be at least 32");
        }
        if !(self.min_face_px >= 0.0 && self.min_face_px.is_finite()) {
            return bad("min_face_px must be a finite number ≥ 0");
        }
        Ok(())
    }

    /// The network input size `(width, height)` for an image of `width × height`.
    pub fn network_size(&self, width: u32, height: u32) -> (u32, u32) {
        let long = width.max(height).max(1) as f32;
        let shrink = self.max_side as f32 / long;
        let grow = if self.min_face_px > 0.0 {
            (SMALLEST_ANCHOR_PX / self.min_face_px).max(1.0)
        } else {
            1.0
        };
        let scale = grow.min(shrink);
        if scale == 1.0 {
            return (width, height);
        }
        let side = |n: u32| ((n as f32 * scale).round() as u32).clamp(1, self.max_side);
        (side(width), side(height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(max_side: u32, min_face_px: f32) -> DetectOptions {
        DetectOptions {
            max_side,
            min_face_px,
            ..DetectOptions::default()
        }
    }

    #[test]
    fn large_images_shrink_to_max_side() {
        assert_eq!(opts(640, 20.0).network_size(4000, 3000), (640, 480));
        assert_eq!(opts(640, 20.0).network_size(1000, 2000), (320, 640));
    }

    #[test]
    fn small_images_stay_unless_tiny_faces_are_wanted() {
        assert_eq!(opts(640, 20.0).network_size(320, 240), (320, 240));
        assert_eq!(opts(640, 8.0).network_size(200, 100), (400, 200));
        // Growth stops at max_side.
        assert_eq!(opts(640, 4.0).network_size(320, 240), (640, 480));
        assert_eq!(opts(640, 0.0).network_size(10, 10), (10, 10));
    }

    #[test]
    fn validate_rejects_out_of_range_fields() {
        assert!(DetectOptions::default().validate().is_ok());
        let o = DetectOptions::default();
        assert!(
            DetectOptions {
                score_threshold: 1.0,
                ..o
            }
            .validate()
            .is_err()
        );
        assert!(DetectOptions { nms_iou: 0.0, ..o }.validate().is_err());
        assert!(DetectOptions { max_side: 8, ..o }.validate().is_err());
        assert!(
            DetectOptions {
                min_face_px: f32::NAN,
                ..o
            }
            .validate()
            .is_err()
        );
    }
}
