use super::*;
use crate::engines::each;
use crate::register::{self, Amendment};

/// A closed register of class 7B (reference `class_ref`) on `day`, 09:00–10:00, with Ada
/// (reference UPN1) marked `code`.
fn closed(sql: &dyn Sql, day: NaiveDate, code: &str) -> (Uuid, StudentId) {
    let (slot, class, ada) = (Uuid::new_v4(), Uuid::new_v4(), StudentId::random());
    sql.execute(
        "INSERT INTO classes (id, name, created_at, external_ref) VALUES (?1, ?2, 0, ?3)",
        params![class.to_string(), format!("7B {slot}"), format!("C-{slot}")],
    )
    .unwrap();
    sql.execute(
        "INSERT INTO students (id, name, external_ref, created_at) VALUES (?1, 'Ada', 'UPN1', 0)",
        params![ada.to_string()],
    )
    .unwrap();
    sql.execute(
        "INSERT INTO register_sessions (slot_id, day, class_id, class_name, room, weekday,
            start_minute, end_minute, starts_at, ends_at, closed_at)
         VALUES (?1, ?2, ?3, '7B', 'Lab 3', 1, 540, 600, 0, 1, 2)",
        params![slot.to_string(), day.to_string(), class.to_string()],
    )
    .unwrap();
    sql.execute(
        "INSERT INTO register_entries (slot_id, day, student_id, student_name, code, source,
            evidence) VALUES (?1, ?2, ?3, 'Ada', ?4, 'closed', '[]')",
        params![slot.to_string(), day.to_string(), ada.to_string(), code],
    )
    .unwrap();
    (slot, ada)
}

fn amendment(code: &str, at: i64) -> Amendment {
    Amendment {
        code: code.into(),
        reason: "Mum rang".into(),
        by_user: "office".into(),
        by_name: "Office".into(),
        by_role: "admin".into(),
        at: UnixMillis(at),
    }
}

#[test]
fn a_lesson_mark_is_put_once_per_change_and_the_amended_code_is_the_one_written() {
    each(|db| {
        let monday: NaiveDate = "2026-11-23".parse().unwrap();
        db.write_blocking(|sql| {
            let (slot, ada) = closed(sql, monday, "N");
            let days = (monday, monday);
            let new = changed(sql, monday, marks(sql, days)?)?;
            assert_eq!(new, vec![((slot, monday, ada), "N".to_owned())]);
            put(sql, &new, UnixMillis(1_000))?;
            assert!(
                changed(sql, monday, marks(sql, days)?)?.is_empty(),
                "the same mark is no change"
            );
            let first = due(sql, UnixMillis(1_000), 10)?.remove(0);
            assert_eq!((first.slot, first.student), (slot, ada));
            assert_eq!((first.code.as_str(), first.version), ("N", 1));
            assert_eq!(first.class_ref, Some(format!("C-{slot}")));
            assert_eq!((first.start_minute, first.end_minute), (540, 600));
            assert_eq!(first.external_ref.as_deref(), Some("UPN1"));

            // Amended while version 1 is on its way: version 1's write lands, the row stays
            // pending for version 2.
            register::amend(sql, (slot, monday, ada), &amendment("C", 1_500))?;
            let amended = changed(sql, monday, marks(sql, days)?)?;
            assert_eq!(amended, vec![((slot, monday, ada), "C".to_owned())]);
            put(sql, &amended, UnixMillis(3_000))?;
            assert!(!written(sql, &first, Some("w1"), UnixMillis(3_100))?);
            let second = lesson(sql, (slot, monday, ada))?.unwrap();
            assert_eq!((second.code.as_str(), second.version), ("C", 2));
            assert_eq!(second.status, Status::Pending);
            assert!(written(sql, &second, Some("w2"), UnixMillis(3_200))?);
            let counts = counts(sql)?;
            assert_eq!((counts.written, counts.pending), (1, 0));
            assert_eq!(counts.last_written_at, Some(UnixMillis(3_200)));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn a_refused_lesson_mark_waits_for_the_office_and_is_written_again_once_fixed() {
    each(|db| {
        let monday: NaiveDate = "2026-11-23".parse().unwrap();
        db.write_blocking(|sql| {
            let (slot, ada) = closed(sql, monday, "N");
            let new = changed(sql, monday, marks(sql, (monday, monday))?)?;
            put(sql, &new, UnixMillis(1_000))?;
            let l = due(sql, UnixMillis(1_000), 10)?.remove(0);
            assert!(retry(sql, &l, UnixMillis(61_000), "Wonde answered 500")?);
            assert!(
                due(sql, UnixMillis(2_000), 10)?.is_empty(),
                "not before its backoff"
            );
            assert_eq!(failing(sql, 10)?.len(), 1);
            let l = due(sql, UnixMillis(61_000), 10)?.remove(0);
            assert_eq!(l.tries, 1);
            assert!(refused(sql, &l, "no lesson in the MIS's timetable")?);
            assert!(due(sql, UnixMillis(i64::MAX), 10)?.is_empty());
            assert_eq!(in_status(sql, Status::Refused, 10)?.len(), 1);

            assert_eq!(again_refused_with(sql, "C", UnixMillis(70_000))?, 0);
            let class: String = sql.query_one(
                "SELECT class_id FROM register_sessions WHERE slot_id = ?1",
                params![slot.to_string()],
                "class",
                |r| r.get("class_id"),
            )?;
            let class: Uuid = class.parse().unwrap();
            assert_eq!(again_refused_of_class(sql, class, UnixMillis(70_000))?, 1);
            let again = due(sql, UnixMillis(70_000), 10)?.remove(0);
            assert_eq!((again.version, again.tries, again.last_error), (2, 0, None));
            assert!(super::super::purge(sql, monday.succ_opt().unwrap())? == 0);
            assert!(
                lesson(sql, (slot, monday, ada))?.is_none(),
                "purged with its day"
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}
