//! The emergency roll call: everyone on site now, grouped by class or room, ticked off as they
//! reach the assembly point.
//!
//! Who is expected, at `now` on the school's day:
//! 1. each student whose last accepted record today says they are here (`crate::on_site`: a
//!    door facing in or both ways, a face in a class photo, reception signing them back in);
//! 2. each student today's register has there (a teacher's Present or Late in an open lesson,
//!    a closed entry counted present or late) whom no door has seen leave since, nor reception
//!    signed out;
//! 3. by name, the class of the lesson they are in now (else their first class), and the room
//!    a door last saw them in (else that lesson's room);
//! 4. and, in groups of their own, every visitor signed in at reception and not out
//!    ([`visitors_on_site`]), and every member of staff the log has in ([`staff_on_site`]),
//!    whatever day they came.
//!
//! [`expected`] is pure; [`load`] reads its inputs in a handful of bulk queries, so the list of
//! a school of 2,000 takes milliseconds (`cargo bench -p rollcall-school --bench roll_call`).

use std::collections::{HashMap, HashSet};

use rollcall_shared::{ClassId, StudentId, UnixMillis};

use crate::attendance::{self, Rules};
use crate::on_site::{Whereabouts, whereabouts};
use crate::session_rosters::calendar;
use rollcall_store::roll_calls::{self, Person, StaffListed, VisitorListed};
use rollcall_store::{Sql, StoreError, school, timetable, visitors};

/// The class a student without one is listed under.
pub const NO_CLASS: &str = "No class";

/// What the list is made from.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Each student seen today, where their last record left them.
    pub whereabouts: &'a [Whereabouts],
    /// The students today's register has there.
    pub by_register: &'a [StudentId],
    /// Students on the roster, by id.
    pub names: &'a HashMap<StudentId, String>,
    /// `(student, class, class name)`, by class name.
    pub memberships: &'a [(StudentId, ClassId, String)],
    /// The lessons on now: `(class, room)`.
    pub running: &'a [(ClassId, String)],
}

/// Everyone expected at the assembly point, by class then name; none accounted for yet.
pub fn expected(inputs: &Inputs<'_>) -> Vec<Person> {
    let seen: HashMap<StudentId, &Whereabouts> =
        inputs.whereabouts.iter().map(|w| (w.student, w)).collect();
    let here = inputs
        .whereabouts
        .iter()
        .filter(|w| w.on_site)
        .map(|w| w.student);
    // The register's students whom no door saw leave.
    let registered = inputs
        .by_register
        .iter()
        .copied()
        .filter(|s| seen.get(s).is_none_or(|w| w.on_site));
    let mut classes: HashMap<StudentId, Vec<(ClassId, &str)>> = HashMap::new();
    for (student, class, name) in inputs.memberships {
        classes.entry(*student).or_default().push((*class, name));
    }
    let mut listed = HashSet::new();
    let mut people: Vec<Person> = here
        .chain(registered)
        .filter(|s| listed.insert(*s))
        .filter_map(|student| {
            let of = classes.get(&student).map_or(&[][..], Vec::as_slice);
            line(inputs, student, of, seen.get(&student).copied(), true)
        })
        .collect();
    people.sort_by(|a, b| (&a.class_name, &a.name).cmp(&(&b.class_name, &b.name)));
    people
}

/// `student` as the list shows them, when they are on the roster.
pub fn person(
    inputs: &Inputs<'_>,
    student: StudentId,
    seen: Option<&Whereabouts>,
    expected: bool,
) -> Option<Person> {
    let classes: Vec<(ClassId, &str)> = inputs
        .memberships
        .iter()
        .filter(|(s, _, _)| *s == student)
        .map(|(_, class, name)| (*class, name.as_str()))
        .collect();
    line(inputs, student, &classes, seen, expected)
}

/// `student`, in `classes` (by name), as the list shows them.
fn line(
    inputs: &Inputs<'_>,
    student: StudentId,
    classes: &[(ClassId, &str)],
    seen: Option<&Whereabouts>,
    expected: bool,
) -> Option<Person> {
    let name = inputs.names.get(&student)?;
    let now = classes.iter().find_map(|&(class, name)| {
        let (_, room) = inputs.running.iter().find(|(c, _)| *c == class)?;
        Some((name, room))
    });
    let class_name = now
        .map(|(name, _)| name)
        .or(classes.first().map(|&(_, name)| name))
        .unwrap_or(NO_CLASS);
    Some(Person {
        student,
        name: name.clone(),
        class_name: class_name.to_owned(),
        room: seen
            .map(|w| w.last_room.clone())
            .or(now.map(|(_, room)| room.clone())),
        last_seen_at: seen.map(|w| w.last_at),
        expected,
        accounted_at: None,
        accounted_by: None,
    })
}

