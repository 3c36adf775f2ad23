//! RetinaFace port vs onnxruntime on the original ONNX model.
//!
//! The fixture `fixtures/detector_parity.json` comes from `models/parity/detector/make_fixture.py`.
//! Each case's input is rebuilt here bit-for-bit (a seeded LCG image, or a photo of the shared
//! face set decoded and resized by this crate, exactly as `examples/detector_dump_input.rs`
//! did for the script) and must give raw outputs within 1e-4, boxes within 1 px and
//! landmarks within 0.5 px of the reference.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use image::RgbImage;
use rollcall_models::detect::{self, Detection, RawOutputs};
use rollcall_models::retinaface::{self, RetinaFace, WEIGHTS_FILE};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/detector_parity.json");
const RAW_TOLERANCE: f32 = 1e-4;
const BOX_TOLERANCE_PX: f32 = 1.0;
const LANDMARK_TOLERANCE_PX: f32 = 0.5;

#[derive(Debug, Deserialize)]
struct Fixture {
    score_threshold: f32,
    nms_iou: f32,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    source: Source,
    shape: [usize; 4],
    input_sum: f64,
    anchors: usize,
    samples: Vec<Sample>,
    detections: Vec<RefDetection>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Source {
    Lcg { width: u32, height: u32, seed: u64 },
    Photo { path: String },
}

#[derive(Debug, Deserialize)]
struct Sample {
    index: usize,
    loc: Vec<f32>,
    conf: Vec<f32>,
    landmarks: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct RefDetection {
    bbox: [f32; 4],
    score: f32,
    landmarks: [[f32; 2]; 5],
}

fn weights_path() -> PathBuf {
    let dir = std::env::var_os("ROLLCALL_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is not set");
            PathBuf::from(home).join(".local/share/rollcall/models")
        });
    let path = dir.join(WEIGHTS_FILE);
    assert!(
        path.is_file(),
        "RetinaFace weights missing at {}: run `scripts/dev-setup` (it fetches the face models; or set ROLLCALL_MODELS_DIR)",
        path.display()
    );
    path
}

fn faces_dir() -> PathBuf {
    let dir = std::env::var_os("ROLLCALL_FACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces"))
        });
    assert!(
        dir.is_dir(),
        "face set missing at {}: set ROLLCALL_FACES_DIR",
        dir.display()
    );
    dir
}

/// The script's LCG image: one top byte per channel value, row-major R, G, B.
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

fn case_input(case: &Case) -> Tensor {
    let [_, _, h, w] = case.shape;
    let image = match &case.source {
        Source::Lcg {
            width,
            height,
            seed,
        } => lcg_image(*width, *height, *seed),
        Source::Photo { path } => {
            let photo = faces_dir().join(path);
            let image = image::open(&photo).unwrap_or_else(|e| panic!("{}: {e}", photo.display()));
            retinaface::resize_for_network(&image.to_rgb8(), w as u32, h as u32).into_owned()
        }
    };
    let input = retinaface::image_to_tensor(&image, &Device::Cpu).unwrap();
    assert_eq!(input.dims(), case.shape, "{}: input shape", case.name);
    let sum: f64 = input
        .to_dtype(candle_core::DType::F64)
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(
        (sum - case.input_sum).abs() <= 1e-6 * case.input_sum.abs().max(1.0),
        "{}: input differs from the script's (sum {sum} vs {}): image decoding changed?",
        case.name,
        case.input_sum
    );
    input
}

