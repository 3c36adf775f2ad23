//! Parity of the candle dlib ResNet with C++ dlib, on chips both sides compute identically.
//!
//! The chips come from `chip_specs()`: seeded pseudo-random chips and deterministic crops of
//! real photos in the shared faces folder (only the path and crop are stored). The expected
//! descriptors in `fixtures/embedder_parity.json` were computed by `parity/embedder/run.sh`
//! with Debian's `libdlib-dev`. The tests need the fetched weights (`ModelsDir`) and the
//! faces folder (`ROLLCALL_FACES_DIR`, default `../shared/faces` beside the workspace) and
//! fail loudly without them.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use candle_core::Device;
use rollcall_models::{
    dlib_resnet::{CHIP_SIZE, Chip, DlibResnet},
    weights::{DLIB_RESNET, ModelsDir, fetch},
};
use serde::{Deserialize, Serialize};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/embedder_parity.json"
);
const MAX_ABS: f32 = 1e-4;
const MIN_COSINE: f64 = 0.9999;

/// How one test chip is made. Photo paths are relative to the faces folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ChipSpec {
    /// Every byte from a SplitMix64 stream seeded with `seed`.
    Random { seed: u64 },
    /// The square `side`×`side` at (`x`, `y`), resized to 150×150 (triangle filter) if needed.
    Photo {
        path: String,
        x: u32,
        y: u32,
        side: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Case {
    chip: ChipSpec,
    descriptor: Vec<f32>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Fixture {
    reference: String,
    weights_sha256: String,
    cases: Vec<Case>,
}

fn chip_specs() -> Vec<ChipSpec> {
    let photo = |name: &str, n: u32, x, y, side| ChipSpec::Photo {
        path: format!("identities/{name}/{name}_{n:04}.jpg"),
        x,
        y,
        side,
    };
    vec![
        ChipSpec::Random { seed: 1 },
        ChipSpec::Random { seed: 2 },
        photo("Aaron_Peirsol", 1, 50, 50, 150),
        photo("Carson_Palmer", 2, 50, 55, 150),
        photo("Joan_Laporta", 1, 40, 45, 170),
        photo("Mariah_Carey", 3, 60, 60, 130),
    ]
}

fn faces_dir() -> PathBuf {
    let dir = std::env::var_os("ROLLCALL_FACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces").into());
    assert!(
        dir.is_dir(),
        "faces folder {} not found: set ROLLCALL_FACES_DIR to the shared faces folder",
        dir.display()
    );
    dir
}

fn model() -> DlibResnet {
    let dir = ModelsDir::resolve(None).expect("no models directory (set ROLLCALL_MODELS_DIR)");
    DlibResnet::from_models_dir(&dir, &Device::Cpu).unwrap_or_else(|e| {
        panic!(
            "\n\n*** dlib ResNet weights unavailable in {}: {e}\n*** run `scripts/dev-setup` first (it fetches the face models)\n\n",
            dir.path().display()
        )
    })
}

fn make_chip(spec: &ChipSpec, faces: &Path) -> Chip {
    match spec {
        ChipSpec::Random { seed } => {
            let mut state = *seed;
            let bytes = (0..CHIP_SIZE * CHIP_SIZE * 3).map(|_| splitmix64(&mut state) as u8);
            Chip::from_rgb(bytes.collect()).unwrap()
        }
        ChipSpec::Photo { path, x, y, side } => {
            let img = image::open(faces.join(path))
                .unwrap_or_else(|e| panic!("cannot read {path} in {}: {e}", faces.display()));
            let crop = img.to_rgb8();
            let crop = image::imageops::crop_imm(&crop, *x, *y, *side, *side).to_image();
            let size = CHIP_SIZE as u32;
            let chip = match *side == size {
                true => crop,
                false => image::imageops::resize(
                    &crop,
                    size,
                    size,
                    image::imageops::FilterType::Triangle,
                ),
            };
            Chip::try_from(&chip).unwrap()
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn descriptors_match_cpp_dlib() {
    let text = std::fs::read_to_string(FIXTURE).expect("parity fixture missing");
    let fixture: Fixture = serde_json::from_str(&text).expect("parity fixture is not valid JSON");
    assert_eq!(fixture.weights_sha256, DLIB_RESNET.source.extracted_sha256);
    let faces = faces_dir();
    let chips: Vec<Chip> = fixture
        .cases
        .iter()
        .map(|c| make_chip(&c.chip, &faces))
        .collect();
    let got = model().embed_batch(&chips).unwrap();
    let (mut worst_abs, mut worst_cos) = (0f32, 1f64);
    for (case, ours) in fixture.cases.iter().zip(&got) {
        let (abs, cos) = (
            max_abs(ours, &case.descriptor),
            cosine(ours, &case.descriptor),
        );
        println!("{:?}: max-abs {abs:.3e}, cosine {cos:.9}", case.chip);
        (worst_abs, worst_cos) = (worst_abs.max(abs), worst_cos.min(cos));
    }
    println!(
        "worst over {} chips: max-abs {worst_abs:.3e}, cosine {worst_cos:.9}",
        got.len()
    );
    assert!(worst_abs <= MAX_ABS, "max-abs {worst_abs} > {MAX_ABS}");
    assert!(worst_cos >= MIN_COSINE, "cosine {worst_cos} < {MIN_COSINE}");
}

#[test]
fn batching_and_mirroring_are_consistent() {
    let faces = faces_dir();
    let chips: Vec<Chip> = chip_specs().iter().map(|s| make_chip(s, &faces)).collect();
    let net = model();
    let batch = net.embed_batch(&chips).unwrap();
    for (chip, in_batch) in chips.iter().zip(&batch) {
        let alone = net.embed_batch(std::slice::from_ref(chip)).unwrap();
        assert!(max_abs(&alone[0], in_batch) < 1e-5);
    }
    let mirrored = net.embed_batch_mirrored(&chips[2..3]).unwrap();
    let flipped = net.embed_batch(&[chips[2].mirrored()]).unwrap();
    let mean: Vec<f32> = (0..128)
        .map(|i| (batch[2][i] + flipped[0][i]) / 2.0)
        .collect();
    assert!(max_abs(&mirrored[0], &mean) < 1e-5);
    assert!(net.embed_batch(&[]).unwrap().is_empty());
}

/// The fetched file holds exactly the documented tensors, and a second fetch is a no-op.
#[test]
fn weights_file_is_complete_and_fetch_is_idempotent() {
    let dir = ModelsDir::resolve(None).expect("no models directory");
    let path = dir
        .check_file(&DLIB_RESNET)
        .unwrap_or_else(|e| panic!("\n*** {e}\n"));
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let params: usize = st
        .tensors()
        .iter()
        .map(|(_, t)| t.shape().iter().product::<usize>())
        .sum();
    assert_eq!(
        st.len(),
        29 * 4 + 1,
        "29 conv + 29 affine (2 tensors each) + fc"
    );
    assert_eq!(st.tensor("fc.weight").unwrap().shape(), &[128, 256]);
    assert_eq!(
        params, 5_614_592,
        "parameter count of dlib's network, affine included"
    );
    let report = fetch(&dir).expect("fetch with complete models must not need pip");
    assert!(report.was_complete(), "{report}");
}

/// Prints wall-clock and CPU ms per face at batch sizes 1 and 8 (CPU time counts every
/// thread, so it is what one core would need on an idle machine).
/// Run with `cargo test -p rollcall-models --release --test embedder_parity embed_timing -- --nocapture`.
#[test]
fn embed_timing() {
    let net = model();
    let chip = make_chip(&ChipSpec::Random { seed: 7 }, Path::new(""));
    for batch in [1usize, 8] {
        let chips = vec![chip.clone(); batch];
        net.embed_batch(&chips).unwrap();
        let rounds = 24 / batch;
        let (start, cpu) = (Instant::now(), cpu_seconds());
        (0..rounds).for_each(|_| drop(net.embed_batch(&chips).unwrap()));
        let faces = (rounds * batch) as f64;
        let wall = start.elapsed().as_secs_f64() * 1000.0 / faces;
        let cpu = cpu_seconds()
            .zip(cpu)
            .map(|(end, begin)| (end - begin) * 1000.0 / faces);
        let cpu = cpu.map_or("n/a".to_owned(), |ms| format!("{ms:.1} ms"));
        println!("dlib ResNet embed, batch {batch}: wall {wall:.1} ms/face, CPU {cpu}/face");
    }
}

/// User + system CPU seconds of this process (Linux `/proc`), 10 ms resolution.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// Step 1 of `parity/embedder/run.sh`: write the chips to `$ROLLCALL_PARITY_DIR/chips.bin`.
#[test]
#[ignore = "generates parity inputs; run by parity/embedder/run.sh"]
fn write_parity_chips() {
    let out =
        PathBuf::from(std::env::var_os("ROLLCALL_PARITY_DIR").expect("set ROLLCALL_PARITY_DIR"));
    let faces = faces_dir();
    let bytes: Vec<u8> = chip_specs()
        .iter()
        .flat_map(|s| make_chip(s, &faces).as_rgb().to_vec())
        .collect();
    std::fs::write(out.join("chips.bin"), bytes).unwrap();
}

/// Step 3 of `parity/embedder/run.sh`: turn dlib's `descriptors.txt` into the fixture.
#[test]
#[ignore = "writes the parity fixture; run by parity/embedder/run.sh"]
fn write_parity_fixture() {
    let out =
        PathBuf::from(std::env::var_os("ROLLCALL_PARITY_DIR").expect("set ROLLCALL_PARITY_DIR"));
    let text = std::fs::read_to_string(out.join("descriptors.txt")).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), chip_specs().len());
    let reference =
        std::env::var("ROLLCALL_PARITY_REFERENCE").unwrap_or_else(|_| "C++ dlib".into());
    let cases = chip_specs()
        .into_iter()
        .zip(rows)
        .map(|(chip, descriptor)| Case { chip, descriptor });
    let fixture = Fixture {
        reference,
        weights_sha256: DLIB_RESNET.source.extracted_sha256.into(),
        cases: cases.collect(),
    };
    std::fs::write(
        FIXTURE,
        serde_json::to_string_pretty(&fixture).unwrap() + "\n",
    )
    .unwrap();
}