/// What [`expected`] reads, loaded from the store for `now`.
#[derive(Debug)]
pub struct Loaded {
    whereabouts: Vec<Whereabouts>,
    by_register: Vec<StudentId>,
    names: HashMap<StudentId, String>,
    memberships: Vec<(StudentId, ClassId, String)>,
    running: Vec<(ClassId, String)>,
}

impl Loaded {
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            whereabouts: &self.whereabouts,
            by_register: &self.by_register,
            names: &self.names,
            memberships: &self.memberships,
            running: &self.running,
        }
    }
}

/// Reads the day so far at `now`.
pub fn load(conn: &dyn Sql, rules: &Rules, now: UnixMillis) -> Result<Loaded, StoreError> {
    let day = rules.local_day(now);
    let movements = crate::on_site::movements_of_day(conn, rules, now)?;
    let slots = timetable::all_slots(conn)?;
    let running = attendance::sessions_on(day, &slots, &calendar(conn)?)
        .into_iter()
        .filter(|s| (s.starts_at(rules)..s.ends_at(rules)).contains(&now))
        .map(|s| (s.slot.class_id, s.slot.room))
        .collect();
    Ok(Loaded {
        whereabouts: whereabouts(&movements),
        by_register: roll_calls::there_by_register(conn, day)?,
        names: school::students(conn)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
        memberships: roll_calls::memberships(conn)?,
        running,
    })
}

/// The staff a roll call started now would list: those the log has in, by name.
pub fn staff_on_site(conn: &dyn Sql) -> Result<Vec<StaffListed>, StoreError> {
    let members = rollcall_store::staff::list(conn)?;
    Ok(crate::staff::on_site(conn)?
        .into_iter()
        .map(|e| StaffListed {
            staff: e.staff,
            department: members
                .iter()
                .find(|m| m.id == e.staff)
                .and_then(|m| m.department.clone()),
            name: e.name,
            code: e.code,
            expected: true,
            accounted_at: None,
            accounted_by: None,
        })
        .collect())
}

/// The visitors a roll call started now would list: those signed in and not out, by name as
/// a roll call's list is.
pub fn visitors_on_site(conn: &dyn Sql) -> Result<Vec<VisitorListed>, StoreError> {
    let mut listed: Vec<VisitorListed> = visitors::on_site(conn)?
        .into_iter()
        .map(|v| VisitorListed {
            visitor: v.id,
            name: v.name,
            organisation: v.organisation,
            visiting: v.visiting,
            badge: v.badge,
            signed_in_at: v.signed_in_at,
            signed_out_at: v.signed_out_at,
            expected: true,
            accounted_at: None,
            accounted_by: None,
        })
        .collect();
    listed.sort_by(|a, b| (&a.name, a.visitor).cmp(&(&b.name, b.visitor)));
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(student: StudentId, on_site: bool, room: &str) -> Whereabouts {
        Whereabouts {
            student,
            on_site,
            arrived_at: UnixMillis(1),
            last_at: UnixMillis(2),
            last_room: room.into(),
            last_direction: None,
        }
    }

    #[test]
    fn the_list_is_who_is_here_and_who_the_register_has_unless_seen_leaving() {
        let [ada, bo, cy, di, ed] = [(); 5].map(|_| StudentId::random());
        let (b7, b8) = (ClassId::random(), ClassId::random());
        let names: HashMap<_, _> = [(ada, "Ada"), (bo, "Bo"), (cy, "Cy"), (di, "Di"), (ed, "Ed")]
            .map(|(s, n)| (s, n.to_owned()))
            .into();
        let memberships = [
            (ada, b7, "7B".to_owned()),
            (bo, b7, "7B".to_owned()),
            (bo, b8, "8A".to_owned()),
            (cy, b8, "8A".to_owned()),
        ];
        // Ada and Bo came through the gate; Cy left; Di is on the register only; Ed neither.
        let whereabouts = [
            at(ada, true, "Main gate"),
            at(bo, true, "Lab 3"),
            at(cy, false, "Main gate"),
        ];
        let by_register = [cy, di, bo];
        let running = [(b8, "Room 8".to_owned())];
        let inputs = Inputs {
            whereabouts: &whereabouts,
            by_register: &by_register,
            names: &names,
            memberships: &memberships,
            running: &running,
        };
        let list = expected(&inputs);
        let shown: Vec<(&str, &str, Option<&str>)> = list
            .iter()
            .map(|p| (p.name.as_str(), p.class_name.as_str(), p.room.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Ada", "7B", Some("Main gate")),
                ("Bo", "8A", Some("Lab 3")),
                ("Di", NO_CLASS, None),
            ],
            "Bo is listed under the lesson he is in now; Cy left; Ed was never seen"
        );
        assert!(list.iter().all(|p| p.expected && p.accounted_at.is_none()));
    }
}
