//! The door at a doorway: the school of `door_sim` (the same two halves, classes of 30,
//! students enrolled from 3 clean photos), but each walk-in is a burst of frames of a
//! 1280×720 corridor in which the person's unseen photo stands degraded
//! (`rollcall_models::eval::doorway`): small, blurred, dark or bright, noisy, re-compressed,
//! each on its own and all at once. Every frame goes through the real pipeline (detection on
//! the whole frame, alignment, the door's quality gate, embedding), and the burst is decided
//! the way the door unit decides it (`edge/src/daemon/burst.rs`): the person's clear faces
//! averaged (weighted by detector score × eye distance), Confident only when every clear frame
//! names the same student; a person seen only turned away or blurred is Uncertain at most; a
//! burst with no face is a miss. Prints, per condition and half, for one frame and for the
//! whole burst: students marked right, wrong names, strangers accepted, misses; and for the
//! doorway preset, automation by the eye distance of the person's best face.
//!
//! cargo run --release -p rollcall-models --example doorway -- \
//!     ../shared/faces/identities --cache /tmp/faces.jsonl [--frames 3] \
//!     [--confident 0.32 --margin 0.08 --uncertain 0.40]

#[path = "common/faces_cache.rs"]
mod faces_cache;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faces_cache::{Error, Photo, faces_of};
use rayon::prelude::*;
use rollcall_models::eval::doorway::{Conditions, Degradation, frame};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::matching::{
    Decision, EMBEDDING_DIM, Embedding, Gallery, Match, MatchMode, Thresholds, decide_matches,
};
use rollcall_models::pipeline::{
    DOMINANCE, FacePipeline, PipelineOptions, dominant_face, unit_length,
};
use rollcall_models::quality::{QualityGate, QualityIssue};
use rollcall_models::weights::ModelsDir;

const ENROLLED: usize = 3;
const CLASS_SIZE: usize = 30;

/// One half of the people: students (enrolment faces, the unseen photo they walk in with)
/// and strangers (the photo they walk in with).
struct School {
    students: Vec<(Vec<Embedding>, PathBuf)>,
    strangers: Vec<PathBuf>,
}

/// What the door made of one walk-in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Confident, for this student (index), or a stranger taken for them.
    Named(usize),
    /// A record for a teacher (Uncertain or Unknown).
    Card,
    /// No face in any frame: no record at all.
    Miss,
}

