//! Counts RetinaFace detections on the shared face set's group photos and negatives
//! (expected counts from `MANIFEST.tsv`) with the default options, or overridden ones; then
//! how many of them the default quality gate keeps, with and without its two checks that a
//! face is human (RetinaFace's and dlib's eyes agree, `landmark_disagreement`; the face is
//! found again in its own aligned chip, `chip_face_score`), printed per face on the negatives.
//!
//! `cargo run -p rollcall-models --release --example detector_eval [-- SCORE MAX_SIDE MIN_FACE_PX]`
//! Face set: `$ROLLCALL_FACES_DIR` (default `../shared/faces`); weights as in `detector_bench`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::quality::{QualityGate, QualityIssue};
use rollcall_models::retinaface::DetectOptions;
use rollcall_models::weights::ModelsDir;

fn env_dir(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

fn options() -> Result<DetectOptions> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = DetectOptions::default();
    if let Some(s) = args.first() {
        opts.score_threshold = s.parse()?;
    }
    if let Some(s) = args.get(1) {
        opts.max_side = s.parse()?;
    }
    if let Some(s) = args.get(2) {
        opts.min_face_px = s.parse()?;
    }
    Ok(opts)
}

fn main() -> Result<()> {
    let home = PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?);
    let models = env_dir(
        "ROLLCALL_MODELS_DIR",
        home.join(".local/share/rollcall/models"),
    );
    let faces = env_dir(
        "ROLLCALL_FACES_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces").into(),
    );
    let opts = options()?;
    let pipeline = FacePipeline::load(
        &ModelsDir::new(&models),
        PipelineOptions {
            detect: opts,
            ..PipelineOptions::default()
        },
    )?;
    let gate = QualityGate::default();
    let without_checks = QualityGate {
        max_landmark_disagreement: f32::INFINITY,
        min_chip_face_score: 0.0,
        ..gate
    };
    let mut tally = Tally::default();
    println!("{opts:?}");
    let manifest = std::fs::read_to_string(faces.join("MANIFEST.tsv")).context("MANIFEST.tsv")?;
    let (mut expected, mut found, mut false_faces) = (0usize, 0usize, 0usize);
    let (mut expected_small, mut found_small) = (0usize, 0usize);
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (path, kind, count) = (cols[0], cols[1], cols[3]);
        if kind != "group" && kind != "negative" {
            continue;
        }
        let image = image::open(faces.join(path))
            .with_context(|| path.to_string())?
            .to_rgb8();
        let start = std::time::Instant::now();
        let detected = pipeline.faces(&image)?;
        let n = detected.len();
        for f in &detected {
            let q = &f.quality;
            let before = without_checks.check(q).is_ok();
            let after = gate.check(q).is_ok();
            tally.add(kind, before, after);
            if kind == "negative" {
                println!(
                    "  {path}: score {:.3}, landmark disagreement {:?}, chip face score {:?}, gate {:?}",
                    f.detection.score,
                    q.landmark_disagreement,
                    q.chip_face_score,
                    gate.check(q).err().map(|e: QualityIssue| e.to_string())
                );
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let want: usize = count.parse().unwrap_or(0);
        println!(
            "{kind}\t{path}\t{}x{}\texpected {want}\tfound {n}\t{ms:.0} ms",
            image.width(),
            image.height()
        );
        if kind == "negative" {
            false_faces += n;
            continue;
        }
        expected += want;
        found += n.min(want);
        if want < 100 {
            expected_small += want;
            found_small += n.min(want);
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "groups: {found}/{expected} faces found ({:.1} %), counting at most the expected number per photo",
        pct(found, expected)
    );
    println!(
        "groups under 100 faces: {found_small}/{expected_small} ({:.1} %)",
        pct(found_small, expected_small)
    );
    println!("negatives: {false_faces} false faces");
    tally.print();
    Ok(())
}

/// Faces kept by the gate without and with the landmark-agreement limit.
#[derive(Default)]
struct Tally {
    group: [usize; 3],
    negative: [usize; 3],
}

impl Tally {
    fn add(&mut self, kind: &str, before: bool, after: bool) {
        let t = if kind == "negative" {
            &mut self.negative
        } else {
            &mut self.group
        };
        t[0] += 1;
        t[1] += usize::from(before);
        t[2] += usize::from(after);
    }

    fn print(&self) {
        for (name, [all, before, after]) in [("group", self.group), ("negative", self.negative)] {
            println!(
                "{name} detections: {all}; pass the gate without the landmark-agreement and chip re-detection checks: {before}; with them: {after}"
            );
        }
    }
}
