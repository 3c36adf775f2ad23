//! The register on both engines: codes, closed sessions, amendments, late evidence, retention.

use rollcall_shared::DeviceId;

use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::sql::{Sql, params};

fn change<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> Result<T, StoreError> {
    db.write_blocking(f)
}

fn read<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.read_blocking(f).unwrap()
}

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

fn code_of(code: &str, mark: Mark) -> Code {
    Code {
        code: code.into(),
        meaning: format!("meaning of {code}"),
        mark,
        retired: false,
    }
}

/// A session of a fresh slot on `day` in "Lab 3", 09:00 to 10:00 (as millis from 0).
fn closed(day_: &str) -> ClosedSession {
    let day = day(day_);
    ClosedSession {
        slot: Slot {
            id: Uuid::now_v7(),
            class_id: rollcall_shared::ClassId::random(),
            room: "Lab 3".into(),
            weekday: 2,
            start_minute: 540,
            end_minute: 600,
            valid_from: Some(day),
            valid_until: Some(day),
        },
        day,
        class_name: "7B".into(),
        starts_at: UnixMillis(1_800_000_000_000),
        ends_at: UnixMillis(1_800_003_600_000),
        closed_at: UnixMillis(1_800_003_700_000),
    }
}

fn absent(student: StudentId, name: &str) -> NewEntry {
    NewEntry {
        student,
        student_name: name.into(),
        code: "N",
        source: Source::Closed,
        first_seen_at: None,
        evidence: Vec::new(),
        reason: None,
    }
}

fn amendment(code: &str, at: i64) -> Amendment {
    Amendment {
        code: code.into(),
        reason: format!("to {code}"),
        by_user: "u1".into(),
        by_name: "Ms T".into(),
        by_role: "teacher".into(),
        at: UnixMillis(at),
    }
}

#[test]
fn codes_list_in_the_order_they_were_added_whatever_changes() {
    each(|db| {
        let first: Vec<String> = read(db, codes).into_iter().map(|c| c.code).collect();
        assert_eq!(first[..4], ["/", "L", "B", "C"]);
        change(db, |sql| add_code(sql, &code_of("A", Mark::Present))).unwrap();
        let e = change(db, |sql| add_code(sql, &code_of("A", Mark::Late))).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        let slash = Code {
            meaning: "In the room".into(),
            ..code_of("/", Mark::Present)
        };
        change(db, |sql| update_code(sql, &slash)).unwrap();
        let after: Vec<Code> = read(db, codes);
        assert_eq!(after[0], slash);
        let order: Vec<&str> = after.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(order[..order.len() - 1], first);
        assert_eq!(order.last(), Some(&"A"));
        assert_eq!(read(db, |sql| code(sql, "A")), code_of("A", Mark::Present));
        let e = db.read_blocking(|sql| code(sql, "?")).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("attendance code")), "{e}");
    });
}

#[test]
fn a_code_keeps_its_mark_once_built_in_or_used_and_stays_while_used() {
    each(|db| {
        let e = change(db, |sql| update_code(sql, &code_of("N", Mark::Excused))).unwrap_err();
        assert!(e.to_string().contains("written by the hub"), "{e}");
        let e = change(db, |sql| delete_code(sql, "N")).unwrap_err();
        assert!(e.to_string().contains("written by the hub"), "{e}");
        let session = closed("2026-11-24");
        let ada = StudentId::random();
        change(db, |sql| write(sql, &session, &[absent(ada, "Ada")])).unwrap();
        let key = (session.slot.id, session.day, ada);
        change(db, |sql| amend(sql, key, &amendment("R", 1))).unwrap();
        let e = change(db, |sql| update_code(sql, &code_of("R", Mark::Absent))).unwrap_err();
        assert!(e.to_string().contains("used in the register"), "{e}");
        let e = change(db, |sql| delete_code(sql, "R")).unwrap_err();
        assert!(e.to_string().contains("used in the register"), "{e}");
        for written in ["B", "M", "I"] {
            let e = change(db, |sql| delete_code(sql, written)).unwrap_err();
            assert!(e.to_string().contains("written by the hub"), "{e}");
        }
        change(db, |sql| update_code(sql, &code_of("G", Mark::Excused))).unwrap();
        change(db, |sql| delete_code(sql, "G")).unwrap();
        let e = change(db, |sql| delete_code(sql, "G")).unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    });
}

#[test]
fn a_closed_session_reads_back_with_its_entries_and_amendments() {
    each(|db| {
        let session = closed("2026-11-24");
        let (ada, bo) = (StudentId::random(), StudentId::random());
        let record = RecordId::now_v7();
        let seen = NewEntry {
            code: "/",
            source: Source::Record,
            first_seen_at: Some(UnixMillis(1_800_000_060_000)),
            evidence: vec![record],
            ..absent(ada, "Ada")
        };
        change(db, |sql| write(sql, &session, &[absent(bo, "Bo"), seen])).unwrap();
        let key = (session.slot.id, session.day, bo);
        change(db, |sql| {
            amend(sql, key, &amendment("I", 2))?;
            amend(sql, key, &amendment("M", 1))
        })
        .unwrap();
        let (slot, d) = (session.slot.id, session.day);
        assert_eq!(
            read(db, |sql| super::session(sql, slot, d)),
            Some(session.clone())
        );
        let next = d.succ_opt().unwrap();
        assert_eq!(read(db, |sql| super::session(sql, slot, next)), None);
        let entries = read(db, |sql| entries(sql, slot, d));
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].student, entries[0].code()), (ada, "/"));
        assert_eq!(entries[0].evidence, [record]);
        assert_eq!(
            entries[0].first_seen_at,
            Some(UnixMillis(1_800_000_060_000))
        );
        assert_eq!((entries[1].student, entries[1].code()), (bo, "M"));
        assert_eq!(entries[1].original_code, "N");
        assert_eq!(
            entries[1].amendments,
            [amendment("I", 2), amendment("M", 1)]
        );
        let e = change(db, |sql| write(sql, &session, &[])).unwrap_err();
        assert!(e.is_constraint_violation(), "{e}");
    });
}