#[derive(Default)]
struct Tally {
    arrivals: usize,
    right: usize,
    wrong: usize,
    strangers: usize,
    accepted: usize,
    student_misses: usize,
    stranger_misses: usize,
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().ok_or("usage: doorway DIR [--cache FILE]")?);
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let number = |name: &str, default: f32| -> Result<f32, Error> {
        Ok(flag(name)
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let frames = number("--frames", 3.0)? as usize;
    let t = Thresholds {
        confident: number("--confident", 0.32)?,
        uncertain: number("--uncertain", 0.40)?,
        min_margin: number("--margin", 0.08)?,
    };
    t.validate()?;
    let photos = faces_of(&dir, flag("--cache").map(PathBuf::from).as_deref())?;
    let halves = [school(&photos, 0), school(&photos, 1)];
    let pipeline = FacePipeline::load(&ModelsDir::resolve(None)?, PipelineOptions::door())?;
    let conditions = [
        (
            "clean, in the corridor",
            Conditions::fixed(Degradation::CLEAN),
        ),
        ("small: 60 % of the photo", fixed(|d| d.scale = 0.6)),
        ("motion blur 9 px", fixed(|d| d.blur_px = 9)),
        ("dark: exposure × 0.45", fixed(|d| d.gain = 0.45)),
        ("bright: exposure × 1.5", fixed(|d| d.gain = 1.5)),
        ("sensor noise σ 10", fixed(|d| d.noise = 10.0)),
        ("JPEG quality 55", fixed(|d| d.jpeg_quality = 55)),
        ("doorway: all at random", Conditions::doorway()),
    ];
    println!("{t:?}, {frames} frames a walk-in, the door's quality gate\n");
    println!(
        "| condition | half | marked right, 1 frame | marked right, {frames} frames | wrong names | strangers accepted | no record (students, strangers) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let started = Instant::now();
    let mut by_size: BTreeMap<(usize, &str), (usize, usize)> = BTreeMap::new();
    for (name, c) in &conditions {
        for (half, s) in halves.iter().enumerate() {
            let half_name = ["calibration", "held out"][half];
            let ctx = Door {
                pipeline: &pipeline,
                gallery: gallery(s),
                t,
                frames,
                c: *c,
            };
            let walks: Vec<(Outcome, Outcome, f32)> = s
                .students
                .par_iter()
                .enumerate()
                .map(|(i, (_, path))| ctx.walk_in(path, i / CLASS_SIZE, seed(half, i)))
                .collect::<Result<_, String>>()?;
            let classes = s.students.len().div_ceil(CLASS_SIZE).max(1);
            let strangers: Vec<(Outcome, Outcome, f32)> = s
                .strangers
                .par_iter()
                .enumerate()
                .map(|(i, path)| ctx.walk_in(path, i % classes, seed(half + 2, i)))
                .collect::<Result<_, String>>()?;
            let (one, all) = (tally(&walks, &strangers, 0), tally(&walks, &strangers, 1));
            println!(
                "| {name} | {half_name} | {} | {} | {} / {} | {} / {} of {} | {}, {} |",
                pct(one.right, one.arrivals),
                pct(all.right, all.arrivals),
                one.wrong,
                all.wrong,
                one.accepted,
                all.accepted,
                all.strangers,
                all.student_misses,
                all.stranger_misses,
            );
            if *name == conditions[conditions.len() - 1].0 {
                for (i, (_, burst, eyes)) in walks.iter().enumerate() {
                    let bin = by_size.entry((size_bin(*eyes), half_name)).or_default();
                    bin.0 += 1;
                    bin.1 += usize::from(*burst == Outcome::Named(i));
                }
            }
        }
        eprintln!("{name}: {:.0?}", started.elapsed());
    }
    println!(
        "\nDoorway preset, students marked right by the whole burst, by the eye distance of their best face:\n"
    );
    println!("| eye distance | half | students | marked right |");
    println!("|---|---|---|---|");
    for ((bin, half), (n, right)) in by_size {
        println!("| {} | {half} | {n} | {} |", SIZE_BINS[bin], pct(right, n));
    }
    Ok(())
}

const SIZE_BINS: [&str; 5] = ["no face", "< 18 px", "18–25 px", "25–35 px", "≥ 35 px"];

fn size_bin(eyes: f32) -> usize {
    match eyes {
        e if e <= 0.0 => 0,
        e if e < 18.0 => 1,
        e if e < 25.0 => 2,
        e if e < 35.0 => 3,
        _ => 4,
    }
}

fn fixed(change: impl Fn(&mut Degradation)) -> Conditions {
    let mut d = Degradation::CLEAN;
    change(&mut d);
    Conditions::fixed(d)
}

fn seed(half: usize, i: usize) -> u64 {
    (half as u64) << 32 | i as u64
}

/// Counts outcomes `which` (0: the first frame alone, 1: the burst).
fn tally(
    students: &[(Outcome, Outcome, f32)],
    strangers: &[(Outcome, Outcome, f32)],
    which: usize,
) -> Tally {
    let pick = |o: &(Outcome, Outcome, f32)| if which == 0 { o.0 } else { o.1 };
    let mut t = Tally::default();
    for (i, o) in students.iter().enumerate() {
        t.arrivals += 1;
        match pick(o) {
            Outcome::Named(s) if s == i => t.right += 1,
            Outcome::Named(_) => t.wrong += 1,
            Outcome::Card => {}
            Outcome::Miss => t.student_misses += 1,
        }
    }
    for o in strangers {
        t.strangers += 1;
        match pick(o) {
            Outcome::Named(_) => t.accepted += 1,
            Outcome::Card => {}
            Outcome::Miss => t.stranger_misses += 1,
        }
    }
    t
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1} % ({n} of {of})", 100.0 * n as f64 / of.max(1) as f64)
}

/// The clean photos' faces, split as `door_sim` splits them.
fn school(photos: &[Photo], half: usize) -> School {
    let mut people: BTreeMap<&str, Vec<&Photo>> = BTreeMap::new();
    for p in photos {
        people.entry(&p.person).or_default().push(p);
    }
    let mut school = School {
        students: Vec::new(),
        strangers: Vec::new(),
    };
    for (_, photos) in people.into_iter().skip(half).step_by(2) {
        let faces: Vec<(Embedding, &Photo)> = photos
            .iter()
            .filter_map(|p| Some((face_of(p)?, *p)))
            .collect();
        if faces.len() > ENROLLED {
            let enrol = faces[..ENROLLED].iter().map(|(e, _)| *e).collect();
            school
                .students
                .push((enrol, faces[ENROLLED].1.path.clone()));
        } else if let Some((_, p)) = faces.first() {
            school.strangers.push(p.path.clone());
        }
    }
    school
}

fn face_of(p: &Photo) -> Option<Embedding> {
    let boxes: Vec<[f32; 4]> = p.faces.iter().map(|f| f.bbox).collect();
    let i = dominant_face(&boxes, p.width, p.height, DOMINANCE).ok()?;
    Embedding::try_from(p.faces[i].embedding.get(..EMBEDDING_DIM)?).ok()
}

fn gallery(s: &School) -> Gallery<usize> {
    let pairs = s
        .students
        .iter()
        .enumerate()
        .flat_map(|(i, (faces, _))| faces.iter().map(move |f| (i, *f)));
    Gallery::try_from_iter(pairs).unwrap_or_default()
}

/// A door and what it is shown.
struct Door<'a> {
    pipeline: &'a FacePipeline,
    gallery: Gallery<usize>,
    t: Thresholds,
    frames: usize,
    c: Conditions,
}

