use super::*;
use chrono::Duration;
use uuid::Uuid;

fn rules_in(zone: &str) -> Rules {
    Rules {
        zone: SiteZone::named(zone).unwrap(),
        late_after_minutes: 10,
        early_minutes: 5,
    }
}

fn rules() -> Rules {
    rules_in("Europe/Paris")
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
        valid_from: None,
        valid_until: None,
    }
}

fn at(minute: u16) -> UnixMillis {
    rules().instant(monday(), minute)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The instant of a UTC wall time.
fn utc(day: NaiveDate, h: u16, m: u16) -> UnixMillis {
    rules_in("UTC").instant(day, h * 60 + m)
}

fn slot_at(weekday: u8, start: (u16, u16), end: (u16, u16)) -> Slot {
    Slot {
        weekday,
        start_minute: start.0 * 60 + start.1,
        end_minute: end.0 * 60 + end.1,
        ..slot()
    }
}

#[test]
fn local_times_follow_the_zone() {
    // 09:00 in Paris in November (CET, UTC+1) is 08:00 UTC.
    let t = at(9 * 60);
    assert_eq!(t, utc(monday(), 8, 0));
    assert_eq!(rules().local_day(t), monday());
}

#[test]
fn a_morning_lesson_keeps_its_wall_clock_time_across_daylight_saving() {
    for (zone, winter, summer, offsets) in [
        ("Europe/London", ymd(2026, 3, 23), ymd(2026, 3, 30), (0, 1)),
        (
            "America/New_York",
            ymd(2026, 3, 2),
            ymd(2026, 3, 9),
            (-5, -4),
        ),
        (
            "Europe/London",
            ymd(2026, 10, 19),
            ymd(2026, 10, 26),
            (1, 0),
        ),
        (
            "America/New_York",
            ymd(2026, 10, 26),
            ymd(2026, 11, 2),
            (-4, -5),
        ),
    ] {
        let rules = rules_in(zone);
        let lesson = [slot_at(1, (9, 0), (10, 0))];
        for (day, offset) in [(winter, offsets.0), (summer, offsets.1)] {
            let s = &sessions_on(day, &lesson, &Calendar::default())[0];
            let nine_utc = utc(day, (9 - offset) as u16, 0);
            assert_eq!(s.starts_at(&rules), nine_utc, "{zone} {day}");
            assert_eq!(
                s.ends_at(&rules).millis_since(s.starts_at(&rules)),
                3_600_000
            );
        }
    }
}

#[test]
fn a_slot_in_the_skipped_hour_starts_after_the_change() {
    // London, Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST.
    let rules = rules_in("Europe/London");
    let day = ymd(2026, 3, 29);
    let s = &sessions_on(day, &[slot_at(7, (1, 30), (2, 30))], &Calendar::default())[0];
    // 01:30 never shows on the clock: the session starts at 02:30 BST (01:30 UTC), as the
    // door unit's clock then reads, and is empty, never negative.
    assert_eq!(s.starts_at(&rules), utc(day, 1, 30));
    assert_eq!(s.ends_at(&rules), utc(day, 1, 30));
    // New York, Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT; a 02:15–03:15 slot runs
    // 03:15 EDT (07:15 UTC) to 03:15 EDT.
    let ny = rules_in("America/New_York");
    let day = ymd(2026, 3, 8);
    let s = &sessions_on(day, &[slot_at(7, (2, 15), (3, 15))], &Calendar::default())[0];
    assert_eq!(s.starts_at(&ny), utc(day, 7, 15));
    assert_eq!(s.ends_at(&ny), utc(day, 7, 15));
    // A lesson spanning the change is an hour shorter in real time.
    let s = &sessions_on(day, &[slot_at(7, (1, 0), (4, 0))], &Calendar::default())[0];
    assert_eq!(s.ends_at(&ny).millis_since(s.starts_at(&ny)), 2 * 3_600_000);
}

#[test]
fn a_slot_in_the_repeated_hour_is_its_first_occurrence() {
    // London, Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:00–01:59 happens twice.
    let rules = rules_in("Europe/London");
    let day = ymd(2026, 10, 25);
    let s = &sessions_on(day, &[slot_at(7, (1, 15), (1, 45))], &Calendar::default())[0];
    assert_eq!(s.starts_at(&rules), utc(day, 0, 15));
    assert_eq!(s.ends_at(&rules), utc(day, 0, 45));
    // A record in the second 01:20 (GMT, 01:20 UTC) is after the session.
    assert!(in_some_session(
        "Lab 3",
        utc(day, 0, 20),
        std::slice::from_ref(&s.slot),
        &rules
    ));
    assert!(!in_some_session(
        "Lab 3",
        utc(day, 1, 20),
        std::slice::from_ref(&s.slot),
        &rules
    ));
    // A lesson spanning the change is an hour longer in real time.
    let s = &sessions_on(day, &[slot_at(7, (0, 30), (3, 0))], &Calendar::default())[0];
    assert_eq!(
        s.ends_at(&rules).millis_since(s.starts_at(&rules)),
        7 * 1_800_000
    );
}

#[test]
fn a_record_at_half_past_midnight_counts_on_the_local_date() {
    // 00:30 BST on Monday 1 June 2026 is 23:30 UTC on Sunday 31 May.
    let rules = rules_in("Europe/London");
    let monday = ymd(2026, 6, 1);
    let captured = utc(ymd(2026, 5, 31), 23, 30);
    assert_eq!(rules.local_day(captured), monday);
    let early = [slot_at(1, (0, 15), (1, 0))];
    assert!(in_some_session("Lab 3", captured, &early, &rules));
    // New York on Monday 2 November 2026 (EST since Sunday): 00:30 is 05:30 UTC.
    let ny = rules_in("America/New_York");
    let monday = ymd(2026, 11, 2);
    let captured = utc(monday, 5, 30);
    assert_eq!(ny.local_day(captured), monday);
    assert!(in_some_session("Lab 3", captured, &early, &ny));
    // 23:30 EST on Sunday is 04:30 UTC on Monday, and belongs to Sunday.
    assert_eq!(ny.local_day(utc(monday, 4, 30)), ymd(2026, 11, 1));
    assert!(!in_some_session("Lab 3", utc(monday, 4, 30), &early, &ny));
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
        set_at: rollcall_shared::UnixMillis(0),
        code: None,
    }];
    let members = [a, b, c, d];
    let evidence = Evidence {
        members: &members,
        sightings: &sightings,
        movements: &[],
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
