//! The face box the shape predictor works in, and how we derive it from a RetinaFace detection.
//!
//! dlib's 5-point model was trained (and `face_recognition` runs it) on boxes from dlib's HOG
//! face detector, which are larger and sit lower than RetinaFace's boxes. [`box_from_detection`]
//! maps RetinaFace's five landmarks to such a box with constants fitted offline against the
//! HOG detector on the developer face set (`models/parity/reference/fit_sp_box.py`; the
//! figures are in docs/ACCURACY.md).

use crate::detect::Detection;

/// dlib's integer `rectangle`: left, top, right, bottom, all inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlibRect {
    pub left: i64,
    pub top: i64,
    pub right: i64,
    pub bottom: i64,
}

impl DlibRect {
    /// dlib's `unnormalizing_tform`: the unit square onto the box, `(0, 0)` ↦ top-left corner,
    /// `(1, 1)` ↦ bottom-right corner (so a box spans `right − left`, not `+ 1`).
    pub fn unnormalise(&self, [u, v]: [f32; 2]) -> [f64; 2] {
        let (l, t) = (self.left as f64, self.top as f64);
        let (w, h) = (
            (self.right - self.left) as f64,
            (self.bottom - self.top) as f64,
        );
        [l + f64::from(u) * w, t + f64::from(v) * h]
    }

    /// The square box of side `side` (as dlib counts it: `right − left + 1`) centred on
    /// `[cx, cy]`, rounded to whole pixels.
    pub fn centred_square([cx, cy]: [f64; 2], side: f64) -> DlibRect {
        let half = (side - 1.0) / 2.0;
        let r = |v: f64| (v + 0.5).floor() as i64;
        DlibRect {
            left: r(cx - half),
            top: r(cy - half),
            right: r(cx + half),
            bottom: r(cy + half),
        }
    }
}

/// The mapping from RetinaFace's landmarks to a HOG-style box, in units of the face size `s`
/// (the root-mean-square distance of the five landmarks from their centroid, which does not
/// depend on roll). The box is square, centred at `centroid + (dx, dy)·s`, with side `side·s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpBoxFit {
    pub dx: f64,
    pub dy: f64,
    pub side: f64,
}

impl SpBoxFit {
    /// Medians over the 2,911 photos of the developer face set where dlib's HOG detector
    /// (upsampled once) and RetinaFace found the same face; the HOG box is matched within
    /// 2 % of its side at the centre and 4 % in size for half of them (its sizes come in
    /// discrete pyramid steps). Produced by `models/parity/reference/fit_sp_box.py`.
    pub const FITTED: SpBoxFit = SpBoxFit {
        dx: -0.1537,
        dy: -0.0835,
        side: 3.9836,
    };

    /// The face size `s`: root-mean-square distance of the landmarks from their centroid.
    pub fn scale(landmarks: &[[f32; 2]; 5]) -> f64 {
        let c = centroid(landmarks);
        let sq = landmarks.iter().map(|p| {
            let (dx, dy) = (f64::from(p[0]) - c[0], f64::from(p[1]) - c[1]);
            dx * dx + dy * dy
        });
        (sq.sum::<f64>() / landmarks.len() as f64).sqrt()
    }
}

fn centroid(landmarks: &[[f32; 2]; 5]) -> [f64; 2] {
    let n = landmarks.len() as f64;
    let x = landmarks.iter().map(|p| f64::from(p[0])).sum::<f64>() / n;
    let y = landmarks.iter().map(|p| f64::from(p[1])).sum::<f64>() / n;
    [x, y]
}

/// The box dlib's shape predictor should see for this RetinaFace detection.
pub fn box_from_detection(detection: &Detection, fit: &SpBoxFit) -> DlibRect {
    let lm = &detection.landmarks;
    let s = SpBoxFit::scale(lm);
    let [cx, cy] = centroid(lm);
    DlibRect::centred_square([cx + fit.dx * s, cy + fit.dy * s], fit.side * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_is_a_square_around_the_landmarks() {
        let landmarks = [
            [40.0, 40.0],
            [60.0, 40.0],
            [50.0, 50.0],
            [40.0, 60.0],
            [60.0, 60.0],
        ];
        let detection = Detection {
            bbox: [30.0, 25.0, 70.0, 75.0],
            score: 0.9,
            landmarks,
        };
        assert!((SpBoxFit::scale(&landmarks) - 160f64.sqrt()).abs() < 1e-9);
        let fit = SpBoxFit {
            dx: 0.0,
            dy: 0.0,
            side: 5.0,
        };
        let r = box_from_detection(&detection, &fit);
        assert_eq!(r.right - r.left, r.bottom - r.top);
        assert_eq!((r.left + r.right, r.top + r.bottom), (100, 100));
        assert_eq!(r.right - r.left + 1, (5.0 * 160f64.sqrt()).round() as i64);
    }

    #[test]
    fn unnormalise_maps_the_unit_square_onto_the_corners() {
        let r = DlibRect {
            left: 10,
            top: 20,
            right: 110,
            bottom: 70,
        };
        assert_eq!(r.unnormalise([0.0, 0.0]), [10.0, 20.0]);
        assert_eq!(r.unnormalise([1.0, 1.0]), [110.0, 70.0]);
    }
}
