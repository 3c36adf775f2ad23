//! A class photo's faces named jointly: every face is searched among the lesson's class
//! only, and a student appears at most once in a photo, so the faces are assigned to
//! students together rather than one by one. Pure.
//!
//! 1. *Reach*: a face may be named as a student within its grade's confident band
//!    ([`Thresholds::at`]: good, weak; an unclear face never names anybody).
//! 2. *Assign*: the assignment of least total cost, each student to at most one face, where a
//!    face named as a student costs its distance less its band and a face left unnamed costs
//!    nothing (so a pair is made only when it beats leaving the face out; without that, the
//!    least total distance would be to name nobody). Solved exactly (`hungarian.rs`).
//! 3. *Clarity*: for each named face, the best other assignment in which it is not named as
//!    that student: it names another student (up to its band plus the margin), or it names
//!    nobody while another face names that student. When that alternative costs less than
//!    `min_margin` more, the faces it changes (this one included) are not clear: they are
//!    asked (Uncertain) rather than guessed. For a face alone this is the door's margin rule.
//! 4. A face named and clear is Confident; any other face is Uncertain when its nearest
//!    student is within `uncertain`, else Unknown.

use std::collections::HashMap;
use std::hash::Hash;

use super::decision::{Decision, Thresholds};
use super::gallery::Match;
use super::hungarian::least_cost;
use crate::quality::Grade;

/// One face of a photo as the search saw it.
#[derive(Debug, Clone, Copy)]
pub struct PhotoFace<'a, Id> {
    pub grade: Grade,
    /// Its distance to every student of the class, nearest first (a search for the whole
    /// class: a student left out cannot be named, nor explain the face).
    pub matches: &'a [Match<Id>],
}

/// What one face of a photo is judged to be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Named<Id> {
    pub decision: Decision,
    /// The student the photo's assignment names it as: Confident when clear, else Uncertain.
    /// `None` for a face the assignment left unnamed.
    pub student: Option<Id>,
}

/// A cost no assignment may take; finite, so the solver's arithmetic stays exact.
const FORBIDDEN: f64 = 1e6;
/// Taken off every pair into the one column an alternative must fill (far more than any
/// real cost, far less than [`FORBIDDEN`]).
const MUST: f64 = 1e3;

