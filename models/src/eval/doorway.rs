//! A portrait turned into what a classroom door's camera sees, for the doorway benchmark
//! (`examples/doorway/`). Pure and deterministic from a seed: the face's region of the photo
//! pasted into a corridor (a [`Camera`]'s frame) so the eyes are a chosen distance apart, horizontal motion
//! blur, exposure, sensor noise and JPEG re-compression, each on its own ([`conditions`]) and
//! together ([`Conditions::doorway`]), frame by frame of a walk-in ([`Conditions::draw`]).
//!
//! Sizes are inter-eye distances in frame pixels. A 720p camera with a horizontal field of
//! view of 60° / 70° / 90° has a focal length of 1108 / 914 / 640 px (640 / tan(fov / 2));
//! eyes 63 mm apart are then 70 / 58 / 40 px apart at 1 m, 35 / 29 / 20 px at 2 m and
//! 23 / 19 / 13 px at 3 m (docs/ACCURACY.md, "The door at a doorway").
//!
//! Must not run networks or read files: the benchmark's example does that.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage, imageops::FilterType};
use serde::{Deserialize, Serialize};

/// The frame a 720p door camera gives.
pub const FRAME: (u32, u32) = (1280, 720);

/// A door camera's frame size. Every camera sees the same scene (the same field of view):
/// a [`Degradation`]'s sizes are given for the 720p frame ([`Camera::HD`]) and scaled with
/// the frame's width, so a 1080p camera puts 1.5 times the pixels on the same face, and the
/// same motion blurs 1.5 times as many of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Camera {
    pub width: u32,
    pub height: u32,
}

impl Camera {
    /// 1280×720, the frame the conditions are written for.
    pub const HD: Camera = Camera {
        width: FRAME.0,
        height: FRAME.1,
    };

    /// How many of this camera's pixels one 720p pixel spans.
    pub fn scale(&self) -> f32 {
        self.width as f32 / FRAME.0 as f32
    }

    /// `d` in this camera's pixels: eye distance and blur scaled.
    pub fn sees(&self, d: &Degradation) -> Degradation {
        let s = self.scale();
        Degradation {
            eye_px: d.eye_px * s,
            blur_px: (d.blur_px as f32 * s).round() as u32,
            ..*d
        }
    }
}

impl Default for Camera {
    fn default() -> Self {
        Camera::HD
    }
}

impl std::str::FromStr for Camera {
    type Err = String;

    /// `WIDTHxHEIGHT`, e.g. `1920x1080`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s}: a camera is WIDTHxHEIGHT, e.g. 1920x1080");
        let (w, h) = s.split_once(['x', '×']).ok_or_else(bad)?;
        let (width, height) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
        if !(320..=8192).contains(&width) || !(240..=8192).contains(&height) {
            return Err(bad());
        }
        Ok(Camera { width, height })
    }
}

/// How much larger the face is in each later frame of a walk-in: 0.2 m closer (1.4 m/s over
/// the burst's 150 ms spacing) from about 2.5 m.
pub const GROWTH: f32 = 1.08;

/// The largest eye distance (720p px) at which a walk-in's face is still in the door camera's
/// view. A camera over a door looks out and a little down; a child's face, half a metre or
/// more below it, leaves the bottom of its frame (seen more and more from above) closer than
/// about 0.8 m, where the eyes are about 72 px apart. The frames of a walk-in end there: an
/// assumption of this simulation, to be checked on a real door's replayed walk-ins.
pub const IN_VIEW_EYE_PX: f32 = 72.0;

/// How one frame is degraded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Degradation {
    /// Distance between the eyes in the frame, px.
    pub eye_px: f32,
    /// Length of the horizontal motion blur, px (0 or 1: none).
    pub blur_px: u32,
    /// Exposure: every value multiplied by this, then clipped (1.0: unchanged).
    pub gain: f32,
    /// Standard deviation of the sensor noise, grey levels (0: none).
    pub noise: f32,
    /// JPEG quality the frame is re-compressed at (100 or more: not re-compressed).
    pub jpeg_quality: u8,
}

impl Degradation {
    /// Whether the face is still in the camera's view ([`IN_VIEW_EYE_PX`]).
    pub fn in_view(&self) -> bool {
        self.eye_px <= IN_VIEW_EYE_PX
    }

    /// The face at 40 px between the eyes (about 1.5 m from a 70° camera), nothing else.
    pub const CLEAN: Degradation = Degradation {
        eye_px: 40.0,
        blur_px: 0,
        gain: 1.0,
        noise: 0.0,
        jpeg_quality: 100,
    };
}

/// Ranges a walk-in's frames are drawn from (both ends included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conditions {
    /// Eye distance of the first frame, px; later frames grow by [`GROWTH`].
    pub eye_px: (f32, f32),
    pub blur_px: (u32, u32),
    pub gain: (f32, f32),
    pub noise: (f32, f32),
    pub jpeg_quality: (u8, u8),
}

