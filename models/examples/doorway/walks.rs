//! The whole walk-in (issue 68, point 3): what following a person past the burst buys, and
//! what it costs. For each way of following asked (`--walks 5/5,20/5`: at most that many
//! frames while the person is in view, the best that many kept; `rollcall_models::burst::
//! follow`), each half, classes of 30 and 120 (bands narrowed for the size), each condition:
//! the door's outcomes, the frames it searched and the faces it embedded per walk-in, and
//! what that costs a Raspberry Pi 5 (estimated from operation counts, PERFORMANCE.md: 35 ms
//! to search a frame, 5 ms to align a face found, 27 ms to embed a face kept).
//!
//! Searching keeps pace with the camera (a frame searched in 40 ms of the 150 ms between
//! frames); embedding waits for the walk-in to end, so the faces kept are what a child waits
//! for at the door.

use rollcall_models::burst::follow::Follow;

use crate::burst::{Door, observe};
use crate::frames::Frames;
use crate::probes::subject_face;
use crate::report::{Outcome, Tally, followed, pct, walk_in};
use crate::school::School;

/// Pi 5 estimates, ms (PERFORMANCE.md, "On a Raspberry Pi 5").
const SEARCH_MS: f64 = 35.0;
const ALIGN_MS: f64 = 5.0;
const EMBED_MS: f64 = 27.0;

/// The class sizes measured.
const SIZES: [usize; 2] = [30, 120];

/// `MOST/KEEP` pairs, as `--walks` and `--walk` write them; the burst of `first` frames comes
/// first whatever `MOST` says.
pub fn parse(list: &str, first: usize) -> Result<Vec<Follow>, String> {
    list.split(',')
        .map(|pair| {
            let bad = || format!("{pair:?}: a walk is MOST/KEEP frames, e.g. 20/5");
            let (most, keep) = pair.split_once('/').ok_or_else(bad)?;
            let (most, keep): (usize, usize) = (
                most.parse().map_err(|_| bad())?,
                keep.parse().map_err(|_| bad())?,
            );
            if !(1..=40).contains(&most) || !(1..=40).contains(&keep) {
                return Err(format!("{pair:?}: frames must be 1 to 40"));
            }
            Ok(Follow {
                first,
                most: most.max(first),
                keep,
            })
        })
        .collect()
}

/// What the door did over the walk-ins of one table row.
#[derive(Default)]
struct Row {
    tally: Tally,
    walk_ins: usize,
    searched: usize,
    found: usize,
    embedded: usize,
}

impl Row {
    fn per_walk(&self, n: usize) -> f64 {
        n as f64 / self.walk_ins.max(1) as f64
    }
}

/// Prints the table (see the module docs).
pub fn table(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    walks: &[Follow],
    step: f32,
    seed: u64,
) {
    println!("\n## The whole walk-in: frames followed and kept");
    for (half, school) in halves {
        println!("\n### {half}\n");
        println!(
            "| students · condition | followed / kept | automation | wrong names | cards | strangers named | frames searched | faces embedded | Pi 5 work a walk-in | Pi 5 wait after it |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for size in SIZES {
            let school = school.searching(size);
            for &condition in conditions {
                for &walk in walks {
                    let at = Door {
                        thresholds: door.thresholds.narrowed_for(school.searched(), step),
                        walk,
                        ..*door
                    };
                    let r = row(&school, frames, &at, condition, seed);
                    print_row(&school, condition, walk, &r);
                }
            }
        }
    }
}

fn row(school: &School, frames: &Frames, door: &Door, condition: &str, seed: u64) -> Row {
    let mut r = Row::default();
    for a in &school.arrivals {
        let Some(walk) = followed(frames, a, condition, door, seed) else {
            continue;
        };
        let (o, _, _) = walk_in(school, a, &walk.kept, door);
        r.tally.add(a.student.is_some(), o);
        r.walk_ins += 1;
        r.searched += walk.taken;
        r.found += (0..walk.taken)
            .filter_map(|i| frames.get(&a.photo, condition, i, seed))
            .filter(|f| subject_face(f).is_some())
            .count();
        r.embedded += walk
            .kept
            .iter()
            .filter_map(|f| observe(subject_face(f)?, f.frame, &door.gate))
            .count();
    }
    r
}

fn print_row(school: &School, condition: &str, walk: Follow, r: &Row) {
    let (s, x) = (&r.tally.students, &r.tally.strangers);
    let students: usize = s.iter().sum();
    let named = s[Outcome::Confident as usize];
    let (searched, found, embedded) = (
        r.per_walk(r.searched),
        r.per_walk(r.found),
        r.per_walk(r.embedded),
    );
    let work = searched * SEARCH_MS + found * ALIGN_MS + embedded * EMBED_MS;
    println!(
        "| {} · {condition} | {} / {} | {} ({named}) | {} | {} | {} | {searched:.1} | {embedded:.1} | {work:.0} ms | {:.0} ms |",
        school.searched(),
        walk.most,
        walk.keep,
        pct(named, students),
        s[Outcome::Wrong as usize],
        s[Outcome::Card as usize],
        x[Outcome::Confident as usize],
        embedded * EMBED_MS,
    );
}
