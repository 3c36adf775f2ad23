//! `image::imageops::resize(…, FilterType::Triangle)` for RGB images, the same pixels to the
//! bit, in a quarter of the time.
//!
//! The detector's input is the frame resized with that filter, and the quality gate's
//! re-detection resizes each chip twice, so these pixels decide the detector's scores: a
//! faster resize that moved them by one grey level would move which faces the door accepts.
//! `image`'s version computes its filter weights for every call, reads pixels through a
//! generic accessor, carries a fourth channel and rounds with `roundf`. Here the weights of
//! each axis are computed once per call, exactly as `image` computes them, the sums are
//! taken in the same order with the same `f32` operations (Rust never fuses a multiply and
//! an add on its own), and rounding is done without the library call. The vertical pass runs
//! first, unrounded, then the horizontal pass rounds, as in `image`.

use image::RgbImage;

/// `image` resized to `width × height` with the triangle (bilinear) filter: what
/// `image::imageops::resize(image, width, height, FilterType::Triangle)` returns.
pub fn resize_triangle(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return RgbImage::new(width, height);
    }
    if (w, h) == (width, height) {
        return image.clone();
    }
    let columns = vertical(image.as_raw(), (w as usize, h as usize), height as usize);
    let pixels = horizontal(&columns, (w as usize, height as usize), width as usize);
    RgbImage::from_raw(width, height, pixels).expect("the buffer has width × height pixels")
}

/// The taps of one output sample: the first input index and the normalised weights.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// The taps of every output sample along an axis of `len` input samples resized to `new_len`,
/// computed as `image`'s `horizontal_sample` and `vertical_sample` compute them.
fn axis_taps(len: usize, new_len: usize) -> Vec<Taps> {
    const SUPPORT: f32 = 1.0;
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let src_support = SUPPORT * sratio;
    (0..new_len)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - src_support).floor() as i64).clamp(0, len as i64 - 1);
            let right = ((centre + src_support).ceil() as i64).clamp(left + 1, len as i64);
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| triangle((i as f32 - centre) / sratio))
                .collect();
            let sum = weights.iter().fold(0.0, |s, w| s + w);
            weights.iter_mut().for_each(|w| *w /= sum);
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

fn triangle(x: f32) -> f32 {
    if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 }
}

/// Rows resized from `h` to `new_h`, unrounded: `new_h` rows of `3·w` values.
fn vertical(src: &[u8], (w, h): (usize, usize), new_h: usize) -> Vec<f32> {
    let row_len = 3 * w;
    let mut out = vec![0f32; new_h * row_len];
    for (taps, dst) in axis_taps(h, new_h)
        .iter()
        .zip(out.chunks_exact_mut(row_len))
    {
        for (i, weight) in taps.weights.iter().enumerate() {
            let row = &src[(taps.first + i) * row_len..][..row_len];
            for (d, s) in dst.iter_mut().zip(row) {
                *d += f32::from(*s) * weight;
            }
        }
    }
    out
}

/// Each of `h` rows of `w` RGB pixels (unrounded) resized to `new_w` pixels and rounded.
fn horizontal(src: &[f32], (w, h): (usize, usize), new_w: usize) -> Vec<u8> {
    let taps = axis_taps(w, new_w);
    let mut out = vec![0u8; h * new_w * 3];
    for (row, dst) in src.chunks_exact(3 * w).zip(out.chunks_exact_mut(3 * new_w)) {
        for (tap, px) in taps.iter().zip(dst.chunks_exact_mut(3)) {
            let mut t = [0f32; 3];
            for (i, weight) in tap.weights.iter().enumerate() {
                let s = &row[3 * (tap.first + i)..][..3];
                for c in 0..3 {
                    t[c] += s[c] * weight;
                }
            }
            for c in 0..3 {
                px[c] = round_to_u8(t[c]);
            }
        }
    }
    out
}

/// `x` clamped to 0‥255 and rounded half away from zero, as `f32::round` then `as u8`.
fn round_to_u8(x: f32) -> u8 {
    let x = x.clamp(0.0, 255.0);
    // `x − whole` is exact: `whole ≤ x < whole + 1 ≤ 2·whole` for x ≥ 1 (Sterbenz), and
    // `whole` is 0 below 1.
    let whole = x as u8;
    if x - f32::from(whole) >= 0.5 {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{FilterType, resize};

    fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        RgbImage::from_fn(w, h, |_, _| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            };
            image::Rgb([next(), next(), next()])
        })
    }

    /// Bit for bit what `image` gives, growing and shrinking, odd sizes, the detector's
    /// 4/3 growth and the chip's halving among them.
    #[test]
    fn same_pixels_as_image() {
        let cases = [
            ((250, 250), (333, 333)),
            ((150, 150), (75, 75)),
            ((125, 125), (167, 167)),
            ((640, 480), (320, 240)),
            ((1200, 800), (1024, 683)),
            ((7, 5), (3, 11)),
            ((1, 1), (4, 2)),
            ((9, 1), (1, 9)),
            ((64, 48), (64, 97)),
        ];
        for (i, ((w, h), (nw, nh))) in cases.into_iter().enumerate() {
            let img = noise(w, h, i as u32 + 1);
            let expected = resize(&img, nw, nh, FilterType::Triangle);
            let got = resize_triangle(&img, nw, nh);
            assert_eq!(got.dimensions(), expected.dimensions());
            assert!(
                got.as_raw() == expected.as_raw(),
                "{w}×{h} → {nw}×{nh} differs"
            );
        }
    }

    #[test]
    fn rounding_matches_f32_round() {
        for i in 0..=(256 * 64) {
            let x = i as f32 / 64.0 - 1.0;
            let expected = x.clamp(0.0, 255.0).round() as u8;
            assert_eq!(round_to_u8(x), expected, "{x}");
        }
        for x in [
            0.49999997f32,
            0.5,
            1.4999999,
            2.5,
            254.5,
            254.49998,
            300.0,
            -3.0,
        ] {
            assert_eq!(round_to_u8(x), x.clamp(0.0, 255.0).round() as u8, "{x}");
        }
    }

    #[test]
    fn same_size_is_a_copy_and_empty_gives_black() {
        let img = noise(5, 4, 9);
        assert_eq!(resize_triangle(&img, 5, 4), img);
        let empty = RgbImage::new(0, 3);
        assert_eq!(resize_triangle(&empty, 2, 2), RgbImage::new(2, 2));
    }
}
