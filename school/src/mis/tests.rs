use super::*;
use rollcall_shared::StudentId;
use rollcall_store::mis::Status;

fn day(am: Option<&str>, pm: Option<&str>, reference: Option<&str>) -> OutboxDay {
    OutboxDay {
        student: StudentId::random(),
        name: "Ada Lovelace".into(),
        external_ref: reference.map(Into::into),
        day: "2026-11-23".parse().unwrap(),
        am: am.map(Into::into),
        pm: pm.map(Into::into),
        version: 3,
        status: Status::Pending,
        tries: 0,
        next_try_at: UnixMillis(0),
        last_error: None,
        written_version: None,
        written_at: None,
        mis_ref: None,
        changed_at: UnixMillis(0),
    }
}

fn table() -> HashMap<String, String> {
    code_table(vec![
        CodeMapping {
            code: "/".into(),
            mis_code: "/".into(),
        },
        CodeMapping {
            code: "\\".into(),
            mis_code: "\\".into(),
        },
        CodeMapping {
            code: "N".into(),
            mis_code: "O".into(),
        },
    ])
}

#[test]
fn marks_go_in_the_mis_codes_of_the_table() {
    let d = day(Some("/"), Some("N"), Some(" UPN1 "));
    assert_eq!(
        in_mis_codes(&d, &table()),
        Ok(("UPN1".into(), Some("/".into()), Some("O".into())))
    );
    let morning_only = day(Some("\\"), None, Some("UPN1"));
    assert_eq!(
        in_mis_codes(&morning_only, &table()),
        Ok(("UPN1".into(), Some("\\".into()), None))
    );
}

#[test]
fn a_day_without_a_reference_or_with_an_unmapped_code_is_not_sent() {
    assert_eq!(
        in_mis_codes(&day(Some("/"), None, None), &table()),
        Err(Unsendable::NoReference("Ada Lovelace".into()))
    );
    assert_eq!(
        in_mis_codes(&day(Some("/"), None, Some("  ")), &table()),
        Err(Unsendable::NoReference("Ada Lovelace".into()))
    );
    let err = in_mis_codes(&day(Some("/"), Some("M"), Some("UPN1")), &table()).unwrap_err();
    assert_eq!(err, Unsendable::Unmapped("M".into()));
    assert!(err.to_string().contains("add it to the code table"));
}

#[test]
fn every_try_of_a_version_carries_one_key_and_the_next_version_another() {
    let mut d = day(Some("/"), None, Some("UPN1"));
    let key = write_key(&d);
    assert_eq!(key, write_key(&d.clone()));
    d.version += 1;
    assert_ne!(key, write_key(&d));
    assert!(key.ends_with("-2026-11-23-v3"));
}

#[test]
fn failures_wait_longer_each_time_up_to_an_hour_and_as_long_as_the_mis_asks() {
    let mins =
        |tries, asked: Option<u64>| backoff(tries, asked.map(Duration::from_secs)).as_secs() / 60;
    assert_eq!(
        [1, 2, 3, 4, 7, 8, 50].map(|t| mins(t, None)),
        [1, 2, 4, 8, 60, 60, 60]
    );
    assert_eq!(mins(1, Some(300)), 5, "Retry-After: 300");
    assert_eq!(mins(4, Some(120)), 8, "never sooner than the backoff");
    assert_eq!(
        mins(1, Some(86_400)),
        60,
        "at most an hour even when asked for a day"
    );
}

fn written(d: OutboxDay) -> OutboxDay {
    OutboxDay {
        status: Status::Written,
        ..d
    }
}

#[test]
fn the_night_finds_the_days_the_mis_holds_otherwise() {
    let same = written(day(Some("/"), Some("\\"), Some("9919")));
    let changed = written(day(Some("/"), None, Some("9920")));
    let missing = written(day(Some("N"), None, Some("9921")));
    let pending = day(Some("N"), None, Some("9922"));
    let held: Held = [
        (
            "9919".to_owned(),
            (Some("/".to_owned()), Some("\\".to_owned())),
        ),
        ("9920".to_owned(), (Some("O".to_owned()), None)),
        ("9922".to_owned(), (Some("/".to_owned()), None)),
    ]
    .into();
    let rows = [same, changed.clone(), missing.clone(), pending];
    let (compared, found) = differences(&rows, &held, &table(), UnixMillis(7));
    assert_eq!(compared, 3, "the pending day is not compared");
    let who: Vec<_> = found.iter().map(|d| d.student).collect();
    assert_eq!(who, vec![changed.student, missing.student]);
    assert_eq!(
        (found[0].ours_am.as_deref(), found[0].theirs_am.as_deref()),
        (Some("/"), Some("O"))
    );
    assert_eq!(
        (found[1].ours_am.as_deref(), found[1].theirs_am.as_deref()),
        (Some("O"), None),
        "in the MIS's codes, and nothing held"
    );
}

#[test]
fn taking_the_mis_mark_amends_the_lesson_to_the_code_that_maps_to_it() {
    assert_eq!(lesson_code(&table(), "O").unwrap(), "N");
    assert_eq!(
        lesson_code(&table(), "\\").unwrap(),
        "/",
        "present in the afternoon"
    );
    assert!(matches!(
        lesson_code(&table(), "Q"),
        Err(TakeError::NoCode(code)) if code == "Q"
    ));
}

fn lesson(code: &str, pupil: Option<&str>, class: Option<&str>) -> OutboxLesson {
    OutboxLesson {
        slot: Uuid::nil(),
        day: "2026-11-23".parse().unwrap(),
        student: StudentId::random(),
        name: "Ada Lovelace".into(),
        external_ref: pupil.map(Into::into),
        class: Uuid::nil(),
        class_name: "7B".into(),
        class_ref: class.map(Into::into),
        start_minute: 540,
        end_minute: 600,
        code: code.into(),
        version: 2,
        status: Status::Pending,
        tries: 0,
        next_try_at: UnixMillis(0),
        last_error: None,
        written_version: None,
        written_at: None,
        mis_ref: None,
        changed_at: UnixMillis(0),
    }
}

#[test]
fn a_lesson_mark_goes_in_the_mis_code_and_leaving_early_is_written_as_present() {
    let absent = lesson("N", Some(" UPN1 "), Some(" C7B "));
    let expected = LessonInMis {
        pupil: "UPN1".into(),
        class: "C7B".into(),
        code: "O".into(),
    };
    assert_eq!(lesson_in_mis_codes(&absent, &table()), Ok(expected));
    let left_early = lesson(register::LEFT_EARLY, Some("UPN1"), Some("C7B"));
    assert_eq!(
        lesson_in_mis_codes(&left_early, &table()).unwrap().code,
        "/"
    );
    assert!(lesson_write_key(&absent).ends_with("-v2"));
    assert_ne!(lesson_write_key(&absent), lesson_write_key(&left_early));
}

#[test]
fn a_lesson_mark_without_the_pupils_or_the_class_reference_or_a_mapping_is_not_sent() {
    assert_eq!(
        lesson_in_mis_codes(&lesson("N", None, Some("C7B")), &table()),
        Err(Unsendable::NoReference("Ada Lovelace".into()))
    );
    let no_class = lesson_in_mis_codes(&lesson("N", Some("UPN1"), Some("  ")), &table());
    assert_eq!(no_class, Err(Unsendable::NoClassReference("7B".into())));
    assert_eq!(
        lesson_in_mis_codes(&lesson("L", Some("UPN1"), Some("C7B")), &table()),
        Err(Unsendable::Unmapped("L".into()))
    );
}
