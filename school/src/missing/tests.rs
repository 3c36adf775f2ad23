use chrono::NaiveDate;
use rollcall_shared::{ClassId, Direction, SiteZone, StudentId, UnixMillis};
use uuid::Uuid;

use super::rule::{Lesson, Pupil, ending, missing, not_taken};
use crate::attendance::Rules;
use rollcall_store::marks::Mark;
use rollcall_store::missing::{Alert, Ending};
use rollcall_store::sightings::Movement;

fn rules() -> Rules {
    Rules {
        zone: SiteZone::utc(),
        late_after_minutes: 10,
        early_minutes: 10,
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// `hh:mm` on the day, in UTC.
fn at(hh: i64, mm: i64) -> UnixMillis {
    rules().instant(day(), u16::try_from(hh * 60 + mm).unwrap())
}

fn lesson(
    class: &str,
    (from, to): (i64, i64),
    pupils: &[(StudentId, &str, Option<Mark>)],
) -> Lesson {
    Lesson {
        slot_id: Uuid::now_v7(),
        day: day(),
        class_id: ClassId::random(),
        class_name: class.into(),
        room: format!("Room {class}"),
        teacher: None,
        starts_at: at(from, 0),
        ends_at: at(to, 0),
        locked: false,
        pupils: pupils
            .iter()
            .map(|&(student, name, mark)| Pupil {
                student,
                name: name.into(),
                mark,
                seen_at: mark
                    .filter(|m| matches!(m, Mark::Present | Mark::Late))
                    .map(|_| at(from, 2)),
            })
            .collect(),
        cards: 0,
    }
}

fn gate(student: StudentId, at: UnixMillis, direction: Direction) -> Movement {
    Movement {
        student,
        at,
        room: "Main gate".into(),
        direction: Some(direction),
    }
}

fn names(found: &[super::rule::Missing]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|m| (m.class_name.as_str(), m.name.as_str()))
        .collect()
}

#[test]
fn a_pupil_in_school_and_not_in_the_lesson_after_ten_minutes_is_missing() {
    let [ada, bo, cy, di] = [(); 4].map(|_| StudentId::random());
    let p1 = lesson(
        "7B",
        (9, 10),
        &[(ada, "Ada", Some(Mark::Present)), (bo, "Bo", None)],
    );
    let p2 = lesson(
        "7B maths",
        (10, 11),
        &[
            (ada, "Ada", None),
            (bo, "Bo", None),
            (cy, "Cy", Some(Mark::Absent)),
            (di, "Di", None),
        ],
    );
    let moves = [
        gate(ada, at(8, 40), Direction::In),
        gate(cy, at(8, 50), Direction::In),
    ];
    let lessons = [p1, p2];
    let found = |now| missing(&lessons, &moves, &rules(), 10, now);
    assert!(found(at(10, 9)).is_empty(), "ten minutes' grace");
    let now = found(at(10, 10));
    assert_eq!(
        names(&now),
        [("7B maths", "Ada"), ("7B maths", "Cy")],
        "Ada and Cy came in and are not in maths (Cy marked absent by hand); Bo and Di were \
         never seen today"
    );
    assert_eq!(now[0].in_school, "seen at Main gate at 08:40");
    assert!(found(at(11, 0)).is_empty(), "the lesson is over");
}

#[test]
fn present_in_an_earlier_lesson_puts_a_pupil_in_school_and_leaving_takes_them_out() {
    let [ada, bo] = [(); 2].map(|_| StudentId::random());
    let p1 = lesson(
        "7B",
        (9, 10),
        &[
            (ada, "Ada", Some(Mark::Late)),
            (bo, "Bo", Some(Mark::Present)),
        ],
    );
    let p2 = lesson(
        "7B maths",
        (10, 11),
        &[(ada, "Ada", None), (bo, "Bo", None)],
    );
    let moves = [gate(bo, at(9, 50), Direction::Out)];
    let lessons = [p1, p2];
    let now = missing(&lessons, &moves, &rules(), 10, at(10, 20));
    assert_eq!(names(&now), [("7B maths", "Ada")], "Bo left by the gate");
    assert_eq!(now[0].in_school, "late in 7B at 09:02");
}

#[test]
fn a_reason_or_a_mark_in_a_lesson_at_the_same_time_is_not_missing() {
    let [ada, bo] = [(); 2].map(|_| StudentId::random());
    let moves = [
        gate(ada, at(8, 40), Direction::In),
        gate(bo, at(8, 41), Direction::In),
    ];
    let choir = lesson("Choir", (10, 11), &[(ada, "Ada", Some(Mark::Present))]);
    let maths = lesson(
        "Maths",
        (10, 11),
        &[(ada, "Ada", None), (bo, "Bo", Some(Mark::Excused))],
    );
    let now = missing(&[choir, maths], &moves, &rules(), 10, at(10, 30));
    assert!(names(&now).is_empty(), "{:?}", names(&now));
}

#[test]
fn an_alert_ends_found_with_the_time_or_otherwise() {
    let [ada, bo, cy] = [(); 3].map(|_| StudentId::random());
    let moves = [
        gate(ada, at(8, 40), Direction::In),
        gate(bo, at(8, 41), Direction::In),
        gate(cy, at(8, 42), Direction::In),
        gate(cy, at(10, 12), Direction::Out),
    ];
    let mut p2 = lesson(
        "7B",
        (10, 11),
        &[(ada, "Ada", None), (bo, "Bo", None), (cy, "Cy", None)],
    );
    let raised = missing(std::slice::from_ref(&p2), &moves, &rules(), 10, at(10, 10));
    assert_eq!(raised.len(), 3);
    let alerts: Vec<Alert> = raised.iter().map(|m| m.alert(at(10, 10))).collect();
    // Ada walks in at 10:14; Bo's family's reason is accepted; Cy goes out of the gate.
    p2.pupils[0].mark = Some(Mark::Late);
    p2.pupils[0].seen_at = Some(at(10, 14));
    p2.pupils[1].mark = Some(Mark::Excused);
    let lessons = [p2];
    let now = at(10, 15);
    let still = missing(&lessons, &moves, &rules(), 10, now);
    let ends: Vec<_> = alerts
        .iter()
        .map(|a| ending(a, &lessons, &moves, &still, now))
        .collect();
    assert_eq!(
        ends,
        [
            Some((Ending::Found, at(10, 14))),
            Some((Ending::Reason, now)),
            Some((Ending::Left, at(10, 12))),
        ]
    );
    assert_eq!(
        ending(&alerts[0], &[], &moves, &[], now),
        Some((Ending::LessonGone, now)),
        "a lesson taken off the timetable ends its alerts"
    );
    let later = at(11, 0);
    let mut unfound = lessons[0].clone();
    unfound.pupils[0].mark = Some(Mark::Absent);
    assert_eq!(
        ending(&alerts[0], &[unfound], &moves, &[], later),
        Some((Ending::LessonOver, later))
    );
}

#[test]
fn a_register_with_cards_or_unmarked_pupils_after_ten_minutes_is_not_taken() {
    let [ada, bo] = [(); 2].map(|_| StudentId::random());
    let taken = lesson("7A", (9, 10), &[(ada, "Ada", Some(Mark::Present))]);
    let mut cards = lesson("7B", (9, 10), &[(ada, "Ada", Some(Mark::Present))]);
    cards.cards = 2;
    let unmarked = lesson("7C", (9, 10), &[(bo, "Bo", None)]);
    let mut written = lesson("7D", (9, 10), &[(bo, "Bo", None)]);
    written.locked = true;
    let lessons = [taken, cards, unmarked, written];
    assert!(not_taken(&lessons, 10, at(9, 9)).is_empty());
    let registers = not_taken(&lessons, 10, at(9, 10));
    let listed: Vec<(&str, usize, usize)> = registers
        .iter()
        .map(|r| (r.class_name.as_str(), r.unmarked, r.cards))
        .collect();
    assert_eq!(listed, [("7B", 0, 2), ("7C", 1, 0)]);
}
