//! A portrait turned into what a classroom door's camera sees, for the doorway benchmark
//! (`examples/doorway.rs`). Pure and deterministic from a seed: the photo pasted into a
//! 1280×720 corridor at a chosen size, horizontal motion blur, exposure, sensor noise and JPEG
//! re-compression, each on its own and together ([`Conditions::doorway`]).

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, imageops::FilterType};

/// The frame a 720p door camera gives.
pub const FRAME: (u32, u32) = (1280, 720);

/// How one frame is degraded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Degradation {
    /// The photo's size in the frame, as a share of its own (1.0: as photographed).
    pub scale: f32,
    /// Length of the horizontal motion blur, px (0: none).
    pub blur_px: u32,
    /// Exposure: every value multiplied by this, then clipped (1.0: unchanged).
    pub gain: f32,
    /// Standard deviation of the sensor noise, grey levels (0: none).
    pub noise: f32,
    /// JPEG quality the frame is re-compressed at (100 or more: not re-compressed).
    pub jpeg_quality: u8,
}

impl Degradation {
    /// The photo in the corridor at its own size, nothing else.
    pub const CLEAN: Degradation = Degradation {
        scale: 1.0,
        blur_px: 0,
        gain: 1.0,
        noise: 0.0,
        jpeg_quality: 100,
    };
}

/// Ranges a walk-in's frames are drawn from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conditions {
    pub scale: (f32, f32),
    pub blur_px: (u32, u32),
    pub gain: (f32, f32),
    pub noise: (f32, f32),
    pub jpeg_quality: (u8, u8),
}

impl Conditions {
    /// One fixed degradation.
    pub fn fixed(d: Degradation) -> Self {
        Conditions {
            scale: (d.scale, d.scale),
            blur_px: (d.blur_px, d.blur_px),
            gain: (d.gain, d.gain),
            noise: (d.noise, d.noise),
            jpeg_quality: (d.jpeg_quality, d.jpeg_quality),
        }
    }

    /// A real doorway: the person at 60–100 % of the photo's size, exposure off either way,
    /// horizontal motion blur, sensor noise, JPEG 55–75.
    pub fn doorway() -> Self {
        Conditions {
            scale: (0.6, 1.0),
            blur_px: (0, 9),
            gain: (0.45, 1.5),
            noise: (2.0, 10.0),
            jpeg_quality: (55, 75),
        }
    }

    /// Frame `frame` of a walk-in: drawn from the ranges, the person a little larger each
    /// frame as they come closer.
    pub fn draw(&self, seed: u64, frame: usize, frames: usize) -> Degradation {
        let mut rng = Rng::new(seed);
        let approach = (frame as f32 + 1.0) / frames.max(1) as f32;
        let (lo, hi) = self.scale;
        let base = lo + (hi - lo) * rng.unit() * 0.5;
        Degradation {
            scale: (base + (hi - base) * approach * 0.5).min(hi),
            blur_px: self.blur_px.0
                + (rng.unit() * (self.blur_px.1 - self.blur_px.0) as f32) as u32,
            gain: between(self.gain, rng.unit()),
            noise: between(self.noise, rng.unit()),
            jpeg_quality: self.jpeg_quality.0
                + (rng.unit() * f32::from(self.jpeg_quality.1 - self.jpeg_quality.0)) as u8,
        }
    }
}

fn between((lo, hi): (f32, f32), t: f32) -> f32 {
    lo + (hi - lo) * t
}

/// `photo` as the door camera sees it under `d` (the noise drawn from `seed`).
pub fn frame(photo: &RgbImage, d: &Degradation, seed: u64) -> RgbImage {
    let mut img = corridor(photo, d.scale, seed);
    if d.blur_px > 1 {
        img = motion_blur(&img, d.blur_px);
    }
    expose(&mut img, d.gain);
    add_noise(&mut img, d.noise, seed);
    if d.jpeg_quality < 100 {
        img = recompress(&img, d.jpeg_quality);
    }
    img
}

/// A 1280×720 corridor (a grey gradient) with `photo` scaled by `scale` standing in it, a
/// little off centre as `seed` says.
pub fn corridor(photo: &RgbImage, scale: f32, seed: u64) -> RgbImage {
    let (fw, fh) = FRAME;
    let w = ((photo.width() as f32 * scale).round() as u32).clamp(1, fw);
    let h = ((photo.height() as f32 * scale).round() as u32).clamp(1, fh);
    let person = image::imageops::resize(photo, w, h, FilterType::Triangle);
    let mut frame = RgbImage::from_fn(fw, fh, |x, y| {
        let v = (90 + (x * 50 / fw) + (y * 30 / fh)) as u8;
        Rgb([v, v, v.saturating_add(8)])
    });
    let room = i64::from(fw - w);
    let shift = (Rng::new(seed).unit() - 0.5) * 0.4 * room as f32;
    let x = (room / 2 + shift as i64).clamp(0, room);
    let y = i64::from(fh - h) / 3;
    image::imageops::replace(&mut frame, &person, x, y);
    frame
}

