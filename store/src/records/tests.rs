use super::scan::{KEY_PAGE, key_query};
use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::sightings;
use crate::sql::Value;
use crate::sql::params_from_iter;
use std::ops::ControlFlow;

/// A time inside the range the table accepts.
const T: i64 = 1_790_000_000_000;

fn ms(t: i64) -> UnixMillis {
    UnixMillis(t)
}

/// `f` in one write transaction of its own.
fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> Result<T, StoreError> {
    db.write_blocking(f)
}

fn device(db: &Db) -> DeviceId {
    let id = DeviceId::random();
    write(db, |sql| {
        crate::fixtures::register_device_in(sql, id);
        Ok(())
    })
    .unwrap();
    id
}

/// Stores `r` as ingest does (`ingest::arrival` owns the rule), received at `at`.
fn put(sql: &dyn Sql, r: &AttendanceRecord, at: i64) -> Result<bool, StoreError> {
    insert(sql, r, UnixMillis(at), crate::fixtures::standing(r))
}

fn record(device: DeviceId, decision: Decision) -> AttendanceRecord {
    let mut r = crate::fixtures::sample_record(decision, T + 1_000, &[StudentId::random()]);
    r.device = device;
    r
}

#[test]
fn keys_come_newest_first_by_status_and_stop_when_asked() {
    each(|db| {
        let dev = device(db);
        let mut ids = Vec::new();
        for (at, decision) in [
            (3, Decision::Unknown),
            (1, Decision::Confident),
            (2, Decision::Uncertain),
        ] {
            let mut r = record(dev, decision);
            r.captured_at = UnixMillis(T + at);
            write(db, |sql| put(sql, &r, T + at)).unwrap();
            ids.push(r.id);
        }
        db.read_blocking(|sql| {
            let mut pending = Vec::new();
            each_key(sql, &RecordFilter::status(Status::Pending), |k| {
                pending.push((k.id, k.captured_at));
                ControlFlow::Continue(())
            })?;
            assert_eq!(
                pending,
                [(ids[0], UnixMillis(T + 3)), (ids[2], UnixMillis(T + 2))]
            );
            let mut seen = 0;
            each_key(sql, &RecordFilter::default(), |_| {
                seen += 1;
                ControlFlow::Break(())
            })?;
            assert_eq!(seen, 1);
            let all: Vec<RecordId> = by_status(sql, None, 10)?.iter().map(|r| r.id).collect();
            assert_eq!(all, [ids[0], ids[2], ids[1]]);
            let in_lab = in_room(sql, Status::Pending, "Lab 3", ms(T + 2), ms(T + 4))?;
            assert_eq!(
                in_lab.iter().map(|r| r.id).collect::<Vec<_>>(),
                [ids[0], ids[2]]
            );
            assert!(in_room(sql, Status::Pending, "Hall", ms(T), ms(T + 9))?.is_empty());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn key_scans_go_on_page_after_page_in_order() {
    each(|db| {
        let dev = device(db);
        // Two full pages and a bit, some captured at the same moment: ties go by id.
        let stored: Vec<(UnixMillis, RecordId)> = write(db, |sql| {
            let mut stored = Vec::new();
            for i in 0..2 * KEY_PAGE + 3 {
                let mut r = record(dev, Decision::Unknown);
                r.captured_at = UnixMillis(T + i / 3);
                put(sql, &r, T)?;
                stored.push((r.captured_at, r.id));
            }
            Ok(stored)
        })
        .unwrap();
        let mut newest_first = stored.clone();
        newest_first.sort_by_key(|&(at, id)| std::cmp::Reverse((at, id.to_string())));
        for status in [None, Some(Status::Pending)] {
            let mut seen = Vec::new();
            let filter = RecordFilter {
                status,
                ..RecordFilter::default()
            };
            db.read_blocking(|sql| {
                each_key(sql, &filter, |k| {
                    seen.push((k.captured_at, k.id));
                    ControlFlow::Continue(())
                })
            })
            .unwrap();
            assert_eq!(seen, newest_first, "{status:?}");
        }
        let mut seen = 0;
        db.read_blocking(|sql| {
            each_key(sql, &RecordFilter::default(), |_| {
                seen += 1;
                match seen < KEY_PAGE + 1 {
                    true => ControlFlow::Continue(()),
                    false => ControlFlow::Break(()),
                }
            })
        })
        .unwrap();
        assert_eq!(seen, KEY_PAGE + 1);
    });
}

#[test]
fn key_scans_read_only_the_covering_indexes() {
    // SQLite's plans; PostgreSQL chooses its own.
    let conn = crate::fixtures::memory();
    let after = (Value::Integer(T), Value::Text("a".into()));
    let pending = RecordFilter::status(Status::Pending);
    for (filter, after, index) in [
        (&pending, None, "records_status_keys"),
        (&pending, Some(&after), "records_status_keys"),
        (&RecordFilter::default(), None, "records_time_keys"),
        (&RecordFilter::default(), Some(&after), "records_time_keys"),
    ] {
        let (sql, values) = key_query(filter, after);
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(params_from_iter(values), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(
            plan.contains(&format!("USING COVERING INDEX {index}")),
            "{plan}"
        );
        assert!(
            !plan.contains("TEMP B-TREE"),
            "sorts instead of walking the index: {plan}"
        );
    }
}

#[test]
fn a_filter_keeps_what_it_names_and_pages_go_on_from_a_record() {
    each(|db| {
        let (lab, hall) = (device(db), device(db));
        let (ada, bo) = (StudentId::random(), StudentId::random());
        // Newest last: Ada at the lab at 1 and 4, Bo in the hall at 2, nobody at 3.
        let plan = [
            (1, lab, Decision::Confident, Some(ada)),
            (2, hall, Decision::Uncertain, Some(bo)),
            (3, lab, Decision::Unknown, None),
            (4, lab, Decision::Uncertain, Some(ada)),
        ];
        let ids: Vec<RecordId> = write(db, |sql| {
            let mut ids = Vec::new();
            for (at, unit, decision, who) in plan {
                let named: Vec<StudentId> = who.into_iter().collect();
                let mut r = crate::fixtures::sample_record(decision, T + at, &named);
                r.device = unit;
                if unit == hall {
                    r.room = "Hall".into();
                }
                put(sql, &r, T + at)?;
                ids.push(r.id);
            }
            Ok(ids)
        })
        .unwrap();
        let kept = |f: RecordFilter| -> Vec<RecordId> {
            let mut found = Vec::new();
            db.read_blocking(|sql| {
                each_key(sql, &f, |k| {
                    found.push(k.id);
                    ControlFlow::Continue(())
                })
            })
            .unwrap();
            found
        };
        let all = RecordFilter::default();
        assert_eq!(kept(all.clone()), [ids[3], ids[2], ids[1], ids[0]]);
        let of_ada = RecordFilter {
            student: Some(ada),
            ..all.clone()
        };
        assert_eq!(kept(of_ada), [ids[3], ids[0]]);
        let at_lab = RecordFilter {
            device: Some(lab),
            decision: Some(Decision::Uncertain),
            ..all.clone()
        };
        assert_eq!(kept(at_lab), [ids[3]]);
        let in_hall = RecordFilter {
            room: Some("Hall".into()),
            ..all.clone()
        };
        assert_eq!(kept(in_hall), [ids[1]]);
        let between = RecordFilter {
            from: Some(ms(T + 2)),
            to: Some(ms(T + 4)),
            ..all.clone()
        };
        assert_eq!(kept(between), [ids[2], ids[1]], "from is in, to is out");
        let next_page = RecordFilter {
            before: Some(ids[2]),
            ..all.clone()
        };
        assert_eq!(kept(next_page), [ids[1], ids[0]]);
        let gone = RecordFilter {
            before: Some(RecordId::now_v7()),
            ..all
        };
        let e = db.read_blocking(|sql| each_key(sql, &gone, |_| ControlFlow::Continue(())));
        assert!(matches!(e, Err(StoreError::NotFound("record"))), "{e:?}");
    });
}

#[test]
fn a_pending_record_is_settled_once_and_never_over_a_decision() {
    each(|db| {
        let r = record(device(db), Decision::Uncertain);
        write(db, |sql| put(sql, &r, T + 5)).unwrap();
        let student = StudentId::random();
        let by_the_hub = Review {
            status: Status::Approved,
            final_student: Some(student),
            by: "system",
            at: ms(T + 6),
            note: Some("named with the lesson's other arrivals"),
        };
        assert!(write(db, |sql| settle_pending(sql, r.id, &by_the_hub)).unwrap());
        let rejected = Review {
            status: Status::Rejected,
            final_student: None,
            by: "user:tess",
            at: ms(T + 7),
            note: None,
        };
        write(db, |sql| review(sql, r.id, &rejected)).unwrap();
        assert!(!write(db, |sql| settle_pending(sql, r.id, &by_the_hub)).unwrap());
        let stored = db.read_blocking(|sql| get(sql, r.id)).unwrap();
        assert_eq!(
            (stored.status, stored.reviewed_by.as_deref()),
            (Status::Rejected, Some("user:tess"))
        );
        let nobody = RecordId::now_v7();
        assert!(!write(db, |sql| settle_pending(sql, nobody, &by_the_hub)).unwrap());
    });
}

#[test]
fn inserting_the_same_record_twice_stores_it_once() {
    each(|db| {
        let r = record(device(db), Decision::Uncertain);
        assert!(write(db, |sql| put(sql, &r, T + 5)).unwrap());
        assert!(!write(db, |sql| put(sql, &r, T + 6)).unwrap());
        db.read_blocking(|sql| {
            assert!(exists(sql, r.id)?);
            assert!(!exists(sql, RecordId::now_v7())?);
            let stored = get(sql, r.id)?;
            assert_eq!(
                (stored.status, stored.received_at),
                (Status::Pending, ms(T + 5))
            );
            assert_eq!(by_status(sql, Some(Status::Pending), 10)?.len(), 1);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn a_records_liveness_check_is_kept_and_faces_judged_not_live_are_counted_per_unit() {
    each(|db| {
        let (door, other) = (device(db), device(db));
        let mut flagged = record(door, Decision::Uncertain);
        flagged.liveness = Some(LivenessCheck {
            live: false,
            real_score: 0.125,
        });
        let mut live = record(door, Decision::Confident);
        live.liveness = Some(LivenessCheck {
            live: true,
            real_score: 0.875,
        });
        let unchecked = record(other, Decision::Uncertain);
        for r in [&flagged, &live, &unchecked] {
            write(db, |sql| put(sql, r, T + 5)).unwrap();
        }
        db.read_blocking(|sql| {
            assert_eq!(get(sql, flagged.id)?.liveness, flagged.liveness);
            assert_eq!(get(sql, live.id)?.liveness, live.liveness);
            assert_eq!(get(sql, unchecked.id)?.liveness, None);
            let counts = not_live_by_device(sql, ms(T))?;
            assert_eq!(counts.get(&door), Some(&1));
            assert_eq!(counts.get(&other), None);
            assert!(not_live_by_device(sql, ms(T + 2_000))?.is_empty(), "older");
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}

#[test]
fn confident_records_count_at_once_and_reviews_move_them() {
    each(|db| {
        let r = record(device(db), Decision::Confident);
        let student = r.candidates[0].student;
        let accepted = |sql: &dyn Sql| {
            sightings::in_room(
                sql,
                crate::fixtures::ACCEPTED,
                "Lab 3",
                ms(T),
                ms(T + 2_000),
            )
        };
        write(db, |sql| {
            put(sql, &r, T + 5)?;
            assert_eq!(accepted(sql)?, [(student, ms(T + 1_000), r.id)]);
            assert_eq!(
                sightings::named_by_door(sql, "Lab 3", ms(T), ms(T + 2_000))?,
                [student]
            );
            let review = Review {
                status: Status::Rejected,
                final_student: None,
                by: "t",
                at: ms(9),
                note: Some("a visitor"),
            };
            super::review(sql, r.id, &review)?;
            assert!(matches!(
                super::review(sql, RecordId::now_v7(), &review),
                Err(StoreError::NotFound(_))
            ));
            assert!(accepted(sql)?.is_empty());
            assert_eq!(get(sql, r.id)?.review_note.as_deref(), Some("a visitor"));
            let named = sightings::named_by_door(sql, "Lab 3", ms(T), ms(T + 2_000))?;
            assert!(named.is_empty());
            assert_eq!(purge_faces(sql, ms(9))?, 0, "reviewed at 9, not before");
            assert_eq!(purge_faces(sql, ms(10))?, 1);
            assert!(matches!(embedding(sql, r.id), Err(StoreError::NotFound(_))));
            assert_eq!(thumbnail(sql, r.id)?, None);
            assert_eq!(purge_faces(sql, ms(10))?, 0, "once");
            assert_eq!(purge(sql, ms(0))?, 0);
            assert_eq!(purge(sql, ms(T + 2_000))?, 1);
            assert!(matches!(thumbnail(sql, r.id), Err(StoreError::NotFound(_))));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn undecided_faces_expire_and_erasure_takes_a_students_faces() {
    each(|db| {
        let dev = device(db);
        let (waiting, confirmed, other) = (
            record(dev, Decision::Uncertain),
            record(dev, Decision::Confident),
            record(dev, Decision::Uncertain),
        );
        let student = waiting.candidates[0].student;
        let mut confirmed = confirmed;
        confirmed.candidates[0].student = student;
        write(db, |sql| {
            for r in [&waiting, &confirmed, &other] {
                put(sql, r, T)?;
            }
            assert!(embedding(sql, waiting.id).is_ok());
            assert_eq!(erase_faces_of(sql, student)?, 2);
            assert!(!exists(sql, waiting.id)? && !exists(sql, confirmed.id)?);
            assert_eq!(
                expire_undecided(sql, ms(T + 1_000), Status::Rejected, ms(T + 9), "x")?,
                0,
                "captured at T + 1000, not before"
            );
            let n = expire_undecided(sql, ms(T + 1_001), Status::Rejected, ms(T + 9), "x")?;
            assert_eq!(n, 1);
            let expired = get(sql, other.id)?;
            assert_eq!(
                (expired.status, expired.reviewed_by.as_deref()),
                (Status::Rejected, Some("x"))
            );
            assert_eq!(expired.reviewed_at, Some(ms(T + 9)));
            assert!(matches!(
                embedding(sql, other.id),
                Err(StoreError::NotFound(_))
            ));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn the_table_refuses_times_outside_its_range_and_bad_candidates() {
    each(|db| {
        let dev = device(db);
        for at in [EARLIEST_MS - 1, LATEST_MS + 1, 8_210_266_833_600_000] {
            let mut r = record(dev, Decision::Unknown);
            r.captured_at = UnixMillis(at);
            assert!(write(db, |sql| put(sql, &r, T)).is_err(), "{at} was stored");
        }
        let r = record(dev, Decision::Unknown);
        assert!(write(db, |sql| put(sql, &r, EARLIEST_MS - 1)).is_err());
        write(db, |sql| put(sql, &r, T)).unwrap();
        let broken = write(db, |sql| {
            sql.execute("UPDATE records SET candidates = 'not json'", &[])
        });
        assert!(broken.unwrap_err().is_constraint_violation());
    });
}

#[test]
fn a_row_that_cannot_be_read_is_left_out_of_listings() {
    each(|db| {
        let dev = device(db);
        let [good, bad_key, bad_row] = [(); 3].map(|_| record(dev, Decision::Unknown));
        write(db, |sql| {
            for r in [&good, &bad_key, &bad_row] {
                put(sql, r, T)?;
            }
            // A door unit whose id is no id: the record's key reads, the record does not.
            sql.execute(
                "INSERT INTO devices (id, name, room, credential_hash, created_at)
                 VALUES ('door?', 'door?', 'Lab 3', 'h', 0)",
                &[],
            )?;
            sql.execute(
                "UPDATE records SET device_id = 'door?' WHERE id = ?1",
                params![bad_row.id.to_string()],
            )?;
            sql.execute(
                "UPDATE records SET id = 'not an id' WHERE id = ?1",
                params![bad_key.id.to_string()],
            )
        })
        .unwrap();
        let listed = db.read_blocking(|sql| by_status(sql, None, 10)).unwrap();
        assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [good.id]);
    });
}

#[test]
fn a_value_of_the_wrong_type_is_left_out_on_sqlite() {
    // Only SQLite lets a column hold a value of another type.
    let conn = crate::fixtures::memory();
    let dev = DeviceId::random();
    crate::fixtures::register_device_in(&conn, dev);
    let (good, bad) = (
        record(dev, Decision::Unknown),
        record(dev, Decision::Unknown),
    );
    put(&conn, &good, T).unwrap();
    put(&conn, &bad, T).unwrap();
    conn.execute(
        "UPDATE records SET room = x'00ff' WHERE id = ?1",
        [bad.id.to_string()],
    )
    .unwrap();
    let listed = by_status(&conn, None, 10).unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [good.id]);
}