impl Conditions {
    /// One fixed degradation (the face still grows frame by frame).
    pub fn fixed(d: Degradation) -> Self {
        Conditions {
            eye_px: (d.eye_px, d.eye_px),
            blur_px: (d.blur_px, d.blur_px),
            gain: (d.gain, d.gain),
            noise: (d.noise, d.noise),
            jpeg_quality: (d.jpeg_quality, d.jpeg_quality),
        }
    }

    /// A real doorway: the person first seen 1–3 m away (16–48 px between the eyes), horizontal
    /// motion blur up to 12 px, exposure off either way, sensor noise, JPEG 55–75.
    pub fn doorway() -> Self {
        Conditions {
            eye_px: (16.0, 48.0),
            blur_px: (0, 12),
            gain: (0.45, 1.5),
            noise: (2.0, 10.0),
            jpeg_quality: (55, 75),
        }
    }

    /// Frame `frame` of a walk-in `seed`: the first frame's size drawn once per walk-in, each
    /// later frame [`GROWTH`] times larger; blur, exposure, noise and JPEG drawn per frame.
    pub fn draw(&self, walk: u64, frame: usize) -> Degradation {
        let first = between(self.eye_px, Rng::new(walk ^ SIZE_SALT).unit());
        let mut rng = Rng::new(mix(walk, frame as u64 + 1));
        Degradation {
            eye_px: first * GROWTH.powi(frame as i32),
            blur_px: between_int(self.blur_px, rng.unit()),
            gain: between(self.gain, rng.unit()),
            noise: between(self.noise, rng.unit()),
            jpeg_quality: between_int(
                (
                    u32::from(self.jpeg_quality.0),
                    u32::from(self.jpeg_quality.1),
                ),
                rng.unit(),
            ) as u8,
        }
    }
}

/// The benchmark's named conditions: clean, each degradation alone at two or three levels
/// (the rest as [`Degradation::CLEAN`]), and the doorway preset.
pub fn conditions() -> Vec<(&'static str, Conditions)> {
    let c = Degradation::CLEAN;
    let fixed = |d: Degradation| Conditions::fixed(d);
    vec![
        ("clean", fixed(c)),
        ("eyes-28px", fixed(Degradation { eye_px: 28.0, ..c })),
        ("eyes-20px", fixed(Degradation { eye_px: 20.0, ..c })),
        ("eyes-14px", fixed(Degradation { eye_px: 14.0, ..c })),
        ("blur-7px", fixed(Degradation { blur_px: 7, ..c })),
        ("blur-15px", fixed(Degradation { blur_px: 15, ..c })),
        ("dark-0.35", fixed(Degradation { gain: 0.35, ..c })),
        ("bright-1.8", fixed(Degradation { gain: 1.8, ..c })),
        ("noise-8", fixed(Degradation { noise: 8.0, ..c })),
        ("noise-16", fixed(Degradation { noise: 16.0, ..c })),
        (
            "jpeg-60",
            fixed(Degradation {
                jpeg_quality: 60,
                ..c
            }),
        ),
        (
            "jpeg-30",
            fixed(Degradation {
                jpeg_quality: 30,
                ..c
            }),
        ),
        ("doorway", Conditions::doorway()),
    ]
}

fn between((lo, hi): (f32, f32), t: f32) -> f32 {
    lo + (hi - lo) * t
}

/// An integer in `lo..=hi`, for `t` in [0, 1).
fn between_int((lo, hi): (u32, u32), t: f32) -> u32 {
    let span = hi.saturating_sub(lo) + 1;
    lo + ((t * span as f32) as u32).min(span - 1)
}

/// Where the face is in the photo, as the detector found it on the clean photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Subject {
    /// `[x1, y1, x2, y2]`, photo pixels.
    pub bbox: [f32; 4],
    /// Distance between the eyes, photo pixels.
    pub eye_px: f32,
}

/// A degraded frame and where the subject's face box should be in it.
#[derive(Clone, Debug)]
pub struct Frame {
    pub image: RgbImage,
    /// `[x1, y1, x2, y2]`, frame pixels: the clean detection's box, moved and scaled.
    pub face_box: [f32; 4],
}

/// Frame `index` of walk-in `walk` of `photo` as `camera` sees it under `d` (720p sizes):
/// the place across the corridor is the walk-in's, the noise the frame's own.
pub fn frame(
    photo: &RgbImage,
    subject: &Subject,
    d: &Degradation,
    walk: u64,
    index: usize,
    camera: Camera,
) -> Frame {
    let d = camera.sees(d);
    let Frame {
        mut image,
        face_box,
    } = corridor(photo, subject, d.eye_px, walk, camera);
    let seed = mix(walk, index as u64 + 0x100);
    if d.blur_px > 1 {
        image = motion_blur(&image, d.blur_px);
    }
    expose(&mut image, d.gain);
    add_noise(&mut image, d.noise, seed);
    if d.jpeg_quality < 100 {
        image = recompress(&image, d.jpeg_quality);
    }
    Frame { image, face_box }
}

