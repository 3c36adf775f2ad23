//! The lesson as one closed set (issue 68): what the hub's joint naming of a lesson's cards
//! (`rollcall_models::matching::name_among_unmarked`, as `rollcall_school::lesson` runs it)
//! adds to the door, and what it costs in strangers named.
//!
//! For each half, each lesson size asked (`--lesson 30,120`), each condition and each band
//! asked (`--lesson-bands 0.31/0.30,0.33/0.32`: good/weak, for a lesson of 30, narrowed for
//! the students still unmarked as the door's bands are for the students searched):
//!
//! 1. A lesson is a class's door searching `size` students (its class and, past 30, the
//!    students after it, as `sizes.rs` does), with the door's bands for that size. Its
//!    students walk in once each (walk-ins as the door takes them); everybody else of the half walks past:
//!    the people enrolled nowhere and the students of other lessons. The walkers-by are dealt
//!    into runs of about half the lesson's size (a class of 120 with 60 strangers), each run
//!    a lesson of its own with its students, in an order drawn per run; one student in 15
//!    (drawn per run) is away, and so never arrives to explain a stranger who looks like them.
//! 2. At each arrival: a Confident record marks its student; an Uncertain one is a card (an
//!    Unknown one is dropped, as the school's default `unknown_faces = "discard"` does). The
//!    lesson's cards are named jointly against the students not yet marked, each card named
//!    marking its student: as each record arrives and once more at the end, or only at the
//!    end; with or without the whole school's check (a card whose nearest student in the
//!    school is not the lesson's is never named: most likely a student of another class).
//! 3. Counted: students marked by the door alone and in the end, wrong names (a student's card
//!    named as another), strangers named (a walker-by's card named as anybody) per 1,000
//!    walk-bys, and the cards left per lesson.

use std::collections::HashSet;

use rollcall_models::matching::{Card, Decision, Match, Thresholds, name_among_unmarked};
use rollcall_models::quality::Grade;

use crate::burst::Door;
use crate::frames::Frames;
use crate::report::{door_frames, pct, walk_in};
use crate::school::{Arrival, CLASS_SIZE, School};

/// A band asked for: good and weak, for a lesson of 30.
#[derive(Clone, Copy, Debug)]
pub struct Band {
    pub good: f32,
    pub weak: f32,
}

/// `--lesson`: the lesson sizes to measure.
pub fn sizes(list: &str) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(|n| match n.parse() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("--lesson: {n:?} is not a number of students")),
        })
        .collect()
}

impl Band {
    /// The band the hub ships ([`Thresholds::LESSON`]).
    pub fn shipped() -> Band {
        Band {
            good: Thresholds::LESSON.confident,
            weak: Thresholds::LESSON.confident_weak,
        }
    }

    pub fn parse(list: &str) -> Result<Vec<Band>, String> {
        list.split(',')
            .map(|b| {
                let (good, weak) = b
                    .split_once('/')
                    .ok_or(format!("--lesson-bands: {b:?} is not GOOD/WEAK"))?;
                let number = |s: &str| {
                    s.parse::<f32>()
                        .map_err(|_| format!("--lesson-bands: {s:?} is not a distance"))
                };
                Ok(Band {
                    good: number(good)?,
                    weak: number(weak)?,
                })
            })
            .collect()
    }

    /// The closed set's thresholds: this band, the door's `uncertain` and margin.
    fn thresholds(self, door: &Thresholds) -> Thresholds {
        Thresholds {
            confident: self.good,
            confident_weak: self.weak,
            ..*door
        }
    }
}

/// One lesson run's counts (summed over runs).
#[derive(Default, Clone, Copy)]
struct Count {
    students: usize,
    by_door: usize,
    jointly: usize,
    /// Students the door itself named Confident as another student.
    door_wrong: usize,
    /// Students' cards the joint naming named as another student.
    wrong: usize,
    walk_bys: usize,
    strangers_named: usize,
    /// Strangers the door itself named Confident (the door's own rate, for comparison).
    door_strangers: usize,
    cards_left_students: usize,
    cards_left_strangers: usize,
    runs: usize,
}

/// A card of the lesson: who it really is, its grade, its distances to the lesson's students,
/// and whether its nearest student in the whole school is one of the lesson's.
struct Pending {
    who: Option<usize>,
    grade: Grade,
    matches: Vec<Match<usize>>,
    of_the_lesson: bool,
}

/// When the hub names the lesson's cards, and what it asks of each.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// Each time a record arrives (else once, when every arrival is in).
    pub as_they_arrive: bool,
    /// A card whose nearest student in the whole school is not the lesson's is never named.
    pub school_check: bool,
}

