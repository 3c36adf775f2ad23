//! The day so far read from the store, the leader's pass that alerts (once per pupil and
//! lesson) and ends alerts, and the board the Missing now page shows.

use std::collections::HashMap;

use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;

use super::rule::{self, Lesson, Missing, NotTaken, Pupil};
use crate::access::{self, AccessError};
use crate::attendance::Rules;
use crate::principal::Principal;
use crate::session_rosters::{self, session_roster};
use rollcall_store::missing::{self as stored, Alert, Ending};
use rollcall_store::records::{self, Status};
use rollcall_store::sightings::Movement;
use rollcall_store::{Sql, StoreError, school, timetable, users};

/// The school's choice (`[attendance] missing_after_minutes`): how long after a lesson starts
/// a pupil in school and not marked in it is missing, and its register not taken.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    pub after_minutes: u32,
}

/// Today so far at `now`: its lessons started by then, with their rosters and cards, and every
/// accepted record of the day.
#[derive(Debug)]
pub struct Day {
    pub lessons: Vec<Lesson>,
    pub movements: Vec<Movement>,
}

impl Day {
    pub fn load(conn: &dyn Sql, rules: &Rules, now: UnixMillis) -> Result<Day, StoreError> {
        let day = rules.local_day(now);
        let classes = school::classes(conn)?;
        let ids: Vec<_> = classes.iter().map(|c| c.id).collect();
        let slots = timetable::all_slots(conn)?;
        let mut lessons = Vec::new();
        for session in session_rosters::sessions_between(conn, (&ids, &slots), day, day)? {
            if session.starts_at(rules) > now {
                continue;
            }
            let roster = session_roster(conn, &session, rules, now)?;
            let (from, to) = session.window(rules);
            let cards = if roster.session.locked {
                0
            } else {
                records::in_room(conn, Status::Pending, &session.slot.room, from, to)?.len()
            };
            let class = classes.iter().find(|c| c.id == session.slot.class_id);
            lessons.push(Lesson {
                slot_id: session.slot.id,
                day,
                class_id: session.slot.class_id,
                class_name: roster.session.class_name,
                room: session.slot.room.clone(),
                teacher: class.and_then(|c| c.teacher_id),
                starts_at: roster.session.starts_at,
                ends_at: roster.session.ends_at,
                locked: roster.session.locked,
                pupils: roster
                    .rows
                    .into_iter()
                    .map(|r| Pupil {
                        student: r.student,
                        name: r.name,
                        mark: r.mark,
                        seen_at: r.first_seen_at,
                    })
                    .collect(),
                cards,
            });
        }
        let movements = crate::on_site::movements_of_day(conn, rules, now)?;
        Ok(Day { lessons, movements })
    }
}

/// What one pass changed: the alerts it raised, those it found, the registers it reminded
/// a teacher of. Each is new: a pass run again changes nothing.
#[derive(Debug, Default)]
pub struct Watched {
    pub alerted: Vec<Missing>,
    pub found: Vec<(Alert, UnixMillis)>,
    pub reminded: Vec<NotTaken>,
}

/// The leader's pass at `now`: alerts each pupil newly missing, ends each alert that no
/// longer holds, and notes each register newly not taken, all in the caller's transaction.
pub fn pass(
    tx: &dyn Sql,
    rules: &Rules,
    watch: Watch,
    now: UnixMillis,
) -> Result<Watched, StoreError> {
    let day = Day::load(tx, rules, now)?;
    let missing = rule::missing(
        &day.lessons,
        &day.movements,
        rules,
        watch.after_minutes,
        now,
    );
    let mut watched = Watched::default();
    let today = rules.local_day(now);
    for alert in stored::open_on(tx, today)? {
        let Some((ending, at)) = rule::ending(&alert, &day.lessons, &day.movements, &missing, now)
        else {
            continue;
        };
        let key = (alert.slot_id, alert.day, alert.student);
        if stored::end(tx, key, ending, at)? && ending == Ending::Found {
            watched.found.push((alert, at));
        }
    }
    for m in missing {
        if stored::insert(tx, &m.alert(now))? {
            watched.alerted.push(m);
        }
    }
    for register in rule::not_taken(&day.lessons, watch.after_minutes, now) {
        let key = (register.slot_id, register.day);
        if stored::remind(tx, key, register.teacher, now)? {
            watched.reminded.push(register);
        }
    }
    Ok(watched)
}

