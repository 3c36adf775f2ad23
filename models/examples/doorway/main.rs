//! The door at a doorway (issue 32): what the door unit makes of people walking in when its
//! camera sees them small, blurred, badly lit and JPEG-compressed in a 1280×720 frame.
//!
//! cargo run --release -p rollcall-models --example doorway -- ../shared/faces/identities \
//!     --cache /tmp/faces.jsonl --frames-cache /tmp/doorway-frames.jsonl \
//!     [--probes probes.jsonl] [--limit N] [--frames N] [--seed 1] [--conditions clean,doorway] \
//!     [--mode nearest|centroid] [--confident D --confident-weak D --margin D --uncertain D --same-in-burst D
//!      --weak-sharpness S --weak-score S --min-eyes PX --min-box PX]
//!     [--days 3] [--sizes 30,60,120,all [--narrowing D]] [--staff 20,40] [--camera 1920x1080]
//!     [--enrol-copies] [--lesson 30,120 [--lesson-bands 0.31/0.30,0.33/0.32]]
//!     [--walk 20/5] [--walks 5/5,10/5,20/3,20/5,20/8]
//!
//! The school is `door_sim`'s (`school.rs`): enrolment from 3 clean photos, halves by name
//! order. Each arrival's walk-in photo is degraded under every named condition
//! (`rollcall_models::eval::doorway::conditions`), `--frames` frames each, every frame run
//! through the door's pipeline (`frames.rs`, cached), and decided as the door does
//! (`burst.rs`) from the first frame alone and from the whole walk-in. `--limit` keeps the
//! first N people of each half (a quick run). The door's gate and thresholds are the shipped
//! ones (`edge/src/config/default.toml`) unless the command line says otherwise. `--days N` also films N days of walk-ins under
//! the doorway preset, each day with the next photo, and runs them without and with learning
//! (`days.rs`). `--camera` films with a camera of more pixels (the same scene: see
//! `eval::doorway::Camera`); give each camera a frames cache of its own. `--enrol-copies` adds
//! each enrolment photo as the door would see it to the student's enrolment faces
//! (`enrol_copies.rs`). `--sizes` measures doors that search more than one class, each with the bands
//! narrowed for its size (`sizes.rs`); `--staff K` measures a gate whose gallery grows by K
//! members of staff (`staff.rs`); `--lesson` measures the hub naming a lesson's cards
//! jointly among the students not yet marked, with the closed set's band or those of
//! `--lesson-bands` (`lesson.rs`). The door follows each walk-in as shipped (`[burst]
//! follow`, `keep`: up to `MOST` frames while the person is in view, the best `KEEP` decided
//! from) unless `--walk MOST/KEEP` says otherwise; `--walks` measures several ways of
//! following, with their cost (`walks.rs`). Every face filmed is also judged by the liveness
//! networks, and every wrong "not real" counted (`liveness.rs`). Tables go to stdout,
//! progress to stderr.

#[path = "../common/faces_cache.rs"]
mod faces_cache;

mod bands;
mod burst;
mod days;
mod enrol_copies;
mod frames;
mod lesson;
mod liveness;
mod probes;
mod report;
mod school;
mod sizes;
mod staff;
mod walks;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burst::Door;
use faces_cache::{Error, faces_of};
use frames::{Frames, Walk};
use probes::Probe;
use report::{Tally, door_frames, outcome, tally_header, tally_row, walk_frames};
use rollcall_models::burst::follow::Follow;
use rollcall_models::eval::doorway::{Camera, Conditions, conditions};
use rollcall_models::matching::{MatchMode, NARROWING_PER_DOUBLING, Thresholds};
use rollcall_models::quality::QualityGate;
use school::School;

