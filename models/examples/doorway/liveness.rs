//! How often the liveness check would wrongly flag a real arrival (issue 58, point 2). Every
//! walk-in here is a real face (a photo's face pasted into a corridor, then blurred, dimmed,
//! shrunk or compressed as a door camera would), so every "not real" is a false flag. The
//! door judges a person by their best kept face (the heaviest by detector score × eye
//! distance, as `burst::weight` weighs them): a walk-in is flagged when that face is judged
//! not real. Counted for every walk-in with a kept face, and for those whose best face is of
//! grade good (the rule with weak and unclear faces exempt).

use rollcall_models::burst::weight;
use rollcall_models::quality::Grade;

use crate::burst::Door;
use crate::frames::Frames;
use crate::probes::subject_face;
use crate::report::door_frames;
use crate::school::School;

/// Walk-ins counted and flagged, over all and among good best faces; frames likewise.
#[derive(Default)]
struct Count {
    walk_ins: usize,
    flagged: usize,
    good_walk_ins: usize,
    good_flagged: usize,
    frames: usize,
    frames_flagged: usize,
}

/// Prints the table (see the module docs).
pub fn table(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    seed: u64,
) {
    println!(
        "\n## Liveness: real arrivals wrongly flagged (best kept face of {})\n",
        door.describe()
    );
    println!(
        "| condition | walk-ins, calibration + held out | flagged | best face good | flagged among those | frames judged | frames flagged |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &condition in conditions {
        let mut c = Count::default();
        for (_, school) in halves {
            count(&mut c, school, frames, door, condition, seed);
        }
        let pct =
            |n: usize, of: usize| format!("{:.1} % ({n})", 100.0 * n as f64 / of.max(1) as f64);
        println!(
            "| {condition} | {} | {} | {} | {} | {} | {} |",
            c.walk_ins,
            pct(c.flagged, c.walk_ins),
            c.good_walk_ins,
            pct(c.good_flagged, c.good_walk_ins),
            c.frames,
            pct(c.frames_flagged, c.frames),
        );
    }
}

fn count(c: &mut Count, school: &School, frames: &Frames, door: &Door, condition: &str, seed: u64) {
    for a in &school.arrivals {
        let Some(walk) = door_frames(frames, a, condition, door, seed) else {
            continue;
        };
        let kept: Vec<(f32, Grade, bool)> = walk
            .iter()
            .filter_map(|r| subject_face(r))
            .filter_map(|f| {
                let grade = door.gate.grade(&f.quality);
                let live = f.live?;
                let q = &f.quality;
                let w = weight(q.detector_score, q.inter_ocular_px);
                (grade != Grade::Out).then_some((w, grade, live))
            })
            .collect();
        c.frames += kept.len();
        c.frames_flagged += kept.iter().filter(|k| !k.2).count();
        let Some(&(_, grade, live)) = kept.iter().max_by(|x, y| x.0.total_cmp(&y.0)) else {
            continue;
        };
        c.walk_ins += 1;
        c.flagged += usize::from(!live);
        if grade == Grade::Good {
            c.good_walk_ins += 1;
            c.good_flagged += usize::from(!live);
        }
    }
}
