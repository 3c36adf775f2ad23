//! Bands for the size of the search (issue 58, point 1). A classroom door searches its class;
//! a hall, a dining room or a gate searches several classes or the whole school, and the more
//! students a stranger is measured against, the nearer the nearest of them lies. For each size
//! asked (`--sizes 30,60,120,all`), each half:
//!
//! 1. the nearest wrong Confident name of each grade with every band open (as `bands.rs`):
//!    how close an impostor comes as the search grows;
//! 2. the door's outcomes, every condition, 5-frame walk-ins, with the bands narrowed for that
//!    size by `--narrowing` per doubling (default: the shipped [`Thresholds::for_searched`]).
//!
//! Then the tail of the impostor distances (each walk-in's person against every student not
//! theirs, both halves), which says how fast the bands must narrow: a stranger searched
//! against N students is named with chance about N·F(band), F the share of impostor distances
//! below the band, so the band that keeps that chance fixed has F(band(N)) = F(band(30))·30/N.

use rollcall_models::matching::{CALIBRATED_SEARCH, NARROWING_PER_DOUBLING, Thresholds};
use rollcall_models::quality::Grade;

use crate::bands::impostors;
use crate::burst::Door;
use crate::frames::Frames;
use crate::report::{Outcome, Tally, door_frames, tally_header, tally_row, walk_in};
use crate::school::School;

/// What `--sizes` asks for: a number of students, or every student of the half.
#[derive(Clone, Copy, Debug)]
pub enum Size {
    Students(usize),
    All,
}

impl Size {
    pub fn parse(list: &str) -> Result<Vec<Size>, String> {
        list.split(',')
            .map(|s| match s {
                "all" => Ok(Size::All),
                n => match n.parse() {
                    Ok(n) if n >= 1 => Ok(Size::Students(n)),
                    _ => Err(format!(
                        "--sizes: {n:?} is neither a number of students nor all"
                    )),
                },
            })
            .collect()
    }

    fn of(self, school: &School) -> usize {
        match self {
            Size::Students(n) => n.min(school.students()),
            Size::All => school.students(),
        }
    }
}

/// Prints the tables (see the module docs).
pub fn tables(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    sizes: &[Size],
    step: f32,
    seed: u64,
) {
    println!(
        "\n## Bands for the size of the search ({step} narrower per doubling past {CALIBRATED_SEARCH}; shipped: {NARROWING_PER_DOUBLING})"
    );
    nearest_table(halves, frames, door, conditions, sizes, step, seed);
    for (half, school) in halves {
        println!("\n### {half}, {}, by students searched\n", door.describe());
        tally_header("searched · condition");
        for &size in sizes {
            let school = school.searching(size.of(school));
            let at_size = Door {
                thresholds: door.thresholds.narrowed_for(school.searched(), step),
                ..*door
            };
            for &condition in conditions {
                let t = tally(&school, frames, &at_size, condition, seed);
                tally_row(&format!("{} · {condition}", school.searched()), &t);
            }
        }
    }
    tail_table(halves, frames, door, conditions, step, seed);
}

/// Per size and grade: the band given, and the nearest wrong name with every band open.
fn nearest_table(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    sizes: &[Size],
    step: f32,
    seed: u64,
) {
    let open = Door {
        thresholds: Thresholds {
            confident: door.thresholds.uncertain,
            confident_weak: door.thresholds.uncertain,
            ..door.thresholds
        },
        ..*door
    };
    println!(
        "\nNearest wrong Confident name with every band open (one frame and {}, every condition):\n",
        door.describe()
    );
    println!(
        "| students searched | grade | band given | nearest, calibration | nearest, held out |"
    );
    println!("|---|---|---|---|---|");
    for &size in sizes {
        let nearest: Vec<[Option<f32>; 2]> = halves
            .iter()
            .map(|(_, s)| {
                let school = s.searching(size.of(s));
                let found = impostors(&school, frames, &open, conditions, seed);
                [Grade::Good, Grade::Weak].map(|g| {
                    found
                        .iter()
                        .filter(|i| i.grade == g)
                        .map(|i| i.distance)
                        .min_by(f32::total_cmp)
                })
            })
            .collect();
        let searched = size.of(&halves[0].1);
        let given = door.thresholds.narrowed_for(searched, step);
        for (i, (name, band)) in [("good", given.confident), ("weak", given.confident_weak)]
            .into_iter()
            .enumerate()
        {
            let show = |d: Option<f32>| d.map_or("none".into(), |d| format!("{d:.3}"));
            println!(
                "| {searched} | {name} | {band:.3} | {} | {} |",
                show(nearest[0][i]),
                show(nearest.get(1).and_then(|n| n[i])),
            );
        }
    }
}

fn tally(school: &School, frames: &Frames, door: &Door, condition: &str, seed: u64) -> Tally {
    let mut t = Tally::default();
    for a in &school.arrivals {
        if let Some(walk) = door_frames(frames, a, condition, door, seed) {
            let (o, _, _) = walk_in(school, a, &walk, door);
            t.add(a.student.is_some(), o);
        }
    }
    t
}

/// The impostor distances' lower tail (both halves, good faces of every walk-in's records):
/// the band each size needs for the chance of naming a stranger to stay what it is at
/// [`CALIBRATED_SEARCH`] with the shipped band.
fn tail_table(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    step: f32,
    seed: u64,
) {
    let mut impostors: Vec<f32> = halves
        .iter()
        .flat_map(|(_, school)| impostor_distances(school, frames, door, conditions, seed))
        .collect();
    impostors.sort_by(f32::total_cmp);
    let below = |d: f32| impostors.partition_point(|&x| x <= d);
    let band = door.thresholds.confident;
    let at_band = below(band);
    println!(
        "\nImpostor distances (both halves, good faces, {}, every condition): {} pairs, {at_band} within the band {band:.3} (F = {:.2e})\n",
        door.describe(),
        impostors.len(),
        at_band as f64 / impostors.len().max(1) as f64,
    );
    println!(
        "| students searched | band keeping N·F(band) constant | narrowing from {band:.3} | per doubling | band the rule gives |"
    );
    println!("|---|---|---|---|---|");
    for n in [60, 120, 240, 480, 960, 1920] {
        let keep = (at_band as f64 * CALIBRATED_SEARCH as f64 / n as f64).floor() as usize;
        let needed = match keep {
            0 => impostors.first().copied().unwrap_or(band),
            k => impostors[k - 1],
        };
        let doublings = (n as f32 / CALIBRATED_SEARCH as f32).log2();
        println!(
            "| {n} | {needed:.3} | {:.3} | {:.4} | {:.3} |",
            band - needed,
            (band - needed) / doublings,
            door.thresholds.narrowed_for(n, step).confident,
        );
    }
}

/// The distance from each good-graded walk-in person to every student who is not them.
fn impostor_distances(
    school: &School,
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    seed: u64,
) -> Vec<f32> {
    let everyone = school.students();
    let mut out = Vec::new();
    for &condition in conditions {
        for a in &school.arrivals {
            let Some(walk) = door_frames(frames, a, condition, door, seed) else {
                continue;
            };
            let (o, _, records) = walk_in(school, a, &walk, door);
            if matches!(o, Outcome::Error | Outcome::NoFace | Outcome::Gated) {
                continue;
            }
            for r in records.iter().filter(|r| r.grade == Grade::Good) {
                let all = school
                    .gallery
                    .search(&r.embedding, everyone, door.mode)
                    .unwrap_or_default();
                out.extend(
                    all.iter()
                        .filter(|m| Some(m.id) != a.student)
                        .map(|m| m.distance),
                );
            }
        }
    }
    out
}