struct Args {
    dir: PathBuf,
    cache: Option<PathBuf>,
    frames_cache: Option<PathBuf>,
    probes: Option<PathBuf>,
    limit: usize,
    seed: u64,
    conditions: Vec<(&'static str, Conditions)>,
    door: Door,
    days: usize,
    sizes: Vec<sizes::Size>,
    staff: Vec<usize>,
    lesson: Vec<usize>,
    lesson_bands: Vec<lesson::Band>,
    walks: Vec<Follow>,
    narrowing: f32,
    camera: Camera,
    enrol_copies: bool,
}

const USAGE: &str = "usage: doorway DIR [--cache FILE] [--frames-cache FILE] [--probes FILE] \
                     [--limit N] [--frames N] [--seed N] [--conditions a,b] \
                     [--mode nearest|centroid] [--confident D --confident-weak D --margin D --uncertain D \
                     --same-in-burst D --weak-sharpness S --weak-score S --min-eyes PX --min-box PX] \
                     [--days N] [--sizes 30,60,120,all [--narrowing D]] [--staff K,K] [--camera WxH] \
                     [--enrol-copies] [--lesson 30,120 [--lesson-bands G/W,G/W]] \
                     [--walk MOST/KEEP] [--walks MOST/KEEP,MOST/KEEP]";

fn parse() -> Result<Args, Error> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let dir = all.first().filter(|a| !a.starts_with("--")).ok_or(USAGE)?;
    let value = |flag: &str| {
        all.iter()
            .position(|a| a == flag)
            .and_then(|i| all.get(i + 1))
    };
    let number = |flag: &str, default: f64| -> Result<f64, Error> {
        Ok(value(flag)
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let mut named = conditions();
    if let Some(list) = value("--conditions") {
        let wanted: Vec<&str> = list.split(',').collect();
        named.retain(|(n, _)| wanted.contains(n));
        if named.len() != wanted.len() {
            return Err(format!("unknown condition in {list}; known: {:?}", names()).into());
        }
    }
    let shipped = Door::shipped()?;
    let t = shipped.thresholds;
    let thresholds = Thresholds {
        confident: number("--confident", t.confident.into())? as f32,
        confident_weak: number("--confident-weak", t.confident_weak.into())? as f32,
        uncertain: number("--uncertain", t.uncertain.into())? as f32,
        min_margin: number("--margin", t.min_margin.into())? as f32,
    };
    thresholds.validate()?;
    let mode = match value("--mode").map(String::as_str) {
        None => shipped.mode,
        Some("nearest") => MatchMode::Nearest,
        Some("centroid") => MatchMode::Centroid,
        Some(other) => return Err(format!("--mode {other}: nearest or centroid").into()),
    };
    let g = shipped.gate;
    let gate = QualityGate {
        weak_below_sharpness: number("--weak-sharpness", g.weak_below_sharpness.into())? as f32,
        weak_below_score: number("--weak-score", g.weak_below_score.into())? as f32,
        min_inter_ocular_px: number("--min-eyes", g.min_inter_ocular_px.into())? as f32,
        min_box_px: number("--min-box", g.min_box_px.into())? as f32,
        ..g
    };
    let frames = number("--frames", shipped.frames as f64)? as usize;
    if !(1..=10).contains(&frames) {
        return Err("--frames must be 1 to 10".into());
    }
    let walk = match value("--walk") {
        Some(pair) => walks::parse(pair, frames)?[0],
        None => Follow {
            first: frames,
            most: shipped.walk.most.max(frames),
            ..shipped.walk
        },
    };
    Ok(Args {
        dir: PathBuf::from(dir),
        cache: value("--cache").map(PathBuf::from),
        frames_cache: value("--frames-cache").map(PathBuf::from),
        probes: value("--probes").map(PathBuf::from),
        limit: number("--limit", f64::INFINITY)? as usize,
        seed: number("--seed", 1.0)? as u64,
        conditions: named,
        door: Door {
            gate,
            mode,
            same_in_burst: number("--same-in-burst", f64::from(thresholds.uncertain))? as f32,
            thresholds,
            frames,
            walk,
        },
        days: number("--days", 1.0)? as usize,
        sizes: value("--sizes")
            .map(|list| sizes::Size::parse(list))
            .transpose()?
            .unwrap_or_default(),
        staff: value("--staff")
            .map(|list| staff::parse(list))
            .transpose()?
            .unwrap_or_default(),
        lesson: value("--lesson")
            .map(|list| lesson::sizes(list))
            .transpose()?
            .unwrap_or_default(),
        lesson_bands: value("--lesson-bands")
            .map(|list| lesson::Band::parse(list))
            .transpose()?
            .unwrap_or_else(|| vec![lesson::Band::shipped()]),
        walks: value("--walks")
            .map(|list| walks::parse(list, frames))
            .transpose()?
            .unwrap_or_default(),
        narrowing: number("--narrowing", NARROWING_PER_DOUBLING.into())? as f32,
        enrol_copies: all.iter().any(|a| a == "--enrol-copies"),
        camera: value("--camera")
            .map(|c| c.parse())
            .transpose()?
            .unwrap_or_default(),
    })
}

fn names() -> Vec<&'static str> {
    conditions().into_iter().map(|(n, _)| n).collect()
}

fn main() -> Result<(), Error> {
    let args = parse()?;
    let started = Instant::now();
    let photos = faces_of(&args.dir, args.cache.as_deref())?;
    let mut halves = [
        (
            "calibration",
            School::new(&photos, 0, args.limit, args.days),
        ),
        ("held out", School::new(&photos, 1, args.limit, args.days)),
    ];
    if args.enrol_copies {
        let walks: Vec<Walk> = halves
            .iter()
            .flat_map(|(_, s)| enrol_copies::walks(s))
            .collect();
        let copies = frames::film(
            &walks,
            1,
            args.seed,
            args.camera,
            args.frames_cache.as_deref(),
        )?;
        for (half, school) in &mut halves {
            let n = enrol_copies::add(school, &copies, &args.door.gate, args.seed);
            eprintln!("{half}: {n} copies of enrolment photos added");
        }
    }
    let frames = film(&halves, &args)?;
    print_setup(&args, started.elapsed());
    let mut all_probes = Vec::new();
    for (half, school) in &halves {
        report_half(half, school, &frames, &args);
        all_probes.extend(half_probes(half, school, &frames, &args));
    }
    if args.days > 1 {
        report_learning(&halves, &frames, &args);
    }
    distances(&all_probes, args.door.thresholds.confident);
    let names: Vec<&'static str> = args.conditions.iter().map(|c| c.0).collect();
    bands::table(&halves, &frames, &args.door, &names, args.seed);
    liveness::table(&halves, &frames, &args.door, &names, args.seed);
    if !args.sizes.is_empty() {
        sizes::tables(
            &halves,
            &frames,
            &args.door,
            &names,
            &args.sizes,
            args.narrowing,
            args.seed,
        );
    }
    if !args.staff.is_empty() {
        let (ks, step) = (&args.staff, args.narrowing);
        staff::tables(&halves, &frames, &args.door, &names, ks, step, args.seed);
    }
    if !args.walks.is_empty() {
        let (walks, step) = (&args.walks, args.narrowing);
        walks::table(&halves, &frames, &args.door, &names, walks, step, args.seed);
    }
    if !args.lesson.is_empty() {
        let (sizes, bands) = (&args.lesson, &args.lesson_bands);
        let step = args.narrowing;
        lesson::tables(
            &halves, &frames, &args.door, &names, sizes, bands, step, args.seed,
        );
    }
    if let Some(file) = &args.probes {
        write_probes(file, &all_probes)?;
    }
    Ok(())
}

/// Films every walk-in (or reads it from the frames cache): day 1's arrivals of both halves
/// under every named condition, then the later days' under the doorway preset.
fn film(halves: &[(&str, School)], args: &Args) -> Result<Frames, Error> {
    let doorway_preset = conditions()
        .into_iter()
        .find(|(n, _)| *n == days::CONDITION)
        .map(|(_, c)| c)
        .ok_or("no doorway preset")?;
    let walks: Vec<Walk> = halves
        .iter()
        .flat_map(|(_, s)| &s.arrivals)
        .flat_map(|a| {
            args.conditions.iter().map(|&(condition, conditions)| Walk {
                photo: &a.photo,
                subject: a.subject,
                condition,
                conditions,
            })
        })
        .chain(
            halves
                .iter()
                .flat_map(|(_, s)| s.later.iter().flatten())
                .map(|a| Walk {
                    photo: &a.photo,
                    subject: a.subject,
                    condition: days::CONDITION,
                    conditions: doorway_preset,
                }),
        )
        .collect();
    let most = args.walks.iter().map(|w| w.most);
    frames::film(
        &walks,
        most.fold(args.door.walk.most, usize::max),
        args.seed,
        args.camera,
        args.frames_cache.as_deref(),
    )
}

/// The report's title and the door it measures: thresholds, mode, gate.
fn print_setup(args: &Args, elapsed: Duration) {
    println!(
        "# The door at a doorway, {}×{} camera\n",
        args.camera.width, args.camera.height
    );
    println!(
        "{:?} by {:?}, same_in_burst {}, {} frames a walk-in, seed {}; frames ready in {elapsed:.1?}",
        args.door.thresholds, args.door.mode, args.door.same_in_burst, args.door.frames, args.seed
    );
    let g = &args.door.gate;
    println!(
        "gate: eyes ≥ {} px, box ≥ {} px; weak below sharpness {} or detector score {}",
        g.min_inter_ocular_px, g.min_box_px, g.weak_below_sharpness, g.weak_below_score
    );
}

/// Each half's `--days` of walk-ins, without and with learning, day by day.
fn report_learning(halves: &[(&str, School)], frames: &Frames, args: &Args) {
    println!("\n## Learning over {} days", args.days);
    for (half, school) in halves {
        let run = |learn| {
            days::simulate(
                school,
                frames,
                &args.door,
                args.door.frames,
                args.seed,
                learn,
            )
        };
        days::table(half, &run(false), &run(true));
    }
}

/// Every probe as a line of JSON in `file`.
fn write_probes(file: &Path, probes: &[Probe]) -> Result<(), Error> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    for p in probes {
        writeln!(out, "{}", serde_json::to_string(p)?)?;
    }
    eprintln!("{} probes written to {}", probes.len(), file.display());
    Ok(())
}

