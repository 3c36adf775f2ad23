//! Tunes the alignment on labelled photos: detects each photo's face once (optionally cached
//! in a JSON-lines file), then re-aligns and re-embeds it under several alignment variants and
//! prints the calibration figures of each.
//!
//! cargo run --release -p rollcall-models --example tune_alignment -- \
//!     ../shared/faces/identities [--cache detections.jsonl] [VARIANT ...]
//! cargo run --release -p rollcall-models --example tune_alignment -- \
//!     ../shared/faces/identities --cache detections.jsonl --views views.bin 0 0+1 0/n 0+1/n all/n
//!
//! Variants: base, pixel-centre, eyes-nose, zoom-0.95, zoom-1.05, shift-y-3, shift-y+3,
//! no-antialias, mirror (template alignment onto RetinaFace's five points), and dlib-sp,
//! dlib-sp-float, dlib-sp-mirror (dlib's shape predictor in a box derived from the detection,
//! then dlib's own chip; `-float` skips dlib's rounding of the points). Default: all;
//! `none` only detects (to fill the cache); `gate` reports how many primary faces the quality
//! gate turns down, with and without its human-face checks.
//!
//! A development tool: the chosen variant becomes the default and is measured for real by
//! `rollcall-edge calibrate` (docs/ACCURACY.md).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::RgbImage;
use rollcall_models::align::dlib_chip::{extract_chip, face_chip_details};
use rollcall_models::align::{AlignOptions, Landmarks, Similarity, warp_to_chip};
use rollcall_models::detect::Detection;
use rollcall_models::dlib_resnet::{Chip, DlibResnet};
use rollcall_models::eval::{Sample, evaluate};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::landmarks::{ShapePredictor, SpBoxFit, box_from_detection};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::quality::Grade;
use rollcall_models::quality::QualityGate;
use rollcall_models::weights::ModelsDir;
use serde::{Deserialize, Serialize};

type Error = Box<dyn std::error::Error>;

/// One photo's primary detection, as cached, and `face_recognition`'s points if known.
#[derive(Serialize, Deserialize)]
struct Photo {
    person: usize,
    path: PathBuf,
    bbox: Option<[f32; 4]>,
    score: f32,
    landmarks: Option<Landmarks>,
    #[serde(skip)]
    hog: Option<HogFace>,
}

/// One line of `models/parity/reference/dlib_hog_landmarks.py`'s output.
#[derive(Deserialize)]
struct HogPhoto {
    path: PathBuf,
    width: u32,
    height: u32,
    faces: Vec<HogFace>,
}

#[derive(Deserialize, Clone, Copy)]
struct HogFace {
    #[serde(rename = "box")]
    rect: [i64; 4],
    points: [[f64; 2]; 5],
}

impl HogPhoto {
    /// The primary face by `pipeline::primary_face`'s rule.
    fn primary(&self) -> Option<HogFace> {
        let (cx, cy) = (self.width as f64 / 2.0, self.height as f64 / 2.0);
        let diagonal = (self.width as f64).hypot(self.height as f64);
        let weight = |f: &HogFace| {
            let [l, t, r, b] = f.rect.map(|v| v as f64);
            let off = ((l + r) / 2.0 - cx).hypot((t + b) / 2.0 - cy) / diagonal;
            (r - l + 1.0).min(b - t + 1.0) * (1.0 - off).max(0.0)
        };
        self.faces
            .iter()
            .max_by(|a, b| weight(a).total_cmp(&weight(b)))
            .copied()
    }
}

fn attach_hog(photos: &mut [Photo], path: &Path) -> Result<(), Error> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut by_path = std::collections::HashMap::new();
    for line in file.lines() {
        let h: HogPhoto = serde_json::from_str(&line?)?;
        by_path.insert(h.path.clone(), h.primary());
    }
    for p in photos {
        p.hog = by_path.get(&p.path).copied().flatten();
    }
    Ok(())
}

