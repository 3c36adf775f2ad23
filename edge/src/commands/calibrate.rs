//! `rollcall-edge calibrate DIR`: runs the pipeline over labelled photos (`DIR/<person>/*`)
//! and reports how well it recognises them, with the thresholds it recommends. The protocol
//! is [`rollcall_models::eval`]'s.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rollcall_models::eval::{GradeOpenSet, OpenSet, Report, Sample, Verification, evaluate};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::matching::{CALIBRATED_SEARCH, Embedding, NARROWING_PER_DOUBLING, Thresholds};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions, model_id};
use rollcall_models::quality::{Grade, QualityGate};
use rollcall_shared::ModelId;
use serde::Serialize;

use crate::cli::CalibrateArgs;
use crate::config::{DEFAULT_CONFIG, load, load_str};

const IMAGE_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "bmp", "webp"];

#[derive(Debug, Serialize)]
struct Output<'a> {
    model: ModelId,
    options: &'a PipelineOptions,
    unreadable: usize,
    median_detect_ms: f64,
    median_embed_ms: f64,
    #[serde(flatten)]
    report: Report,
    /// The recommended bands for each number of students a door searches.
    bands_by_searched: Vec<SearchBands>,
}

/// The confident bands of a door that searches `students` students.
#[derive(Debug, Serialize)]
struct SearchBands {
    students: usize,
    confident: f32,
    confident_weak: f32,
}

/// How many students the table of bands goes to: a class, classes, a school at its gate.
const SEARCHED: [usize; 7] = [30, 60, 120, 240, 480, 960, 1920];

/// The recommended bands narrowed for each size of [`SEARCHED`]: those of edge.toml are for one
/// class ([`CALIBRATED_SEARCH`]); a door that searches more narrows them
/// ([`Thresholds::for_searched`]), so a stranger is no likelier to be named at a gate than at a
/// classroom door.
fn bands_by_searched(confident: f32, confident_weak: f32) -> Vec<SearchBands> {
    let recommended = Thresholds {
        confident,
        confident_weak,
        ..Thresholds::DOOR
    };
    SEARCHED
        .iter()
        .map(|&students| {
            let t = recommended.for_searched(students);
            SearchBands {
                students,
                confident: t.confident,
                confident_weak: t.confident_weak,
            }
        })
        .collect()
}

pub fn run(args: CalibrateArgs, models_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let people = list_people(&args.dir)?;
    let total: usize = people.iter().map(|(_, images)| images.len()).sum();
    anyhow::ensure!(
        total > 0,
        "no photos found under {} (expected DIR/<person>/*.jpg)",
        args.dir.display()
    );
    let gate = door_gate(args.config.as_deref())?;
    let pipeline = super::pipeline::load(models_dir, &args.pipeline)?;
    let progress = progress_bar(total);
    let photos: Vec<(usize, &PathBuf)> = people
        .iter()
        .enumerate()
        .flat_map(|(person, (_, images))| images.iter().map(move |path| (person, path)))
        .collect();
    let mut run = Run::default();
    let measure = |(_, path): &(usize, &PathBuf)| measure(&pipeline, &gate, path);
    super::pipeline::for_each_in_order(&photos, measure, |(person, path), measured| {
        run.add(*person, path, measured?);
        progress.inc(1);
        Ok(())
    })?;
    progress.finish_and_clear();
    let report = evaluate(&run.samples);
    let rec = &report.recommended;
    let output = Output {
        bands_by_searched: bands_by_searched(rec.confident, rec.confident_weak),
        model: model_id(),
        options: pipeline.options(),
        unreadable: run.unreadable,
        median_detect_ms: median(&mut run.detect_ms),
        median_embed_ms: median(&mut run.embed_ms),
        report,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&output)?)?;
    } else {
        print_human(&mut out, &output)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Default)]
struct Run {
    samples: Vec<Sample>,
    unreadable: usize,
    detect_ms: Vec<f64>,
    embed_ms: Vec<f64>,
}

/// What one photo gave.
enum Measured {
    Unreadable(String),
    /// The photo's main face's descriptor (none when no face was found) and the times taken.
    Face {
        embedding: Option<Embedding>,
        grade: Grade,
        detect_ms: f64,
        embed_ms: Option<f64>,
    },
}