fn report_half(half: &str, school: &School, frames: &Frames, args: &Args) {
    let strangers = school.arrivals.len() - school.students();
    println!(
        "\n## {half}: {} students in {} classes, {strangers} strangers",
        school.students(),
        school.students().div_ceil(school::CLASS_SIZE)
    );
    let mut takes = vec![Take::First(1), Take::First(args.door.frames)];
    if args.door.follows() {
        takes.push(Take::Door);
    }
    for take in takes {
        let what = match take {
            Take::First(1) => "one frame".to_string(),
            Take::First(n) => format!("a {n}-frame walk-in"),
            Take::Door => args.door.describe(),
        };
        println!("\n### {half}, {what}\n");
        tally_header("condition");
        let mut mistakes = Vec::new();
        for &(condition, _) in &args.conditions {
            let t = tally(school, frames, args, condition, take, |_| true);
            tally_row(condition, &t);
            mistakes.extend(t.mistakes.into_iter().map(|m| (condition, m)));
        }
        print_mistakes(school, &mistakes);
        if args.conditions.iter().any(|c| c.0 == "doorway") {
            println!("\n{half}, {what}, doorway preset, by eye distance in the first frame:\n");
            tally_header("eyes (asked)");
            for (label, lo, hi) in report::SIZE_BINS {
                let bin = |r: &frames::FrameRecord| (lo..hi).contains(&r.degradation.eye_px);
                tally_row(label, &tally(school, frames, args, "doorway", take, bin));
            }
        }
    }
}