impl Photo {
    fn detection(&self) -> Option<Detection> {
        Some(Detection {
            bbox: self.bbox?,
            score: self.score,
            landmarks: self.landmarks?,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Variant {
    /// Template fit on RetinaFace's points: options, points used, offset added, mirror.
    Template(AlignOptions, bool, f32, bool),
    /// dlib's shape predictor and chip: rounded points, mirror.
    DlibSp(bool, bool),
    /// dlib's chip from the shape-predictor points `face_recognition` found in the primary
    /// HOG box (`--hog`); without a HOG face: fall back to DlibSp (true) or fail (false).
    HogSp(bool),
}

fn variant(name: &str) -> Option<Variant> {
    let base = AlignOptions::default();
    let t = |opts, offset| Some(Variant::Template(opts, false, offset, false));
    match name {
        "base" => t(base, 0.0),
        "pixel-centre" => t(base, -0.5),
        "eyes-nose" => Some(Variant::Template(base, true, 0.0, false)),
        "zoom-0.95" => t(AlignOptions { zoom: 0.95, ..base }, 0.0),
        "zoom-1.05" => t(AlignOptions { zoom: 1.05, ..base }, 0.0),
        "shift-y-3" => t(
            AlignOptions {
                shift: [0.0, -3.0],
                ..base
            },
            0.0,
        ),
        "shift-y+3" => t(
            AlignOptions {
                shift: [0.0, 3.0],
                ..base
            },
            0.0,
        ),
        "no-antialias" => t(
            AlignOptions {
                antialias: false,
                ..base
            },
            0.0,
        ),
        "mirror" => Some(Variant::Template(base, false, 0.0, true)),
        "dlib-sp" => Some(Variant::DlibSp(true, false)),
        "dlib-sp-float" => Some(Variant::DlibSp(false, false)),
        "dlib-sp-mirror" => Some(Variant::DlibSp(true, true)),
        "hog-sp" => Some(Variant::HogSp(false)),
        "hog-sp-or-rf" => Some(Variant::HogSp(true)),
        _ => None,
    }
}

const ALL: [&str; 12] = [
    "base",
    "pixel-centre",
    "eyes-nose",
    "zoom-0.95",
    "zoom-1.05",
    "shift-y-3",
    "shift-y+3",
    "no-antialias",
    "mirror",
    "dlib-sp",
    "dlib-sp-float",
    "dlib-sp-mirror",
];

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: tune_alignment DIR [--cache F] [V..]")?,
    );
    let (mut cache, mut hog, mut names) = (None, None, Vec::new());
    let mut views_file: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cache" => cache = args.next().map(PathBuf::from),
            "--hog" => hog = args.next().map(PathBuf::from),
            "--views" => views_file = args.next().map(PathBuf::from),
            _ => names.push(a),
        }
    }
    if names.is_empty() {
        names = ALL.map(String::from).to_vec();
    }
    let models = ModelsDir::resolve(None)?;
    let pipeline = FacePipeline::load(&models, PipelineOptions::default())?;
    let sp = ShapePredictor::load(&models.shape_predictor_5())?;
    let started = Instant::now();
    let mut photos = photos(&pipeline, &dir, cache.as_deref())?;
    eprintln!("{} photos ready in {:.0?}", photos.len(), started.elapsed());
    if let Some(path) = views_file {
        if !path.is_file() {
            let embedder = DlibResnet::from_models_dir(&models, &candle_core::Device::Cpu)?;
            views::dump(&embedder, &sp, &photos, &path)?;
        }
        let dump = views::load(&path)?;
        for spec in &names {
            let started = Instant::now();
            print_report(spec, &views::samples(&dump, spec)?, started);
        }
        return Ok(());
    }
    if let Some(hog) = hog {
        attach_hog(&mut photos, &hog)?;
        box_report(&sp, &photos)?;
    }
    if names.iter().any(|n| n == "gate") {
        gate_report(&pipeline, &photos)?;
    }
    for name in names.into_iter().filter(|n| n != "none" && n != "gate") {
        let v = variant(&name).ok_or_else(|| format!("unknown variant {name}"))?;
        let started = Instant::now();
        let samples = embed_all(&pipeline, &sp, &photos, v)?;
        print_report(&name, &samples, started);
    }
    Ok(())
}