impl Run {
    fn add(&mut self, person: usize, path: &Path, measured: Measured) {
        match measured {
            Measured::Unreadable(error) => {
                tracing::warn!("skipping {}: {error}", path.display());
                self.unreadable += 1;
            }
            Measured::Face {
                embedding,
                grade,
                detect_ms,
                embed_ms,
            } => {
                if embedding.is_none() {
                    tracing::debug!("no face in {}", path.display());
                }
                self.detect_ms.push(detect_ms);
                self.embed_ms.extend(embed_ms);
                self.samples.push(Sample {
                    person,
                    embedding,
                    grade,
                });
            }
        }
    }
}

/// The `[quality]` gate of the door's configuration at `path`, or of the example one.
fn door_gate(path: Option<&Path>) -> anyhow::Result<QualityGate> {
    let config = match path {
        Some(path) => load(path).with_context(|| format!("reading {}", path.display()))?,
        None => load_str(DEFAULT_CONFIG, "the example configuration", [])?,
    };
    Ok(config.quality)
}

/// The main face of one photo, embedded and graded.
fn measure(pipeline: &FacePipeline, gate: &QualityGate, path: &Path) -> anyhow::Result<Measured> {
    let image = match load_image(path, ImageLimits::default()) {
        Ok(image) => image,
        Err(error) => return Ok(Measured::Unreadable(error.to_string())),
    };
    let started = Instant::now();
    let face = pipeline
        .primary_face(&image)
        .with_context(|| format!("detecting in {}", path.display()))?;
    let detect_ms = started.elapsed().as_secs_f64() * 1e3;
    let Some(face) = face else {
        return Ok(Measured::Face {
            embedding: None,
            grade: Grade::Out,
            detect_ms,
            embed_ms: None,
        });
    };
    let started = Instant::now();
    let embedding = pipeline
        .embed(std::slice::from_ref(&face))?
        .first()
        .copied();
    Ok(Measured::Face {
        embedding,
        grade: gate.grade(&face.quality),
        detect_ms,
        embed_ms: Some(started.elapsed().as_secs_f64() * 1e3),
    })
}

/// People (sorted by folder name) and their photos (sorted by file name).
fn list_people(dir: &Path) -> anyhow::Result<Vec<(String, Vec<PathBuf>)>> {
    let mut people = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            people.push((name, list_images(&path)?));
        }
    }
    people.retain(|(_, images)| !images.is_empty());
    people.sort();
    Ok(people)
}

fn list_images(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let is_image = |p: &PathBuf| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
    };
    let mut images = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && is_image(&path) {
            images.push(path);
        }
    }
    images.sort();
    Ok(images)
}

fn progress_bar(total: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} photos, {eta} left");
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn pct(rate: f64) -> String {
    format!("{:.2} %", rate * 100.0)
}

/// The report as text for a person to read, part by part.
fn print_human(out: &mut impl Write, o: &Output<'_>) -> std::io::Result<()> {
    let r = &o.report;
    writeln!(
        out,
        "model {}: {} photos of {} people ({} unreadable)",
        o.model, r.images, r.persons, o.unreadable
    )?;
    writeln!(
        out,
        "failure to extract      {} ({} photos)",
        pct(r.failure_rate),
        r.failures
    )?;
    print_verification(out, &r.verification)?;
    writeln!(
        out,
        "closed-set rank-1       {} (1 photo enrolled), {} (up to 3, averaged)",
        pct(r.rank1_one_photo),
        pct(r.rank1_three_photos)
    )?;
    print_open_set(out, &r.open_set)?;
    print_by_grade(out, &r.by_grade)?;
    print_recommended(out, o)?;
    writeln!(
        out,
        "timing                  median {:.1} ms detect, {:.1} ms embed per photo",
        o.median_detect_ms, o.median_embed_ms
    )
}

/// How well two photos of one person are told from two of different people.
fn print_verification(out: &mut impl Write, v: &Verification) -> std::io::Result<()> {
    writeln!(
        out,
        "verification            {} genuine and {} impostor pairs",
        v.genuine_pairs, v.impostor_pairs
    )?;
    writeln!(
        out,
        "  best accuracy         {} at distance {:.3}",
        pct(v.best_accuracy),
        v.best_accuracy_threshold
    )?;
    writeln!(
        out,
        "  balanced accuracy     {} at distance {:.3}",
        pct(v.best_balanced_accuracy),
        v.best_balanced_threshold
    )?;
    writeln!(
        out,
        "  true accepts at FAR 1e-3  {} (distance ≤ {:.3})",
        pct(v.tar_at_far_1e3.rate),
        v.tar_at_far_1e3.threshold
    )?;
    writeln!(
        out,
        "  true accepts at FAR 1e-4  {} (distance ≤ {:.3})",
        pct(v.tar_at_far_1e4.rate),
        v.tar_at_far_1e4.threshold
    )?;
    Ok(())
}

