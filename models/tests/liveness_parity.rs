//! Parity of the candle MiniFASNet port with an independent float64 NumPy reference, and
//! minivision's verdicts on its own sample frames.
//!
//! `fixtures/minifasnet_reference.json` was written by `parity/liveness/make_fixture.py` from
//! the original `.pth` files and this crate's decoded pixels. For every case the test checks
//! the decoded frame, each model's crop box and crop bytes (SHA-256), its logits and softmax
//! (within 1e-4), and the fused verdict. The frames are read from
//! `ROLLCALL_MINIFASNET_SAMPLES` (default `../shared/models/minifasnet/samples` beside the
//! workspace); the test fails loudly without them. No detector is needed: the boxes are in
//! the fixture.

use std::path::PathBuf;

use candle_core::Device;
use rollcall_models::{
    image_io::{ImageLimits, load_image},
    liveness::{CLASSES, Liveness, REAL_CLASS, softmax},
    weights::sha256_hex,
};
use serde::Deserialize;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/minifasnet_reference.json"
);
const MAX_ABS: f32 = 1e-4;

#[derive(Debug, Deserialize)]
struct Fixture {
    frames: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    image: String,
    jpeg_sha256: String,
    size: [u32; 2],
    rgb_sha256: String,
    bbox: [f32; 4],
    expect: Option<String>,
    models: Vec<ModelOutput>,
    label: usize,
    score: f32,
}

#[derive(Debug, Deserialize)]
struct ModelOutput {
    model: String,
    crop_box: [u32; 4],
    crop_sha256: String,
    logits: [f32; CLASSES],
    softmax: [f32; CLASSES],
}

fn samples_dir() -> PathBuf {
    std::env::var_os("ROLLCALL_MINIFASNET_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models/minifasnet/samples")
        })
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn matches_the_reference_and_minivisions_verdicts() -> anyhow::Result<()> {
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(FIXTURE)?)?;
    let liveness = Liveness::load(&Device::Cpu)?;
    let dir = samples_dir();
    let mut verdicts = 0;
    for case in &fixture.frames {
        let path = dir.join(&case.image);
        let jpeg = std::fs::read(&path).map_err(|e| {
            anyhow::anyhow!("{}: {e} (set ROLLCALL_MINIFASNET_SAMPLES)", path.display())
        })?;
        assert_eq!(sha256_hex(&jpeg), case.jpeg_sha256, "{}", case.image);
        let image = load_image(&path, ImageLimits::default())?;
        assert_eq!(
            image.dimensions(),
            (case.size[0], case.size[1]),
            "EXIF orientation"
        );
        assert_eq!(
            sha256_hex(image.as_raw()),
            case.rgb_sha256,
            "decoded pixels of {}",
            case.image
        );
        for (model, expected) in liveness.models().iter().zip(&case.models) {
            let what = format!("{} {:?} {}", case.image, case.bbox, expected.model);
            assert_eq!(model.variant().name(), expected.model);
            let area = rollcall_models::liveness::crop_box(
                image.dimensions(),
                case.bbox,
                model.variant().scale(),
            )?;
            assert_eq!(
                [area.left, area.top, area.right, area.bottom],
                expected.crop_box,
                "{what}"
            );
            let crop = model.crop(&image, case.bbox)?;
            assert_eq!(
                sha256_hex(&crop.bytes),
                expected.crop_sha256,
                "crop of {what}"
            );
            let logits = model.logits(&crop)?;
            let d = max_abs(&logits, &expected.logits);
            assert!(
                d <= MAX_ABS,
                "{what}: logits {logits:?} vs {:?} ({d})",
                expected.logits
            );
            let probs = softmax(logits);
            let d = max_abs(&probs, &expected.softmax);
            assert!(
                d <= MAX_ABS,
                "{what}: softmax {probs:?} vs {:?} ({d})",
                expected.softmax
            );
        }
        let verdict = liveness.judge(&image, case.bbox)?;
        assert_eq!(verdict.real, case.label == REAL_CLASS, "{}", case.image);
        assert!(
            (verdict.score - case.score).abs() <= MAX_ABS,
            "{}",
            case.image
        );
        if let Some(expect) = &case.expect {
            assert_eq!(
                verdict.real,
                expect == "real",
                "{}: {verdict:?}",
                case.image
            );
            verdicts += 1;
        }
    }
    assert_eq!(
        verdicts, 3,
        "the three sample frames carry an expected verdict"
    );
    Ok(())
}
