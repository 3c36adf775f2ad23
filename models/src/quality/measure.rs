//! What is measured of one face: [`QualityInput`] in, [`FaceQuality`] out, with the two
//! figures computed here rather than passed through, [`sharpness`] and [`landmark_disagreement`].

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::pose::Pose;
use crate::align::Landmarks;

/// What the detector and aligner know about one face.
#[derive(Debug, Clone, Copy)]
pub struct QualityInput<'a> {
    /// The five landmarks in source-image pixels (RetinaFace order).
    pub landmarks: &'a Landmarks,
    /// dlib's shape-predictor points for the same face, if it was run (its order: image-right
    /// eye outer and inner corner, image-left eye outer and inner corner, nose base).
    pub shape: Option<&'a Landmarks>,
    /// Width and height of the detector box in source-image pixels.
    pub box_size: [f32; 2],
    /// The detector's confidence, passed through.
    pub detector_score: f32,
    /// The aligned chip (from [`crate::align::align_face`]).
    pub chip: &'a RgbImage,
}

/// Measured quality of one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceQuality {
    /// Distance between the two eye landmarks, source pixels.
    pub inter_ocular_px: f32,
    /// Shorter side of the detector box, source pixels.
    pub box_px: f32,
    /// Variance of the Laplacian of the aligned grey chip at a standard contrast, grey levels²
    /// (see [`sharpness`]).
    pub sharpness: f32,
    /// Detector confidence.
    pub detector_score: f32,
    /// Rough head pose; `None` when the landmarks cannot be a face (coincident eyes, mouth
    /// above the eyes, non-finite values).
    pub pose: Option<Pose>,
    /// How far the two landmark models disagree on where the eyes are: the larger distance
    /// between RetinaFace's eye centre and the midpoint of dlib's two corners of that eye,
    /// in units of RetinaFace's eye distance. `None` when the shape predictor did not run.
    #[serde(default)]
    pub landmark_disagreement: Option<f32>,
    /// The detector's score for the face found again at the centre of its own aligned chip
    /// (0 when it is not found); `None` when that check was not run.
    #[serde(default)]
    pub chip_face_score: Option<f32>,
}

impl FaceQuality {
    /// Measures one face.
    pub fn assess(input: &QualityInput<'_>) -> FaceQuality {
        let [le, re, ..] = *input.landmarks;
        let inter_ocular_px = (re[0] - le[0]).hypot(re[1] - le[1]);
        let [w, h] = input.box_size;
        FaceQuality {
            inter_ocular_px: finite_or_zero(inter_ocular_px),
            box_px: finite_or_zero(w.min(h)),
            sharpness: sharpness(input.chip),
            detector_score: input.detector_score,
            pose: Pose::from_landmarks(input.landmarks),
            landmark_disagreement: input
                .shape
                .map(|s| landmark_disagreement(input.landmarks, s)),
            chip_face_score: None,
        }
    }
}

/// See [`FaceQuality::landmark_disagreement`]; NaN (which fails any limit) for coincident eyes.
pub fn landmark_disagreement(retinaface: &Landmarks, dlib: &Landmarks) -> f32 {
    let mid = |a: [f32; 2], b: [f32; 2]| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
    let dist = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let eye_gap = dist(retinaface[0], retinaface[1]);
    let left = dist(retinaface[0], mid(dlib[2], dlib[3]));
    let right = dist(retinaface[1], mid(dlib[0], dlib[1]));
    if eye_gap > 0.0 {
        left.max(right) / eye_gap
    } else {
        f32::NAN
    }
}

fn finite_or_zero(v: f32) -> f32 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

/// Variance of the 4-neighbour Laplacian (`up + down + left + right − 4·centre`) of the chip's
/// luma (Rec. 601, 0..255), over its central 60 % square so the background and the padding
/// of the dlib template hardly count, at a standard contrast: scaled by
/// `STANDARD_CONTRAST² / variance of the luma` over the same square, so a face filmed darker
/// or brighter is not called blurred (an exposure gain multiplies both variances by its
/// square). Without that, a face under a 0.35 gain scored a tenth of its sharpness and 99 %
/// of such faces looked blurred (docs/ACCURACY.md, "The door at a doorway").
///
/// Scale: grey levels² at a luma standard deviation of 50. A flat chip scores 0; two LFW news
/// photos (JPEG, 41 and 47 px between the eyes) score in the tens on their default chips.
/// Because it is measured on the *aligned* chip, a small face that was enlarged to fill it
/// scores low too: that is intended (both mean little detail for the embedder). Sensor noise
/// raises it. Thresholds belong in configuration, calibrated on the cameras in use.
pub fn sharpness(chip: &RgbImage) -> f32 {
    let (w, h) = chip.dimensions();
    let luma = |x: u32, y: u32| {
        let [r, g, b] = chip.get_pixel(x, y).0.map(f32::from);
        0.299 * r + 0.587 * g + 0.114 * b
    };
    let (x0, x1) = central_span(w);
    let (y0, y1) = central_span(h);
    let (mut laplacian, mut grey) = (Moments::default(), Moments::default());
    for y in y0..y1 {
        for x in x0..x1 {
            let centre = luma(x, y);
            let lap =
                luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4.0 * centre;
            laplacian.add(lap);
            grey.add(centre);
        }
    }
    let contrast = grey.variance();
    if contrast < MIN_CONTRAST {
        return 0.0;
    }
    (laplacian.variance() * STANDARD_CONTRAST * STANDARD_CONTRAST / contrast) as f32
}

