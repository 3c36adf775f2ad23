//! Learning over days at a doorway (issue 32, point 6): the same school on consecutive days,
//! every walk-in under the `doorway` preset with that day's photo, once with a gallery that
//! never changes and once with one that learns as the hub does (`rollcall_models::learning`):
//! after each day, a student's Confident capture within the `CONFIDENT` rules and a review
//! card the teacher confirms or reassigns to them (within the `REVIEWED` rules) become one of
//! their templates, the record's combined embedding, at most `MAX_LEARNED` of them, when the
//! record's face passes the hub's enrolment gate (`QualityGate::enrolment`, as the hub checks
//! a record before learning it) and is good enough (`learning::good_enough`). Wrong names and
//! Unknown faces teach nothing.

use rollcall_models::learning::{CONFIDENT, Evidence, REVIEWED, Rules, good_enough, judge};
use rollcall_models::matching::{Decision, Embedding};
use rollcall_models::quality::QualityGate;

use crate::burst::{Door, Record};
use crate::frames::Frames;
use crate::report::{Outcome, Tally, walk_frames, walk_in};
use crate::school::{Arrival, School};

/// The condition every day is filmed under.
pub const CONDITION: &str = "doorway";

/// One day's outcomes and how many faces were learned after it.
pub struct Day {
    pub tally: Tally,
    pub learned: usize,
}

/// Runs every day of `school` from `n` frames a walk-in; learns after each day when `learn`.
pub fn simulate(
    school: &School,
    frames: &Frames,
    door: &Door,
    n: usize,
    seed: u64,
    learn: bool,
) -> Vec<Day> {
    let mut school = school.clone();
    let days: Vec<Vec<Arrival>> = std::iter::once(school.arrivals.clone())
        .chain(school.later.iter().cloned())
        .collect();
    let mut out = Vec::new();
    for arrivals in &days {
        let mut tally = Tally::default();
        let mut lessons = Vec::new();
        for a in arrivals {
            let Some(walk) = walk_frames(frames, a, CONDITION, n, seed) else {
                continue;
            };
            let (o, _, made) = walk_in(&school, a, &walk, door);
            tally.add(a.student.is_some(), o);
            if let Some(student) = a.student {
                lessons.extend(lesson(&school, student, o, &made).map(|face| (student, face)));
            }
        }
        let learned = lessons.len();
        if learn {
            for (student, face) in lessons {
                school.learn(student, face);
            }
            school.rebuild();
        }
        out.push(Day { tally, learned });
    }
    out
}

/// The face the hub would learn for `student` from their walk-in's records, if any.
fn lesson(school: &School, student: usize, o: Outcome, made: &[Record]) -> Option<Embedding> {
    let (wanted, rules): (Decision, &Rules) = match o {
        Outcome::Confident => (Decision::Confident, &CONFIDENT),
        Outcome::Card => (Decision::Uncertain, &REVIEWED),
        _ => return None,
    };
    let record = made.iter().find(|r| r.decision == wanted)?;
    QualityGate::enrolment().check(&record.quality).ok()?;
    let q = &record.quality;
    good_enough(q.sharpness, q.detector_score).then_some(())?;
    let evidence = Evidence {
        own: school.distance_to(&record.embedding, student),
        other: record
            .matches
            .iter()
            .find(|m| m.id != student)
            .map(|m| m.distance),
        last_learned_at: None,
        now: 0,
    };
    judge(&evidence, rules).ok().map(|()| record.embedding)
}

/// Day by day, without and with learning.
pub fn table(half: &str, plain: &[Day], learning: &[Day]) {
    println!("\n### {half}, day by day under `{CONDITION}`\n");
    println!(
        "| day | students | automation, no learning | automation, learning | wrong names (no / with) | strangers | strangers accepted (no / with) | faces learned after the day |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (d, (p, l)) in plain.iter().zip(learning).enumerate() {
        let (sp, sl) = (&p.tally.students, &l.tally.students);
        let students: usize = sp.iter().sum();
        let strangers: usize = p.tally.strangers.iter().sum();
        let right = |s: &[usize; 7]| s[Outcome::Confident as usize];
        println!(
            "| {} | {students} | {} | {} | {} / {} | {strangers} | {} / {} | {} |",
            d + 1,
            pct(right(sp), students),
            pct(right(sl), students),
            sp[Outcome::Wrong as usize],
            sl[Outcome::Wrong as usize],
            p.tally.strangers[Outcome::Confident as usize],
            l.tally.strangers[Outcome::Confident as usize],
            l.learned,
        );
    }
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1} % ({n})", 100.0 * n as f64 / of.max(1) as f64)
}
