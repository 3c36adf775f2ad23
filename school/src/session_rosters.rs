//! Loads what `attendance` needs from the database and shapes the results for the API and
//! reports: one session's roster, a class's sessions over a date range, a student's history
//! and per-student statistics. Read-only.
//!
//! A session whose register has been written (see [`crate::register`]) is read from the
//! register, as it was when it closed plus its amendments; an open one is computed live.

use chrono::NaiveDate;
use rollcall_shared::{ClassId, RecordId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use crate::attendance::Rules;
use crate::attendance::{self, Calendar, Evidence, RosterRow, Session};
use crate::review::ACCEPTED;
use rollcall_store::marks::{self, Mark, Override, Source};
use rollcall_store::register::{self, Amendment, ClosedSession, Code};
use rollcall_store::school::{self, Student};
use rollcall_store::sightings::{self, Movement};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{Sql, StoreError};

/// A session as listed.
#[derive(Clone, Debug, Serialize)]
pub struct SessionView {
    pub slot_id: Uuid,
    pub class_id: ClassId,
    pub class_name: String,
    pub room: String,
    pub day: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: UnixMillis,
    pub ends_at: UnixMillis,
    pub closed: bool,
    /// Its register is written: entries change only by amendment.
    pub locked: bool,
}

/// One line of a roster, with the student's name.
#[derive(Clone, Debug, Serialize)]
pub struct RosterLine {
    pub student: StudentId,
    pub name: String,
    pub mark: Option<Mark>,
    pub source: Source,
    pub first_seen_at: Option<UnixMillis>,
    /// When the student, there, left the site before the end (open sessions; a closed one
    /// says it with its code, `LE`).
    pub left_at: Option<UnixMillis>,
    pub reason: Option<String>,
    /// The attendance code in force (locked sessions only).
    pub code: Option<String>,
    /// What the register said when the session closed, then each amendment, oldest first.
    pub original_code: Option<String>,
    pub amendments: Vec<Amendment>,
    /// The records the register entry was written from (closed sessions only; an open
    /// session's evidence is whatever is accepted by the time it closes).
    pub evidence: Vec<RecordId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SessionRoster {
    pub session: SessionView,
    pub rows: Vec<RosterLine>,
}

/// Attendance figures of one student over a range.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentStats {
    pub student: StudentId,
    pub name: String,
    pub present: u32,
    pub late: u32,
    pub absent: u32,
    pub excused: u32,
    pub not_required: u32,
    /// (present + late) / (present + late + absent); `None` before any counted session.
    pub attendance_rate: Option<f64>,
}

pub fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

pub fn calendar(conn: &dyn Sql) -> Result<Calendar, StoreError> {
    Ok(Calendar {
        terms: timetable::terms(conn)?,
        holidays: timetable::holidays(conn)?,
    })
}

pub fn view(
    conn: &dyn Sql,
    s: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<SessionView, StoreError> {
    if let Some(closed) = register::session(conn, s.slot.id, s.day)? {
        return Ok(closed_view(&closed));
    }
    let class = school::class(conn, s.slot.class_id)?;
    Ok(SessionView {
        slot_id: s.slot.id,
        class_id: class.id,
        class_name: class.name,
        room: s.slot.room.clone(),
        day: s.day,
        start: hhmm(s.slot.start_minute),
        end: hhmm(s.slot.end_minute),
        starts_at: s.starts_at(rules),
        ends_at: s.ends_at(rules),
        closed: now >= s.ends_at(rules),
        locked: false,
    })
}

fn closed_view(c: &ClosedSession) -> SessionView {
    SessionView {
        slot_id: c.slot.id,
        class_id: c.slot.class_id,
        class_name: c.class_name.clone(),
        room: c.slot.room.clone(),
        day: c.day,
        start: hhmm(c.slot.start_minute),
        end: hhmm(c.slot.end_minute),
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        closed: true,
        locked: true,
    }
}

/// The session of `slot` on `day`: from the register once closed (whatever the timetable and
/// calendar say now), else if the timetable and calendar hold one.
pub fn session(conn: &dyn Sql, slot: Uuid, day: NaiveDate) -> Result<Session, StoreError> {
    if let Some(closed) = register::session(conn, slot, day)? {
        return Ok(Session {
            slot: closed.slot,
            day,
        });
    }
    let slot = timetable::slot(conn, slot)?;
    attendance::sessions_on(day, std::slice::from_ref(&slot), &calendar(conn)?)
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("session"))
}

/// The roster of one session at `now`.
pub fn session_roster(
    conn: &dyn Sql,
    session: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<SessionRoster, StoreError> {
    if let Some(closed) = register::session(conn, session.slot.id, session.day)? {
        return closed_roster(conn, &closed);
    }
    let loaded = Loaded::for_session(conn, session, rules)?;
    let rows = attendance::roster(session, rules, &loaded.evidence(), now);
    Ok(SessionRoster {
        session: view(conn, session, rules, now)?,
        rows: rows
            .into_iter()
            .zip(&loaded.students)
            .map(|(r, s)| line(r, s))
            .collect(),
    })
}

/// What one session's roster is computed from, read from the store: the class's members, the
/// accepted records in its room and the members' records anywhere inside its window, teachers'
/// marks.
#[derive(Debug)]
pub struct Loaded {
    pub students: Vec<Student>,
    ids: Vec<StudentId>,
    seen: Vec<(StudentId, UnixMillis, RecordId)>,
    sightings: Vec<(StudentId, UnixMillis)>,
    movements: Vec<Movement>,
    overrides: Vec<Override>,
}

impl Loaded {
    pub fn for_session(
        conn: &dyn Sql,
        session: &Session,
        rules: &Rules,
    ) -> Result<Loaded, StoreError> {
        // An inactive student stays in the class but is not expected; nor is one who joined
        // it after the session's day.
        let mut students = school::members_on(conn, session.slot.class_id, session.day)?;
        students.retain(|s| s.profile.active);
        let (from, to) = session.window(rules);
        let seen = sightings::in_room(conn, ACCEPTED, &session.slot.room, from, to)?;
        Ok(Loaded {
            ids: students.iter().map(|s| s.id).collect(),
            students,
            sightings: seen.iter().map(|&(s, at, _)| (s, at)).collect(),
            seen,
            movements: sightings::movements_of_class(
                conn,
                ACCEPTED,
                session.slot.class_id,
                from,
                to,
            )?,
            overrides: marks::for_session(conn, session.slot.id, session.day)?,
        })
    }

    pub fn evidence(&self) -> Evidence<'_> {
        Evidence {
            members: &self.ids,
            sightings: &self.sightings,
            movements: &self.movements,
            overrides: &self.overrides,
        }
    }

    /// Whether `student` has an accepted record anywhere on site inside the session's window.
    pub fn seen_on_site(&self, student: StudentId) -> bool {
        self.movements.iter().any(|m| m.student == student)
    }

    /// The records in the session's room that named `student`: a closed entry's evidence.
    pub fn records_of(&self, student: StudentId) -> impl Iterator<Item = RecordId> + '_ {
        self.seen
            .iter()
            .filter(move |(s, _, _)| *s == student)
            .map(|&(_, _, id)| id)
    }
}

