//! Staff at the gates (issue 56): what a gate pays for knowing the school's staff. A gate (a
//! door unit registered `in` or `out`) searches every student, and with staff on it every
//! member of staff too, in one search. For each `--staff K`, each half: its last K students
//! in name order become staff, and a gate searching everyone is run twice on 5-frame
//! walk-ins:
//!
//! 1. before: the gallery holds the students only, the bands narrowed for their number; the
//!    staff walk in as people it does not hold, as strangers do;
//! 2. with staff: the gallery holds students and staff, the bands narrowed for the total. A
//!    member of staff is named only when Confident: a review card whose nearest is a member
//!    of staff becomes Unknown, as at the gate.
//!
//! Students and the half's strangers are counted apart from the staff, each in a [`Tally`].

use rollcall_models::matching::Decision;

use crate::burst::{Door, Record};
use crate::frames::Frames;
use crate::report::{Outcome, Tally, door_frames, pct, tally_header, tally_row, walk_in};
use crate::school::{Arrival, School};

/// What `--staff` asks for: how many of each half's students become staff, for each run.
pub fn parse(list: &str) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(|k| match k.parse() {
            Ok(k) if k >= 1 => Ok(k),
            _ => Err(format!("--staff: {k:?} is not a number of staff")),
        })
        .collect()
}

/// A gate's gallery and who walks through it.
struct Gate {
    /// "students only" (before) or "with staff".
    name: &'static str,
    /// The gallery searched, and the students' and strangers' arrivals.
    school: School,
    /// The staff's arrivals: enrolled in the gallery (with staff), or not (before).
    staff: Vec<Arrival>,
    /// The first id of a member of staff in the gallery.
    first_staff: usize,
}

impl Gate {
    /// The gate before staff: the last `k` students of `school` are left out of its gallery.
    fn before(school: &School, k: usize) -> Gate {
        let mut gate = Gate {
            name: "students only",
            ..Gate::with_staff(school, k)
        };
        let n = gate.first_staff;
        let s = &mut gate.school;
        s.names.truncate(n);
        s.templates.truncate(n);
        s.enrolment_faces.truncate(n);
        s.enrolment.truncate(n);
        s.rebuild();
        gate.school.searched = n;
        gate.staff.iter_mut().for_each(|a| a.student = None);
        gate
    }

    /// The gate with staff: every student of `school` in its gallery, the last `k` as staff.
    fn with_staff(school: &School, k: usize) -> Gate {
        let first_staff = school.students().saturating_sub(k);
        let is_staff = |a: &Arrival| a.student.is_some_and(|i| i >= first_staff);
        let (staff, arrivals) = school.arrivals.iter().cloned().partition(is_staff);
        Gate {
            name: "with staff",
            school: School {
                arrivals,
                ..school.searching(school.students())
            },
            staff,
            first_staff,
        }
    }

    /// Students and strangers, and the staff, under `condition`, with the wrong names given;
    /// the bands narrowed by `step` for everyone the gallery holds.
    fn tally(
        &self,
        frames: &Frames,
        door: &Door,
        condition: &str,
        step: f32,
        seed: u64,
    ) -> [Tally; 2] {
        let door = Door {
            thresholds: door.thresholds.narrowed_for(self.school.searched(), step),
            ..*door
        };
        let people = [
            (&self.school.arrivals, "student", "stranger"),
            (&self.staff, "staff", "staff, not enrolled"),
        ];
        people.map(|(arrivals, enrolled, not)| {
            let mut t = Tally::default();
            for a in arrivals {
                if let Some(walk) = door_frames(frames, a, condition, &door, seed) {
                    let (o, wrong, made) = walk_in(&self.school, a, &walk, &door);
                    t.add(a.student.is_some(), self.staff_rule(o, &made));
                    let role = if a.student.is_some() { enrolled } else { not };
                    let who = format!("{} ({role}; gallery {})", a.person, self.name);
                    t.mistakes.extend(wrong.map(|m| (who, m)));
                }
            }
            t
        })
    }

    /// A review card is made only for a student: a card whose nearest is staff is Unknown.
    fn staff_rule(&self, o: Outcome, made: &[Record]) -> Outcome {
        let student_card = made.iter().any(|r| {
            r.decision == Decision::Uncertain && r.named.is_some_and(|i| i < self.first_staff)
        });
        match o {
            Outcome::Card if !student_card => Outcome::Unknown,
            o => o,
        }
    }
}