/// One pupil missing now, as the page lists them.
#[derive(Clone, Debug, Serialize)]
pub struct MissingLine {
    #[serde(flatten)]
    pub missing: Missing,
    /// When the alert went (`None` until the next pass raises it).
    pub alerted_at: Option<UnixMillis>,
    /// The lesson is of one of the caller's own classes.
    pub mine: bool,
}

/// A register not taken, as the page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct NotTakenLine {
    #[serde(flatten)]
    pub register: NotTaken,
    /// The lesson is of one of the caller's own classes.
    pub mine: bool,
}

/// A pupil found today after being missing, or whose alert ended otherwise.
#[derive(Clone, Debug, Serialize)]
pub struct EndedLine {
    #[serde(flatten)]
    pub alert: Alert,
    pub name: String,
}

/// What the Missing now page shows `who`: every pupil missing now, today's alerts that ended,
/// and the registers not taken. Admins and pastoral staff see the whole school; a teacher the
/// lessons of their own classes.
#[derive(Clone, Debug, Serialize)]
pub struct Board {
    pub after_minutes: u32,
    pub whole_school: bool,
    pub missing: Vec<MissingLine>,
    pub ended: Vec<EndedLine>,
    pub not_taken: Vec<NotTakenLine>,
}

/// Whether `who` sees the whole school's missing pupils: an admin, or staff given the
/// pastoral permission.
pub fn is_pastoral(conn: &dyn Sql, who: &Principal) -> Result<bool, StoreError> {
    Ok(who.is_admin() || (who.is_staff() && users::by_id(conn, who.user_id)?.pastoral))
}

/// The board at `now` for `who`.
pub fn board(
    conn: &dyn Sql,
    rules: &Rules,
    watch: Watch,
    who: &Principal,
    now: UnixMillis,
) -> Result<Board, AccessError> {
    let whole_school = is_pastoral(conn, who)?;
    let theirs: Vec<_> = access::classes(conn, who)?
        .into_iter()
        .filter(|c| c.teacher_id == Some(who.user_id))
        .map(|c| c.id)
        .collect();
    let mine = |class| theirs.contains(&class);
    let sees = |class| whole_school || mine(class);
    let day = Day::load(conn, rules, now)?;
    let alerts = stored::on_day(conn, rules.local_day(now))?;
    let alerted: HashMap<_, _> = alerts
        .iter()
        .map(|a| ((a.slot_id, a.student), a.alerted_at))
        .collect();
    let missing = rule::missing(
        &day.lessons,
        &day.movements,
        rules,
        watch.after_minutes,
        now,
    )
    .into_iter()
    .filter(|m| sees(m.class_id))
    .map(|m| MissingLine {
        alerted_at: alerted.get(&(m.slot_id, m.student)).copied(),
        mine: mine(m.class_id),
        missing: m,
    })
    .collect();
    let names: HashMap<StudentId, String> = school::students(conn)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let class_of: HashMap<_, _> = day
        .lessons
        .iter()
        .map(|l| (l.slot_id, l.class_id))
        .collect();
    let ended = alerts
        .into_iter()
        .filter(|a| a.ended.is_some())
        .filter(|a| whole_school || class_of.get(&a.slot_id).is_some_and(|c| sees(*c)))
        .map(|a| EndedLine {
            name: names.get(&a.student).cloned().unwrap_or_default(),
            alert: a,
        })
        .collect();
    let not_taken = rule::not_taken(&day.lessons, watch.after_minutes, now)
        .into_iter()
        .filter(|r| sees(r.class_id))
        .map(|r| NotTakenLine {
            mine: mine(r.class_id),
            register: r,
        })
        .collect();
    Ok(Board {
        after_minutes: watch.after_minutes,
        whole_school,
        missing,
        ended,
        not_taken,
    })
}
