use super::*;
use crate::engines::each;

fn student(sql: &dyn Sql, reference: &str) -> StudentId {
    let id = StudentId::random();
    sql.execute(
        "INSERT INTO students (id, name, external_ref, created_at) VALUES (?1, 'Ada', ?2, 0)",
        params![id.to_string(), reference],
    )
    .unwrap();
    id
}

#[test]
fn a_day_is_written_once_per_version_and_a_change_while_writing_waits_its_turn() {
    each(|db| {
        let monday: NaiveDate = "2026-11-23".parse().unwrap();
        db.write_blocking(|sql| {
            let ada = student(sql, "UPN1");
            assert!(put(
                sql,
                (ada, monday),
                (Some("/"), None),
                UnixMillis(1_000)
            )?);
            assert!(
                !put(sql, (ada, monday), (Some("/"), None), UnixMillis(2_000))?,
                "the same marks are no change"
            );
            let due_now = due(sql, UnixMillis(1_000), 10)?;
            assert_eq!(due_now.len(), 1);
            let first = due_now[0].clone();
            assert_eq!((first.version, first.status), (1, Status::Pending));
            assert_eq!(first.external_ref.as_deref(), Some("UPN1"));

            // The afternoon's mark arrives while version 1 is on its way.
            assert!(put(
                sql,
                (ada, monday),
                (Some("/"), Some("\\")),
                UnixMillis(3_000)
            )?);
            assert!(
                !written(sql, &first, Some("w1"), UnixMillis(4_000))?,
                "an older version's write leaves the newer pending"
            );
            let second = day(sql, ada, monday)?.unwrap();
            assert_eq!((second.version, second.status), (2, Status::Pending));
            assert!(written(sql, &second, Some("w2"), UnixMillis(5_000))?);
            let done = day(sql, ada, monday)?.unwrap();
            assert_eq!(done.status, Status::Written);
            assert_eq!(done.written_version, Some(2));
            assert_eq!(done.mis_ref.as_deref(), Some("w2"));
            assert!(due(sql, UnixMillis(9_999_999), 10)?.is_empty());

            let counts = counts(sql)?;
            assert_eq!((counts.pending, counts.written, counts.refused), (0, 1, 0));
            assert_eq!(counts.last_written_at, Some(UnixMillis(5_000)));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn a_failure_waits_and_a_refusal_stops_until_the_office_says_again() {
    each(|db| {
        let monday: NaiveDate = "2026-11-23".parse().unwrap();
        db.write_blocking(|sql| {
            let ada = student(sql, "UPN1");
            put(sql, (ada, monday), (Some("N"), None), UnixMillis(1_000))?;
            let d = day(sql, ada, monday)?.unwrap();
            assert!(retry(sql, &d, UnixMillis(61_000), "the MIS answered 500")?);
            assert!(due(sql, UnixMillis(60_000), 10)?.is_empty(), "not yet due");
            let d = due(sql, UnixMillis(61_000), 10)?.remove(0);
            assert_eq!(d.tries, 1);
            assert_eq!(failing(sql, 10)?.len(), 1);

            assert!(refused(sql, &d, "no code N at the MIS")?);
            assert!(
                due(sql, UnixMillis(i64::MAX), 10)?.is_empty(),
                "never again by itself"
            );
            let listed = in_status(sql, Status::Refused, 10)?;
            assert_eq!(
                listed[0].last_error.as_deref(),
                Some("no code N at the MIS")
            );

            assert!(again(sql, (ada, monday), UnixMillis(70_000))?);
            let d = due(sql, UnixMillis(70_000), 10)?.remove(0);
            assert_eq!((d.tries, d.last_error.as_deref()), (0, None));
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn the_code_table_maps_each_code_once() {
    each(|db| {
        db.write_blocking(|sql| {
            let m = |code: &str, mis: &str| CodeMapping {
                code: code.into(),
                mis_code: mis.into(),
            };
            set_code(sql, &m("N", "O"), "office", UnixMillis(1))?;
            set_code(sql, &m("/", "/"), "office", UnixMillis(1))?;
            set_code(sql, &m("N", "N"), "office", UnixMillis(2))?;
            assert_eq!(codes(sql)?, vec![m("/", "/"), m("N", "N")]);
            assert!(delete_code(sql, "N")?);
            assert!(!delete_code(sql, "N")?);
            assert_eq!(codes(sql)?, vec![m("/", "/")]);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}
