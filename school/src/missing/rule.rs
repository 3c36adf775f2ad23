//! The rule, pure: which pupils in school are missing from a lesson, which of those alerted
//! stopped being missing and why, and which registers are not taken. Everything it reads is
//! the day so far, handed in by `super::watch`.

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{ClassId, Direction, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use crate::attendance::Rules;
use crate::session_rosters::hhmm;
use rollcall_store::marks::Mark;
use rollcall_store::missing::{Alert, Ending};
use rollcall_store::sightings::Movement;
use rollcall_store::sign_outs::RECEPTION;

/// One of the day's lessons that has started, as watched.
#[derive(Clone, Debug)]
pub struct Lesson {
    pub slot_id: Uuid,
    pub day: NaiveDate,
    pub class_id: ClassId,
    pub class_name: String,
    pub room: String,
    pub teacher: Option<Uuid>,
    pub starts_at: UnixMillis,
    pub ends_at: UnixMillis,
    /// Its register is written: only amendments change it, nothing is waiting.
    pub locked: bool,
    pub pupils: Vec<Pupil>,
    /// Records in its room and window a teacher has still to decide.
    pub cards: usize,
}

impl Lesson {
    fn overlaps(&self, other: &Lesson) -> bool {
        self.starts_at < other.ends_at && other.starts_at < self.ends_at
    }

    fn pupil(&self, student: StudentId) -> Option<&Pupil> {
        self.pupils.iter().find(|p| p.student == student)
    }

    /// The key its alerts are kept under.
    pub fn key(&self, student: StudentId) -> (Uuid, NaiveDate, StudentId) {
        (self.slot_id, self.day, student)
    }
}

/// A pupil on a lesson's roster, as marked so far.
#[derive(Clone, Debug)]
pub struct Pupil {
    pub student: StudentId,
    pub name: String,
    /// `None`: not marked yet.
    pub mark: Option<Mark>,
    /// When a door (or a class photo) first saw them in the lesson.
    pub seen_at: Option<UnixMillis>,
}

impl Pupil {
    fn there(&self) -> bool {
        matches!(self.mark, Some(Mark::Present | Mark::Late))
    }

    /// An excused mark (a family's reason the office accepted is one) or not required.
    fn has_reason(&self) -> bool {
        matches!(self.mark, Some(Mark::Excused | Mark::NotRequired))
    }

    /// Not marked, or marked absent by a teacher who did not see them: either way not there
    /// and with no reason.
    fn unaccounted(&self) -> bool {
        matches!(self.mark, None | Some(Mark::Absent))
    }
}

/// A pupil in school today and missing from a lesson that started more than the school's
/// minutes ago.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub slot_id: Uuid,
    pub day: NaiveDate,
    pub class_id: ClassId,
    pub class_name: String,
    pub room: String,
    pub starts_at: UnixMillis,
    pub student: StudentId,
    pub name: String,
    /// What showed them in school: "seen at Main gate at 08:40", "present in 7B at 09:02".
    pub in_school: String,
}

impl Missing {
    /// The alert it is kept as, raised at `now`.
    pub fn alert(&self, now: UnixMillis) -> Alert {
        Alert {
            slot_id: self.slot_id,
            day: self.day,
            student: self.student,
            class_name: self.class_name.clone(),
            room: self.room.clone(),
            starts_at: self.starts_at,
            in_school: self.in_school.clone(),
            alerted_at: now,
            ended: None,
            ended_at: None,
        }
    }
}

/// A register with cards or pupils still to decide the school's minutes after it started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotTaken {
    pub slot_id: Uuid,
    pub day: NaiveDate,
    pub class_id: ClassId,
    pub class_name: String,
    pub room: String,
    pub teacher: Option<Uuid>,
    pub starts_at: UnixMillis,
    pub ends_at: UnixMillis,
    pub unmarked: usize,
    pub cards: usize,
}

