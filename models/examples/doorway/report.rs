//! The benchmark's tables (markdown): per condition, what the door made of each arrival after
//! one frame and after the whole walk-in; per face size under the doorway preset; and the
//! distance distributions of genuine and stranger faces per quality bin.

use rollcall_models::burst::follow::{Best, Worth};
use rollcall_models::matching::Decision;
use rollcall_models::quality::Grade;

use crate::burst::{Door, Record, observe, records};
use crate::frames::{FrameRecord, Frames};
use crate::probes::{Probe, subject_face};
use crate::school::{Arrival, School};

/// What came of one arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Confident, for the right student (a student) — or for anyone (a stranger).
    Confident,
    /// Confident for another student (a student only).
    Wrong,
    /// Uncertain: a review card.
    Card,
    /// A record, Unknown.
    Unknown,
    /// The subject's face found in no frame.
    NoFace,
    /// Found, but the gate left every face out (too small, low score, landmarks).
    Gated,
    /// A frame could not be made (the photo did not decode) or searched.
    Error,
}

/// A Confident name given wrongly: to a stranger, or to another student.
pub struct Mistake {
    pub named: Option<usize>,
    pub distance: f32,
    /// The grade of the face the name was given on.
    pub grade: Grade,
}

/// What the door makes of `frames` of `a`, and the wrong Confident name if it gave one.
pub fn outcome(
    school: &School,
    a: &Arrival,
    frames: &[&FrameRecord],
    door: &Door,
) -> (Outcome, Option<Mistake>) {
    let (o, mistake, _) = walk_in(school, a, frames, door);
    (o, mistake)
}

/// [`outcome`], and the records the door made.
pub fn walk_in(
    school: &School,
    a: &Arrival,
    frames: &[&FrameRecord],
    door: &Door,
) -> (Outcome, Option<Mistake>, Vec<Record>) {
    if frames.iter().any(|r| r.error.is_some()) {
        return (Outcome::Error, None, Vec::new());
    }
    let found: Vec<(usize, &crate::faces_cache::SeenFace)> = frames
        .iter()
        .filter_map(|r| subject_face(r).map(|f| (r.frame, f)))
        .collect();
    if found.is_empty() {
        return (Outcome::NoFace, None, Vec::new());
    }
    let (kept, qualities): (Vec<_>, Vec<_>) = found
        .iter()
        .filter_map(|(i, f)| Some((observe(f, *i, &door.gate)?, f.quality)))
        .unzip();
    if kept.is_empty() {
        return (Outcome::Gated, None, Vec::new());
    }
    let made = records(&kept, &qualities, school, a.class, door);
    let confident = |r: &&Record| r.decision == Decision::Confident;
    let wrong = made
        .iter()
        .filter(confident)
        .find(|r| a.student.is_none() || r.named != a.student)
        .map(|r| Mistake {
            named: r.named,
            distance: r.distance(),
            grade: r.grade,
        });
    let o = match a.student {
        Some(_) if wrong.is_some() => Outcome::Wrong,
        _ if made.iter().any(|r| confident(&r)) => Outcome::Confident,
        _ if made.iter().any(|r| r.decision == Decision::Uncertain) => Outcome::Card,
        _ => Outcome::Unknown,
    };
    (o, wrong, made)
}

/// Outcomes of students and of strangers, counted, and the wrong names given.
#[derive(Default)]
pub struct Tally {
    pub students: [usize; 7],
    pub strangers: [usize; 7],
    /// Who was named wrongly, whom the door named, at what distance.
    pub mistakes: Vec<(String, Mistake)>,
}

impl Tally {
    pub fn add(&mut self, student: bool, o: Outcome) {
        let row = if student {
            &mut self.students
        } else {
            &mut self.strangers
        };
        row[o as usize] += 1;
    }
}

pub fn pct(n: usize, of: usize) -> String {
    format!("{:.1} %", 100.0 * n as f64 / of.max(1) as f64)
}

pub fn tally_header(first: &str) {
    println!(
        "| {first} | students | automation | wrong names | cards | unknown | no face | gated out | strangers | strangers accepted | stranger cards | stranger no face / gated |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
}

pub fn tally_row(label: &str, t: &Tally) {
    let (s, x) = (&t.students, &t.strangers);
    let (ns, nx) = (s.iter().sum::<usize>(), x.iter().sum::<usize>());
    let errors = s[Outcome::Error as usize] + x[Outcome::Error as usize];
    let note = if errors > 0 {
        format!(" ({errors} not made)")
    } else {
        String::new()
    };
    println!(
        "| {label}{note} | {ns} | {} ({}) | {} | {} | {} | {} | {} | {nx} | {} | {} | {} / {} |",
        pct(s[Outcome::Confident as usize], ns),
        s[Outcome::Confident as usize],
        s[Outcome::Wrong as usize],
        s[Outcome::Card as usize],
        s[Outcome::Unknown as usize],
        s[Outcome::NoFace as usize],
        s[Outcome::Gated as usize],
        x[Outcome::Confident as usize],
        x[Outcome::Card as usize],
        x[Outcome::NoFace as usize],
        x[Outcome::Gated as usize],
    );
}

/// The frames `door` decides `a` from under `condition`: its walk-in followed ([`followed`]).
pub fn door_frames<'a>(
    frames: &'a Frames,
    a: &Arrival,
    condition: &str,
    door: &Door,
    seed: u64,
) -> Option<Vec<&'a FrameRecord>> {
    followed(frames, a, condition, door, seed).map(|w| w.kept)
}