fn print_report(name: &str, samples: &[Sample], started: Instant) {
    let r = evaluate(samples);
    let v = &r.verification;
    println!(
        "{name:<16} fte {:.4} tar@1e-3 {:.4} tar@1e-4 {:.4} rank1 {:.4}/{:.4} open@1e-2 {:.4} @1e-3 {:.4} bal {:.4} ({:.0?})",
        r.failure_rate,
        v.tar_at_far_1e3.rate,
        v.tar_at_far_1e4.rate,
        r.rank1_one_photo,
        r.rank1_three_photos,
        r.open_set.dir_at_fpir_1e2.rate,
        r.open_set.dir_at_fpir_1e3.rate,
        v.best_balanced_accuracy,
        started.elapsed()
    );
}

/// The photos and their primary detections: read from `cache` if it exists, otherwise
/// detected (and written to `cache` when given).
fn photos(pipeline: &FacePipeline, dir: &Path, cache: Option<&Path>) -> Result<Vec<Photo>, Error> {
    if let Some(path) = cache.filter(|p| p.is_file()) {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        return file
            .lines()
            .map(|l| Ok(serde_json::from_str(&l?)?))
            .collect();
    }
    let photos = detect_all(pipeline, dir)?;
    if let Some(path) = cache {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for p in &photos {
            writeln!(out, "{}", serde_json::to_string(p)?)?;
        }
    }
    Ok(photos)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

fn detect_all(pipeline: &FacePipeline, dir: &Path) -> Result<Vec<Photo>, Error> {
    let mut photos = Vec::new();
    let people = sorted_entries(dir)?.into_iter().filter(|p| p.is_dir());
    for (person, folder) in people.enumerate() {
        for path in sorted_entries(&folder)? {
            let Ok(image) = load_image(&path, ImageLimits::default()) else {
                continue;
            };
            let d = pipeline.primary_face(&image)?.map(|f| f.detection);
            photos.push(Photo {
                person,
                path,
                bbox: d.map(|d| d.bbox),
                score: d.map_or(0.0, |d| d.score),
                landmarks: d.map(|d| d.landmarks),
                hog: None,
            });
        }
    }
    Ok(photos)
}

fn embed_all(
    pipeline: &FacePipeline,
    sp: &ShapePredictor,
    photos: &[Photo],
    variant: Variant,
) -> Result<Vec<Sample>, Error> {
    let mirror = match variant {
        Variant::Template(.., m) | Variant::DlibSp(_, m) => m,
        Variant::HogSp(_) => false,
    };
    let mut samples = Vec::with_capacity(photos.len());
    for batch in photos.chunks(16) {
        let mut chips = Vec::new();
        for p in batch.iter().filter(|p| usable(p, variant)) {
            let image = load_image(&p.path, ImageLimits::default())?;
            chips.push(Chip::try_from(&chip(&image, p, sp, variant)?)?);
        }
        let mut d = pipeline.embed_chips(&chips, mirror)?.into_iter();
        for p in batch {
            let embedding = usable(p, variant).then(|| d.next()).flatten();
            samples.push(Sample {
                person: p.person,
                embedding,
                grade: Grade::Good,
            });
        }
    }
    Ok(samples)
}

fn usable(p: &Photo, v: Variant) -> bool {
    match v {
        Variant::HogSp(false) => p.hog.is_some(),
        Variant::HogSp(true) => p.hog.is_some() || p.landmarks.is_some(),
        _ => p.landmarks.is_some(),
    }
}

fn chip(image: &RgbImage, p: &Photo, sp: &ShapePredictor, v: Variant) -> Result<RgbImage, Error> {
    if let (Variant::HogSp(_), Some(h)) = (v, p.hog) {
        return Ok(extract_chip(
            image,
            &face_chip_details(&h.points, 150, 0.25)?,
        ));
    }
    let v = match v {
        Variant::HogSp(_) => Variant::DlibSp(true, false),
        v => v,
    };
    let det = p.detection().ok_or("no detection")?;
    match v {
        Variant::Template(opts, eyes_nose, offset, _) => {
            let lm = det.landmarks.map(|[x, y]| [x + offset, y + offset]);
            let sim = fit(&lm, &opts, eyes_nose)?;
            Ok(warp_to_chip(image, &sim, &opts)?)
        }
        Variant::DlibSp(rounded, _) => {
            let rect = box_from_detection(&det, &SpBoxFit::FITTED);
            let shape = sp.predict(image, &rect);
            let pts = if rounded {
                shape.rounded()
            } else {
                shape.points
            };
            let pts: [[f64; 2]; 5] = pts.try_into().map_err(|_| "not a 5-point model")?;
            Ok(extract_chip(image, &face_chip_details(&pts, 150, 0.25)?))
        }
        Variant::HogSp(_) => Err("unreachable".into()),
    }
}

fn gate_report(pipeline: &FacePipeline, photos: &[Photo]) -> Result<(), Error> {
    let gate = QualityGate::default();
    let without = QualityGate {
        max_landmark_disagreement: f32::INFINITY,
        min_chip_face_score: 0.0,
        ..gate
    };
    let (mut faces, mut before, mut after) = (0, 0, 0);
    for p in photos {
        let Some(det) = p.detection() else { continue };
        let image = load_image(&p.path, ImageLimits::default())?;
        let q = pipeline.prepare(&image, det)?.quality;
        faces += 1;
        let (b, a) = (without.check(&q).is_err(), gate.check(&q).is_err());
        before += usize::from(b);
        after += usize::from(a);
        if a && !b {
            eprintln!(
                "  refused only by the human-face checks: {} {q:?}",
                p.path.display()
            );
        }
    }
    println!(
        "gate: {faces} primary faces; refused without the human-face checks {before}, with them {after}"
    );
    Ok(())
}

/// How far the shape predictor's points in our box are from those in the HOG box, in eye
/// distances (worst of the five points), over the photos where both detectors found the face.
fn box_report(sp: &ShapePredictor, photos: &[Photo]) -> Result<(), Error> {
    let mut errors = Vec::new();
    for p in photos {
        let (Some(h), Some(det)) = (p.hog, p.detection()) else {
            continue;
        };
        let [l, t, r, b] = h.rect.map(|v| v as f32);
        let [cx, cy] = [
            (det.landmarks[0][0] + det.landmarks[1][0]) / 2.0,
            det.landmarks[0][1],
        ];
        if !(l..=r).contains(&cx) || !(t..=b).contains(&cy) {
            continue;
        }
        let image = load_image(&p.path, ImageLimits::default())?;
        let ours = sp
            .predict(&image, &box_from_detection(&det, &SpBoxFit::FITTED))
            .rounded();
        let eye = |q: &[[f64; 2]]| [(q[2][0] + q[3][0]) / 2.0, (q[2][1] + q[3][1]) / 2.0];
        let other = |q: &[[f64; 2]]| [(q[0][0] + q[1][0]) / 2.0, (q[0][1] + q[1][1]) / 2.0];
        let iod = {
            let (a, b) = (eye(&h.points), other(&h.points));
            (a[0] - b[0]).hypot(a[1] - b[1]).max(1.0)
        };
        let worst = ours
            .iter()
            .zip(&h.points)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .fold(0.0, f64::max);
        errors.push(worst / iod);
    }
    errors.sort_by(f64::total_cmp);
    let q = |f: f64| {
        errors.get(((errors.len() as f64 * f) as usize).min(errors.len().saturating_sub(1)))
    };
    eprintln!(
        "shape predictor, our box vs HOG box, worst point / eye distance over {} photos: median {:?}, p90 {:?}, p99 {:?}",
        errors.len(),
        q(0.5),
        q(0.9),
        q(0.99)
    );
    Ok(())
}

fn fit(lm: &Landmarks, opts: &AlignOptions, eyes_nose: bool) -> Result<Similarity, Error> {
    let dst = opts.target_points();
    Ok(if eyes_nose {
        Similarity::estimate(&[lm[0], lm[1], lm[2]], &[dst[0], dst[1], dst[2]])?
    } else {
        Similarity::estimate(lm, &dst)?
    })
}

/// `--views FILE`: every usable photo's chip under small jitters, embedded once and scored.
mod views;
