//! `rollcall-edge faces`: what the pipeline sees in each photo.
//!
//! With `--json`, one line per image: `{"path", "width", "height", "faces": [{"box", "score",
//! "landmarks", "quality", "embedding"?}], "detect_ms", "embed_ms"}`, or `{"path", "error"}`
//! for a file that cannot be read; the exit status is non-zero if any image failed.
//! Scripts depend on this shape: only ever add fields.
//!
//! Several images are analysed at once (one per core and more), printed in the order given;
//! each image's `detect_ms` and `embed_ms` therefore include sharing the cores with the
//! others. `rollcall-edge bench` times the stages on their own.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::FacePipeline;
use rollcall_models::quality::FaceQuality;
use serde::Serialize;

use crate::cli::FacesArgs;

#[derive(Debug, Serialize)]
struct ImageReport<'a> {
    path: &'a Path,
    width: u32,
    height: u32,
    faces: Vec<FaceReport>,
    detect_ms: f64,
    embed_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
struct FaceReport {
    #[serde(rename = "box")]
    bbox: [f32; 4],
    score: f32,
    landmarks: [[f32; 2]; 5],
    quality: FaceQuality,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Vec<f32>>,
}

#[derive(Debug, Serialize)]
struct ErrorReport<'a> {
    path: &'a Path,
    error: String,
}

pub fn run(args: FacesArgs, models_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pipeline = super::pipeline::load(models_dir, &args.pipeline)?;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    let analyse = |path| analyse(&pipeline, path, args.embed);
    super::pipeline::for_each_in_order(&args.images, analyse, |path, result| {
        match result {
            Ok(report) if args.json => writeln!(out, "{}", serde_json::to_string(&report)?)?,
            Ok(report) => print_human(&mut out, &report)?,
            Err(error) => {
                failed += 1;
                let error = format!("{error:#}");
                if args.json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string(&ErrorReport { path, error })?
                    )?;
                } else {
                    writeln!(out, "{}: error: {error}", path.display())?;
                }
            }
        }
        Ok(())
    })?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn analyse<'a>(
    pipeline: &FacePipeline,
    path: &'a PathBuf,
    embed: bool,
) -> anyhow::Result<ImageReport<'a>> {
    let image = load_image(path, ImageLimits::default())?;
    let started = Instant::now();
    let faces = pipeline.faces(&image)?;
    let detect_ms = ms_since(started);
    let started = Instant::now();
    let embeddings = if embed {
        Some(pipeline.embed(&faces)?)
    } else {
        None
    };
    let embed_ms = embed.then(|| ms_since(started));
    let reports = faces.iter().enumerate().map(|(i, f)| FaceReport {
        bbox: f.detection.bbox,
        score: f.detection.score,
        landmarks: f.detection.landmarks,
        quality: f.quality,
        embedding: embeddings.as_ref().map(|e| e[i].to_vec()),
    });
    Ok(ImageReport {
        path,
        width: image.width(),
        height: image.height(),
        faces: reports.collect(),
        detect_ms,
        embed_ms,
    })
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e3
}

fn print_human(out: &mut impl Write, r: &ImageReport<'_>) -> std::io::Result<()> {
    let embed = r
        .embed_ms
        .map(|ms| format!(", embed {ms:.1} ms"))
        .unwrap_or_default();
    writeln!(
        out,
        "{}: {}×{}, {} face(s) (detect {:.1} ms{embed})",
        r.path.display(),
        r.width,
        r.height,
        r.faces.len(),
        r.detect_ms
    )?;
    for (i, f) in r.faces.iter().enumerate() {
        let [x1, y1, x2, y2] = f.bbox;
        let q = &f.quality;
        let pose = q
            .pose
            .map(|p| format!(", yaw {:+.0}°", p.yaw_deg))
            .unwrap_or_default();
        writeln!(
            out,
            "  face {}: box ({x1:.0},{y1:.0})-({x2:.0},{y2:.0}) score {:.3}, eyes {:.0} px apart, sharpness {:.0}{pose}",
            i + 1,
            f.score,
            q.inter_ocular_px,
            q.sharpness
        )?;
    }
    Ok(())
}
