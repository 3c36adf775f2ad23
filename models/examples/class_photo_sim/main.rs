//! Class photos (issue 58, point 3): how many of a class a teacher's photo of the lesson
//! marks by itself, with the faces named jointly (`matching::name_jointly`) and a band of its
//! own, and whether it ever names somebody wrongly or names a stranger.
//!
//! cargo run --release -p rollcall-models --example class_photo_sim -- \
//!     ../shared/faces/identities --cache /tmp/doorway-faces.jsonl \
//!     --photos-cache /tmp/class-photos.jsonl [--groups ../shared/faces/groups] \
//!     [--shots 4] [--seed 1] [--confident D --confident-weak D --margin D]
//!
//! The school is `door_sim`'s: people by name order, even = calibration half, odd = held out;
//! in each half, whoever has more than 3 photos with a face is a student enrolled from their
//! first 3 (the enrolment rule's face), in classes of 30 in name order. Each class is
//! photographed `--shots` times (`scene.rs`): every student with their next photo (the
//! k-th photo after the enrolment ones, round again when they have fewer), each absent with
//! a chance of 1 in 10, plus five strangers: three people of the half enrolled nowhere and
//! a student of each of the next two classes. Front row 26–60 px between the eyes, 4–6 rows. Each photo is
//! read as the hub reads one and judged as the hub judges one: the class's gallery (centroid
//! mode), every face measured against every student, named jointly.
//!
//! The band is chosen on the calibration half: the widest good band (the weak band one step
//! of 0.01 stricter, as at the door) at and below which the class's own photos name nobody
//! wrongly (no wrong name, no stranger named, no bystander of a portrait named) and each
//! photo judged against every other class of its half (a crowd of strangers there, a far
//! larger test of strangers) names at most 1 face in 1,000. `--groups`
//! also judges the real group photos against a class holding the people labelled in them.
//! Tables to stdout, progress to stderr.

#[path = "../common/faces_cache.rs"]
mod faces_cache;
mod groups;
mod scene;
mod school;
mod tally;

use std::path::PathBuf;

use faces_cache::{Error, faces_of};
use rollcall_models::matching::Thresholds;
use school::School;
use tally::{table_header, table_row};

struct Args {
    dir: PathBuf,
    cache: Option<PathBuf>,
    photos_cache: Option<PathBuf>,
    groups: Option<PathBuf>,
    shots: usize,
    seed: u64,
    fixed: Option<Thresholds>,
}

const USAGE: &str = "usage: class_photo_sim DIR [--cache FILE] [--photos-cache FILE] \
                     [--groups DIR] [--shots N] [--seed N] [--confident D --confident-weak D \
                     --margin D]";

fn parse() -> Result<Args, Error> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let dir = all.first().filter(|a| !a.starts_with("--")).ok_or(USAGE)?;
    let value = |flag: &str| {
        all.iter()
            .position(|a| a == flag)
            .and_then(|i| all.get(i + 1))
    };
    let number = |flag: &str| -> Result<Option<f64>, Error> {
        Ok(value(flag).map(|v| v.parse()).transpose()?)
    };
    let fixed = match number("--confident")? {
        Some(good) => {
            let t = Thresholds {
                confident: good as f32,
                confident_weak: number("--confident-weak")?.unwrap_or(good - 0.01) as f32,
                min_margin: number("--margin")?.unwrap_or(0.08) as f32,
                uncertain: Thresholds::DOOR.uncertain.max(good as f32),
            };
            t.validate()?;
            Some(t)
        }
        None => None,
    };
    Ok(Args {
        dir: PathBuf::from(dir),
        cache: value("--cache").map(PathBuf::from),
        photos_cache: value("--photos-cache").map(PathBuf::from),
        groups: value("--groups").map(PathBuf::from),
        shots: number("--shots")?.unwrap_or(4.0) as usize,
        seed: number("--seed")?.unwrap_or(1.0) as u64,
        fixed,
    })
}

