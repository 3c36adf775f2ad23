//! Who is on site now: each student's last accepted record of the school's day decides. A
//! record from a door facing out means they left; any other (a door facing in or both ways, a
//! face in a class photo) means they are here. A student with no record today is not known to
//! be on site. Reception is a door too: a pupil signed out there left, signed back in came in
//! (`crate::sign_outs`). [`whereabouts`] is pure; [`movements_of_day`] reads the day's
//! movements, the doors' and reception's.

use std::collections::HashMap;

use rollcall_shared::{Direction, StudentId, UnixMillis};
use serde::Serialize;

use crate::activities;
use crate::attendance::Rules;
use crate::review::ACCEPTED;
use rollcall_store::sightings::{self, Movement};
use rollcall_store::{Sql, StoreError, sign_outs};

/// Every movement of the school's day up to `now`, oldest first: each accepted record (a door,
/// a class photo), each pupil signed out at reception or back in, and each trip's pupils
/// leaving and back.
pub fn movements_of_day(
    conn: &dyn Sql,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<Movement>, StoreError> {
    let day = rules.local_day(now);
    let midnight = rules.instant(day, 0);
    let mut moves = sightings::movements(conn, ACCEPTED, midnight, UnixMillis(now.0 + 1))?;
    moves.extend(
        sign_outs::movements(conn, day)?
            .into_iter()
            .chain(activities::movements(conn, rules, day)?)
            .filter(|m| m.at <= now),
    );
    moves.sort_by_key(|m| m.at);
    Ok(moves)
}

/// Where one student stands at the end of the movements read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Whereabouts {
    pub student: StudentId,
    /// Whether their last record says they are here.
    pub on_site: bool,
    /// Their first record of the day: when they arrived.
    pub arrived_at: UnixMillis,
    /// Their last record: where and which way.
    pub last_at: UnixMillis,
    pub last_room: String,
    pub last_direction: Option<Direction>,
}

/// Each student's whereabouts after `movements` (one school day's, oldest first), in the
/// order each student was first seen.
pub fn whereabouts(movements: &[Movement]) -> Vec<Whereabouts> {
    let mut order: Vec<StudentId> = Vec::new();
    let mut by_student: HashMap<StudentId, Whereabouts> = HashMap::new();
    for m in movements {
        let w = by_student.entry(m.student).or_insert_with(|| {
            order.push(m.student);
            Whereabouts {
                student: m.student,
                on_site: false,
                arrived_at: m.at,
                last_at: m.at,
                last_room: String::new(),
                last_direction: None,
            }
        });
        if m.at >= w.last_at {
            w.on_site = !m.leaves();
            w.last_at = m.at;
            w.last_room.clone_from(&m.room);
            w.last_direction = m.direction;
        }
        w.arrived_at = w.arrived_at.min(m.at);
    }
    order
        .into_iter()
        .filter_map(|s| by_student.remove(&s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(student: StudentId, at: i64, room: &str, direction: Option<Direction>) -> Movement {
        Movement {
            student,
            at: UnixMillis(at),
            room: room.into(),
            direction,
        }
    }

    #[test]
    fn the_last_record_of_the_day_says_whether_a_student_is_here() {
        let [a, b, c] = [(); 3].map(|_| StudentId::random());
        let (gate_in, gate_out) = (Some(Direction::In), Some(Direction::Out));
        let day = [
            moved(a, 100, "Main gate", gate_in),
            moved(b, 110, "Main gate", gate_in),
            moved(a, 200, "Lab 3", Some(Direction::Both)),
            moved(b, 300, "Main gate", gate_out),
            moved(c, 310, "Lab 3", None),
            moved(b, 400, "Main gate", gate_in),
            moved(a, 500, "Main gate", gate_out),
        ];
        let w = whereabouts(&day);
        assert_eq!(w.iter().map(|w| w.student).collect::<Vec<_>>(), [a, b, c]);
        assert_eq!(
            w.iter().map(|w| w.on_site).collect::<Vec<_>>(),
            [false, true, true],
            "a left last; b left and came back; c was seen in a class photo"
        );
        assert_eq!(
            (w[0].arrived_at, w[0].last_at, w[0].last_room.as_str()),
            (UnixMillis(100), UnixMillis(500), "Main gate")
        );
        assert_eq!(w[1].last_direction, gate_in);
        assert!(whereabouts(&[]).is_empty());
    }
}