/// `camera`'s corridor (a grey gradient) with the head and shoulders of `photo` standing in
/// it, scaled so the eyes are `eye_px` (camera pixels) apart, the face centre across the frame where `seed`
/// says (20–80 % across, the walk-in's `walk` seed) and 40 % down (a camera above the door
/// looks down on the way in).
pub fn corridor(
    photo: &RgbImage,
    subject: &Subject,
    eye_px: f32,
    walk: u64,
    camera: Camera,
) -> Frame {
    let (fw, fh) = (camera.width, camera.height);
    let mut image = RgbImage::from_fn(fw, fh, |x, y| {
        let v = (90 + (x * 50 / fw) + (y * 30 / fh)) as u8;
        Rgb([v, v, v.saturating_add(8)])
    });
    let crop = head_and_shoulders(photo, subject);
    let scale = eye_px / subject.eye_px.max(1.0);
    let w = ((crop[2] - crop[0]) as f32 * scale)
        .round()
        .clamp(1.0, fw as f32) as u32;
    let h = ((crop[3] - crop[1]) as f32 * scale)
        .round()
        .clamp(1.0, fh as f32) as u32;
    let region = image::imageops::crop_imm(
        photo,
        crop[0],
        crop[1],
        crop[2] - crop[0],
        crop[3] - crop[1],
    );
    let person = image::imageops::resize(&region.to_image(), w, h, FilterType::Triangle);
    let b = subject.bbox;
    let centre = [
        (b[0] + b[2]) / 2.0 - crop[0] as f32,
        (b[1] + b[3]) / 2.0 - crop[1] as f32,
    ];
    let across = 0.2 + 0.6 * Rng::new(walk ^ PLACE_SALT).unit();
    let x = (across * fw as f32 - centre[0] * scale).round() as i64;
    let y = (0.4 * fh as f32 - centre[1] * scale).round() as i64;
    image::imageops::replace(&mut image, &person, x, y);
    let (ox, oy) = (
        x as f32 - crop[0] as f32 * scale,
        y as f32 - crop[1] as f32 * scale,
    );
    let face_box = [
        b[0] * scale + ox,
        b[1] * scale + oy,
        b[2] * scale + ox,
        b[3] * scale + oy,
    ];
    Frame { image, face_box }
}

/// The part of `photo` a door sees of the subject: 6 eye distances across and 7 down around
/// the face (head, hair, neck, shoulders), clipped to the photo. `[x1, y1, x2, y2]`, never
/// empty for a non-empty photo.
pub fn head_and_shoulders(photo: &RgbImage, subject: &Subject) -> [u32; 4] {
    let (pw, ph) = (photo.width() as f32, photo.height() as f32);
    let b = subject.bbox;
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    let e = subject.eye_px.max(1.0);
    let clip = |v: f32, max: f32| v.round().clamp(0.0, max) as u32;
    let (x1, x2) = (clip(cx - 3.0 * e, pw), clip(cx + 3.0 * e, pw));
    let (y1, y2) = (clip(cy - 3.0 * e, ph), clip(cy + 4.0 * e, ph));
    let x1 = x1.min(photo.width().saturating_sub(1));
    let y1 = y1.min(photo.height().saturating_sub(1));
    [x1, y1, x2.max(x1 + 1), y2.max(y1 + 1)]
}

/// Horizontal motion blur: each pixel the mean of `len` pixels of its row (fewer at the
/// frame's edges).
pub fn motion_blur(img: &RgbImage, len: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (before, after) = ((len - 1) / 2, len / 2);
    let mut out = RgbImage::new(w, h);
    for y in 0..h {
        let row: Vec<[u32; 3]> = (0..w)
            .map(|x| img.get_pixel(x, y).0.map(u32::from))
            .collect();
        let mut prefix = vec![[0u32; 3]; w as usize + 1];
        for (i, p) in row.iter().enumerate() {
            prefix[i + 1] = [0, 1, 2].map(|c| prefix[i][c] + p[c]);
        }
        for x in 0..w {
            let (from, to) = (x.saturating_sub(before), (x + after).min(w - 1));
            let n = to - from + 1;
            let (lo, hi) = (&prefix[from as usize], &prefix[to as usize + 1]);
            let v = [0, 1, 2].map(|c| ((hi[c] - lo[c] + n / 2) / n) as u8);
            out.put_pixel(x, y, Rgb(v));
        }
    }
    out
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

/// The image JPEG-encoded at `quality` and decoded again (unchanged if either step fails).
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

/// The seed of one walk-in: the run's `seed` mixed with the photo and the condition's name,
/// the same on every machine (FNV-1a, then one xorshift round).
pub fn walk_seed(seed: u64, photo: &str, condition: &str) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64 ^ seed;
    for b in photo.bytes().chain([0]).chain(condition.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    mix(h, 0)
}

/// Draws of a walk-in's size and place come from its seed with these mixed in, so they are
/// not one and the same number.
const SIZE_SALT: u64 = 0x51AE;
const PLACE_SALT: u64 = 0x91ACE;

/// Two numbers mixed into one seed.
fn mix(a: u64, b: u64) -> u64 {
    let mut r = Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    r.next()
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
mod tests;
