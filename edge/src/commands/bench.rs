//! `rollcall-edge bench`: times each stage of the face pipeline and 1:N matching on this
//! machine — min and median over repeated runs, the door's frame at each camera mode it is
//! benchmarked at — and reports peak memory; or compares
//! Rollcall with the `face_recognition` library in one run ([`compare`]).

mod compare;

use std::hint::black_box;
use std::io::{Cursor, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use image::{ImageFormat, RgbImage, imageops::FilterType};
use rollcall_models::detect::Detection;
use rollcall_models::image_io::{ImageLimits, decode_image, load_image};
use rollcall_models::matching::{EMBEDDING_DIM, Embedding, Gallery, MatchMode};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::retinaface::DetectOptions;
use rollcall_models::weights::ModelsDir;
use serde::Serialize;

use crate::cli::BenchArgs;

/// Timing of one stage.
#[derive(Debug, Serialize)]
struct Stage {
    name: String,
    min_ms: f64,
    median_ms: f64,
    runs: usize,
}

#[derive(Debug, Serialize)]
struct Output {
    threads: usize,
    /// `/proc/loadavg` before and after the runs: every figure is as noisy as the machine.
    load_before: String,
    load_after: String,
    stages: Vec<Stage>,
    peak_rss_mb: Option<f64>,
}

pub fn run(args: BenchArgs, models_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    // `--mirror` cannot turn mirroring off: a `--pipeline` file with `mirror = false` can.
    let pipeline = super::pipeline::load(models_dir, &args.pipeline)?;
    if let Some(venv) = &args.compare_face_recognition {
        return run_comparison(&pipeline, venv, &args);
    }
    let photo = match &args.image {
        Some(path) => load_image(path, ImageLimits::default())?,
        None => test_card(640, 480),
    };
    let runs = args.runs.max(1);
    let load_before = compare::load_average();
    let mut stages = Vec::new();
    let jpeg = encode_jpeg(&image::imageops::resize(
        &photo,
        640,
        480,
        FilterType::Triangle,
    ))?;
    stages.push(time("decode 640×480 JPEG", runs, || {
        decode_image(&jpeg, ImageLimits::default()).map(drop)
    })?);
    // The door unit's settings (frames never scaled up), then the photo tools' (faces from
    // 12 px: the frame is scaled up first; docs/PERFORMANCE.md).
    let door = PipelineOptions::door().detect;
    for (w, h) in [(320, 240), (640, 480)] {
        let frame = image::imageops::resize(&photo, w, h, FilterType::Triangle);
        stages.push(time(&format!("detect {w}×{h}"), runs, || {
            pipeline.detect_with(&frame, &door).map(drop)
        })?);
    }
    let frame = image::imageops::resize(&photo, 640, 480, FilterType::Triangle);
    let tools = pipeline.options().detect;
    let name = format!("detect 640×480, faces from {} px", tools.min_face_px);
    stages.push(time(&name, runs, || {
        pipeline.detect_with(&frame, &tools).map(drop)
    })?);
    // A door unit's frame: the photo in a corridor, as each camera mode sees it, through the
    // pipeline the daemon loads (`PipelineOptions::door`, not the tools' options above); first
    // the 720p frame searched in one pass, as before the second look (docs/PERFORMANCE.md).
    let at_door = FacePipeline::load(&ModelsDir::resolve(models_dir)?, PipelineOptions::door())?;
    let one_pass = DetectOptions {
        max_side: 1024,
        second_look: false,
        ..door
    };
    let corridor = door_frame(&photo, CAMERA_MODES[0]);
    stages.push(time(
        "detect 1280×720, one pass at 1024×576",
        runs,
        || at_door.detect_with(&corridor, &one_pass).map(drop),
    )?);
    for (w, h) in CAMERA_MODES {
        let corridor = door_frame(&photo, (w, h));
        let jpeg = encode_jpeg(&corridor)?;
        stages.push(time(&format!("decode {w}×{h} camera JPEG"), runs, || {
            decode_image(&jpeg, ImageLimits::default()).map(drop)
        })?);
        stages.push(time(
            &format!("detect {w}×{h} (door frame)"),
            runs,
            || at_door.detect(&corridor).map(drop),
        )?);
        let found = at_door.faces(&corridor)?.len();
        let name = format!("door frame {w}×{h}, {found} face(s), every stage");
        stages.push(time(&name, runs, || {
            let faces = at_door.faces(&corridor)?;
            at_door.embed(&faces)
        })?);
    }
    let detection = first_face(&pipeline, &photo)?;
    stages.push(time("align + quality, per face", runs, || {
        pipeline.prepare(&photo, detection).map(drop)
    })?);
    let face = pipeline.prepare(&photo, detection)?;
    stages.push(time("embed, per face", runs, || {
        pipeline.embed(std::slice::from_ref(&face)).map(drop)
    })?);
    let four = vec![face.clone(); 4];
    let batch = time("embed, batch of 4 faces", runs, || {
        pipeline.embed(&four).map(drop)
    })?;
    stages.push(batch);
    for students in [1_000, 10_000] {
        stages.push(time_matching(students, runs)?);
    }
    let output = Output {
        threads: rayon_threads(),
        load_before,
        load_after: compare::load_average(),
        stages,
        peak_rss_mb: peak_rss_mb(),
    };
    print(&output, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn run_comparison(
    pipeline: &FacePipeline,
    venv: &Path,
    args: &BenchArgs,
) -> anyhow::Result<ExitCode> {
    let photos = compare::pick_photos(&args.photos, args.count)?;
    let result = compare::compare(pipeline, venv, &photos)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
    } else {
        compare::print(&mut out, &result)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn time<T, E: Into<anyhow::Error>>(
    name: &str,
    runs: usize,
    mut f: impl FnMut() -> Result<T, E>,
) -> anyhow::Result<Stage> {
    black_box(f().map_err(Into::into)?); // warm-up
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        black_box(f().map_err(Into::into)?);
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(Stage {
        name: name.to_owned(),
        min_ms: ms[0],
        median_ms: ms[ms.len() / 2],
        runs,
    })
}

/// A face of the photo, or a made-up one at the template's proportions when it has none
/// (alignment and embedding cost the same either way).
fn first_face(pipeline: &FacePipeline, photo: &RgbImage) -> anyhow::Result<Detection> {
    if let Some(d) = pipeline.detect(photo)?.into_iter().next() {
        return Ok(d);
    }
    let (cx, cy, s) = (photo.width() as f32 / 2.0, photo.height() as f32 / 2.0, 1.2);
    let at = |x: f32, y: f32| [cx + (x - 75.0) * s, cy + (y - 75.0) * s];
    Ok(Detection {
        bbox: [cx - 75.0 * s, cy - 75.0 * s, cx + 75.0 * s, cy + 75.0 * s],
        score: 1.0,
        landmarks: [
            at(47.55, 46.6),
            at(100.48, 46.6),
            at(74.01, 76.56),
            at(50.41, 103.02),
            at(97.61, 103.02),
        ],
    })
}

/// 1:N search over `students` students with three embeddings each (pseudo-random, fixed seed).
fn time_matching(students: usize, runs: usize) -> anyhow::Result<Stage> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut embedding = || Embedding(std::array::from_fn(|_| next() * 0.2));
    let pairs: Vec<(u32, Embedding)> = (0..students as u32)
        .flat_map(|s| [s, s, s])
        .map(|s| (s, embedding()))
        .collect();
    let gallery = Gallery::try_from_iter(pairs)?;
    let query = Embedding([0.01; EMBEDDING_DIM]);
    time(
        &format!("match 1:N, {students} students × 3"),
        runs.max(50),
        || gallery.search(&query, 3, MatchMode::Nearest),
    )
}

/// The camera modes a door unit is benchmarked at: the Pi camera's 720p, 1080p and
/// 2304×1296 (docs/PI.md, "Camera").
const CAMERA_MODES: [(u32, u32); 3] = [(1280, 720), (1920, 1080), (2304, 1296)];

/// `photo` at its own size (at most 720 px tall) in the middle of a 1280×720 grey frame, as a
/// 720p door camera sees someone a metre or two away; then the same scene at `width × height`
/// (a camera with more pixels, the same field of view).
fn door_frame(photo: &RgbImage, (width, height): (u32, u32)) -> RgbImage {
    let (w, h) = CAMERA_MODES[0];
    let photo = if photo.height() > h || photo.width() > w {
        image::imageops::resize(
            photo,
            photo.width() * h / photo.height(),
            h,
            FilterType::Triangle,
        )
    } else {
        photo.clone()
    };
    let mut frame = RgbImage::from_pixel(w, h, image::Rgb([118, 118, 118]));
    let x = i64::from(w.saturating_sub(photo.width()) / 2);
    let y = i64::from(h.saturating_sub(photo.height()) / 2);
    image::imageops::overlay(&mut frame, &photo, x, y);
    if (width, height) == (w, h) {
        frame
    } else {
        image::imageops::resize(&frame, width, height, FilterType::CatmullRom)
    }
}

/// A deterministic, textured image so the decoder and detector do real work.
fn test_card(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = ((x * 7 + y * 13) ^ (x * y / 5)) as u8;
        image::Rgb([v, v.wrapping_mul(3), (x + y) as u8])
    })
}

fn encode_jpeg(image: &RgbImage) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)?;
    Ok(out)
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Peak resident memory of this process (Linux `VmHWM`), MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print(o: &Output, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(o)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<48} {:>10} {:>10}   ({} cores)",
        "stage", "min ms", "median ms", o.threads
    )?;
    for s in &o.stages {
        writeln!(
            out,
            "{:<48} {:>10.3} {:>10.3}",
            s.name, s.min_ms, s.median_ms
        )?;
    }
    if let Some(mb) = o.peak_rss_mb {
        writeln!(out, "peak resident memory {mb:.0} MB")?;
    }
    writeln!(
        out,
        "load average {} before, {} after",
        o.load_before, o.load_after
    )?;
    Ok(())
}