impl Variant {
    pub const ALL: [Variant; 3] = [
        Variant {
            as_they_arrive: true,
            school_check: false,
        },
        Variant {
            as_they_arrive: true,
            school_check: true,
        },
        Variant {
            as_they_arrive: false,
            school_check: true,
        },
    ];

    fn name(self) -> String {
        let when = match self.as_they_arrive {
            true => "as they arrive",
            false => "once all are in",
        };
        match self.school_check {
            true => format!("{when}, nearest in the school"),
            false => when.to_string(),
        }
    }
}

/// Prints the tables (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn tables(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    sizes: &[usize],
    bands: &[Band],
    step: f32,
    seed: u64,
) {
    println!(
        "\n## The lesson as one closed set ({}; bands narrowed by {step} per doubling of the students still unmarked past 30)",
        door.describe()
    );
    for (half, school) in halves {
        println!("\n### {half}\n");
        println!(
            "| lesson | condition | named | band (good / weak) | students | door alone | with the lesson named jointly | wrong names (door / joint) | walk-bys | strangers named (door / joint) | joint, per 1,000 walk-bys | cards left per lesson (students + strangers) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for &size in sizes {
            let school = school.searching(size.min(school.students()));
            let at_size = Door {
                thresholds: door.thresholds.narrowed_for(school.searched(), step),
                ..*door
            };
            for &condition in conditions {
                for (variant, &band) in Variant::ALL
                    .iter()
                    .flat_map(|v| bands.iter().map(move |b| (*v, b)))
                {
                    let c = count(
                        &school, frames, &at_size, condition, band, step, seed, variant,
                    );
                    println!(
                        "| {} | {condition} | {} | {:.3} / {:.3} | {} | {} | {} | {} / {} | {} | {} / {} | {:.2} | {:.1} + {:.1} |",
                        school.searched(),
                        variant.name(),
                        band.good,
                        band.weak,
                        c.students,
                        pct(c.by_door, c.students),
                        pct(c.by_door + c.jointly, c.students),
                        c.door_wrong,
                        c.wrong,
                        c.walk_bys,
                        c.door_strangers,
                        c.strangers_named,
                        1000.0 * c.strangers_named as f64 / c.walk_bys.max(1) as f64,
                        c.cards_left_students as f64 / c.runs.max(1) as f64,
                        c.cards_left_strangers as f64 / c.runs.max(1) as f64,
                    );
                }
            }
        }
    }
}

/// Every lesson of the half, each run with its share of walkers-by.
#[allow(clippy::too_many_arguments)]
fn count(
    school: &School,
    frames: &Frames,
    door: &Door,
    condition: &str,
    band: Band,
    step: f32,
    seed: u64,
    variant: Variant,
) -> Count {
    let mut total = Count::default();
    let classes = school.students().div_ceil(CLASS_SIZE);
    for class in 0..classes {
        let members: HashSet<usize> = (0..school.students())
            .filter(|&s| school.is_searched(s, class))
            .collect();
        let (mine, mut others): (Vec<&Arrival>, Vec<&Arrival>) = school
            .arrivals
            .iter()
            .partition(|a| a.student.is_some_and(|s| members.contains(&s)));
        shuffle(&mut others, seed ^ class as u64);
        let per_run = members.len().div_ceil(2).max(1);
        for (run, passing) in others.chunks(per_run).enumerate() {
            // About one student in fifteen is away on any day.
            let here = |a: &&&Arrival| {
                let draw = mix(seed ^ ((class as u64) << 40) ^ ((run as u64) << 20))
                    ^ a.student.unwrap_or(0) as u64;
                !mix(draw).is_multiple_of(ABSENT_ONE_IN)
            };
            let present = mine.iter().filter(here);
            let mut walk: Vec<&Arrival> = present.chain(passing).copied().collect();
            shuffle(&mut walk, seed ^ ((class as u64) << 32) ^ run as u64);
            let lesson = Lesson {
                school,
                frames,
                door,
                condition,
                seed,
                class,
                members: &members,
                thresholds: band.thresholds(&door.thresholds),
                step,
                variant,
            };
            let c = lesson.run(&walk);
            total = add(total, c);
        }
    }
    total
}

struct Lesson<'a> {
    school: &'a School,
    frames: &'a Frames,
    door: &'a Door,
    condition: &'a str,
    seed: u64,
    class: usize,
    members: &'a HashSet<usize>,
    thresholds: Thresholds,
    step: f32,
    variant: Variant,
}

