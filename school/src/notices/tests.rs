use super::*;

#[test]
fn a_reply_link_opens_only_as_signed_by_this_key() {
    let key = ReplyKey::derive(b"the hub's own secret");
    let (ada, day) = (
        StudentId::random(),
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
    );
    let token = key.token(ada, day);
    assert_eq!(token.len(), 48, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(key.open(&token), Some((ada, day)));

    let other = ReplyKey::derive(b"another hub");
    assert_eq!(other.open(&token), None, "another hub's key");
    let mut tampered = token.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(key.open(&tampered), None, "another day or student");
    for junk in [
        "",
        "x",
        "not a token at all",
        &"A".repeat(48),
        &"A".repeat(500),
    ] {
        assert_eq!(key.open(junk), None, "{junk:?}");
    }
    assert_ne!(
        key.token(ada, day.succ_opt().unwrap()),
        token,
        "a day its own link"
    );
}

#[test]
fn a_first_name_is_the_first_word() {
    assert_eq!(first_name("Ada Lovelace"), "Ada");
    assert_eq!(first_name("  Mair  Wyn "), "Mair");
    assert_eq!(first_name(""), "");
}

#[test]
fn every_reason_has_a_label_in_english_and_welsh() {
    for language in ["en", "cy", "pl"] {
        let labels = reason_labels(language);
        let codes: Vec<&str> = labels.iter().map(|(r, _)| *r).collect();
        let reasons: Vec<&str> = REASONS.iter().map(|(r, _)| *r).collect();
        assert_eq!(codes, reasons, "{language}");
    }
    assert_eq!(reason_labels("cy-GB")[0].1, "Sâl");
    assert!(
        REASONS
            .iter()
            .all(|(_, code)| crate::register::reason_code(code).is_some()),
        "the register writes every reason's code"
    );
}

#[test]
fn notices_are_due_after_the_first_lesson_on_school_days_only_on_the_school_s_clock() {
    use rollcall_store::sql::params;
    rollcall_store::engines::each(|db| {
        let london = rollcall_shared::SiteZone::named("Europe/London").unwrap();
        let rules = Rules {
            zone: london.clone(),
            late_after_minutes: 5,
            early_minutes: 0,
        };
        // Mondays at 09:00 and 08:40 (the day's first), in summer time and in winter.
        let (summer, winter) = (
            NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        );
        let holiday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let due = db
            .write_blocking(|sql| {
                let class = ClassId::random().to_string();
                sql.execute(
                    "INSERT INTO classes (id, name, created_at) VALUES (?1, '7B', 0)",
                    params![class],
                )?;
                for start in [540, 520] {
                    sql.execute(
                        "INSERT INTO timetable (id, class_id, room, weekday, start_minute,
                         end_minute) VALUES (?1, ?2, 'Lab 3', 1, ?3, ?4)",
                        params![uuid::Uuid::now_v7().to_string(), class, start, start + 40],
                    )?;
                }
                sql.execute(
                    "INSERT INTO holidays (day, name) VALUES (?1, 'INSET day')",
                    params![holiday.to_string()],
                )?;
                let at = |day| due_at(sql, &rules, day, 30);
                Ok::<_, StoreError>([
                    at(summer)?,
                    at(winter)?,
                    at(holiday)?,
                    at(winter.succ_opt().unwrap())?,
                ])
            })
            .unwrap();
        let wall = |day: NaiveDate, minute: u16| Some(rules.instant(day, minute));
        assert_eq!(due[0], wall(summer, 550), "09:10 BST");
        assert_eq!(due[1], wall(winter, 550), "09:10 GMT");
        assert_eq!(
            due[0].unwrap().0 % 86_400_000,
            (8 * 60 + 10) * 60_000,
            "08:10 UTC in summer"
        );
        assert_eq!(due[2], None, "a holiday has no lessons");
        assert_eq!(due[3], None, "nor has a Tuesday without any");
    });
}
