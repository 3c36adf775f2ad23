//! dlib's face chip, reproduced: `get_face_chip_details(shape, size, padding)` followed by
//! `extract_image_chips` with bilinear interpolation, as `face_recognition` (and dlib's own
//! face recognition example) cut the chips dlib's ResNet embedder was trained on.
//!
//! What makes it dlib's and not just "a similarity warp":
//! * the five shape-predictor points are fitted (least squares, similarity) to dlib's mean
//!   face, scaled as `(padding + p) / (1 + 2·padding) · size`; the chip is then described by
//!   a rotated rectangle (`chip_details`: centre, `size·scale` square, angle);
//! * when that rectangle is more than twice the chip's side, the image region under it is
//!   first shrunk by dlib's `pyramid_down<2>` (5-tap `[1 4 6 4 1]` filter in both directions,
//!   every other pixel, integer arithmetic) as many times as needed, and the rectangle follows
//!   the pyramid's own (slightly shifted) coordinate mapping;
//! * bilinear samples are truncated (not rounded) to `u8`, and a sample whose 2×2
//!   neighbourhood is not entirely inside the image is black.
//!
//! Pixel-centre convention throughout, like dlib. Nothing here knows about detectors or networks.

use image::{Rgb, RgbImage};

use super::options::{AlignError, Point};

/// The padding `face_recognition` passes to `get_face_chip_details` (dlib's default for its
/// face recognition network).
pub const FACE_RECOGNITION_PADDING: f64 = 0.25;

/// dlib's 5-point mean face in the unit square, in shape-predictor order: image-right eye
/// (outer, inner corner), image-left eye (outer, inner), base of the nose.
pub const DLIB_MEAN_FACE_5: [[f64; 2]; 5] = [
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
];

/// dlib's `drectangle`: `width = right − left + 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DRect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl DRect {
    const EMPTY: DRect = DRect {
        left: 0.0,
        top: 0.0,
        right: -1.0,
        bottom: -1.0,
    };

    fn is_empty(&self) -> bool {
        self.top > self.bottom || self.left > self.right
    }

    fn area(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            (self.right - self.left + 1.0) * (self.bottom - self.top + 1.0)
        }
    }

    fn centre(&self) -> [f64; 2] {
        [
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        ]
    }

    /// Corners: top-left, top-right, bottom-left, bottom-right.
    fn corners(&self) -> [[f64; 2]; 4] {
        let (l, t, r, b) = (self.left, self.top, self.right, self.bottom);
        [[l, t], [r, t], [l, b], [r, b]]
    }

    fn include(self, [x, y]: [f64; 2]) -> DRect {
        if self.is_empty() {
            return DRect {
                left: x,
                top: y,
                right: x,
                bottom: y,
            };
        }
        DRect {
            left: self.left.min(x),
            top: self.top.min(y),
            right: self.right.max(x),
            bottom: self.bottom.max(y),
        }
    }

    fn grow(self, by: f64) -> DRect {
        DRect {
            left: self.left - by,
            top: self.top - by,
            right: self.right + by,
            bottom: self.bottom + by,
        }
    }

    fn translate(self, [dx, dy]: [f64; 2]) -> DRect {
        DRect {
            left: self.left + dx,
            top: self.top + dy,
            right: self.right + dx,
            bottom: self.bottom + dy,
        }
    }

    /// `pyramid_down<2>::rect_down`: each corner `p ↦ p/2 − (1.25, 0.75)`.
    fn down(self) -> DRect {
        DRect {
            left: self.left / 2.0 - 1.25,
            top: self.top / 2.0 - 0.75,
            right: self.right / 2.0 - 1.25,
            bottom: self.bottom / 2.0 - 0.75,
        }
    }
}

/// dlib's `chip_details`: where the chip lies in the image (a rectangle rotated by `angle`
/// about its centre) and its side in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipDetails {
    pub rect: DRect,
    pub angle: f64,
    pub size: u32,
}

