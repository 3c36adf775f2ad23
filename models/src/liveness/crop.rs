//! The network's input: a face box widened by the model's scale, kept inside the frame, and
//! resized to 80×80 BGR bytes; then the NCHW tensor of those bytes, 0–255, not normalised.
//!
//! The rule is minivision's `CropImage`: the box's width and height times the scale (the
//! scale lowered until the crop fits the frame), centred on the box, shifted (never shrunk)
//! back inside `[0, W−1] × [0, H−1]`, corners truncated to whole pixels, both corners
//! included. The resize is OpenCV's `INTER_LINEAR` (two taps per axis, half-pixel centres,
//! edges clamped, no averaging when shrinking), computed in f64 and rounded half up; the
//! reference script (`models/parity/liveness`) computes the same bytes.

use candle_core::{Device, Tensor};
use image::RgbImage;

use super::error::LivenessError;

/// Side of the square network input, pixels.
pub const INPUT_SIZE: usize = 80;

/// A crop rectangle in frame pixels, both corners included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
}

impl CropBox {
    pub fn width(&self) -> u32 {
        self.right - self.left + 1
    }

    pub fn height(&self) -> u32 {
        self.bottom - self.top + 1
    }
}

/// The crop for face box `[x1, y1, x2, y2]` in a `width × height` frame at `scale`.
pub fn crop_box(
    (width, height): (u32, u32),
    bbox: [f32; 4],
    scale: f64,
) -> Result<CropBox, LivenessError> {
    let [x1, y1, x2, y2] = bbox.map(f64::from);
    let (box_w, box_h) = (x2 - x1, y2 - y1);
    let valid = bbox.iter().all(|v| v.is_finite()) && box_w > 0.0 && box_h > 0.0;
    if !valid {
        return Err(LivenessError::BadBox { bbox });
    }
    if width == 0 || height == 0 {
        return Err(LivenessError::EmptyImage { width, height });
    }
    let (max_x, max_y) = (f64::from(width - 1), f64::from(height - 1));
    let scale = scale.min(max_x / box_w).min(max_y / box_h);
    let (cx, cy) = (x1 + box_w / 2.0, y1 + box_h / 2.0);
    let (left, right) = shift_inside(cx, box_w * scale, max_x);
    let (top, bottom) = shift_inside(cy, box_h * scale, max_y);
    Ok(CropBox {
        left,
        top,
        right,
        bottom,
    })
}

/// The interval of length `len` centred on `centre`, shifted into `[0, max]`, its ends
/// truncated to whole pixels (as the reference's `int()`) and clamped into the frame.
fn shift_inside(centre: f64, len: f64, max: f64) -> (u32, u32) {
    let (mut lo, mut hi) = (centre - len / 2.0, centre + len / 2.0);
    if lo < 0.0 {
        hi -= lo;
        lo = 0.0;
    }
    if hi > max {
        lo -= hi - max;
        hi = max;
    }
    let pixel = |v: f64| v.trunc().clamp(0.0, max) as u32;
    (pixel(lo), pixel(hi).max(pixel(lo)))
}

/// One network input: `INPUT_SIZE²` pixels, row-major, 3 bytes each in B, G, R order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgrCrop {
    pub bytes: Vec<u8>,
}

impl BgrCrop {
    /// `(1, 3, 80, 80)` f32 tensor of the B, G, R planes, values 0–255.
    pub fn to_tensor(&self, device: &Device) -> candle_core::Result<Tensor> {
        let plane = INPUT_SIZE * INPUT_SIZE;
        let mut data = vec![0f32; 3 * plane];
        for (i, px) in self.bytes.chunks_exact(3).enumerate() {
            for (c, v) in px.iter().enumerate() {
                data[c * plane + i] = f32::from(*v);
            }
        }
        Tensor::from_vec(data, (1, 3, INPUT_SIZE, INPUT_SIZE), device)
    }
}

/// The `INPUT_SIZE × INPUT_SIZE` BGR crop of `image` (RGB) at `area`.
pub fn crop_bgr(image: &RgbImage, area: CropBox) -> BgrCrop {
    let xs = taps(area.left, area.width());
    let ys = taps(area.top, area.height());
    let mut bytes = Vec::with_capacity(3 * INPUT_SIZE * INPUT_SIZE);
    for &(y0, y1, fy) in &ys {
        for &(x0, x1, fx) in &xs {
            let px = |x, y| image.get_pixel_checked(x, y).map_or([0; 3], |p| p.0);
            let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
            for ch in [2, 1, 0] {
                let top = (1.0 - fx) * f64::from(a[ch]) + fx * f64::from(b[ch]);
                let bottom = (1.0 - fx) * f64::from(c[ch]) + fx * f64::from(d[ch]);
                let v = (1.0 - fy) * top + fy * bottom;
                bytes.push((v + 0.5).floor().clamp(0.0, 255.0) as u8);
            }
        }
    }
    BgrCrop { bytes }
}