/// What the day says of one pupil up to `now`: the first thing that put them in school, and
/// whether a door saw them leave after the last.
#[derive(Clone, Debug, Default)]
struct Trail {
    first: Option<(UnixMillis, String)>,
    last_here: Option<UnixMillis>,
    left_at: Option<UnixMillis>,
}

impl Trail {
    fn here(&mut self, at: UnixMillis, said: impl FnOnce() -> String) {
        if self.first.as_ref().is_none_or(|(t, _)| at < *t) {
            self.first = Some((at, said()));
        }
        self.last_here = self.last_here.max(Some(at));
    }

    /// What puts them in school now, unless they left after it (signed back in at the instant
    /// they were signed out is back).
    fn in_school(&self) -> Option<&str> {
        let (_, said) = self.first.as_ref()?;
        match (self.left_at, self.last_here) {
            (Some(left), Some(here)) if left > here => None,
            _ => Some(said),
        }
    }
}

/// The day's trails at `now`: each pupil's movements (a gate, a door, a class photo) and their
/// Present or Late marks in the lessons started so far.
fn trails(
    lessons: &[Lesson],
    movements: &[Movement],
    rules: &Rules,
    now: UnixMillis,
) -> HashMap<StudentId, Trail> {
    let clock = |at: UnixMillis| hhmm(rules.zone.local(at.0).minute);
    let mut trails: HashMap<StudentId, Trail> = HashMap::new();
    for m in movements.iter().filter(|m| m.at <= now) {
        let trail = trails.entry(m.student).or_default();
        if m.leaves() {
            trail.left_at = trail.left_at.max(Some(m.at));
        } else if m.room == RECEPTION && m.direction == Some(Direction::In) {
            trail.here(m.at, || {
                format!("signed back in at reception at {}", clock(m.at))
            });
        } else {
            trail.here(m.at, || format!("seen at {} at {}", m.room, clock(m.at)));
        }
    }
    for lesson in lessons.iter().filter(|l| l.starts_at <= now) {
        for pupil in lesson.pupils.iter().filter(|p| p.there()) {
            let at = pupil.seen_at.unwrap_or(lesson.starts_at).min(now);
            trails.entry(pupil.student).or_default().here(at, || {
                let how = if pupil.mark == Some(Mark::Late) {
                    "late"
                } else {
                    "present"
                };
                format!("{how} in {} at {}", lesson.class_name, clock(at))
            });
        }
    }
    trails
}

/// Whether `student` is marked there in a lesson other than `lesson` that runs at the same
/// time (a pupil timetabled in two at once is where a teacher found them).
fn there_elsewhere(lessons: &[Lesson], lesson: &Lesson, student: StudentId) -> bool {
    lessons
        .iter()
        .filter(|l| l.slot_id != lesson.slot_id && l.overlaps(lesson))
        .any(|l| l.pupil(student).is_some_and(Pupil::there))
}

/// Whether `lesson` is one a pupil can be missing from at `now`: started `after` ago and not
/// over.
fn watched(lesson: &Lesson, after: i64, now: UnixMillis) -> bool {
    lesson.starts_at.0.saturating_add(after) <= now.0 && now < lesson.ends_at
}