/// `get_face_chip_details(shape, size, padding)` for a 5-point shape (shape-predictor order).
pub fn face_chip_details(
    points: &[[f64; 2]; 5],
    size: u32,
    padding: f64,
) -> Result<ChipDetails, AlignError> {
    if size == 0 || !(padding.is_finite() && padding >= 0.0) {
        return Err(AlignError::InvalidOptions("chip size 0 or bad padding"));
    }
    if !points.iter().flatten().all(|v| v.is_finite()) {
        return Err(AlignError::NonFinite);
    }
    let s = f64::from(size);
    let template = DLIB_MEAN_FACE_5.map(|p| p.map(|v| (padding + v) / (2.0 * padding + 1.0) * s));
    let [a, b, tx, ty] =
        fit_similarity(&template, points).ok_or(AlignError::DegenerateLandmarks)?;
    let angle = b.atan2(a);
    let scale = a.hypot(b);
    let c = s / 2.0;
    let centre = [a * c - b * c + tx, b * c + a * c + ty];
    let half = (s * scale - 1.0) / 2.0;
    let rect = DRect {
        left: centre[0] - half,
        top: centre[1] - half,
        right: centre[0] + half,
        bottom: centre[1] + half,
    };
    Ok(ChipDetails { rect, angle, size })
}

/// Least-squares similarity `p ↦ [a −b; b a]·p + t` from `from` to `to` (f64; `None` when
/// `from` has no spread).
fn fit_similarity(from: &[[f64; 2]; 5], to: &[[f64; 2]; 5]) -> Option<[f64; 4]> {
    let mean = |v: &[[f64; 2]; 5], k: usize| v.iter().map(|p| p[k]).sum::<f64>() / 5.0;
    let (fx, fy, tx, ty) = (mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1));
    let (mut dot, mut cross, mut spread, mut spread_to) = (0.0, 0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (x, y, u, v) = (p[0] - fx, p[1] - fy, q[0] - tx, q[1] - ty);
        dot += x * u + y * v;
        cross += x * v - y * u;
        spread += x * x + y * y;
        spread_to += u * u + v * v;
    }
    if spread < 1e-12 || spread_to < 1e-12 {
        return None;
    }
    let (a, b) = (dot / spread, cross / spread);
    Some([a, b, tx - (a * fx - b * fy), ty - (b * fx + a * fy)])
}

fn rotate(centre: [f64; 2], p: [f64; 2], angle: f64) -> [f64; 2] {
    let (sin, cos) = angle.sin_cos();
    let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
    [cos * x - sin * y + centre[0], sin * x + cos * y + centre[1]]
}

/// An integer rectangle `[x0, x1] × [y0, y1]` (inclusive) inside an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

/// `extract_image_chip(img, details, chip)` with `interpolate_bilinear`.
pub fn extract_chip(image: &RgbImage, d: &ChipDetails) -> RgbImage {
    let size = d.size;
    let chip_area = f64::from(size) * f64::from(size);
    let mut chip = RgbImage::new(size, size);
    let side = f64::from(size);
    let width = d.rect.right - d.rect.left + 1.0;
    let height = d.rect.bottom - d.rect.top + 1.0;
    if d.angle == 0.0 && width == side && height == side {
        return copy_chip(image, &d.rect, size);
    }
    let (_, grow) = pyramid_depth(&d.rect, chip_area);
    let Some(window) = bounding_window(image, d, grow) else {
        return chip;
    };
    let mut rect = d.rect.translate([-(window.x0 as f64), -(window.y0 as f64)]);
    let mut level = 0;
    while rect.down().area() > chip_area {
        level += 1;
        rect = rect.down();
    }
    let source = if level == 0 {
        crop(image, &window)
    } else {
        let mut img = pyramid_down(&crop(image, &window));
        for _ in 1..level {
            img = pyramid_down(&img);
        }
        img
    };
    let c = rect.centre();
    let [tl, tr, bl, _] = rect.corners().map(|p| rotate(c, p, d.angle));
    let span = f64::from(size.saturating_sub(1)).max(1.0);
    let du = [(tr[0] - tl[0]) / span, (tr[1] - tl[1]) / span];
    let dv = [(bl[0] - tl[0]) / span, (bl[1] - tl[1]) / span];
    for (u, v, px) in chip.enumerate_pixels_mut() {
        let (u, v) = (f64::from(u), f64::from(v));
        let x = tl[0] + u * du[0] + v * dv[0];
        let y = tl[1] + u * du[1] + v * dv[1];
        *px = Rgb(bilinear_truncating(&source, x, y));
    }
    chip
}