/// Which frames of a walk-in a table decides from.
#[derive(Clone, Copy)]
enum Take {
    /// The first `n`.
    First(usize),
    /// Those the door keeps of the walk-in it follows.
    Door,
}

/// Outcomes of every arrival under `condition` from the frames `take` says, for walk-ins
/// whose first frame passes `keep`.
fn tally(
    school: &School,
    frames: &Frames,
    args: &Args,
    condition: &str,
    take: Take,
    keep: impl Fn(&frames::FrameRecord) -> bool,
) -> Tally {
    let mut t = Tally::default();
    for a in &school.arrivals {
        let walk = match take {
            Take::First(n) => walk_frames(frames, a, condition, n, args.seed),
            Take::Door => door_frames(frames, a, condition, &args.door, args.seed),
        };
        let Some(walk) = walk else {
            continue;
        };
        let first = frames.get(&a.photo, condition, 0, args.seed);
        if first.is_some_and(&keep) {
            let (o, mistake) = outcome(school, a, &walk, &args.door);
            t.add(a.student.is_some(), o);
            let role = if a.student.is_some() {
                "student"
            } else {
                "stranger"
            };
            let who = format!("{} ({role})", a.person);
            t.mistakes.extend(mistake.map(|m| (who, m)));
        }
    }
    t
}

fn print_mistakes(school: &School, mistakes: &[(&str, (String, report::Mistake))]) {
    if mistakes.is_empty() {
        return;
    }
    println!("\nWrong Confident names:\n");
    println!("| condition | who walked in | named | distance | grade |");
    println!("|---|---|---|---|---|");
    for (condition, (who, m)) in mistakes {
        let named = m
            .named
            .and_then(|i| school.names.get(i))
            .map_or("?", |n| n.as_str());
        let grade = format!("{:?}", m.grade).to_lowercase();
        println!(
            "| {condition} | {who} | {named} | {:.3} | {grade} |",
            m.distance
        );
    }
}

fn half_probes(half: &'static str, school: &School, frames: &Frames, args: &Args) -> Vec<Probe> {
    let mut out = Vec::new();
    for a in &school.arrivals {
        for &(condition, _) in &args.conditions {
            for i in 0..args.door.frames {
                if let Some(r) = frames.get(&a.photo, condition, i, args.seed) {
                    out.push(probes::probe(half, school, a, r, &args.door));
                }
            }
        }
    }
    out
}

fn distances(probes: &[Probe], confident: f32) {
    for half in ["calibration", "held out"] {
        let mine: Vec<Probe> = probes.iter().filter(|p| p.half == half).cloned().collect();
        println!(
            "\n## Distances, {half} (every frame of every condition where the face was found)"
        );
        report::distance_table(
            &format!("{half}, by measured eye distance:"),
            &mine,
            &report::SIZE_BINS,
            |p| p.inter_ocular_px,
            confident,
        );
        report::distance_table(
            &format!("{half}, by detector score:"),
            &mine,
            &report::SCORE_BINS,
            |p| p.detector_score,
            confident,
        );
        report::distance_table(
            &format!("{half}, by grade at the door's gate:"),
            &mine,
            &report::GRADE_BINS,
            |p| p.grade.map(report::grade_number),
            confident,
        );
        report::distance_table(
            &format!("{half}, by sharpness of the chip:"),
            &mine,
            &report::SHARPNESS_BINS,
            |p| p.sharpness,
            confident,
        );
    }
}