/// One half's figures under one condition for one K: before, and with staff.
struct Row {
    half: String,
    condition: &'static str,
    k: usize,
    before: [Tally; 2],
    with: [Tally; 2],
}

/// Prints the tables (see the module docs).
pub fn tables(
    halves: &[(&str, School)],
    frames: &Frames,
    door: &Door,
    conditions: &[&'static str],
    ks: &[usize],
    step: f32,
    seed: u64,
) {
    println!("\n## Staff at the gates: a gate searching everyone, the last K students as staff");
    let mut rows = Vec::new();
    for &k in ks {
        for (half, school) in halves {
            if k >= school.students() {
                println!("\n{half}: K = {k} leaves no students");
                continue;
            }
            let before = Gate::before(school, k);
            let with = Gate::with_staff(school, k);
            println!(
                "\n### {half}, K = {k}: {} students and {} staff, {}\n",
                before.school.students(),
                with.staff.len(),
                door.describe()
            );
            tally_header("gallery · condition · who walked in");
            let mut wrong = Vec::new();
            for &condition in conditions {
                let mut row = Row {
                    half: half.to_string(),
                    condition,
                    k,
                    before: before.tally(frames, door, condition, step, seed),
                    with: with.tally(frames, door, condition, step, seed),
                };
                print_tallies(&row, [&before, &with], door, step);
                let tallies = row.before.iter_mut().chain(row.with.iter_mut());
                let mistakes = tallies.flat_map(|t| std::mem::take(&mut t.mistakes));
                wrong.extend(mistakes.map(|m| (condition, m)));
                rows.push(row);
            }
            crate::print_mistakes(school, &wrong);
        }
    }
    summary(&rows);
}

fn print_tallies(row: &Row, gates: [&Gate; 2], door: &Door, step: f32) {
    for (gate, [people, staff]) in gates.into_iter().zip([&row.before, &row.with]) {
        let n = gate.school.searched();
        let t = door.thresholds.narrowed_for(n, step);
        let label = format!(
            "{}: {n} at {:.3} / {:.3} · {}",
            gate.name, t.confident, t.confident_weak, row.condition
        );
        tally_row(&format!("{label} · students, strangers"), people);
        tally_row(&format!("{label} · staff"), staff);
    }
}

/// The figures side by side: the students' and strangers' before and with staff, the staff's.
fn summary(rows: &[Row]) {
    println!("\n### Before → with staff (students: the share named right, Confident)\n");
    println!(
        "| K | half · condition | students' automation | students' cards | students' wrong names | strangers accepted | stranger cards | staff before: named as a student / cards | staff with: automation | staff with: wrong names | staff with: cards |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let at = |row: &[usize; 7], o: Outcome| row[o as usize];
    for r in rows {
        let [(s0, x0), (s1, x1)] = [&r.before[0], &r.with[0]].map(|t| (&t.students, &t.strangers));
        let (staff0, staff1) = (&r.before[1].strangers, &r.with[1].students);
        let (ns, nstaff) = (s0.iter().sum(), staff1.iter().sum());
        println!(
            "| {} | {} · {} | {} → {} | {} → {} | {} / {} | {} / {} of {} | {} → {} | {} / {} of {} | {} ({}) | {} | {} |",
            r.k,
            r.half,
            r.condition,
            pct(at(s0, Outcome::Confident), ns),
            pct(at(s1, Outcome::Confident), ns),
            at(s0, Outcome::Card),
            at(s1, Outcome::Card),
            at(s0, Outcome::Wrong),
            at(s1, Outcome::Wrong),
            at(x0, Outcome::Confident),
            at(x1, Outcome::Confident),
            x0.iter().sum::<usize>(),
            at(x0, Outcome::Card),
            at(x1, Outcome::Card),
            at(staff0, Outcome::Confident),
            at(staff0, Outcome::Card),
            staff0.iter().sum::<usize>(),
            pct(at(staff1, Outcome::Confident), nstaff),
            at(staff1, Outcome::Confident),
            at(staff1, Outcome::Wrong),
            at(staff1, Outcome::Card),
        );
    }
}
