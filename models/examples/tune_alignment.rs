//! Tunes the alignment on labelled photos: detects each photo's face once, then re-aligns and
//! re-embeds it under several alignment variants and prints the calibration figures of each.
//!
//! cargo run --release -p rollcall-models --example tune_alignment -- ../shared/faces/identities
//!
//! A development tool: the chosen variant becomes `AlignOptions::default()` and is measured
//! for real by `rollcall-edge calibrate` (docs/ACCURACY.md).

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::RgbImage;
use rollcall_models::align::{AlignOptions, Landmarks, Similarity, warp_to_chip};
use rollcall_models::dlib_resnet::Chip;
use rollcall_models::eval::{Sample, evaluate};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::weights::ModelsDir;

struct Photo {
    person: usize,
    image: RgbImage,
    landmarks: Option<Landmarks>,
}

/// Which landmarks drive the similarity fit.
#[derive(Clone, Copy, Debug)]
enum Points {
    All,
    EyesNose,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: tune_alignment DIR")?);
    let pipeline = FacePipeline::load(&ModelsDir::resolve(None)?, PipelineOptions::default())?;
    let started = Instant::now();
    let photos = detect_all(&pipeline, &dir)?;
    eprintln!(
        "detected {} photos in {:.0?}",
        photos.len(),
        started.elapsed()
    );
    let base = AlignOptions::default();
    let variants: Vec<(String, AlignOptions, Points, f32, bool)> = variants(base);
    for (name, opts, points, offset, mirror) in variants {
        let started = Instant::now();
        let samples = embed_all(&pipeline, &photos, &opts, points, offset, mirror)?;
        let r = evaluate(&samples);
        let v = &r.verification;
        println!(
            "{name:<28} tar@1e-3 {:.4} tar@1e-4 {:.4} rank1 {:.4}/{:.4} open@1e-2 {:.4} @1e-3 {:.4} bal {:.4} ({:.0?})",
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
    Ok(())
}

fn variants(base: AlignOptions) -> Vec<(String, AlignOptions, Points, f32, bool)> {
    let mut out = vec![("base".to_owned(), base, Points::All, 0.0, false)];
    out.push(("pixel-centre -0.5".into(), base, Points::All, -0.5, false));
    out.push(("eyes+nose".into(), base, Points::EyesNose, 0.0, false));
    for zoom in [0.95, 1.05] {
        out.push((
            format!("zoom {zoom}"),
            AlignOptions { zoom, ..base },
            Points::All,
            0.0,
            false,
        ));
    }
    for dy in [-3.0, 3.0] {
        out.push((
            format!("shift y {dy}"),
            AlignOptions {
                shift: [0.0, dy],
                ..base
            },
            Points::All,
            0.0,
            false,
        ));
    }
    out.push((
        "no antialias".into(),
        AlignOptions {
            antialias: false,
            ..base
        },
        Points::All,
        0.0,
        false,
    ));
    out.push(("mirror".into(), base, Points::All, 0.0, true));
    out
}

fn detect_all(
    pipeline: &FacePipeline,
    dir: &Path,
) -> Result<Vec<Photo>, Box<dyn std::error::Error>> {
    let mut people: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    people.retain(|p| p.is_dir());
    people.sort();
    let mut photos = Vec::new();
    for (person, folder) in people.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for file in files {
            let Ok(image) = load_image(&file, ImageLimits::default()) else {
                continue;
            };
            let landmarks = pipeline
                .primary_face(&image)?
                .map(|f| f.detection.landmarks);
            photos.push(Photo {
                person,
                image,
                landmarks,
            });
        }
    }
    Ok(photos)
}

fn embed_all(
    pipeline: &FacePipeline,
    photos: &[Photo],
    opts: &AlignOptions,
    points: Points,
    offset: f32,
    mirror: bool,
) -> Result<Vec<Sample>, Box<dyn std::error::Error>> {
    let mut samples = Vec::with_capacity(photos.len());
    for batch in photos.chunks(16) {
        let mut chips = Vec::new();
        for p in batch.iter().filter(|p| p.landmarks.is_some()) {
            let lm = p
                .landmarks
                .unwrap_or_default()
                .map(|[x, y]| [x + offset, y + offset]);
            let sim = fit(&lm, opts, points)?;
            chips.push(Chip::try_from(&warp_to_chip(&p.image, &sim, opts)?)?);
        }
        let descriptors = pipeline.embed_chips(&chips, mirror)?;
        let mut d = descriptors.into_iter();
        for p in batch {
            let embedding = if p.landmarks.is_some() {
                d.next()
            } else {
                None
            };
            samples.push(Sample {
                person: p.person,
                embedding,
            });
        }
    }
    Ok(samples)
}

fn fit(
    lm: &Landmarks,
    opts: &AlignOptions,
    points: Points,
) -> Result<Similarity, Box<dyn std::error::Error>> {
    let dst = opts.target_points();
    Ok(match points {
        Points::All => Similarity::estimate(lm, &dst)?,
        Points::EyesNose => {
            Similarity::estimate(&[lm[0], lm[1], lm[2]], &[dst[0], dst[1], dst[2]])?
        }
    })
}