fn line(r: RosterRow, s: &Student) -> RosterLine {
    RosterLine {
        student: r.student,
        name: s.name.clone(),
        mark: r.mark,
        source: r.source,
        first_seen_at: r.first_seen_at,
        left_at: r.left_at,
        reason: r.reason,
        code: None,
        original_code: None,
        amendments: Vec::new(),
        evidence: Vec::new(),
    }
}

/// A closed session's roster, from the register.
fn closed_roster(conn: &dyn Sql, closed: &ClosedSession) -> Result<SessionRoster, StoreError> {
    let codes = register::codes(conn)?;
    let mark_of = |code: &str| codes.iter().find(|c| c.code == code).map(|c: &Code| c.mark);
    let rows = register::entries(conn, closed.slot.id, closed.day)?
        .into_iter()
        .map(|e| RosterLine {
            student: e.student,
            name: e.student_name.clone(),
            mark: mark_of(e.code()),
            source: e.source,
            first_seen_at: e.first_seen_at,
            left_at: None,
            reason: e
                .amendments
                .last()
                .map(|a| a.reason.clone())
                .or(e.reason.clone()),
            code: Some(e.code().to_owned()),
            original_code: Some(e.original_code.clone()),
            amendments: e.amendments,
            evidence: e.evidence,
        })
        .collect();
    Ok(SessionRoster {
        session: closed_view(closed),
        rows,
    })
}