/// dlib's `basic_extract_image_chip`: an unscaled, unrotated chip is a plain copy (black
/// outside the image).
fn copy_chip(image: &RgbImage, rect: &DRect, size: u32) -> RgbImage {
    let (x0, y0) = (rect.left.round() as i64, rect.top.round() as i64);
    RgbImage::from_fn(size, size, |u, v| {
        let (x, y) = (x0 + i64::from(u), y0 + i64::from(v));
        let inside = (0..i64::from(image.width())).contains(&x)
            && (0..i64::from(image.height())).contains(&y);
        if inside {
            *image.get_pixel(x as u32, y as u32)
        } else {
            Rgb([0; 3])
        }
    })
}

/// How many pyramid levels dlib builds for this chip, and the margin it crops around it.
fn pyramid_depth(rect: &DRect, chip_area: f64) -> (u32, f64) {
    let (mut depth, mut grow) = (0, 2.0);
    let mut r = rect.down();
    while r.area() > chip_area {
        r = r.down();
        depth += 1;
        grow = grow * 2.0 + 2.0;
    }
    (depth, grow)
}

/// The image region dlib crops before building its pyramid: the rotated chip rectangle's
/// bounding box grown by `grow`, clipped to the image, rounded (`lround`) to whole pixels.
fn bounding_window(image: &RgbImage, d: &ChipDetails, grow: f64) -> Option<Window> {
    let c = d.rect.centre();
    let rotated = d
        .rect
        .corners()
        .into_iter()
        .fold(DRect::EMPTY, |acc, p| acc.include(rotate(c, p, d.angle)));
    let g = rotated.grow(grow);
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let clipped = DRect {
        left: g.left.max(0.0),
        top: g.top.max(0.0),
        right: g.right.min(w - 1.0),
        bottom: g.bottom.min(h - 1.0),
    };
    let lround = |v: f64| v.round() as i64;
    let win = Window {
        x0: lround(clipped.left),
        y0: lround(clipped.top),
        x1: lround(clipped.right),
        y1: lround(clipped.bottom),
    };
    (win.x0 <= win.x1 && win.y0 <= win.y1).then_some(win)
}

fn crop(image: &RgbImage, w: &Window) -> RgbImage {
    let (x0, y0) = (w.x0 as u32, w.y0 as u32);
    let (cw, ch) = ((w.x1 - w.x0 + 1) as u32, (w.y1 - w.y0 + 1) as u32);
    image::imageops::crop_imm(image, x0, y0, cw, ch).to_image()
}

/// dlib's `pyramid_down<2>` for RGB images: `[1 4 6 4 1]` along rows (every other column),
/// then along columns (every other row), integer sums divided by 256 (truncating). The output
/// is `⌊(w − 3)/2⌋ × ⌊(h − 3)/2⌋`; images of 8 pixels or fewer on a side give an empty image.
pub fn pyramid_down(src: &RgbImage) -> RgbImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w <= 8 || h <= 8 {
        return RgbImage::new(0, 0);
    }
    let (ow, oh) = ((w - 3) / 2, (h - 3) / 2);
    let raw = src.as_raw();
    let mut rows = vec![0u32; h * ow * 3];
    for r in 0..h {
        for c in 0..ow {
            for k in 0..3 {
                let at = |dx: usize| u32::from(raw[(r * w + 2 * c + dx) * 3 + k]);
                rows[(r * ow + c) * 3 + k] = at(0) + 4 * at(1) + 6 * at(2) + 4 * at(3) + at(4);
            }
        }
    }
    let mut out = RgbImage::new(ow as u32, oh as u32);
    for (dr, r) in (2..h - 2).step_by(2).take(oh).enumerate() {
        for c in 0..ow {
            let px = [0, 1, 2].map(|k| {
                let at = |y: usize| rows[(y * ow + c) * 3 + k];
                let sum = at(r - 2) + 4 * at(r - 1) + 6 * at(r) + 4 * at(r + 1) + at(r + 2);
                (sum / 256) as u8
            });
            out.put_pixel(c as u32, dr as u32, Rgb(px));
        }
    }
    out
}