#[test]
fn sessions_list_by_day_and_purge_takes_the_old_ones() {
    each(|db| {
        let later = Slot {
            start_minute: 600,
            ..closed("2026-11-24").slot
        };
        let sessions = [
            ClosedSession {
                slot: later,
                ..closed("2026-11-24")
            },
            closed("2026-11-24"),
            closed("2026-11-23"),
            closed("2026-11-20"),
        ];
        let (ada, bo) = (StudentId::random(), StudentId::random());
        change(db, |sql| {
            for s in &sessions {
                write(sql, s, &[absent(ada, "Ada"), absent(bo, "Bo")])?;
            }
            amend(
                sql,
                (sessions[3].slot.id, sessions[3].day, bo),
                &amendment("I", 1),
            )
        })
        .unwrap();
        let between = read(db, |sql| {
            sessions_between(sql, day("2026-11-21"), day("2026-11-24"))
        });
        assert_eq!(
            between,
            [&sessions[2], &sessions[1], &sessions[0]].map(Clone::clone)
        );
        let first = read(db, |sql| first_closed_day(sql, sessions[3].slot.id));
        assert_eq!(first, Some(day("2026-11-20")));
        assert_eq!(read(db, |sql| first_closed_day(sql, Uuid::now_v7())), None);
        assert_eq!(change(db, |sql| purge(sql, day("2026-11-23"))).unwrap(), 1);
        let left = read(db, |sql| {
            sessions_between(sql, day("2026-01-01"), day("2026-12-31"))
        });
        assert_eq!(left.len(), 3);
        let old = (sessions[3].slot.id, sessions[3].day);
        assert!(read(db, |sql| entries(sql, old.0, old.1)).is_empty());
    });
}

#[test]
fn the_day_closed_through_moves_on() {
    each(|db| {
        assert_eq!(read(db, closed_through), None);
        change(db, |sql| set_closed_through(sql, day("2026-11-23"))).unwrap();
        change(db, |sql| set_closed_through(sql, day("2026-11-24"))).unwrap();
        assert_eq!(read(db, closed_through), Some(day("2026-11-24")));
    });
}

/// Stores a record of `student` in `room` at `captured_at` with `status`.
fn record(sql: &dyn Sql, device: DeviceId, student: StudentId, at: i64, status: &str) -> RecordId {
    let id = RecordId::now_v7();
    sql.execute(
        "INSERT INTO records (id, device_id, room, captured_at, received_at, model,
             gallery_version, embedding, candidates, decision, quality, status, final_student)
         VALUES (?1, ?2, 'Lab 3', ?3, ?3, 'm', 1, ?4, '[]', 'confident', '{}', ?5, ?6)",
        params![
            id.to_string(),
            device.to_string(),
            at,
            vec![0_u8; 4],
            status,
            student.to_string()
        ],
    )
    .unwrap();
    id
}

#[test]
fn late_evidence_is_an_accepted_record_in_the_window_of_an_unamended_absence() {
    each(|db| {
        let session = closed("2026-11-24");
        let earlier = closed("2026-11-20");
        let (ada, bo, cy) = (
            StudentId::random(),
            StudentId::random(),
            StudentId::random(),
        );
        let device = DeviceId::random();
        let starts = session.starts_at.0;
        let early_ada = change(db, |sql| {
            sql.execute(
                "INSERT INTO devices (id, name, room, credential_hash, created_at)
                 VALUES (?1, 'door', 'Lab 3', 'h', 0)",
                params![device.to_string()],
            )?;
            let seen = NewEntry {
                code: "/",
                source: Source::Record,
                ..absent(cy, "Cy")
            };
            write(sql, &session, &[absent(ada, "Ada"), absent(bo, "Bo"), seen])?;
            write(sql, &earlier, &[absent(ada, "Ada")])?;
            amend(sql, (session.slot.id, session.day, bo), &amendment("I", 1))?;
            let early_ada = record(sql, device, ada, starts - 5 * 60_000, "approved");
            record(sql, device, ada, starts - 20 * 60_000, "approved");
            record(sql, device, ada, starts + 60_000, "rejected");
            record(sql, device, ada, session.ends_at.0, "approved");
            record(sql, device, bo, starts + 60_000, "approved");
            record(sql, device, cy, starts + 60_000, "approved");
            record(sql, device, ada, starts, "pending");
            Ok(early_ada)
        })
        .unwrap();
        let accepted = [Status::Approved, Status::Reassigned];
        let found = read(db, |sql| {
            late_evidence(sql, day("2026-11-21"), 10 * 60_000, accepted)
        });
        assert_eq!(
            found,
            [LateEvidence {
                slot: session.slot.id,
                day: session.day,
                student: ada,
                starts_at: session.starts_at,
                record: early_ada,
                captured_at: UnixMillis(starts - 5 * 60_000),
            }]
        );
    });
}
