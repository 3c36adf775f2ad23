//! Resampling for the alignment warp: bilinear sampling with a border rule, and an integer
//! box-filter pre-downsample so that large faces do not alias.
//!
//! Coordinates follow the pixel-centre convention: pixel `(i, j)` is centred on `(i, j)`.
//! Nothing here knows about faces or templates; it only maps chip pixels to image pixels.

use image::{Rgb, RgbImage};

use super::{options::Border, similarity::Similarity};

/// Largest box factor used (a face 64× larger than the chip is already far beyond any camera).
const MAX_FACTOR: u32 = 64;

/// Samples a `size`×`size` chip whose pixel `(u, v)` shows image point `chip_to_image(u, v)`.
///
/// With `antialias`, when one chip pixel spans `s ≥ 2` image pixels, the image region under
/// the chip is first averaged over `⌊s⌋×⌊s⌋` boxes, leaving a residual shrink below 2× that
/// bilinear sampling handles without visible aliasing (dlib does the same with a pyramid).
pub(super) fn warp(
    image: &RgbImage,
    chip_to_image: &Similarity,
    size: u32,
    border: Border,
    antialias: bool,
) -> RgbImage {
    let factor = if antialias {
        box_factor(chip_to_image)
    } else {
        1
    };
    let region = (factor >= 2)
        .then(|| footprint(image, chip_to_image, size, factor))
        .flatten();
    match region {
        Some(region) => {
            let small = box_downsample(image, &region, factor);
            let to_small = chip_to_image.then(&region.to_downsampled(factor));
            sample_chip(&small, &to_small, size, border)
        }
        None => sample_chip(image, chip_to_image, size, border),
    }
}

fn box_factor(chip_to_image: &Similarity) -> u32 {
    let step = chip_to_image.scale();
    if step >= 2.0 {
        (step.floor() as u32).min(MAX_FACTOR)
    } else {
        1
    }
}

/// An axis-aligned pixel rectangle `[x0, x1) × [y0, y1)` inside the image.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Region {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Region {
    /// Maps image coordinates to the coordinates of the box-downsampled region: block `i`
    /// averages pixels `x0 + i·f .. x0 + (i+1)·f`, whose centre is `x0 + i·f + (f − 1)/2`.
    fn to_downsampled(self, factor: u32) -> Similarity {
        let f = factor as f32;
        let offset = (f - 1.0) / 2.0;
        let tx = -(self.x0 as f32 + offset) / f;
        let ty = -(self.y0 as f32 + offset) / f;
        Similarity::scale_translate(1.0 / f, [tx, ty])
    }
}

/// The image pixels the chip can touch (its corners mapped back, plus a margin of one box),
/// clipped to the image; `None` when the chip lies entirely outside the image.
fn footprint(
    image: &RgbImage,
    chip_to_image: &Similarity,
    size: u32,
    factor: u32,
) -> Option<Region> {
    let (lo, hi) = (-1.0, size as f32);
    let corners = [[lo, lo], [hi, lo], [lo, hi], [hi, hi]].map(|p| chip_to_image.apply(p));
    let margin = factor as f32;
    let clip = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
    let xs = corners.map(|p| p[0]);
    let ys = corners.map(|p| p[1]);
    let min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
    let max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
    let region = Region {
        x0: clip((min(xs) - margin).floor(), image.width()),
        y0: clip((min(ys) - margin).floor(), image.height()),
        x1: clip((max(xs) + margin).ceil(), image.width()),
        y1: clip((max(ys) + margin).ceil(), image.height()),
    };
    (region.x1 > region.x0 && region.y1 > region.y0).then_some(region)
}

/// Averages `factor`×`factor` blocks of `region` (partial blocks at its right and bottom edge
/// average the pixels they have).
fn box_downsample(image: &RgbImage, region: &Region, factor: u32) -> RgbImage {
    let (w, h) = (region.x1 - region.x0, region.y1 - region.y0);
    let mut out = RgbImage::new(w.div_ceil(factor), h.div_ceil(factor));
    let mut acc = vec![0u32; out.width() as usize * 3];
    for oy in 0..out.height() {
        acc.fill(0);
        let rows = region.y0 + oy * factor..(region.y0 + (oy + 1) * factor).min(region.y1);
        let n_rows = rows.len() as u32;
        for y in rows {
            accumulate_row(image, region, y, factor, &mut acc);
        }
        write_row(&mut out, oy, &acc, n_rows, w, factor);
    }
    out
}

fn accumulate_row(image: &RgbImage, region: &Region, y: u32, factor: u32, acc: &mut [u32]) {
    let start = (y as usize * image.width() as usize + region.x0 as usize) * 3;
    let end = start + (region.x1 - region.x0) as usize * 3;
    let pixels = image.as_raw()[start..end].chunks_exact(3);
    for (i, px) in pixels.enumerate() {
        let o = i / factor as usize * 3;
        for c in 0..3 {
            acc[o + c] += u32::from(px[c]);
        }
    }
}

