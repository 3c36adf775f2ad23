//! The confident band of each grade, calibrated on the walk-ins (issue 32, point 2): every
//! arrival of every condition, from one frame and from the whole burst, decided with every
//! band opened to `uncertain`, so that what stops a wrong name is only the margin and the
//! frames' agreement. The nearest such wrong name of a grade on the calibration half, less
//! [`SAFETY_GAP`] and rounded down to 0.005, is that grade's band; the held-out half says
//! whether it holds.

use rollcall_models::quality::Grade;

use crate::burst::Door;
use crate::frames::Frames;
use crate::report::{door_frames, walk_frames, walk_in};
use crate::school::School;

/// How far below the nearest wrong name of a grade its band is set.
pub const SAFETY_GAP: f32 = 0.01;

/// A Confident name given wrongly with every band open.
pub struct Impostor {
    pub grade: Grade,
    pub distance: f32,
    who: String,
    condition: &'static str,
}

/// Prints the table (see the module docs).
pub fn table(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    seed: u64,
) {
    let open = Door {
        thresholds: rollcall_models::matching::Thresholds {
            confident: door.thresholds.uncertain,
            confident_weak: door.thresholds.uncertain,
            ..door.thresholds
        },
        ..*door
    };
    let found: Vec<Vec<Impostor>> = halves
        .iter()
        .map(|(_, school)| impostors(school, frames, &open, conditions, seed))
        .collect();
    println!(
        "\n## Confident bands per grade (walk-ins of every condition, one frame and {}, every band open to {})\n",
        door.describe(),
        door.thresholds.uncertain
    );
    println!(
        "| grade | wrong names within {}, calibration | nearest (who, condition) | band: nearest − {SAFETY_GAP} | shipped | wrong names within the shipped band, calibration / held out | nearest, held out |",
        door.thresholds.uncertain
    );
    println!("|---|---|---|---|---|---|---|");
    for (grade, shipped) in [
        (Grade::Good, door.thresholds.confident),
        (Grade::Weak, door.thresholds.confident_weak),
    ] {
        let of = |half: usize| found[half].iter().filter(move |i| i.grade == grade);
        let nearest = |half: usize| of(half).min_by(|a, b| a.distance.total_cmp(&b.distance));
        let within = |half: usize| of(half).filter(|i| i.distance <= shipped).count();
        let name = format!("{grade:?}").to_lowercase();
        let (calibration, band) = match nearest(0) {
            Some(i) => (
                format!("{:.3} ({}, {})", i.distance, i.who, i.condition),
                format!("{:.3}", ((i.distance - SAFETY_GAP) / 0.005).floor() * 0.005),
            ),
            None => ("none".to_string(), "—".to_string()),
        };
        let held_out = nearest(1).map_or("none".to_string(), |i| {
            format!("{:.3} ({}, {})", i.distance, i.who, i.condition)
        });
        println!(
            "| {name} | {} | {calibration} | {band} | {shipped:.3} | {} / {} | {held_out} |",
            of(0).count(),
            within(0),
            within(1),
        );
    }
}

/// Every wrong Confident name `door` gives in `school`, from one frame and from the whole
/// walk-in, under every condition.
pub fn impostors(
    school: &School,
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    seed: u64,
) -> Vec<Impostor> {
    let mut found = Vec::new();
    for &condition in conditions {
        for whole in [false, true] {
            for a in &school.arrivals {
                let walk = match whole {
                    false => walk_frames(frames, a, condition, 1, seed),
                    true => door_frames(frames, a, condition, door, seed),
                };
                let Some(walk) = walk else {
                    continue;
                };
                let (_, mistake, _) = walk_in(school, a, &walk, door);
                found.extend(mistake.map(|m| Impostor {
                    grade: m.grade,
                    distance: m.distance,
                    who: a.person.clone(),
                    condition,
                }));
            }
        }
    }
    found
}