/// Judges the faces of one photo together (see the module docs).
pub fn name_jointly<Id: Copy + Eq + Hash>(
    faces: &[PhotoFace<'_, Id>],
    thresholds: &Thresholds,
) -> Vec<Named<Id>> {
    let problem = Problem::new(faces, thresholds);
    let best = problem.solve(&Constraint::None);
    let mut unclear = vec![false; problem.rows.len()];
    if let Some(best) = &best {
        for (row, named) in best.students.iter().enumerate() {
            let Some(student) = *named else { continue };
            let alternatives = [
                Constraint::Elsewhere { row, student },
                Constraint::Taken { row, student },
            ];
            for alternative in alternatives.iter().filter_map(|c| problem.solve(c)) {
                if alternative.cost - best.cost < f64::from(thresholds.min_margin) {
                    unclear[row] = true;
                    for (r, flag) in unclear.iter_mut().enumerate() {
                        *flag |= alternative.students[r] != best.students[r];
                    }
                }
            }
        }
    }
    faces
        .iter()
        .enumerate()
        .map(|(face, f)| {
            let row = problem.rows.iter().position(|&r| r == face);
            let student = row.and_then(|r| best.as_ref()?.students[r]);
            let nearest = f.matches.first().map(|m| m.distance);
            let decision = match (student, row) {
                (Some(_), Some(r)) if !unclear[r] => Decision::Confident,
                _ if nearest.is_some_and(|d| d <= thresholds.uncertain) => Decision::Uncertain,
                _ => Decision::Unknown,
            };
            Named {
                decision,
                student: student.map(|s| problem.students[s]),
            }
        })
        .collect()
}

/// What an alternative assignment must do.
enum Constraint {
    None,
    /// The face of `row` names a student other than `student`.
    Elsewhere {
        row: usize,
        student: usize,
    },
    /// The face of `row` names nobody, and another face names `student`.
    Taken {
        row: usize,
        student: usize,
    },
}

/// An assignment: the student (column) of each row, and its cost.
struct Assignment {
    students: Vec<Option<usize>>,
    cost: f64,
}

/// The faces that reach anybody (rows), the students some face reaches (columns), and each
/// reachable pair's cost (distance less the face's band) and whether it is within the band.
struct Problem<Id> {
    rows: Vec<usize>,
    students: Vec<Id>,
    /// Row-major, `rows × students`: `None` out of reach.
    pairs: Vec<Option<Pair>>,
}

#[derive(Clone, Copy)]
struct Pair {
    cost: f64,
    in_band: bool,
}

impl<Id: Copy + Eq + Hash> Problem<Id> {
    fn new(faces: &[PhotoFace<'_, Id>], t: &Thresholds) -> Self {
        let mut students: Vec<Id> = Vec::new();
        let mut column: HashMap<Id, usize> = HashMap::new();
        let mut reached: Vec<(usize, Vec<(usize, Pair)>)> = Vec::new();
        for (face, f) in faces.iter().enumerate() {
            let band = t.at(f.grade).confident;
            let reach = band + t.min_margin;
            let mut pairs = Vec::new();
            for m in f.matches.iter().filter(|m| m.distance <= reach) {
                let next = students.len();
                let s = *column.entry(m.id).or_insert(next);
                if s == next {
                    students.push(m.id);
                }
                let cost = f64::from(m.distance) - f64::from(band);
                let in_band = m.distance <= band;
                if !pairs.iter().any(|(c, _)| *c == s) {
                    pairs.push((s, Pair { cost, in_band }));
                }
            }
            if !pairs.is_empty() {
                reached.push((face, pairs));
            }
        }
        let mut table = vec![None; reached.len() * students.len()];
        for (r, (_, pairs)) in reached.iter().enumerate() {
            for (s, pair) in pairs {
                table[r * students.len() + s] = Some(*pair);
            }
        }
        Problem {
            rows: reached.into_iter().map(|(face, _)| face).collect(),
            students,
            pairs: table,
        }
    }

    fn pair(&self, row: usize, student: usize) -> Option<Pair> {
        self.pairs[row * self.students.len() + student]
    }

    /// The least-cost assignment under `constraint`, if one exists. Columns: the students,
    /// then one "nobody" per row.
    fn solve(&self, constraint: &Constraint) -> Option<Assignment> {
        let (rows, students) = (self.rows.len(), self.students.len());
        if rows == 0 {
            return None;
        }
        let columns = students + rows;
        let mut cost = vec![FORBIDDEN; rows * columns];
        for r in 0..rows {
            for s in 0..students {
                if let Some(p) = self.pair(r, s) {
                    // The best assignment uses pairs within the band only; an alternative
                    // may stretch a face to its band plus the margin.
                    let allowed = p.in_band || !matches!(constraint, Constraint::None);
                    if allowed {
                        cost[r * columns + s] = p.cost;
                    }
                }
            }
            cost[r * columns + students + r] = 0.0;
        }
        match *constraint {
            Constraint::None => {}
            Constraint::Elsewhere { row, student } => {
                cost[row * columns + student] = FORBIDDEN;
                cost[row * columns + students + row] = FORBIDDEN;
            }
            Constraint::Taken { row, student } => {
                for s in 0..students {
                    cost[row * columns + s] = FORBIDDEN;
                }
                for r in (0..rows).filter(|&r| r != row) {
                    if cost[r * columns + student] < FORBIDDEN {
                        cost[r * columns + student] -= MUST;
                    }
                }
            }
        }
        let chosen = least_cost(&cost, rows, columns)?;
        let mut assignment = Assignment {
            students: Vec::with_capacity(rows),
            cost: 0.0,
        };
        for (r, &c) in chosen.iter().enumerate() {
            if cost[r * columns + c] >= FORBIDDEN {
                return None;
            }
            let named = (c < students).then_some(c);
            if let Some(s) = named {
                assignment.cost += self.pair(r, s).map_or(0.0, |p| p.cost);
            }
            assignment.students.push(named);
        }
        if let Constraint::Taken { student, .. } = *constraint
            && !assignment.students.contains(&Some(student))
        {
            return None;
        }
        Some(assignment)
    }
}

#[cfg(test)]
#[path = "assignment_tests.rs"]
mod tests;
