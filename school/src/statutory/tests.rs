use super::*;

fn rule(morning: MarkFrom, afternoon: MarkFrom) -> SessionRule {
    SessionRule {
        afternoon_from: 12 * 60,
        morning,
        afternoon,
    }
}

fn slot(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn written(n: u128, starts: u16, code: &str, mark: Mark) -> Lesson {
    Lesson {
        slot: slot(n),
        starts,
        written: Some((code.to_owned(), mark)),
        live: None,
    }
}

fn open(n: u128, starts: u16, live: Option<Mark>) -> Lesson {
    Lesson {
        slot: slot(n),
        starts,
        written: None,
        live,
    }
}

const FORM: u16 = 8 * 60 + 45;
const P1: u16 = 9 * 60;
const P2: u16 = 10 * 60;
const P4: u16 = 13 * 60;

fn code(mark: Option<SessionMark>) -> Option<String> {
    mark.map(|m| m.code)
}

#[test]
fn the_first_lesson_makes_each_session_present_written_as_the_dfe_writes_it() {
    let r = rule(MarkFrom::FirstLesson, MarkFrom::FirstLesson);
    // Given out of order: the rule finds the first lesson itself.
    let day = [
        written(2, P2, "N", Mark::Absent),
        written(1, P1, "/", Mark::Present),
        written(4, P4, "/", Mark::Present),
    ];
    let am = r.mark(&day, Half::Am).unwrap();
    assert_eq!((am.code.as_str(), am.from_slot), ("/", slot(1)));
    assert_eq!(code(r.mark(&day, Half::Pm)).as_deref(), Some("\\"));
}

#[test]
fn a_registration_lesson_decides_whatever_comes_before_or_after_it() {
    let r = rule(MarkFrom::Registration(FORM), MarkFrom::FirstLesson);
    let day = [
        written(0, 8 * 60, "/", Mark::Present), // a breakfast club before form time
        written(1, FORM, "L", Mark::Late),
        written(2, P1, "/", Mark::Present),
    ];
    let am = r.mark(&day, Half::Am).unwrap();
    assert_eq!((am.code.as_str(), am.from_slot), ("L", slot(1)));
    // No registration lesson that morning: no mark, not the first lesson's.
    assert_eq!(r.mark(&day[2..], Half::Am), None);
}

#[test]
fn no_reason_yet_then_seen_later_in_the_session_is_arrived_after_the_register_closed() {
    let r = rule(MarkFrom::FirstLesson, MarkFrom::FirstLesson);
    let later_present = [
        written(1, P1, "N", Mark::Absent),
        written(2, P2, "/", Mark::Present),
    ];
    assert_eq!(code(r.mark(&later_present, Half::Am)).as_deref(), Some("U"));
    // A later lesson still open counts by its live mark.
    let later_live = [
        written(1, P1, "N", Mark::Absent),
        open(2, P2, Some(Mark::Late)),
    ];
    assert_eq!(code(r.mark(&later_live, Half::Am)).as_deref(), Some("U"));
    // Seen only in the afternoon: the morning stays N.
    let afternoon_only = [
        written(1, P1, "N", Mark::Absent),
        written(4, P4, "/", Mark::Present),
    ];
    assert_eq!(
        code(r.mark(&afternoon_only, Half::Am)).as_deref(),
        Some("N")
    );
    // An absence with its reason is kept as the office wrote it.
    let ill = [
        written(1, P1, "I", Mark::Excused),
        written(2, P2, "/", Mark::Present),
    ];
    assert_eq!(code(r.mark(&ill, Half::Am)).as_deref(), Some("I"));
}

#[test]
fn left_early_is_present_at_registration() {
    let r = rule(MarkFrom::FirstLesson, MarkFrom::FirstLesson);
    let day = [written(4, P4, "LE", Mark::Present)];
    assert_eq!(code(r.mark(&day, Half::Pm)).as_deref(), Some("\\"));
}

#[test]
fn a_session_waits_for_its_deciding_register_and_a_pupil_with_no_lessons_has_none() {
    let r = rule(MarkFrom::FirstLesson, MarkFrom::FirstLesson);
    let morning_open = [
        open(1, P1, Some(Mark::Present)),
        written(2, P2, "/", Mark::Present),
    ];
    assert_eq!(r.mark(&morning_open, Half::Am), None);
    assert_eq!(r.mark(&[], Half::Am), None);
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let both = r.day(day, &[written(4, P4, "C", Mark::Excused)]);
    assert_eq!((both.am, code(both.pm).as_deref()), (None, Some("C")));
}

#[test]
fn the_afternoon_starts_at_its_minute() {
    let r = rule(MarkFrom::FirstLesson, MarkFrom::FirstLesson);
    assert_eq!(r.half_of(12 * 60 - 1), Half::Am);
    assert_eq!(r.half_of(12 * 60), Half::Pm);
}
