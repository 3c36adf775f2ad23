//! Counts RetinaFace detections on the shared face set's group photos and negatives
//! (expected counts from `MANIFEST.tsv`) with the default options, or overridden ones; then
//! how many of them the default quality gate keeps, with and without its two checks that a
//! face is human (RetinaFace's and dlib's eyes agree, `landmark_disagreement`; the face is
//! found again in its own aligned chip, `chip_face_score`), printed per face on the negatives.
//!
//! `cargo run -p rollcall-models --release --example detector_eval [-- SCORE MAX_SIDE MIN_FACE_PX]`
//! Face set: `$ROLLCALL_FACES_DIR` (default `../shared/faces`); weights as in `detector_bench`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rollcall_models::pipeline::{Face, FacePipeline, PipelineOptions};
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
    let gates = Gates::new();
    let mut tally = Tally::default();
    println!("{opts:?}");
    let manifest = std::fs::read_to_string(faces.join("MANIFEST.tsv")).context("MANIFEST.tsv")?;
    let mut counts = Counts::default();
    for line in manifest.lines().skip(1) {
        let Some(photo) = listed(line) else {
            continue;
        };
        let n = detect(&pipeline, &faces, &photo, &gates, &mut tally)?;
        counts.add(&photo, n);
    }
    counts.print();
    tally.print();
    Ok(())
}

/// A photo of `MANIFEST.tsv`: its path, its kind (`group` or `negative`) and how many faces
/// it has (0 when the manifest does not say).
struct Listed<'a> {
    path: &'a str,
    kind: &'a str,
    want: usize,
}

/// The photo a line of the manifest lists, when it is a group photo or a negative.
fn listed(line: &str) -> Option<Listed<'_>> {
    let cols: Vec<&str> = line.split('\t').collect();
    let (path, kind, count) = (cols[0], cols[1], cols[3]);
    if kind != "group" && kind != "negative" {
        return None;
    }
    let want = count.parse().unwrap_or(0);
    Some(Listed { path, kind, want })
}

/// Detects the faces of one photo, puts them through the gates and prints the photo's line:
/// how many faces were found.
fn detect(
    pipeline: &FacePipeline,
    dir: &Path,
    photo: &Listed<'_>,
    gates: &Gates,
    tally: &mut Tally,
) -> Result<usize> {
    let Listed { path, kind, want } = *photo;
    let image = image::open(dir.join(path))
        .with_context(|| path.to_string())?
        .to_rgb8();
    let start = std::time::Instant::now();
    let detected = pipeline.faces(&image)?;
    let n = detected.len();
    for f in &detected {
        gates.check(photo, f, tally);
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!(
        "{kind}\t{path}\t{}x{}\texpected {want}\tfound {n}\t{ms:.0} ms",
        image.width(),
        image.height()
    );
    Ok(n)
}

/// The default quality gate, and the same without its two checks that a face is human.
struct Gates {
    gate: QualityGate,
    without_checks: QualityGate,
}

impl Gates {
    fn new() -> Gates {
        let gate = QualityGate::default();
        let without_checks = QualityGate {
            max_landmark_disagreement: f32::INFINITY,
            min_chip_face_score: 0.0,
            ..gate
        };
        Gates {
            gate,
            without_checks,
        }
    }

    /// Tallies whether `f` passes each gate; a face on a negative is printed, with what the
    /// gate finds wrong with it.
    fn check(&self, photo: &Listed<'_>, f: &Face, tally: &mut Tally) {
        let (path, kind) = (photo.path, photo.kind);
        let q = &f.quality;
        let before = self.without_checks.check(q).is_ok();
        let after = self.gate.check(q).is_ok();
        tally.add(kind, before, after);
        if kind == "negative" {
            println!(
                "  {path}: score {:.3}, landmark disagreement {:?}, chip face score {:?}, gate {:?}",
                f.detection.score,
                q.landmark_disagreement,
                q.chip_face_score,
                self.gate
                    .check(q)
                    .err()
                    .map(|e: QualityIssue| e.to_string())
            );
        }
    }
}

/// Faces expected and found on the group photos (counting at most the expected number per
/// photo), overall and on photos of under 100 faces, and the false faces on the negatives.
#[derive(Default)]
struct Counts {
    expected: usize,
    found: usize,
    expected_small: usize,
    found_small: usize,
    false_faces: usize,
}

impl Counts {
    fn add(&mut self, photo: &Listed<'_>, n: usize) {
        if photo.kind == "negative" {
            self.false_faces += n;
            return;
        }
        let want = photo.want;
        self.expected += want;
        self.found += n.min(want);
        if want < 100 {
            self.expected_small += want;
            self.found_small += n.min(want);
        }
    }

    fn print(&self) {
        let Counts {
            expected,
            found,
            expected_small,
            found_small,
            false_faces,
        } = *self;
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
    }
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