/// Every pupil missing at `now` (see the module docs of `crate::missing`): in school, not
/// marked there nor excused in a lesson started more than `after_minutes` ago, nor marked
/// there in another at the same time. By lesson start, then class, then name.
pub fn missing(
    lessons: &[Lesson],
    movements: &[Movement],
    rules: &Rules,
    after_minutes: u32,
    now: UnixMillis,
) -> Vec<Missing> {
    let after = i64::from(after_minutes) * 60_000;
    let trails = trails(lessons, movements, rules, now);
    let mut found: Vec<Missing> = lessons
        .iter()
        .filter(|l| watched(l, after, now))
        .flat_map(|lesson| {
            let trails = &trails;
            lesson
                .pupils
                .iter()
                .filter(|p| p.unaccounted())
                .filter(move |p| !there_elsewhere(lessons, lesson, p.student))
                .filter_map(move |p| {
                    let in_school = trails.get(&p.student)?.in_school()?;
                    Some(Missing {
                        slot_id: lesson.slot_id,
                        day: lesson.day,
                        class_id: lesson.class_id,
                        class_name: lesson.class_name.clone(),
                        room: lesson.room.clone(),
                        starts_at: lesson.starts_at,
                        student: p.student,
                        name: p.name.clone(),
                        in_school: in_school.to_owned(),
                    })
                })
        })
        .collect();
    found.sort_by(|a, b| {
        (a.starts_at, &a.class_name, &a.name).cmp(&(b.starts_at, &b.class_name, &b.name))
    });
    found
}

/// How an open alert ends at `now`, if it does: the pupil is no longer in `missing_now`.
/// Found (with when they were seen, or `now` for a teacher's mark) when marked there in the
/// lesson or one at the same time; otherwise a reason, gone off site, the lesson over, or the
/// lesson gone from today's timetable.
pub fn ending(
    alert: &Alert,
    lessons: &[Lesson],
    movements: &[Movement],
    missing_now: &[Missing],
    now: UnixMillis,
) -> Option<(Ending, UnixMillis)> {
    let key = (alert.slot_id, alert.day, alert.student);
    if missing_now
        .iter()
        .any(|m| (m.slot_id, m.day, m.student) == key)
    {
        return None;
    }
    let Some(lesson) = lessons
        .iter()
        .find(|l| (l.slot_id, l.day) == (alert.slot_id, alert.day))
    else {
        return Some((Ending::LessonGone, now));
    };
    let pupil = lesson.pupil(alert.student);
    if let Some(p) = pupil.filter(|p| p.there()) {
        return Some((Ending::Found, p.seen_at.unwrap_or(now).min(now)));
    }
    let elsewhere = lessons
        .iter()
        .filter(|l| l.slot_id != lesson.slot_id && l.overlaps(lesson))
        .find_map(|l| l.pupil(alert.student).filter(|p| p.there()));
    if let Some(p) = elsewhere {
        return Some((Ending::Found, p.seen_at.unwrap_or(now).min(now)));
    }
    if pupil.is_some_and(Pupil::has_reason) {
        return Some((Ending::Reason, now));
    }
    if now >= lesson.ends_at {
        return Some((Ending::LessonOver, now));
    }
    if pupil.is_none() {
        return Some((Ending::LessonGone, now));
    }
    let left = movements
        .iter()
        .filter(|m| m.student == alert.student && m.at <= now && m.leaves())
        .map(|m| m.at)
        .max();
    Some(left.map_or((Ending::Reason, now), |at| (Ending::Left, at)))
}

/// The registers not taken at `now`: lessons started `after_minutes` ago or more, not yet
/// written, with cards to decide or (while the lesson runs) pupils not marked. By start.
pub fn not_taken(lessons: &[Lesson], after_minutes: u32, now: UnixMillis) -> Vec<NotTaken> {
    let after = i64::from(after_minutes) * 60_000;
    lessons
        .iter()
        .filter(|l| !l.locked && l.starts_at.0.saturating_add(after) <= now.0)
        .filter_map(|l| {
            let unmarked = if now < l.ends_at {
                l.pupils.iter().filter(|p| p.mark.is_none()).count()
            } else {
                0
            };
            (unmarked + l.cards > 0).then(|| NotTaken {
                slot_id: l.slot_id,
                day: l.day,
                class_id: l.class_id,
                class_name: l.class_name.clone(),
                room: l.room.clone(),
                teacher: l.teacher,
                starts_at: l.starts_at,
                ends_at: l.ends_at,
                unmarked,
                cards: l.cards,
            })
        })
        .collect()
}