impl Lesson<'_> {
    /// One lesson with `walk` arriving in order.
    fn run(&self, walk: &[&Arrival]) -> Count {
        let mut c = Count {
            runs: 1,
            students: walk
                .iter()
                .filter(|a| a.student.is_some_and(|s| self.members.contains(&s)))
                .count(),
            ..Count::default()
        };
        let mut marked: HashSet<usize> = HashSet::new();
        let mut cards: Vec<Pending> = Vec::new();
        for a in walk {
            let stranger = !a.student.is_some_and(|s| self.members.contains(&s));
            if stranger {
                c.walk_bys += 1;
            }
            let Some(frames) = door_frames(self.frames, a, self.condition, self.door, self.seed)
            else {
                continue;
            };
            let here = Arrival {
                class: self.class,
                ..(*a).clone()
            };
            let (_, _, records) = walk_in(self.school, &here, &frames, self.door);
            for r in records {
                match r.decision {
                    Decision::Confident => match (r.named, stranger) {
                        (Some(s), false) if Some(s) == a.student => {
                            if marked.insert(s) {
                                c.by_door += 1;
                            }
                        }
                        (_, true) => c.door_strangers += 1,
                        _ => c.door_wrong += 1,
                    },
                    Decision::Uncertain => cards.push(Pending {
                        who: a.student.filter(|_| !stranger),
                        grade: r.grade,
                        matches: self.lesson_matches(&r.embedding),
                        of_the_lesson: self.of_the_lesson(&r.embedding),
                    }),
                    Decision::Unknown => {}
                }
            }
            if self.variant.as_they_arrive {
                self.name_cards(&mut cards, &mut marked, &mut c);
            }
        }
        self.name_cards(&mut cards, &mut marked, &mut c);
        for card in &cards {
            match card.who {
                Some(_) => c.cards_left_students += 1,
                None => c.cards_left_strangers += 1,
            }
        }
        c
    }

    /// Every student of the lesson, nearest first.
    fn lesson_matches(&self, face: &rollcall_models::matching::Embedding) -> Vec<Match<usize>> {
        self.school
            .gallery
            .search_among(face, self.members.len(), self.door.mode, |s| {
                self.members.contains(s)
            })
            .unwrap_or_default()
    }

    /// Whether the nearest student of the whole school to `face` is one of the lesson's.
    fn of_the_lesson(&self, face: &rollcall_models::matching::Embedding) -> bool {
        let nearest = self.school.gallery.search(face, 1, self.door.mode);
        nearest
            .ok()
            .and_then(|m| m.first().map(|m| self.members.contains(&m.id)))
            .unwrap_or(false)
    }

    /// The hub's joint naming of the lesson's cards, once.
    fn name_cards(&self, cards: &mut Vec<Pending>, marked: &mut HashSet<usize>, c: &mut Count) {
        let unmarked = self.members.len() - marked.len();
        let thresholds = self.thresholds.narrowed_for(unmarked, self.step);
        let judged: Vec<Card<'_, usize>> = cards
            .iter()
            .map(|p| Card {
                grade: p.grade,
                matches: &p.matches,
                may_name: p.of_the_lesson || !self.variant.school_check,
            })
            .collect();
        let named = name_among_unmarked(&judged, |s| !marked.contains(s), &thresholds);
        let mut kept = Vec::with_capacity(cards.len());
        for (card, named) in cards.drain(..).zip(named) {
            let Some(student) = named else {
                kept.push(card);
                continue;
            };
            marked.insert(student);
            match card.who {
                Some(s) if s == student => c.jointly += 1,
                Some(_) => c.wrong += 1,
                None => c.strangers_named += 1,
            }
        }
        *cards = kept;
    }
}

fn add(a: Count, b: Count) -> Count {
    Count {
        students: a.students + b.students,
        by_door: a.by_door + b.by_door,
        jointly: a.jointly + b.jointly,
        door_wrong: a.door_wrong + b.door_wrong,
        wrong: a.wrong + b.wrong,
        walk_bys: a.walk_bys + b.walk_bys,
        strangers_named: a.strangers_named + b.strangers_named,
        door_strangers: a.door_strangers + b.door_strangers,
        cards_left_students: a.cards_left_students + b.cards_left_students,
        cards_left_strangers: a.cards_left_strangers + b.cards_left_strangers,
        runs: a.runs + b.runs,
    }
}

/// One student in this many is away from a lesson (drawn per lesson run).
const ABSENT_ONE_IN: u64 = 15;

/// splitmix64's finaliser: a well-mixed 64-bit value of `x`.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded Fisher–Yates shuffle, so every run replays.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..v.len()).rev() {
        state = mix(state);
        let j = (state % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