fn max_abs(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn check_raw(case: &Case, raw: &RawOutputs) {
    assert_eq!(raw.len(), case.anchors, "{}: anchor count", case.name);
    let mut worst = 0f32;
    for s in &case.samples {
        let i = s.index;
        worst = worst.max(max_abs(&raw.loc[4 * i..4 * i + 4], &s.loc));
        worst = worst.max(max_abs(&raw.conf[2 * i..2 * i + 2], &s.conf));
        worst = worst.max(max_abs(&raw.landmarks[10 * i..10 * i + 10], &s.landmarks));
    }
    println!(
        "{}: {} samples, raw max-abs {worst:e}",
        case.name,
        case.samples.len()
    );
    assert!(
        worst <= RAW_TOLERANCE,
        "{}: raw outputs differ by {worst}",
        case.name
    );
}

fn check_detections(case: &Case, ours: &[Detection]) {
    assert_eq!(
        ours.len(),
        case.detections.len(),
        "{}: detection count",
        case.name
    );
    let (mut box_err, mut lm_err) = (0f32, 0f32);
    for (o, r) in ours.iter().zip(&case.detections) {
        assert!(
            (o.score - r.score).abs() <= RAW_TOLERANCE,
            "{}: score {} vs {}",
            case.name,
            o.score,
            r.score
        );
        box_err = box_err.max(max_abs(&o.bbox, &r.bbox));
        lm_err = lm_err.max(max_abs(
            o.landmarks.as_flattened(),
            r.landmarks.as_flattened(),
        ));
    }
    println!(
        "{}: {} detections, box max-abs {box_err} px, landmarks {lm_err} px",
        case.name,
        ours.len()
    );
    assert!(
        box_err <= BOX_TOLERANCE_PX,
        "{}: boxes differ by {box_err} px",
        case.name
    );
    assert!(
        lm_err <= LANDMARK_TOLERANCE_PX,
        "{}: landmarks differ by {lm_err} px",
        case.name
    );
}

fn run_cases(photos: bool) {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    let model = RetinaFace::load(&weights_path(), &Device::Cpu).expect("weights load");
    let selected = fixture
        .cases
        .iter()
        .filter(|c| matches!(c.source, Source::Photo { .. }) == photos);
    let mut count = 0;
    for case in selected {
        let raw = model.forward_raw(&case_input(case)).expect("forward");
        check_raw(case, &raw);
        let [_, _, h, w] = case.shape;
        let found = detect::decode(&detect::anchors(h, w), &raw, fixture.score_threshold);
        check_detections(case, &detect::nms(found, fixture.nms_iou));
        count += 1;
    }
    assert!(
        count > 0,
        "fixture has no {} cases",
        if photos { "photo" } else { "LCG" }
    );
}

#[test]
fn pseudo_random_inputs_match_onnxruntime() {
    run_cases(false);
}

#[test]
fn photos_match_onnxruntime() {
    run_cases(true);
}

#[test]
fn detect_maps_results_back_to_the_original_image() {
    let fixture: Fixture = serde_json::from_str(FIXTURE).expect("fixture parses");
    let case = fixture
        .cases
        .iter()
        .find(|c| c.name == "photo_two_people")
        .expect("case");
    let Source::Photo { path } = &case.source else {
        panic!("not a photo case")
    };
    let image = image::open(faces_dir().join(path))
        .expect("photo decodes")
        .to_rgb8();
    let model = RetinaFace::load(&weights_path(), &Device::Cpu).expect("weights load");
    let opts = retinaface::DetectOptions {
        score_threshold: fixture.score_threshold,
        nms_iou: fixture.nms_iou,
        max_side: 640,
        min_face_px: retinaface::SMALLEST_ANCHOR_PX,
        second_look: false,
    };
    let found = model.detect(&image, &opts).expect("detect");
    let [_, _, h, w] = case.shape;
    let (sx, sy) = (
        image.width() as f32 / w as f32,
        image.height() as f32 / h as f32,
    );
    assert_eq!(found.len(), case.detections.len());
    for (ours, r) in found.iter().zip(&case.detections) {
        let expected = Detection {
            bbox: r.bbox,
            score: r.score,
            landmarks: r.landmarks,
        }
        .scaled(sx, sy);
        assert!(
            max_abs(&ours.bbox, &expected.bbox) <= BOX_TOLERANCE_PX,
            "{ours:?} vs {expected:?}"
        );
        assert!(ours.bbox[0] >= -1.0 && ours.bbox[2] <= image.width() as f32 + 1.0);
    }
}
