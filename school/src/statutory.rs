//! England's statutory sessions: the register of record is taken twice a day, a morning (AM)
//! and an afternoon (PM) session, whatever the timetable's lessons. Each pupil gets one mark
//! for each, with its DfE code, made from the lessons Rollcall already registers, the way the
//! school says (`[register.statutory]`, [`StatutoryConfig`](crate::settings::StatutoryConfig)):
//!
//! - **From a registration lesson** (`morning = "08:45"`): the register of the pupil's lesson
//!   that starts at that time (form time) is the session's.
//! - **From the first lesson** (`morning = "first_lesson"`, the default): the register of the
//!   pupil's first lesson of the session is the session's.
//!
//! Either way the session's mark is that lesson's code, except:
//!
//! - `LE` (there, and left before the lesson ended) is present: the pupil was there when the
//!   register was taken; leaving is the next lesson's to say.
//! - `N` (no reason yet) in that lesson, with the pupil present or late in a later lesson of the
//!   same session, is `U`: arrived after the register closed (DfE), an unauthorised absence
//!   until the office says otherwise by amending the lesson.
//! - Present is `/` in the morning and `\` in the afternoon, as the DfE writes them.
//!
//! Nothing is stored: the marks are read from the lessons' registers each time, so an
//! amendment to a lesson changes its session's mark at once. A session whose deciding lesson's
//! register is not yet written has no mark yet; a pupil with no lesson in it has none at all.
//! [`SessionRule`] is the rule, pure; [`of_class`] reads a class's pupils' lessons (in every
//! class they belong to) through `session_rosters` and applies it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveTime, Timelike};
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use crate::attendance::Rules;
use crate::session_rosters::{self, SessionRoster};
use rollcall_store::marks::Mark;
use rollcall_store::{Sql, StoreError, register, school, timetable};

/// One of the day's two statutory sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    Am,
    Pm,
}

/// Which lesson's register makes a session's mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkFrom {
    /// The pupil's lesson that starts at this minute of the day: form time.
    Registration(u16),
    /// The pupil's first lesson of the session.
    FirstLesson,
}

/// How the day splits and how each half is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionRule {
    /// Lessons starting at or after this minute of the day are the afternoon's.
    pub afternoon_from: u16,
    pub morning: MarkFrom,
    pub afternoon: MarkFrom,
}

/// One of a pupil's lessons on a day, as the rule reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub slot: Uuid,
    /// Minute of the day it starts.
    pub starts: u16,
    /// The code in force and how it counts, once the lesson's register is written.
    pub written: Option<(String, Mark)>,
    /// The live mark of a lesson not yet written.
    pub live: Option<Mark>,
}

impl Lesson {
    fn attended(&self) -> bool {
        let mark = self.written.as_ref().map(|(_, m)| *m).or(self.live);
        matches!(mark, Some(Mark::Present | Mark::Late))
    }
}

/// A session's mark: its code, and the lesson it was made from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionMark {
    pub code: String,
    pub from_slot: Uuid,
}

/// A pupil's day: the morning's and the afternoon's marks (`None`: not yet, or no lesson).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayMarks {
    pub day: NaiveDate,
    pub am: Option<SessionMark>,
    pub pm: Option<SessionMark>,
}

/// One pupil's statutory register over a range of days.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PupilRegister {
    pub student: StudentId,
    pub name: String,
    /// The school's reference for the pupil (its MIS's), when the roster gave one.
    pub external_ref: Option<String>,
    pub days: Vec<DayMarks>,
}

/// The code DfE writes for present in each session.
pub fn present_code(half: Half) -> &'static str {
    match half {
        Half::Am => "/",
        Half::Pm => "\\",
    }
}

impl SessionRule {
    /// Which half a lesson starting at `minute` belongs to.
    pub fn half_of(&self, minute: u16) -> Half {
        if minute < self.afternoon_from {
            Half::Am
        } else {
            Half::Pm
        }
    }

    /// The mark of `half` from a pupil's `lessons` of one day (any order).
    pub fn mark(&self, lessons: &[Lesson], half: Half) -> Option<SessionMark> {
        let mut ours: Vec<&Lesson> = lessons
            .iter()
            .filter(|l| self.half_of(l.starts) == half)
            .collect();
        ours.sort_by_key(|l| l.starts);
        let how = match half {
            Half::Am => self.morning,
            Half::Pm => self.afternoon,
        };
        let at = match how {
            MarkFrom::Registration(minute) => ours.iter().position(|l| l.starts == minute)?,
            MarkFrom::FirstLesson => 0,
        };
        let deciding = ours.get(at)?;
        let (code, _) = deciding.written.as_ref()?;
        let code = match code.as_str() {
            "/" | rollcall_store::register::LEFT_EARLY => present_code(half).to_owned(),
            "N" if ours[at + 1..].iter().any(|l| l.attended()) => "U".to_owned(),
            other => other.to_owned(),
        };
        Some(SessionMark {
            code,
            from_slot: deciding.slot,
        })
    }