/// The luma standard deviation [`sharpness`] is expressed at, grey levels.
const STANDARD_CONTRAST: f64 = 50.0;
/// Below this luma variance (grey levels²) a chip is flat: no edges to measure.
const MIN_CONTRAST: f64 = 1.0;

/// Running sums for a variance.
#[derive(Default)]
struct Moments {
    sum: f64,
    sum_sq: f64,
    n: u32,
}

impl Moments {
    fn add(&mut self, v: f32) {
        let v = f64::from(v);
        self.sum += v;
        self.sum_sq += v * v;
        self.n += 1;
    }

    fn variance(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let n = f64::from(self.n);
        let mean = self.sum / n;
        (self.sum_sq / n - mean * mean).max(0.0)
    }
}

/// The central 60 % of `0..len`, kept one pixel away from the edges (empty for tiny chips).
fn central_span(len: u32) -> (u32, u32) {
    let start = (len / 5).max(1);
    let end = (len - len / 5).min(len.saturating_sub(1));
    (start, end.max(start))
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;
    use crate::align::Template;

    fn checkerboard(cell: u32) -> RgbImage {
        RgbImage::from_fn(150, 150, |x, y| {
            Rgb([if (x / cell + y / cell).is_multiple_of(2) {
                30
            } else {
                220
            }; 3])
        })
    }

    /// Separable 7-tap box blur.
    fn blur(image: &RgbImage) -> RgbImage {
        let (w, h) = image.dimensions();
        let pass = |img: &RgbImage, dx: i64, dy: i64| {
            RgbImage::from_fn(w, h, |x, y| {
                let total: u32 = (-3..=3)
                    .map(|t| {
                        let sx = (i64::from(x) + t * dx).clamp(0, i64::from(w) - 1) as u32;
                        let sy = (i64::from(y) + t * dy).clamp(0, i64::from(h) - 1) as u32;
                        u32::from(img.get_pixel(sx, sy).0[0])
                    })
                    .sum();
                Rgb([(total / 7) as u8; 3])
            })
        };
        pass(&pass(image, 1, 0), 0, 1)
    }

    #[test]
    fn sharp_checkerboard_beats_blurred_one() {
        let sharp = checkerboard(6);
        let sharp_score = sharpness(&sharp);
        let blurred_score = sharpness(&blur(&sharp));
        assert!(
            sharp_score > 5.0 * blurred_score,
            "{sharp_score} vs {blurred_score}"
        );
        assert_eq!(
            sharpness(&RgbImage::from_pixel(150, 150, Rgb([90; 3]))),
            0.0
        );
        assert_eq!(sharpness(&RgbImage::new(2, 2)), 0.0);
    }

    #[test]
    fn a_darker_chip_is_as_sharp() {
        let sharp = checkerboard(6);
        let dark = RgbImage::from_fn(150, 150, |x, y| {
            Rgb(sharp
                .get_pixel(x, y)
                .0
                .map(|v| (f32::from(v) * 0.35).round() as u8))
        });
        let (a, b) = (sharpness(&sharp), sharpness(&dark));
        assert!((a - b).abs() < 0.02 * a, "{a} vs {b}");
    }

    #[test]
    fn disagreement_is_the_worse_eye_in_eye_distances() {
        let rf = [
            [40.0, 50.0],
            [80.0, 50.0],
            [60.0, 70.0],
            [45.0, 90.0],
            [75.0, 90.0],
        ];
        let mut dlib = [
            [90.0, 50.0],
            [70.0, 50.0],
            [30.0, 50.0],
            [50.0, 50.0],
            [60.0, 75.0],
        ];
        assert_eq!(landmark_disagreement(&rf, &dlib), 0.0);
        dlib[2][1] = 58.0; // left eye midpoint 4 px low: 0.1 eye distances
        assert!((landmark_disagreement(&rf, &dlib) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn assess_reports_sizes_and_passes_the_score_through() {
        let chip = checkerboard(5);
        let landmarks = Template::DLIB_150.points;
        let input = QualityInput {
            landmarks: &landmarks,
            shape: None,
            box_size: [120.0, 96.0],
            detector_score: 0.93,
            chip: &chip,
        };
        let q = FaceQuality::assess(&input);
        assert!((q.inter_ocular_px - 52.93).abs() < 1e-3);
        assert_eq!((q.box_px, q.detector_score), (96.0, 0.93));
        assert!(q.sharpness > 1000.0 && q.pose.is_some());
        assert_eq!(q.landmark_disagreement, None);
        let json = serde_json::to_string(&q).unwrap();
        assert!(json.contains("\"inter_ocular_px\""), "{json}");
    }
}