/// The sessions of `classes` on the days `from..=to`, in order: those closed in the register
/// (even if their slot or the day's place in the calendar has changed since) and those of
/// `slots` not yet closed, by the timetable and calendar.
pub fn sessions_between(
    conn: &dyn Sql,
    (classes, slots): (&[ClassId], &[Slot]),
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Session>, StoreError> {
    let closed = register::sessions_between(conn, from, to)?;
    let is_closed = |s: &Session| {
        closed
            .iter()
            .any(|c| c.slot.id == s.slot.id && c.day == s.day)
    };
    let mut out: Vec<Session> = attendance::sessions_between(from, to, slots, &calendar(conn)?)
        .into_iter()
        .filter(|s| !is_closed(s))
        .collect();
    out.extend(
        closed
            .into_iter()
            .filter(|c| classes.contains(&c.slot.class_id))
            .map(|c| Session {
                slot: c.slot,
                day: c.day,
            }),
    );
    out.sort_by(|a, b| {
        (a.day, a.slot.start_minute, &a.slot.room).cmp(&(b.day, b.slot.start_minute, &b.slot.room))
    });
    Ok(out)
}

/// `student`'s lessons on `day`: those of their classes by the timetable and calendar, and
/// those already written in the register.
pub fn lessons_of(
    conn: &dyn Sql,
    student: StudentId,
    day: NaiveDate,
) -> Result<Vec<Session>, StoreError> {
    let classes = school::classes_of(conn, student)?;
    let mut slots = Vec::new();
    for class in &classes {
        slots.extend(timetable::slots_of_class(conn, *class)?);
    }
    sessions_between(conn, (&classes, &slots), day, day)
}

/// Every roster of the sessions of `slots` between `from` and `to`, in order.
pub fn rosters_between(
    conn: &dyn Sql,
    (classes, slots): (&[ClassId], &[Slot]),
    from: NaiveDate,
    to: NaiveDate,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<SessionRoster>, StoreError> {
    sessions_between(conn, (classes, slots), from, to)?
        .iter()
        .map(|s| session_roster(conn, s, rules, now))
        .collect()
}

/// Per-student figures over `rosters`, in the order students first appear.
pub fn stats(rosters: &[SessionRoster]) -> Vec<StudentStats> {
    let mut out: Vec<StudentStats> = Vec::new();
    for line in rosters.iter().flat_map(|r| &r.rows) {
        let i = match out.iter().position(|s| s.student == line.student) {
            Some(i) => i,
            None => {
                out.push(StudentStats {
                    student: line.student,
                    name: line.name.clone(),
                    present: 0,
                    late: 0,
                    absent: 0,
                    excused: 0,
                    not_required: 0,
                    attendance_rate: None,
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        match line.mark {
            Some(Mark::Present) => s.present += 1,
            Some(Mark::Late) => s.late += 1,
            Some(Mark::Absent) => s.absent += 1,
            Some(Mark::Excused) => s.excused += 1,
            Some(Mark::NotRequired) => s.not_required += 1,
            None => {}
        }
    }
    for s in &mut out {
        let attended = f64::from(s.present + s.late);
        let counted = attended + f64::from(s.absent);
        s.attendance_rate = (counted > 0.0).then(|| attended / counted);
    }
    out
}

/// `student`'s line marked `mark`, made by a record: for tests of what is counted.
#[cfg(test)]
pub(crate) fn sample_line(student: StudentId, mark: Option<Mark>) -> RosterLine {
    RosterLine {
        student,
        name: "A".into(),
        mark,
        source: Source::Record,
        first_seen_at: None,
        left_at: None,
        reason: None,
        code: None,
        original_code: None,
        amendments: Vec::new(),
        evidence: Vec::new(),
    }
}

/// A closed session of `class` (called `name`) on `day`, with a line per mark, each a student
/// of its own: for tests of what is counted.
#[cfg(test)]
pub(crate) fn sample_roster(
    class: ClassId,
    name: &str,
    day: NaiveDate,
    marks: &[Option<Mark>],
) -> SessionRoster {
    SessionRoster {
        session: SessionView {
            slot_id: Uuid::nil(),
            class_id: class,
            class_name: name.into(),
            room: "Lab 3".into(),
            day,
            start: hhmm(540),
            end: hhmm(600),
            starts_at: UnixMillis(0),
            ends_at: UnixMillis(0),
            closed: true,
            locked: false,
        },
        rows: marks
            .iter()
            .map(|&mark| sample_line(StudentId::random(), mark))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_late_as_attended_and_ignore_excused_and_not_required() {
        let student = StudentId::random();
        let mk = |mark| sample_line(student, mark);
        let session = SessionView {
            slot_id: Uuid::nil(),
            class_id: ClassId::random(),
            class_name: "c".into(),
            room: "r".into(),
            day: NaiveDate::default(),
            start: hhmm(540),
            end: hhmm(600),
            starts_at: UnixMillis(0),
            ends_at: UnixMillis(0),
            closed: true,
            locked: false,
        };
        let marks = [
            Some(Mark::Present),
            Some(Mark::Late),
            Some(Mark::Absent),
            Some(Mark::Excused),
            Some(Mark::NotRequired),
            None,
        ];
        let rosters: Vec<_> = marks
            .into_iter()
            .map(|m| SessionRoster {
                session: session.clone(),
                rows: vec![mk(m)],
            })
            .collect();
        let s = &stats(&rosters)[0];
        assert_eq!(
            (s.present, s.late, s.absent, s.excused, s.not_required),
            (1, 1, 1, 1, 1)
        );
        assert!((s.attendance_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(hhmm(545), "09:05");
    }
}
