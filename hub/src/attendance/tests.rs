use super::*;
use uuid::Uuid;

fn rules() -> AttendanceConfig {
    AttendanceConfig {
        late_after_minutes: 10,
        early_minutes: 5,
        utc_offset_minutes: 60,
    }
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn slot() -> Slot {
    Slot {
        id: Uuid::now_v7(),
        class_id: rollcall_shared::ClassId::random(),
        room: "Lab 3".into(),
        weekday: 1,
        start_minute: 9 * 60,
        end_minute: 10 * 60,
    }
}

fn at(minute: u16) -> i64 {
    local_to_millis(monday(), minute, rules().utc_offset_minutes)
}

#[test]
fn local_times_respect_the_offset() {
    // 09:00 at UTC+1 is 08:00 UTC.
    let t = at(9 * 60);
    assert_eq!(t % 86_400_000, 8 * 3_600_000);
    assert_eq!(local_day(t, 60), monday());
}

#[test]
fn sessions_follow_weekdays_terms_and_holidays() {
    let slots = [slot()];
    assert_eq!(sessions_on(monday(), &slots, &Calendar::default()).len(), 1);
    assert!(sessions_on(monday().succ_opt().unwrap(), &slots, &Calendar::default()).is_empty());
    let holiday = Calendar {
        terms: Vec::new(),
        holidays: vec![Holiday {
            day: monday(),
            name: "x".into(),
        }],
    };
    assert!(sessions_on(monday(), &slots, &holiday).is_empty());
    let week = sessions_between(
        monday(),
        monday() + Duration::days(13),
        &slots,
        &Calendar::default(),
    );
    assert_eq!(week.len(), 2);
}

#[test]
fn marks_come_from_overrides_then_records_then_closing() {
    let session = Session {
        slot: slot(),
        day: monday(),
    };
    let [a, b, c, d] = [(); 4].map(|_| StudentId::random());
    let sightings = [
        (a, at(8 * 60 + 58)),
        (b, at(9 * 60 + 12)),
        (b, at(9 * 60 + 30)),
    ];
    let overrides = [Override {
        student: d,
        mark: Mark::Excused,
        reason: "dentist".into(),
        set_by: "user:t".into(),
        set_at: 0,
    }];
    let members = [a, b, c, d];
    let evidence = Evidence {
        members: &members,
        sightings: &sightings,
        overrides: &overrides,
    };
    let open = roster(&session, &rules(), &evidence, at(9 * 60 + 40));
    let marks: Vec<_> = open.iter().map(|r| r.mark).collect();
    assert_eq!(
        marks,
        [
            Some(Mark::Present),
            Some(Mark::Late),
            None,
            Some(Mark::Excused)
        ]
    );
    assert_eq!(open[1].first_seen_at, Some(at(9 * 60 + 12)));
    let closed = roster(&session, &rules(), &evidence, at(10 * 60));
    assert_eq!(closed[2].mark, Some(Mark::Absent));
    assert_eq!(closed[2].source, Source::Closed);
}

#[test]
fn a_record_is_in_a_session_only_in_its_room_and_window() {
    let slots = [slot()];
    assert!(in_some_session("Lab 3", at(8 * 60 + 56), &slots, &rules()));
    assert!(!in_some_session("Lab 3", at(8 * 60 + 50), &slots, &rules()));
    assert!(!in_some_session("Lab 4", at(9 * 60 + 5), &slots, &rules()));
    assert!(!in_some_session("Lab 3", at(10 * 60), &slots, &rules()));
}