/// How often a known person is found and named, and a stranger turned away.
fn print_open_set(out: &mut impl Write, s: &OpenSet) -> std::io::Result<()> {
    writeln!(
        out,
        "open-set                {} enrolled, {} mated and {} stranger probes",
        s.enrolled, s.mated_probes, s.non_mated_probes
    )?;
    writeln!(
        out,
        "  correct and accepted  {} at FPIR 1e-2 (distance ≤ {:.3})",
        pct(s.dir_at_fpir_1e2.rate),
        s.dir_at_fpir_1e2.threshold
    )?;
    writeln!(
        out,
        "  correct and accepted  {} at FPIR 1e-3 (distance ≤ {:.3})",
        pct(s.dir_at_fpir_1e3.rate),
        s.dir_at_fpir_1e3.threshold
    )?;
    Ok(())
}

/// The open-set figures with the probes of each grade alone: a grade's band is where its
/// strangers stop.
fn print_by_grade(out: &mut impl Write, grades: &[GradeOpenSet]) -> std::io::Result<()> {
    writeln!(
        out,
        "by grade of the probe's face (the door's [quality] gate)\n  \
         grade    mated  strangers  correct and accepted at FPIR 1e-3 (distance ≤)"
    )?;
    for g in grades {
        let s = &g.open_set;
        let name = format!("{:?}", g.grade).to_lowercase();
        writeln!(
            out,
            "  {name:<8} {:>5}  {:>9}  {} (≤ {:.3})",
            s.mated_probes,
            s.non_mated_probes,
            pct(s.dir_at_fpir_1e3.rate),
            s.dir_at_fpir_1e3.threshold
        )?;
    }
    let few: Vec<String> = grades
        .iter()
        .filter(|g| g.open_set.non_mated_probes < 1_000)
        .map(|g| format!("{:?}", g.grade).to_lowercase())
        .collect();
    if !few.is_empty() {
        writeln!(
            out,
            "  caution               fewer than 1,000 stranger probes of grade {}: that band sits \
             at the nearest stranger; confident_weak is never recommended above confident",
            few.join(", ")
        )?;
    }
    Ok(())
}

/// The thresholds to set on the door units, with a caution when too few strangers were seen.
fn print_recommended(out: &mut impl Write, o: &Output<'_>) -> std::io::Result<()> {
    let s = &o.report.open_set;
    let rec = &o.report.recommended;
    writeln!(
        out,
        "recommended thresholds  confident ≤ {:.3} (FAR {:.1e}), uncertain ≤ {:.3} (FAR {:.1e})",
        rec.confident, rec.confident_far, rec.uncertain, rec.uncertain_far
    )?;
    if s.non_mated_probes < 1_000 {
        writeln!(
            out,
            "  caution               only {} stranger probes: a rate of 1e-3 needs 1,000 or more \
             (1e-2: 100) to be measured, so these thresholds sit at the nearest stranger; \
             add photos of more people",
            s.non_mated_probes
        )?;
    }
    writeln!(
        out,
        "  for edge.toml         [matching] calibrated_for = \"{}\", mode = \"centroid\", \
         confident = {:.3}, confident_weak = {:.3}, uncertain = {:.3}",
        o.model, rec.confident, rec.confident_weak, rec.uncertain
    )?;
    print_bands_by_searched(out, &o.bands_by_searched)
}

fn print_bands_by_searched(out: &mut impl Write, bands: &[SearchBands]) -> std::io::Result<()> {
    writeln!(
        out,
        "bands by students searched ({NARROWING_PER_DOUBLING} narrower per doubling past \
         {CALIBRATED_SEARCH}; a door uses the row of the students it searches)"
    )?;
    writeln!(out, "  students   confident   confident_weak")?;
    for b in bands {
        writeln!(
            out,
            "  {:>8}   {:>9.3}   {:>14.3}",
            b.students, b.confident, b.confident_weak
        )?;
    }
    Ok(())
}