/// Horizontal motion blur: each pixel the mean of `len` pixels of its row.
pub fn motion_blur(img: &RgbImage, len: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let half = len / 2;
    RgbImage::from_fn(w, h, |x, y| {
        let (from, to) = (x.saturating_sub(half), (x + half).min(w - 1));
        let mut sum = [0u32; 3];
        for xi in from..=to {
            for (s, v) in sum.iter_mut().zip(img.get_pixel(xi, y).0) {
                *s += u32::from(v);
            }
        }
        let n = to - from + 1;
        Rgb(sum.map(|s| ((s + n / 2) / n) as u8))
    })
}

/// Exposure: every value times `gain`, clipped.
pub fn expose(img: &mut RgbImage, gain: f32) {
    if gain == 1.0 {
        return;
    }
    for p in img.pixels_mut() {
        p.0 =
            p.0.map(|v| (f32::from(v) * gain).round().clamp(0.0, 255.0) as u8);
    }
}

/// Gaussian sensor noise of standard deviation `sigma`, the same for the same `seed`.
pub fn add_noise(img: &mut RgbImage, sigma: f32, seed: u64) {
    if sigma <= 0.0 {
        return;
    }
    let mut rng = Rng::new(seed ^ 0x5EED_0F00_0015);
    for p in img.pixels_mut() {
        p.0 = p.0.map(|v| {
            (f32::from(v) + sigma * rng.normal())
                .round()
                .clamp(0.0, 255.0) as u8
        });
    }
}

/// The image JPEG-encoded at `quality` and decoded again.
pub fn recompress(img: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.max(1));
    if img.write_with_encoder(encoder).is_err() {
        return img.clone();
    }
    image::load(Cursor::new(bytes), ImageFormat::Jpeg)
        .map(|d| d.to_rgb8())
        .unwrap_or_else(|_| img.clone())
}

/// xorshift64*: a small deterministic generator (the benchmark must give the same frames on
/// every machine).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f32 {
        let u = self.unit().max(1e-7);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> RgbImage {
        RgbImage::from_fn(250, 250, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 255])
        })
    }

    fn mean(img: &RgbImage) -> f64 {
        let sum: u64 = img.pixels().map(|p| u64::from(p.0[0])).sum();
        sum as f64 / (img.width() * img.height()) as f64
    }

    #[test]
    fn the_corridor_holds_the_person_at_the_asked_size() {
        let f = corridor(&photo(), 0.6, 1);
        assert_eq!(f.dimensions(), FRAME);
        let person: Vec<u32> = (0..FRAME.0)
            .filter(|&x| (0..FRAME.1).any(|y| f.get_pixel(x, y).0[2] == 255))
            .collect();
        assert_eq!(person.len(), 150, "250 px at 0.6");
    }

    #[test]
    fn blur_keeps_the_mean_and_smooths_edges() {
        let stripes = RgbImage::from_fn(64, 4, |x, _| Rgb([if x % 2 == 0 { 0 } else { 200 }; 3]));
        let blurred = motion_blur(&stripes, 9);
        assert!((mean(&blurred) - mean(&stripes)).abs() < 2.0);
        assert!(
            (85..=115).contains(&blurred.get_pixel(30, 1).0[0]),
            "stripes averaged out"
        );
    }

    #[test]
    fn exposure_clips_and_noise_is_the_same_for_the_same_seed() {
        let mut dark = photo();
        expose(&mut dark, 0.5);
        assert_eq!(dark.get_pixel(200, 0).0[0], 100);
        let mut bright = photo();
        expose(&mut bright, 2.0);
        assert_eq!(bright.get_pixel(200, 0).0[0], 255, "clipped");
        let (mut a, mut b, mut c) = (photo(), photo(), photo());
        add_noise(&mut a, 8.0, 7);
        add_noise(&mut b, 8.0, 7);
        add_noise(&mut c, 8.0, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((mean(&a) - mean(&photo())).abs() < 1.0, "zero-mean noise");
    }

    #[test]
    fn recompression_changes_pixels_not_size_and_draws_stay_in_range() {
        let p = photo();
        let q = recompress(&p, 55);
        assert_eq!(q.dimensions(), p.dimensions());
        assert_ne!(q, p);
        let c = Conditions::doorway();
        for seed in 0..50 {
            let d = c.draw(seed, 2, 3);
            assert!((0.6..=1.0).contains(&d.scale) && d.blur_px <= 9, "{d:?}");
            assert!((55..=75).contains(&d.jpeg_quality) && (0.45..=1.5).contains(&d.gain));
            assert_eq!(d, c.draw(seed, 2, 3), "deterministic");
        }
        assert_eq!(
            Conditions::fixed(Degradation::CLEAN).draw(3, 0, 3),
            Degradation::CLEAN
        );
    }
}
