//! A school's doors over several days, replayed on labelled photos with the real matching and
//! decision code (`matching::Gallery`, `decide_matches`): how many children the door marks by
//! itself, how many wrong names it gives, how many strangers it lets in, and how many review
//! cards the teachers get, day by day as the gallery learns from their reviews.
//!
//! cargo run --release -p rollcall-models --example door_sim -- \
//!     ../shared/faces/identities --cache /tmp/faces.jsonl [--sweep] \
//!     [--confident 0.32 --margin 0.08 --uncertain 0.40] [--whole-school] [--plot FILE.svg]
//!
//! `--sweep` prints automation against errors over a grid of thresholds; with `--plot` it also
//! draws them (one line per margin) as an SVG.
//!
//! `--whole-school` searches every student at every door (a door whose room has no timetable).
//!
//! The school: people are split in two by name order (even = calibration half, odd = held
//! out). In each half, everyone with at least `ENROLLED + 1` photos is a student, enrolled
//! from their first `ENROLLED` photos (the enrolment rule's face); everyone else is a stranger.
//! Students sit in classes of `CLASS_SIZE` in name order; a class's door searches that class
//! (the timetable says who is expected there). On day `d` each student walks in once with
//! their photo `ENROLLED + d - 1` when they have one, and each stranger walks past a door with
//! their photo `d - 1`. After each day the teacher reviews every card: approves the right
//! top candidate or reassigns to the right student; approved and reassigned faces, and
//! Confident faces within `LEARN_BAND`, join that student's templates (at most
//! `MAX_TEMPLATES`, the enrolment photos always kept, the oldest learned face dropped first).
//!
//! A development tool: the defaults it chooses go to the door units' `[matching]` and are
//! quoted with this command in docs/ACCURACY.md.

#[path = "common/faces_cache.rs"]
mod faces_cache;

use std::collections::BTreeMap;
use std::path::PathBuf;

use faces_cache::{Error, Photo, faces_of};
use rollcall_models::matching::{
    Decision, EMBEDDING_DIM, Embedding, Gallery, MatchMode, Thresholds, decide_matches,
};
use rollcall_models::pipeline::{DOMINANCE, dominant_face};

const ENROLLED: usize = 3;
const CLASS_SIZE: usize = 30;
const DAYS: usize = 3;
const MAX_TEMPLATES: usize = 10;
/// A Confident face is learned only this close to the student it names.
const LEARN_BAND: f32 = 0.22;

type Face = Embedding;

/// One half of the people, as a school.
struct School {
    scope: Scope,
    /// Per student: enrolment faces, then the faces they walk in with, day by day.
    students: Vec<(Vec<Face>, Vec<Face>)>,
    /// Per stranger: the faces they walk past with, day by day.
    strangers: Vec<Vec<Face>>,
}

#[derive(Default, Clone, Copy)]
struct Day {
    arrivals: usize,
    right: usize,
    wrong: usize,
    strangers: usize,
    strangers_accepted: usize,
    cards: usize,
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: door_sim DIR [--cache FILE] [--sweep]")?,
    );
    let rest: Vec<String> = args.collect();
    let cache = rest
        .iter()
        .position(|a| a == "--cache")
        .and_then(|i| rest.get(i + 1))
        .map(PathBuf::from);
    let value = |flag: &str| -> Result<Option<f32>, Error> {
        match rest.iter().position(|a| a == flag) {
            Some(i) => Ok(Some(
                rest.get(i + 1).ok_or("a value after the flag")?.parse()?,
            )),
            None => Ok(None),
        }
    };
    let photos = faces_of(&dir, cache.as_deref())?;
    let scope = match rest.iter().any(|a| a == "--whole-school") {
        true => Scope::WholeSchool,
        false => Scope::Class,
    };
    let halves = [school(&photos, 0, scope), school(&photos, 1, scope)];
    // Portraits: every face is of one grade, so one band.
    let confident = value("--confident")?.unwrap_or(0.26);
    let t = Thresholds {
        confident,
        confident_weak: confident,
        uncertain: value("--uncertain")?.unwrap_or(0.30),
        min_margin: value("--margin")?.unwrap_or(0.035),
    };
    t.validate()?;
    if rest.iter().any(|a| a == "--sweep") {
        let points = sweep(&halves[0]);
        let plot_to = rest
            .iter()
            .position(|a| a == "--plot")
            .and_then(|i| rest.get(i + 1));
        if let Some(file) = plot_to {
            std::fs::write(file, plot(&points))?;
            println!("plot written to {file}");
        }
    }
    for (half, name) in [(0, "calibration"), (1, "held out")] {
        let s = &halves[half];
        println!(
            "\n## {name}: {} students in {} classes, {} strangers; {t:?}, {scope:?}",
            s.students.len(),
            s.students.len().div_ceil(CLASS_SIZE),
            s.strangers.len()
        );
        println!("\nno learning:");
        table(&simulate(s, &t, false));
        println!("\nlearning from reviews:");
        table(&simulate(s, &t, true));
    }
    Ok(())
}