/// For each output sample: the two input samples (absolute) and the second one's weight,
/// OpenCV's `INTER_LINEAR` rule over `len` samples starting at `first`.
fn taps(first: u32, len: u32) -> Vec<(u32, u32, f64)> {
    let ratio = f64::from(len) / INPUT_SIZE as f64;
    (0..INPUT_SIZE)
        .map(|i| {
            let src = (i as f64 + 0.5) * ratio - 0.5;
            let mut lo = src.floor();
            let mut frac = src - lo;
            if lo < 0.0 {
                (lo, frac) = (0.0, 0.0);
            }
            let last = f64::from(len - 1);
            if lo >= last {
                (lo, frac) = (last, 0.0);
            }
            let lo = lo as u32;
            let hi = (lo + 1).min(len - 1);
            (first + lo, first + hi, frac)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: (u32, u32) = (480, 640);

    #[test]
    fn centred_box_is_scaled_about_its_centre() {
        let b = crop_box(FRAME, [200.0, 300.0, 280.0, 400.0], 2.7).unwrap();
        // 80×100 box centred on (240, 350): 216×270.
        assert_eq!((b.left, b.top, b.right, b.bottom), (132, 215, 348, 485));
    }

    #[test]
    fn crop_at_the_frame_edge_is_shifted_not_shrunk() {
        let b = crop_box(FRAME, [0.0, 10.0, 100.0, 110.0], 2.7).unwrap();
        assert_eq!((b.left, b.top), (0, 0));
        assert_eq!((b.right, b.bottom), (270, 270));
        let b = crop_box(FRAME, [430.0, 560.0, 479.0, 639.0], 2.0).unwrap();
        assert_eq!((b.right, b.bottom), (479, 639));
        assert_eq!((b.width(), b.height()), (99, 159));
    }

    #[test]
    fn scale_is_lowered_to_fit_the_frame() {
        // 200 px wide at 4.0 would be 800 px: the scale drops to 479/200 and the crop spans
        // the frame's width; the height scales by the same factor.
        let b = crop_box(FRAME, [100.0, 200.0, 300.0, 400.0], 4.0).unwrap();
        assert_eq!((b.left, b.right), (0, 479));
        assert_eq!((b.top, b.bottom), (60, 539));
    }

    #[test]
    fn box_larger_than_the_frame_keeps_its_aspect_inside_the_frame() {
        // 800×950: the scale drops to 479/800, so the crop is 479 wide and 568.8 tall,
        // centred at y = 425 and shifted up by 70.4 to end on the last row.
        let b = crop_box(FRAME, [-100.0, -50.0, 700.0, 900.0], 2.7).unwrap();
        assert_eq!((b.left, b.top, b.right, b.bottom), (0, 70, 479, 639));
        let far = crop_box(FRAME, [5000.0, 5000.0, 5100.0, 5100.0], 2.7).unwrap();
        assert_eq!(
            (far.left, far.top, far.right, far.bottom),
            (209, 369, 479, 639)
        );
    }

    #[test]
    fn degenerate_boxes_and_frames_are_errors() {
        for bbox in [
            [10.0, 10.0, 10.0, 20.0],
            [10.0, 10.0, 5.0, 20.0],
            [f32::NAN, 0.0, 1.0, 1.0],
            [0.0, 0.0, f32::INFINITY, 1.0],
        ] {
            assert!(crop_box(FRAME, bbox, 2.7).is_err(), "{bbox:?}");
        }
        assert!(crop_box((0, 10), [0.0, 0.0, 1.0, 1.0], 2.7).is_err());
        let one = crop_box((1, 1), [0.0, 0.0, 1.0, 1.0], 2.7).unwrap();
        assert_eq!((one.width(), one.height()), (1, 1));
    }

    #[test]
    fn resize_swaps_to_bgr_and_interpolates() {
        // A 160×80 horizontal ramp: red = x, green = 7, blue = 255 − x.
        let image = RgbImage::from_fn(160, 80, |x, _| image::Rgb([x as u8, 7, 255 - x as u8]));
        let area = CropBox {
            left: 0,
            top: 0,
            right: 159,
            bottom: 79,
        };
        let crop = crop_bgr(&image, area);
        assert_eq!(crop.bytes.len(), 3 * INPUT_SIZE * INPUT_SIZE);
        // Output x samples input x = 2x + 0.5: the mean of 2x and 2x + 1, rounded half up.
        for x in [0usize, 1, 40, 79] {
            let px = &crop.bytes[3 * x..3 * x + 3];
            let (red, blue) = ((2 * x + 1) as u8, (255 - 2 * x) as u8);
            assert_eq!(px, [blue, 7, red], "x = {x}");
        }
        let t = crop.to_tensor(&Device::Cpu).unwrap();
        assert_eq!(t.dims(), [1, 3, 80, 80]);
        let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!((v[0], v[6400], v[12800]), (255.0, 7.0, 1.0));
    }

    #[test]
    fn upscaling_clamps_at_the_edges() {
        let image = RgbImage::from_fn(2, 2, |x, y| image::Rgb([(100 * x + 10 * y) as u8, 0, 0]));
        let area = CropBox {
            left: 0,
            top: 0,
            right: 1,
            bottom: 1,
        };
        let crop = crop_bgr(&image, area);
        let red = |x: usize, y: usize| crop.bytes[3 * (y * INPUT_SIZE + x) + 2];
        assert_eq!(
            (red(0, 0), red(79, 0), red(0, 79), red(79, 79)),
            (0, 100, 10, 110)
        );
        assert!(red(40, 0) > 0 && red(40, 0) < 100);
    }
}