/// dlib's `interpolate_bilinear` on RGB: black unless the whole 2×2 neighbourhood is inside,
/// the interpolated value truncated to `u8`.
fn bilinear_truncating(src: &RgbImage, x: f64, y: f64) -> [u8; 3] {
    let (left, top) = (x.floor(), y.floor());
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    if !(left >= 0.0 && top >= 0.0 && left + 1.0 < w && top + 1.0 < h) {
        return [0; 3];
    }
    let (fx, fy) = (x - left, y - top);
    let (l, t) = (left as u32, top as u32);
    let p = |dx: u32, dy: u32| src.get_pixel(l + dx, t + dy).0.map(f64::from);
    let (tl, tr, bl, br) = (p(0, 0), p(1, 0), p(0, 1), p(1, 1));
    [0, 1, 2].map(|k| {
        let top = (1.0 - fx) * tl[k] + fx * tr[k];
        let bottom = (1.0 - fx) * bl[k] + fx * br[k];
        ((1.0 - fy) * top + fy * bottom) as u8
    })
}

/// dlib's five points from `f32` image points (for callers holding [`Point`]s).
pub fn to_f64(points: &[Point; 5]) -> [[f64; 2]; 5] {
    points.map(|p| p.map(f64::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_points_give_the_centred_unrotated_chip() {
        let pts = DLIB_MEAN_FACE_5.map(|p| p.map(|v| (0.25 + v) / 1.5 * 150.0 + 10.0));
        let d = face_chip_details(&pts, 150, 0.25).unwrap();
        assert!(d.angle.abs() < 1e-9);
        assert!((d.rect.left - 10.5).abs() < 1e-9, "{:?}", d.rect);
        assert!((d.rect.right - d.rect.left - 149.0).abs() < 1e-9);
    }

    #[test]
    fn pyramid_down_matches_the_hand_computed_filter() {
        let img = RgbImage::from_fn(12, 10, |x, y| Rgb([(x * 20) as u8, (y * 25) as u8, 7]));
        let d = pyramid_down(&img);
        assert_eq!(d.dimensions(), (4, 3));
        // A linear ramp is preserved by the symmetric filter (up to truncation): column c is
        // centred on source x = 2c + 2, row r on y = 2r + 2.
        assert_eq!(d.get_pixel(0, 0).0, [40, 50, 7]);
        assert_eq!(d.get_pixel(3, 2).0, [160, 150, 7]);
        assert_eq!(pyramid_down(&RgbImage::new(8, 40)).dimensions(), (0, 0));
    }

    #[test]
    fn bilinear_truncates_and_needs_the_whole_neighbourhood() {
        let img = RgbImage::from_fn(3, 2, |x, _| Rgb([(x * 101) as u8; 3]));
        assert_eq!(bilinear_truncating(&img, 0.5, 0.0), [50; 3]);
        assert_eq!(bilinear_truncating(&img, 1.5, 0.5), [151; 3]);
        assert_eq!(bilinear_truncating(&img, 2.0, 0.0), [0; 3]);
        assert_eq!(bilinear_truncating(&img, -0.1, 0.0), [0; 3]);
    }

    #[test]
    fn large_faces_go_through_the_pyramid() {
        let pts = DLIB_MEAN_FACE_5.map(|p| p.map(|v| (0.25 + v) / 1.5 * 600.0 + 20.0));
        let d = face_chip_details(&pts, 150, 0.25).unwrap();
        assert_eq!(pyramid_depth(&d.rect, 150.0 * 150.0).0, 2);
        let img = RgbImage::from_pixel(700, 700, Rgb([90, 120, 200]));
        let chip = extract_chip(&img, &d);
        assert_eq!(chip.get_pixel(75, 75).0, [90, 120, 200]);
    }
}