/// Whom a door searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The class the timetable expects in its room.
    Class,
    /// Every student.
    WholeSchool,
}

/// The face each photo is of (the enrolment rule's), as an embedding.
fn face_of(p: &Photo) -> Option<Face> {
    let boxes: Vec<[f32; 4]> = p.faces.iter().map(|f| f.bbox).collect();
    let i = dominant_face(&boxes, p.width, p.height, DOMINANCE).ok()?;
    Embedding::try_from(p.faces[i].embedding.get(..EMBEDDING_DIM)?).ok()
}

fn school(photos: &[Photo], half: usize, scope: Scope) -> School {
    let mut people: BTreeMap<&str, Vec<Face>> = BTreeMap::new();
    for p in photos {
        people.entry(&p.person).or_default().extend(face_of(p));
    }
    let mut school = School {
        scope,
        students: Vec::new(),
        strangers: Vec::new(),
    };
    for (_, faces) in people.into_iter().skip(half).step_by(2) {
        if faces.len() > ENROLLED {
            let (enrol, walk) = faces.split_at(ENROLLED);
            school.students.push((enrol.to_vec(), walk.to_vec()));
        } else {
            school.strangers.push(faces);
        }
    }
    school
}

/// Runs `DAYS` days; returns each day's figures.
fn simulate(s: &School, t: &Thresholds, learn: bool) -> Vec<Day> {
    let mut templates: Vec<Vec<Face>> = s.students.iter().map(|(e, _)| e.clone()).collect();
    let classes = s.students.len().div_ceil(CLASS_SIZE).max(1);
    let mut days = Vec::new();
    for d in 0..DAYS {
        let gallery = gallery(&templates);
        let mut day = Day::default();
        let mut learned: Vec<(usize, Face)> = Vec::new();
        for (student, (_, walk)) in s.students.iter().enumerate() {
            let Some(face) = walk.get(d) else { continue };
            day.arrivals += 1;
            let class = student / CLASS_SIZE;
            let matches = search(&gallery, face, class, s.scope);
            match decide_matches(&matches, t) {
                Decision::Confident if matches[0].id == student => {
                    day.right += 1;
                    if matches[0].distance <= LEARN_BAND {
                        learned.push((student, *face));
                    }
                }
                Decision::Confident => day.wrong += 1,
                // A card: the teacher approves or reassigns, and the face is learned.
                Decision::Uncertain | Decision::Unknown => {
                    day.cards += 1;
                    learned.push((student, *face));
                }
            }
        }
        for (i, faces) in s.strangers.iter().enumerate() {
            let Some(face) = faces.get(d) else { continue };
            day.strangers += 1;
            let matches = search(&gallery, face, i % classes, s.scope);
            match decide_matches(&matches, t) {
                Decision::Confident => day.strangers_accepted += 1,
                Decision::Uncertain => day.cards += 1,
                Decision::Unknown => {}
            }
        }
        if learn {
            for (student, face) in learned {
                remember(&mut templates[student], face);
            }
        }
        days.push(day);
    }
    days
}

fn gallery(templates: &[Vec<Face>]) -> Gallery<usize> {
    let pairs = templates
        .iter()
        .enumerate()
        .flat_map(|(i, faces)| faces.iter().map(move |f| (i, *f)));
    Gallery::try_from_iter(pairs).unwrap_or_default()
}

fn search(
    gallery: &Gallery<usize>,
    face: &Face,
    class: usize,
    scope: Scope,
) -> Vec<rollcall_models::matching::Match<usize>> {
    gallery
        .search_among(face, 2, MatchMode::Nearest, |s| {
            scope == Scope::WholeSchool || s / CLASS_SIZE == class
        })
        .unwrap_or_default()
}

/// Adds a learned face, dropping the oldest learned one past the cap.
fn remember(faces: &mut Vec<Face>, face: Face) {
    if faces.len() >= MAX_TEMPLATES {
        faces.remove(ENROLLED);
    }
    faces.push(face);
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1} %", 100.0 * n as f64 / of.max(1) as f64)
}

fn table(days: &[Day]) {
    println!(
        "| day | marked by the door | wrong names | strangers accepted | review cards | per class |"
    );
    println!("|---|---|---|---|---|---|");
    for (d, day) in days.iter().enumerate() {
        println!(
            "| {} | {} ({} of {}) | {} | {} of {} | {} | {:.1} |",
            d + 1,
            pct(day.right, day.arrivals),
            day.right,
            day.arrivals,
            day.wrong,
            day.strangers_accepted,
            day.strangers,
            day.cards,
            day.cards as f64 / (day.arrivals.div_ceil(CLASS_SIZE).max(1)) as f64,
        );
    }
}