/// The band with the door's margin and `uncertain`, the weak band one step stricter.
fn band(good: f32, margin: f32) -> Thresholds {
    Thresholds {
        confident: good,
        confident_weak: good - 0.01,
        uncertain: Thresholds::DOOR.uncertain.max(good),
        min_margin: margin,
    }
}

fn main() -> Result<(), Error> {
    let args = parse()?;
    let portraits = faces_of(&args.dir, args.cache.as_deref())?;
    let halves = [
        School::new(&portraits, 0, args.shots, args.seed),
        School::new(&portraits, 1, args.shots, args.seed),
    ];
    let shots = school::photograph(&halves, args.photos_cache.as_deref(), args.seed)?;
    println!("# Class photos\n");
    for (school, name) in halves.iter().zip(["calibration", "held out"]) {
        let (members, strangers) = school.placed(&shots[school.half]);
        println!(
            "{name}: {} students in {} classes, {} photos, {members} class members and \
             {strangers} strangers placed",
            school.students(),
            school.classes(),
            shots[school.half].len(),
        );
    }
    let chosen = match args.fixed {
        Some(t) => t,
        None => sweep(&halves, &shots),
    };
    println!("\n## At {chosen:?}");
    for (school, name) in halves.iter().zip(["calibration", "held out"]) {
        println!("\n### {name}, by the eye distance the face was placed at\n");
        table_header("eyes");
        for (label, lo, hi) in tally::EYE_BINS {
            let t = school.judge(&shots[school.half], &chosen, |p| {
                (lo..hi).contains(&p.eye_px)
            });
            table_row(label, &t, false);
        }
        let all = school.judge(&shots[school.half], &chosen, |_| true);
        table_row("all", &all, true);
        all.print_mistakes();
    }
    println!(
        "\n### The door's band ({:?}), for comparison\n",
        Thresholds::DOOR
    );
    table_header("half");
    for (school, name) in halves.iter().zip(["calibration", "held out"]) {
        table_row(
            name,
            &school.judge(&shots[school.half], &Thresholds::DOOR, |_| true),
            true,
        );
    }
    if let Some(dir) = &args.groups {
        groups::report(dir, &halves, args.photos_cache.as_deref(), &chosen)?;
    }
    Ok(())
}

/// The calibration half's errors and automation over good bands 0.295–0.450; returns the
/// widest at and below which a class's own photos name nobody wrongly (no wrong name, no
/// stranger or bystander named) and the photos of every other class of the half, judged
/// against it, name at most 1 face in 1,000 (the door's band names 2 in 5,418 there).
fn sweep(halves: &[School; 2], shots: &[Vec<school::Shot>; 2]) -> Thresholds {
    println!("\n## Sweep (weak band 0.01 stricter, margin 0.08, uncertain ≥ 0.40)\n");
    println!(
        "| good band | calibration: marked | wrong names | strangers named | bystanders named | other classes' faces named | held out: marked | wrong names | strangers named | bystanders named | other classes' faces named |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut chosen, mut clean) = (band(Thresholds::DOOR.confident, 0.08), true);
    for step in 0..=31 {
        let t = band(((295 + 5 * step) as f32 / 1000.0).min(0.45), 0.08);
        let [c, h] = [0, 1].map(|i| halves[i].judge(&shots[i], &t, |_| true));
        let [ce, he] = [0, 1].map(|i| halves[i].judge_elsewhere(&shots[i], &t));
        println!(
            "| {:.3} | {} | {} | {} | {} | {} of {} | {} | {} | {} | {} | {} of {} |",
            t.confident,
            c.marked_pct(),
            c.wrong,
            c.strangers_named,
            c.others_named,
            ce.0,
            ce.1,
            h.marked_pct(),
            h.wrong,
            h.strangers_named,
            h.others_named,
            he.0,
            he.1,
        );
        clean &= c.wrong + c.strangers_named + c.others_named == 0 && ce.0 * 1000 <= ce.1;
        if clean {
            chosen = t;
        }
    }
    chosen
}
