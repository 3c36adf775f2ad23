//! dlib's 5-point shape predictor and face chip, ported, against dlib itself (Python dlib).
//!
//! The fixture `fixtures/landmarks_parity.json` comes from `models/parity/landmarks/make_fixture.py`.
//! Inputs are rebuilt here bit for bit: seeded LCG images, or photos of the shared face set
//! decoded by this crate (as `examples/dump_rgb.rs` did for the script; skipped when the face
//! set is absent). Landmarks must match dlib's within 0.5 px (dlib returns whole pixels, so
//! they must be equal), chips within one grey level per sampled pixel.

use std::path::PathBuf;

use image::RgbImage;
use rollcall_models::align::dlib_chip::{extract_chip, face_chip_details};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::landmarks::{DlibRect, ShapePredictor};
use rollcall_models::weights::ModelsDir;
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/landmarks_parity.json");
const LANDMARK_TOLERANCE_PX: f64 = 0.5;
const CHIP_TOLERANCE: i32 = 1;

#[derive(Deserialize)]
struct Fixture {
    chip_stride: usize,
    shape_cases: Vec<ShapeCase>,
    chip_cases: Vec<ChipCase>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Source {
    Lcg { width: u32, height: u32, seed: u64 },
    Photo { path: String },
}

#[derive(Deserialize)]
struct ShapeCase {
    name: String,
    source: Source,
    faces: Vec<Face>,
}

#[derive(Deserialize)]
struct Face {
    #[serde(rename = "box")]
    rect: [i64; 4],
    points: [[f64; 2]; 5],
    chip: ChipRef,
}

#[derive(Deserialize)]
struct ChipCase {
    name: String,
    source: Source,
    points: [[f64; 2]; 5],
    chip: ChipRef,
}

#[derive(Deserialize)]
struct ChipRef {
    sums: [u64; 3],
    samples: Vec<u8>,
}

fn lcg_image(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut state = seed;
    let bytes = (0..width * height * 3)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect();
    RgbImage::from_raw(width, height, bytes).expect("buffer matches size")
}

fn faces_dir() -> PathBuf {
    std::env::var_os("ROLLCALL_FACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces").into())
}

/// The case's image, or `None` (with a note) for a photo of an absent face set.
fn image(source: &Source) -> Option<RgbImage> {
    match source {
        Source::Lcg {
            width,
            height,
            seed,
        } => Some(lcg_image(*width, *height, *seed)),
        Source::Photo { path } => {
            let full = faces_dir().join(path);
            if !full.is_file() {
                eprintln!("skipping {path}: face set not found (set ROLLCALL_FACES_DIR)");
                return None;
            }
            Some(load_image(&full, ImageLimits::default()).expect("photo decodes"))
        }
    }
}

fn predictor() -> ShapePredictor {
    let dir = ModelsDir::resolve(None).expect("models directory");
    let path = dir.shape_predictor_5();
    assert!(
        path.is_file(),
        "{} missing: run `scripts/dev-setup` (it fetches the face models)",
        path.display()
    );
    ShapePredictor::load(&path).expect("shape predictor loads")
}

/// Largest per-value difference between the chip's strided samples and the reference, and
/// the mean absolute difference of the channel sums per pixel.
fn chip_error(chip: &RgbImage, want: &ChipRef, stride: usize) -> (i32, f64) {
    let mut worst = 0;
    let mut samples = want.samples.iter();
    for y in (0..chip.height()).step_by(stride) {
        for x in (0..chip.width()).step_by(stride) {
            for (got, want) in chip.get_pixel(x, y).0.iter().zip(samples.by_ref()) {
                worst = worst.max((i32::from(*got) - i32::from(*want)).abs());
            }
        }
    }
    assert!(samples.next().is_none(), "sample count differs");
    let pixels = f64::from(chip.width() * chip.height());
    let sums = (0..3).map(|c| chip.pixels().map(|p| u64::from(p.0[c])).sum::<u64>());
    let sum_err = sums
        .zip(want.sums)
        .map(|(a, b)| (a as f64 - b as f64).abs() / pixels)
        .fold(0.0, f64::max);
    (worst, sum_err)
}

fn check_chip(name: &str, chip: &RgbImage, want: &ChipRef, stride: usize) {
    let (worst, sum_err) = chip_error(chip, want, stride);
    eprintln!("{name}: chip max-abs {worst}, mean channel difference {sum_err:.4}");
    assert!(worst <= CHIP_TOLERANCE, "{name}: chip max-abs {worst}");
    assert!(
        sum_err <= 0.05,
        "{name}: channel sums differ by {sum_err} per pixel"
    );
}

#[test]
fn shape_predictor_matches_dlib() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    let sp = predictor();
    for case in &fixture.shape_cases {
        let Some(image) = image(&case.source) else {
            continue;
        };
        for (i, face) in case.faces.iter().enumerate() {
            let [left, top, right, bottom] = face.rect;
            let rect = DlibRect {
                left,
                top,
                right,
                bottom,
            };
            let shape = sp.predict(&image, &rect);
            for (got, want) in shape.rounded().iter().zip(&face.points) {
                let err = (got[0] - want[0]).abs().max((got[1] - want[1]).abs());
                assert!(
                    err <= LANDMARK_TOLERANCE_PX,
                    "{} face {i}: {got:?} vs dlib {want:?}",
                    case.name
                );
            }
            let points: [[f64; 2]; 5] = shape.rounded().try_into().expect("five points");
            let details = face_chip_details(&points, 150, 0.25).expect("chip details");
            let name = format!("{} face {i}", case.name);
            check_chip(
                &name,
                &extract_chip(&image, &details),
                &face.chip,
                fixture.chip_stride,
            );
        }
    }
}

#[test]
fn face_chip_matches_dlib() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    for case in &fixture.chip_cases {
        let image = image(&case.source).expect("LCG image");
        let details = face_chip_details(&case.points, 150, 0.25).expect("chip details");
        let chip = extract_chip(&image, &details);
        check_chip(&case.name, &chip, &case.chip, fixture.chip_stride);
    }
}