fn write_row(out: &mut RgbImage, oy: u32, acc: &[u32], n_rows: u32, width: u32, factor: u32) {
    for ox in 0..out.width() {
        let n_cols = factor.min(width - ox * factor);
        let count = n_cols * n_rows;
        let o = ox as usize * 3;
        let px = [0, 1, 2].map(|c| ((acc[o + c] + count / 2) / count) as u8);
        out.put_pixel(ox, oy, Rgb(px));
    }
}

/// Plain bilinear sampling of every chip pixel.
fn sample_chip(src: &RgbImage, chip_to_src: &Similarity, size: u32, border: Border) -> RgbImage {
    RgbImage::from_fn(size, size, |u, v| {
        let [x, y] = chip_to_src.apply([u as f32, v as f32]);
        Rgb(bilinear(src, x, y, border))
    })
}

fn bilinear(src: &RgbImage, x: f32, y: f32, border: Border) -> [u8; 3] {
    // Far-outside points only ever see the border: clamping keeps the integer maths small.
    let x = x.clamp(-2.0, src.width() as f32 + 1.0);
    let y = y.clamp(-2.0, src.height() as f32 + 1.0);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (xi, yi) = (x0 as i64, y0 as i64);
    let p00 = fetch(src, xi, yi, border);
    let p10 = fetch(src, xi + 1, yi, border);
    let p01 = fetch(src, xi, yi + 1, border);
    let p11 = fetch(src, xi + 1, yi + 1, border);
    [0, 1, 2].map(|c| {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bottom = p01[c] + (p11[c] - p01[c]) * fx;
        (top + (bottom - top) * fy + 0.5).clamp(0.0, 255.0) as u8
    })
}

fn fetch(src: &RgbImage, x: i64, y: i64, border: Border) -> [f32; 3] {
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    let inside = (0..w).contains(&x) && (0..h).contains(&y);
    let (x, y) = match border {
        Border::Constant(colour) if !inside => return colour.map(f32::from),
        Border::Constant(_) => (x, y),
        Border::Replicate => (x.clamp(0, (w - 1).max(0)), y.clamp(0, (h - 1).max(0))),
    };
    match src.get_pixel_checked(x as u32, y as u32) {
        Some(p) => p.0.map(f32::from),
        None => [0.0; 3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_downsample_averages_blocks_and_partial_edges() {
        let image = RgbImage::from_fn(5, 3, |x, y| Rgb([(x * 10) as u8, (y * 10) as u8, 7]));
        let region = Region {
            x0: 0,
            y0: 0,
            x1: 5,
            y1: 3,
        };
        let small = box_downsample(&image, &region, 2);
        assert_eq!(small.dimensions(), (3, 2));
        assert_eq!(small.get_pixel(0, 0).0, [5, 5, 7]);
        assert_eq!(small.get_pixel(2, 0).0, [40, 5, 7]);
        assert_eq!(small.get_pixel(1, 1).0, [25, 20, 7]);
    }

    #[test]
    fn downsampled_coordinates_point_at_block_centres() {
        let region = Region {
            x0: 10,
            y0: 20,
            x1: 100,
            y1: 100,
        };
        let map = region.to_downsampled(4);
        // Block (0, 0) covers x 10..14, y 20..24: centre (11.5, 21.5).
        assert_eq!(map.apply([11.5, 21.5]), [0.0, 0.0]);
        assert_eq!(map.apply([15.5, 29.5]), [1.0, 2.0]);
    }

    #[test]
    fn bilinear_interpolates_and_applies_the_border_rule() {
        let image = RgbImage::from_fn(2, 1, |x, _| Rgb([if x == 0 { 0 } else { 200 }; 3]));
        assert_eq!(bilinear(&image, 0.5, 0.0, Border::Replicate), [100; 3]);
        assert_eq!(bilinear(&image, 5.0, 9.0, Border::Replicate), [200; 3]);
        assert_eq!(
            bilinear(&image, 5.0, 9.0, Border::Constant([1, 2, 3])),
            [1, 2, 3]
        );
        assert_eq!(
            bilinear(&image, 1.0, 0.5, Border::Constant([0; 3])),
            [100; 3]
        );
        assert_eq!(bilinear(&image, f32::NAN, 0.0, Border::Replicate), [0; 3]);
    }

    #[test]
    fn chip_outside_the_image_has_no_footprint() {
        let image = RgbImage::new(50, 50);
        let far = Similarity::scale_translate(4.0, [1000.0, 1000.0]);
        assert_eq!(footprint(&image, &far, 150, 4), None);
        let near = Similarity::scale_translate(0.25, [0.0, 0.0]);
        let r = footprint(&image, &near, 150, 4).unwrap();
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (0, 0, 42, 42));
    }
}