/// One operating point of the sweep.
struct Point {
    confident: f32,
    margin: f32,
    /// Day-one share of arrivals marked right by the door.
    automation: f64,
    /// Wrong names and strangers accepted over all days.
    errors: usize,
}

/// Automation against wrong names over a grid of thresholds, with learning, on `s`.
fn sweep(s: &School) -> Vec<Point> {
    let mut points = Vec::new();
    println!(
        "## sweep on the calibration half (learning on): day 1 / day {DAYS} automation, wrong names + strangers accepted over all days"
    );
    println!("| confident | margin | day 1 | day {DAYS} | wrong | strangers accepted |");
    println!("|---|---|---|---|---|---|");
    for confident in [0.26, 0.28, 0.30, 0.32, 0.34, 0.36, 0.38, 0.40] {
        for margin in [0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12] {
            let t = Thresholds {
                confident,
                confident_weak: confident,
                uncertain: f32::max(confident, 0.40),
                min_margin: margin,
            };
            let days = simulate(s, &t, true);
            let wrong: usize = days.iter().map(|d| d.wrong).sum();
            let strangers: usize = days.iter().map(|d| d.strangers_accepted).sum();
            let (first, last) = (days[0], days[DAYS - 1]);
            println!(
                "| {confident:.2} | {margin:.2} | {} | {} | {wrong} | {strangers} |",
                pct(first.right, first.arrivals),
                pct(last.right, last.arrivals)
            );
            points.push(Point {
                confident,
                margin,
                automation: first.right as f64 / first.arrivals.max(1) as f64,
                errors: wrong + strangers,
            });
        }
    }
    points
}

/// An SVG of the sweep: day-one automation (up) against errors (right, square-root scale so
/// the first few show), one line per margin, each point labelled with its distance.
fn plot(points: &[Point]) -> String {
    let (w, h, pad, legend) = (760.0, 440.0, 60.0, 110.0);
    let max_errors = points.iter().map(|p| p.errors).max().unwrap_or(1).max(1) as f64;
    let x = |e: usize| pad + (e as f64 / max_errors).sqrt() * (w - 2.0 * pad - legend);
    let y = |a: f64| h - pad - (a - 0.5).max(0.0) / 0.5 * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    svg += &format!(
        "<text x=\"{pad}\" y=\"24\" font-size=\"14\">Door simulation (calibration half): \
         day-1 automation against errors</text>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">errors over 3 days (square-root scale); \
         points: confident 0.26 to 0.40</text>\n",
        (w - legend) / 2.0,
        h - 18.0
    );
    for a in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
        let y0 = y(a);
        svg += &format!(
            "<line x1=\"{pad}\" x2=\"{}\" y1=\"{y0:.1}\" y2=\"{y0:.1}\" stroke=\"#ddd\"/>\
             <text x=\"8\" y=\"{:.1}\">{:.0} %</text>\n",
            w - pad - legend,
            y0 + 4.0,
            a * 100.0,
        );
    }
    for e in [0, 1, 5, 10, 25, 50] {
        if e as f64 <= max_errors {
            let x0 = x(e);
            svg += &format!(
                "<line x1=\"{x0:.1}\" x2=\"{x0:.1}\" y1=\"{pad}\" y2=\"{}\" stroke=\"#ddd\"/>\
                 <text x=\"{x0:.1}\" y=\"{}\" text-anchor=\"middle\">{e}</text>\n",
                h - pad,
                h - pad + 16.0,
            );
        }
    }
    let colours = [
        "#1b6ca8", "#3a9d23", "#c77c02", "#b0228c", "#6a4c93", "#c0392b", "#555",
    ];
    let mut margins: Vec<f32> = points.iter().map(|p| p.margin).collect();
    margins.sort_by(f32::total_cmp);
    margins.dedup();
    for (i, m) in margins.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let line: Vec<&Point> = points.iter().filter(|p| p.margin == *m).collect();
        let path: Vec<String> = line
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.errors), y(p.automation)))
            .collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{}\" y=\"{}\" fill=\"{colour}\">margin {m:.2}</text>\n",
            path.join(" "),
            w - pad - legend + 16.0,
            pad + 14.0 * i as f64
        );
        for p in line {
            svg += &format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>confident {:.2}, \
                 margin {m:.2}: {:.1} %, {} errors</title></circle>\n",
                x(p.errors),
                y(p.automation),
                p.confident,
                p.automation * 100.0,
                p.errors
            );
        }
    }
    svg += "</svg>\n";
    svg
}