/// A walk-in as the door followed it.
pub struct Followed<'a> {
    /// The frames decided from, in the order taken.
    pub kept: Vec<&'a FrameRecord>,
    /// Frames taken (each searched for faces).
    pub taken: usize,
}

/// `a`'s walk-in under `condition` as `door` follows it (`rollcall_models::burst::follow`):
/// the burst, then on while the person is in view (the sensor held: the frame was filmed) up
/// to `door.walk.most`, keeping the `door.walk.keep` best by the subject's face. `None` when a
/// frame of the burst is missing.
pub fn followed<'a>(
    frames: &'a Frames,
    a: &Arrival,
    condition: &str,
    door: &Door,
    seed: u64,
) -> Option<Followed<'a>> {
    let frame = |i: usize| frames.get(&a.photo, condition, i, seed);
    let mut best = Best::new(door.walk.keep);
    loop {
        let taken = best.offered();
        if taken > 0 && !door.walk.another(taken, Some(frame(taken).is_some())) {
            break;
        }
        let r = frame(taken)?;
        let worth = subject_face(r)
            .and_then(|f| observe(f, r.frame, &door.gate))
            .map(|o| Worth {
                grade: o.grade,
                weight: o.weight,
            });
        best.offer(Worth::of(worth), r);
    }
    let taken = best.offered();
    let kept = best.kept().into_iter().map(|(_, r)| r).collect();
    Some(Followed { kept, taken })
}

/// The first `n` frames of `a` under `condition`, if all are there.
pub fn walk_frames<'a>(
    frames: &'a Frames,
    a: &Arrival,
    condition: &str,
    n: usize,
    seed: u64,
) -> Option<Vec<&'a FrameRecord>> {
    (0..n)
        .map(|i| frames.get(&a.photo, condition, i, seed))
        .collect()
}

/// Eye-distance bins, px: `(label, lo, hi)`.
pub const SIZE_BINS: [(&str, f32, f32); 5] = [
    ("< 18 px", 0.0, 18.0),
    ("18–24 px", 18.0, 24.0),
    ("24–32 px", 24.0, 32.0),
    ("32–45 px", 32.0, 45.0),
    ("≥ 45 px", 45.0, f32::INFINITY),
];

/// Detector-score bins.
pub const SCORE_BINS: [(&str, f32, f32); 4] = [
    ("< 0.9", 0.0, 0.9),
    ("0.9–0.99", 0.9, 0.99),
    ("0.99–0.999", 0.99, 0.999),
    ("≥ 0.999", 0.999, f32::INFINITY),
];

/// Sharpness bins (variance of the Laplacian of the chip, grey levels²; the frames' median is
/// about 25).
pub const SHARPNESS_BINS: [(&str, f32, f32); 5] = [
    ("< 8", 0.0, 8.0),
    ("8–15", 8.0, 15.0),
    ("15–30", 15.0, 30.0),
    ("30–60", 30.0, 60.0),
    ("≥ 60", 60.0, f32::INFINITY),
];

/// Genuine and stranger distances of the probes whose `measure` falls in each bin.
pub fn distance_table(
    title: &str,
    probes: &[Probe],
    bins: &[(&str, f32, f32)],
    measure: impl Fn(&Probe) -> Option<f32>,
    confident: f32,
) {
    println!("\n{title}\n");
    println!(
        "| bin | student faces | to the right student p5 / p50 / p95 | right within {confident} | nearest is another student | stranger faces | stranger's nearest min / p1 / p5 / p50 | strangers within {confident} |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &(label, lo, hi) in bins {
        let inside: Vec<&Probe> = probes
            .iter()
            .filter(|p| measure(p).is_some_and(|v| v >= lo && v < hi))
            .collect();
        let mut genuine: Vec<f32> = inside.iter().filter_map(|p| p.right_distance).collect();
        let wrong = inside
            .iter()
            .filter(|p| p.right_id.is_some() && p.best_id.is_some() && p.best_id != p.right_id)
            .count();
        let mut strangers: Vec<f32> = inside
            .iter()
            .filter(|p| p.right_id.is_none())
            .filter_map(|p| p.best_distance)
            .collect();
        genuine.sort_by(f32::total_cmp);
        strangers.sort_by(f32::total_cmp);
        let within = |v: &[f32]| v.iter().filter(|&&d| d <= confident).count();
        println!(
            "| {label} | {} | {} | {} | {wrong} | {} | {} | {} |",
            genuine.len(),
            quantiles(&genuine, &[0.05, 0.5, 0.95]),
            pct(within(&genuine), genuine.len()),
            strangers.len(),
            quantiles(&strangers, &[0.0, 0.01, 0.05, 0.5]),
            within(&strangers),
        );
    }
}

fn quantiles(sorted: &[f32], ps: &[f64]) -> String {
    if sorted.is_empty() {
        return "—".into();
    }
    let at = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    ps.iter()
        .map(|&p| format!("{:.3}", at(p)))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Grades as numbers, for [`distance_table`]'s bins.
pub fn grade_number(grade: Grade) -> f32 {
    grade as u8 as f32
}

/// Grade bins for [`distance_table`].
pub const GRADE_BINS: [(&str, f32, f32); 3] = [
    ("good", 0.0, 1.0),
    ("weak", 1.0, 2.0),
    ("unclear", 2.0, 3.0),
];