    /// Both marks of a pupil's day.
    pub fn day(&self, day: NaiveDate, lessons: &[Lesson]) -> DayMarks {
        DayMarks {
            day,
            am: self.mark(lessons, Half::Am),
            pm: self.mark(lessons, Half::Pm),
        }
    }
}

/// The statutory register of `class`'s current members over `days` (both included): every
/// day any of them had a lesson, each pupil's two marks made by `rule` from their lessons in
/// every class they belong to (a form's pupils are registered in their sets' lessons too).
pub fn of_class(
    conn: &dyn Sql,
    class: ClassId,
    days: (NaiveDate, NaiveDate),
    (rules, rule): (&Rules, &SessionRule),
    now: UnixMillis,
) -> Result<Vec<PupilRegister>, StoreError> {
    let pupils = school::members(conn, class)?;
    let mut classes = BTreeSet::new();
    for pupil in &pupils {
        classes.extend(school::classes_of(conn, pupil.id)?);
    }
    let classes: Vec<ClassId> = classes.into_iter().collect();
    registers(conn, (pupils, &classes), days, (rules, rule), now)
}

/// The statutory register of every pupil in a class over `days`, as [`of_class`] makes it:
/// what the school's MIS is sent (`crate::mis`).
pub fn of_school(
    conn: &dyn Sql,
    days: (NaiveDate, NaiveDate),
    (rules, rule): (&Rules, &SessionRule),
    now: UnixMillis,
) -> Result<Vec<PupilRegister>, StoreError> {
    let classes: Vec<ClassId> = school::classes(conn)?.into_iter().map(|c| c.id).collect();
    let mut pupils = BTreeMap::new();
    for class in &classes {
        for pupil in school::members(conn, *class)? {
            pupils.entry(pupil.id).or_insert(pupil);
        }
    }
    let pupils = pupils.into_values().collect();
    registers(conn, (pupils, &classes), days, (rules, rule), now)
}

/// `student`'s statutory day, with the lesson each mark was made from.
pub fn of_pupil(
    conn: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
    (rules, rule): (&Rules, &SessionRule),
    now: UnixMillis,
) -> Result<DayMarks, StoreError> {
    let pupil = school::student(conn, student)?;
    let classes = school::classes_of(conn, student)?;
    let registers = registers(
        conn,
        (vec![pupil], &classes),
        (day, day),
        (rules, rule),
        now,
    )?;
    let found = registers
        .into_iter()
        .flat_map(|r| r.days)
        .find(|d| d.day == day);
    Ok(found.unwrap_or(DayMarks {
        day,
        am: None,
        pm: None,
    }))
}

/// The registers of `pupils` from the lessons of `classes` (every class any of them is in).
fn registers(
    conn: &dyn Sql,
    (pupils, classes): (Vec<school::Student>, &[ClassId]),
    days: (NaiveDate, NaiveDate),
    (rules, rule): (&Rules, &SessionRule),
    now: UnixMillis,
) -> Result<Vec<PupilRegister>, StoreError> {
    let mut slots = Vec::new();
    for c in classes {
        slots.extend(timetable::slots_of_class(conn, *c)?);
    }
    let rosters =
        session_rosters::rosters_between(conn, (classes, &slots), days.0, days.1, rules, now)?;
    let counts: HashMap<String, Mark> = register::codes(conn)?
        .into_iter()
        .map(|c| (c.code, c.mark))
        .collect();
    let lessons = lessons_by_pupil(&rosters, &counts);
    let school_days: BTreeSet<NaiveDate> = rosters.iter().map(|r| r.session.day).collect();
    Ok(pupils
        .into_iter()
        .map(|pupil| {
            let days = school_days
                .iter()
                .map(|&day| {
                    let theirs = lessons.get(&(pupil.id, day)).map_or(&[][..], Vec::as_slice);
                    rule.day(day, theirs)
                })
                .collect();
            PupilRegister {
                student: pupil.id,
                name: pupil.name,
                external_ref: pupil.external_ref,
                days,
            }
        })
        .collect())
}

/// Each pupil's lessons of each day, from the rosters' lines.
fn lessons_by_pupil(
    rosters: &[SessionRoster],
    counts: &HashMap<String, Mark>,
) -> BTreeMap<(StudentId, NaiveDate), Vec<Lesson>> {
    let mut out: BTreeMap<(StudentId, NaiveDate), Vec<Lesson>> = BTreeMap::new();
    for roster in rosters {
        let s = &roster.session;
        // The lesson's start as its register wrote it (a later timetable change does not move
        // a closed lesson into the other session).
        let Ok(start) = NaiveTime::parse_from_str(&s.start, "%H:%M") else {
            continue;
        };
        let starts = (start.hour() * 60 + start.minute()) as u16;
        for line in &roster.rows {
            let written = match (&line.code, s.locked) {
                (Some(code), true) => {
                    let mark = counts
                        .get(code)
                        .copied()
                        .or(line.mark)
                        .unwrap_or(Mark::Absent);
                    Some((code.clone(), mark))
                }
                _ => None,
            };
            out.entry((line.student, s.day)).or_default().push(Lesson {
                slot: s.slot_id,
                starts,
                written,
                live: line.mark,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