/// The person's face in one frame, embedded, and whether the gate passed it.
struct Seen {
    embedding: Embedding,
    weight: f32,
    clear: bool,
    eyes: f32,
}

impl Door<'_> {
    /// The first frame's outcome, the burst's, and the eye distance of the best face.
    fn walk_in(
        &self,
        path: &Path,
        class: usize,
        seed: u64,
    ) -> Result<(Outcome, Outcome, f32), String> {
        let photo = load_image(path, ImageLimits::default())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut seen = Vec::new();
        for f in 0..self.frames {
            let d = self.c.draw(seed, f, self.frames);
            let img = frame(&photo, &d, seed.wrapping_add(f as u64));
            seen.push(self.person_in(&img)?);
        }
        let eyes = seen.iter().flatten().map(|s| s.eyes).fold(0.0, f32::max);
        let first = self.decide(&seen[..1], class);
        Ok((first, self.decide(&seen, class), eyes))
    }

    /// The largest face of the frame (the corridor holds one person), if the gate keeps it.
    fn person_in(&self, img: &image::RgbImage) -> Result<Option<Seen>, String> {
        let faces = self.pipeline.faces(img).map_err(|e| e.to_string())?;
        let Some(face) = faces
            .into_iter()
            .max_by(|a, b| a.quality.box_px.total_cmp(&b.quality.box_px))
        else {
            return Ok(None);
        };
        let issues = QualityGate::default().issues(&face.quality);
        let unclear = |i: &QualityIssue| {
            matches!(
                i,
                QualityIssue::TurnedAway { .. } | QualityIssue::Blurry { .. }
            )
        };
        if !issues.iter().all(unclear) {
            return Ok(None);
        }
        let embedding = self
            .pipeline
            .embed(std::slice::from_ref(&face))
            .map_err(|e| e.to_string())?[0];
        let q = &face.quality;
        Ok(Some(Seen {
            embedding,
            weight: (q.detector_score.clamp(0.0, 1.0) * q.inter_ocular_px).max(1e-3),
            clear: issues.is_empty(),
            eyes: q.inter_ocular_px,
        }))
    }

    /// The door's rule over the frames' faces (see the module docs).
    fn decide(&self, seen: &[Option<Seen>], class: usize) -> Outcome {
        let faces: Vec<&Seen> = seen.iter().flatten().collect();
        if faces.is_empty() {
            return Outcome::Miss;
        }
        let any_clear = faces.iter().any(|s| s.clear);
        let used: Vec<&&Seen> = faces.iter().filter(|s| s.clear == any_clear).collect();
        let mut sum = [0.0f32; EMBEDDING_DIM];
        for s in &used {
            for (a, v) in sum.iter_mut().zip(s.embedding.iter()) {
                *a += s.weight * v;
            }
        }
        let combined = unit_length(&Embedding(sum));
        let matches = self.search(&combined, class);
        let decision = decide_matches(&matches, &self.t);
        if decision != Decision::Confident || !any_clear {
            return Outcome::Card;
        }
        let best = matches[0].id;
        let agree = used
            .iter()
            .all(|s| self.search(&s.embedding, class).first().map(|m| m.id) == Some(best));
        if agree {
            Outcome::Named(best)
        } else {
            Outcome::Card
        }
    }

    fn search(&self, face: &Embedding, class: usize) -> Vec<Match<usize>> {
        self.gallery
            .search_among(face, 2, MatchMode::Nearest, |s| s / CLASS_SIZE == class)
            .unwrap_or_default()
    }
}
