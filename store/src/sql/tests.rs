//! The SQL layer on both engines: values, conflicts, constraints, order, the register's
//! immutability, migrations.

use rollcall_shared::{DeviceId, StudentId};
use rusqlite::params;

use crate::db::Db;
use crate::engines::{each, write};
use crate::error::StoreError;

#[test]
fn values_come_back_as_they_went_in() {
    each(|db| {
        let device = DeviceId::random();
        write(db, |sql| {
            sql.execute(
                "INSERT INTO devices (id, name, room, credential_hash, created_at, outbox_depth,
                     last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    device.to_string(),
                    "door ü",
                    "Lab 3",
                    "h",
                    i64::MAX,
                    None::<i64>,
                    Some("é")
                ],
            )
        })
        .unwrap();
        let row = db
            .read_blocking(|sql| {
                sql.query_one(
                    "SELECT id, name, created_at, outbox_depth, last_error, enabled = 1 AS on_
                     FROM devices WHERE id = ?1",
                    params![device.to_string()],
                    "device",
                    |r| {
                        Ok((
                            r.get::<String>("id")?,
                            r.get::<String>(1)?,
                            r.get::<i64>(2)?,
                            r.get::<Option<i64>>(3)?,
                            r.get::<Option<String>>(4)?,
                            r.get::<bool>(5)?,
                        ))
                    },
                )
            })
            .unwrap();
        assert_eq!(
            row,
            (
                device.to_string(),
                "door ü".into(),
                i64::MAX,
                None,
                Some("é".into()),
                true
            )
        );
    });
}

#[test]
fn blobs_and_reals_round_trip() {
    each(|db| {
        let student = StudentId::random();
        let blob: Vec<u8> = (0..=255).collect();
        write(db, |sql| {
            sql.execute(
                "INSERT INTO students (id, name, created_at) VALUES (?1, 'Ada', 0)",
                params![student.to_string()],
            )?;
            sql.execute(
                "INSERT INTO embeddings (id, student_id, model, embedding, quality, created_at)
                 VALUES ('e1', ?1, 'm', ?2, ?3, 1)",
                params![student.to_string(), blob, 0.125_f64],
            )
        })
        .unwrap();
        let (back, quality): (Vec<u8>, f64) = db
            .read_blocking(|sql| {
                sql.query_one("SELECT embedding, quality FROM embeddings", &[], "e", |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            })
            .unwrap();
        assert_eq!((back, quality), (blob, 0.125));
    });
}

#[test]
fn a_repeated_key_is_a_conflict_and_on_conflict_do_nothing_changes_nothing() {
    each(|db| {
        let insert = "INSERT INTO holidays (day, name) VALUES (?1, ?2)";
        write(db, |sql| {
            sql.execute(insert, params!["2026-12-25", "Christmas"])
        })
        .unwrap();
        let e = write(db, |sql| {
            sql.execute(insert, params!["2026-12-25", "again"])
        })
        .map_err(|e| StoreError::conflict_on_unique(e, "holiday"))
        .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        let changed = write(db, |sql| {
            sql.execute(
                "INSERT INTO holidays (day, name) VALUES (?1, ?2) ON CONFLICT (day) DO NOTHING",
                params!["2026-12-25", "again"],
            )
        })
        .unwrap();
        assert_eq!(changed, 0);
    });
}

#[test]
fn a_failed_transaction_leaves_nothing_behind() {
    each(|db| {
        let outcome = write(db, |sql| {
            sql.execute(
                "INSERT INTO holidays (day, name) VALUES ('2026-01-01', 'x')",
                &[],
            )?;
            Err::<(), _>(StoreError::NotFound("on purpose"))
        });
        assert!(outcome.is_err());
        let n: i64 = db
            .read_blocking(|sql| {
                sql.query_one("SELECT count(*) FROM holidays", &[], "count", |r| r.get(0))
            })
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn a_refused_statement_in_an_attempt_leaves_the_transaction_usable() {
    each(|db| {
        let insert = "INSERT INTO holidays (day, name) VALUES (?1, ?2)";
        write(db, |sql| {
            sql.execute(insert, params!["2026-12-25", "Christmas"])?;
            let again = sql.attempt(|sql| {
                sql.execute(insert, params!["2026-12-26", "Boxing Day"])?;
                sql.execute(insert, params!["2026-12-25", "again"])
            });
            assert!(again.unwrap_err().is_constraint_violation());
            sql.execute(insert, params!["2026-12-31", "New Year's Eve"])
        })
        .unwrap();
        let days: Vec<String> = db
            .read_blocking(|sql| {
                sql.query_map("SELECT day FROM holidays ORDER BY day", &[], |r| r.get(0))?
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(
            days,
            ["2026-12-25", "2026-12-31"],
            "the attempt undone whole"
        );
    });
}

#[test]
fn text_sorts_by_code_point_on_both() {
    each(|db| {
        write(db, |sql| {
            for name in ["b", "B", "a", "Ä", "_"] {
                sql.execute(
                    "INSERT INTO students (id, name, created_at) VALUES (?1, ?2, 0)",
                    params![StudentId::random().to_string(), name],
                )?;
            }
            Ok(())
        })
        .unwrap();
        let names: Vec<String> = db
            .read_blocking(|sql| {
                sql.query_map("SELECT name FROM students ORDER BY name", &[], |r| r.get(0))?
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(names, ["B", "_", "a", "b", "Ä"]);
    });
}

#[test]
fn checks_refuse_bad_rows_and_closed_registers_never_change() {
    each(|db| {
        let bad_json = write(db, |sql| {
            sql.execute(
                "INSERT INTO webhook_deliveries (url, event, payload, created_at, next_at)
                 VALUES ('u', 'e', '{not json', 0, 0)",
                &[],
            )
        });
        assert!(bad_json.unwrap_err().is_constraint_violation());
        write(db, |sql| {
            sql.execute(
                "INSERT INTO register_sessions (slot_id, day, class_id, class_name, room, weekday,
                     start_minute, end_minute, starts_at, ends_at, closed_at)
                 VALUES ('s', '2026-11-24', 'c', '7B', 'Lab 3', 2, 540, 600, 0, 1, 2)",
                &[],
            )
        })
        .unwrap();
        let changed = write(db, |sql| {
            sql.execute("UPDATE register_sessions SET room = 'Lab 4'", &[])
        });
        let e = changed.unwrap_err().to_string();
        assert!(e.contains("a closed session never changes"), "{e}");
        let ids: Vec<i64> = write(db, |sql| {
            let mut ids = Vec::new();
            for _ in 0..2 {
                ids.push(sql.query_one(
                    "INSERT INTO audit_log (actor, action, target, at) VALUES ('a', 'b', 'c', 0)
                     RETURNING id",
                    &[],
                    "id",
                    |r| r.get(0),
                )?);
            }
            Ok(ids)
        })
        .unwrap();
        assert!(ids[0] < ids[1], "{ids:?}");
    });
}

#[test]
fn both_engines_agree_on_the_schema_version() {
    assert_eq!(
        crate::migrations::schema_version(),
        crate::postgres::schema_version()
    );
}

#[test]
fn the_database_is_reached_over_tls_and_its_certificate_checked() {
    use crate::postgres::{Schema, Target};
    let dir = tempfile::tempdir().unwrap();
    let pki = rollcall_e2e::pki::Pki::new(dir.path()).unwrap();
    let server = rollcall_e2e::postgres::Postgres::start_tls(&pki)
        .unwrap_or_else(|e| panic!("the PostgreSQL half of the store tests cannot run: {e:#}"));
    let url = format!(
        "{}?sslmode=require",
        server.create_database("rollcall").unwrap()
    );
    let public = Schema::public();
    let target = |ca| Target {
        url: &url,
        password: None,
        ca_file: Some(ca),
        pool_size: 1,
        schema: &public,
    };
    let db = Db::open_postgres(&target(&pki.ca), crate::engines::test_keys()).unwrap();
    let ssl: bool = db
        .read_blocking(|sql| {
            sql.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
                "this connection",
                |r| r.get(0),
            )
        })
        .unwrap();
    assert!(ssl, "the connection is encrypted");

    let other = tempfile::tempdir().unwrap();
    let stranger = rollcall_e2e::pki::Pki::new(other.path()).unwrap();
    let refused =
        Db::open_postgres(&target(&stranger.ca), crate::engines::test_keys()).unwrap_err();
    assert!(
        matches!(refused, StoreError::Connect(_)),
        "a server whose certificate another CA signed is refused: {refused}"
    );
}

#[test]
fn schools_sharing_a_database_see_only_their_own_rows_and_do_not_wait_for_each_others_writes() {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::fixtures::register_device_in;
    use crate::postgres::{Postgres, Schema, Target};

    let server = rollcall_e2e::postgres::Postgres::start()
        .unwrap_or_else(|e| panic!("the PostgreSQL store tests cannot run: {e:#}"));
    let url = server.create_database("district").unwrap();
    let open = |school: &str| {
        let schema = Schema::try_from(school.to_owned()).unwrap();
        let target = Target {
            url: &url,
            password: None,
            ca_file: None,
            pool_size: 2,
            schema: &schema,
        };
        Db::open_postgres(&target, crate::engines::test_keys()).unwrap()
    };
    let (north, south) = (open("north"), open("south"));
    let devices = |db: &Db| -> Vec<String> {
        let ids = db.read_blocking(|sql| {
            sql.query_map("SELECT id FROM devices ORDER BY id", &[], |r| r.get(0))
        });
        ids.unwrap().into_iter().map(Result::unwrap).collect()
    };

    // Registers a door unit in `db`'s school; whether it committed.
    fn add_device(db: &Db, id: DeviceId) -> bool {
        let added = write(db, |sql| {
            register_device_in(sql, id);
            Ok(())
        });
        added.is_ok()
    }
    // A writer on a thread of its own; says on the channel whether it committed.
    let writer = |db: &Db| {
        let (done_tx, done) = mpsc::channel();
        let db = db.clone();
        let thread = std::thread::spawn(move || {
            done_tx.send(add_device(&db, DeviceId::random())).unwrap();
        });
        (thread, done)
    };

    // Each school's rows are its own: the same query on the other finds nothing.
    let (n, s) = (DeviceId::random(), DeviceId::random());
    assert!(add_device(&north, n) && add_device(&south, s));
    assert_eq!(devices(&north), [n.to_string()]);
    assert_eq!(devices(&south), [s.to_string()]);
    let public = open("public");
    assert!(devices(&public).is_empty(), "nothing went to public");

    // A write transaction of north held open does not hold up south's writers.
    let (held_tx, held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let holder = {
        let north = north.clone();
        std::thread::spawn(move || {
            north.write_blocking(|sql| {
                register_device_in(sql, DeviceId::random());
                held_tx.send(()).unwrap();
                released.recv().unwrap();
                Ok::<_, StoreError>(())
            })
        })
    };
    held.recv().unwrap();
    let (south_writer, south_done) = writer(&south);
    let south_wrote = south_done.recv_timeout(Duration::from_secs(10));
    // And a second writer of north does wait for the first.
    let (north_writer, north_done) = writer(&north);
    let north_waited = north_done.recv_timeout(Duration::from_millis(500)).is_err();
    release.send(()).unwrap();
    holder.join().unwrap().unwrap();
    assert_eq!(
        south_wrote,
        Ok(true),
        "south wrote while north held its lock"
    );
    assert!(north_waited, "north's second writer waited for its first");
    assert_eq!(north_done.recv_timeout(Duration::from_secs(10)), Ok(true));
    south_writer.join().unwrap();
    north_writer.join().unwrap();
    assert_eq!((devices(&north).len(), devices(&south).len()), (3, 2));

    // A school's backup is its schema's (pg_dump --schema): restored into a database of its
    // own, it holds that school's rows and none of another's.
    let dump = server
        .run("pg_dump", &["--schema", "north", "--no-owner", &url])
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), dump).unwrap();
    let restored = server.create_database("restored").unwrap();
    let restore = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &restored, "-f"];
    let path = file.path().to_str().unwrap();
    server
        .run("psql", &[&restore[..], &[path]].concat())
        .unwrap();
    let north_again = Db::open_postgres(
        &Target {
            url: &restored,
            password: None,
            ca_file: None,
            pool_size: 1,
            schema: &Schema::try_from("north".to_owned()).unwrap(),
        },
        crate::engines::test_keys(),
    )
    .unwrap();
    assert_eq!(devices(&north_again), devices(&north));
    assert!(!devices(&north_again).contains(&s.to_string()));

    // The district's view: each school with its door units, and a schema holding Rollcall's
    // tables under a name the hub would not use, set aside rather than written into SQL.
    server
        .psql(
            "district",
            r#"CREATE SCHEMA "Odd; x"; CREATE TABLE "Odd; x".rollcall_schema (version BIGINT);
               CREATE SCHEMA emptied; CREATE TABLE emptied.rollcall_schema (version BIGINT)"#,
        )
        .unwrap();
    let district = Postgres::connect(&Target {
        url: &url,
        password: None,
        ca_file: None,
        pool_size: 1,
        schema: &Schema::public(),
    })
    .unwrap();
    let (schools, odd) = district.schools(0).unwrap();
    let seen: Vec<_> = schools
        .iter()
        .map(|s| (s.schema.as_str(), s.devices, s.records))
        .collect();
    assert_eq!(seen, [("north", 3, 0), ("public", 0, 0), ("south", 2, 0)]);
    let odd: Vec<_> = odd.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        odd,
        ["Odd; x", "emptied"],
        "a bad name, and no school's tables"
    );

    // Erasing a school is dropping its schema: the other keeps every row.
    server
        .psql("district", "DROP SCHEMA south CASCADE")
        .unwrap();
    assert_eq!(devices(&north).len(), 3);
    assert!(
        south
            .read_blocking(
                |sql| sql.query_map("SELECT id FROM devices", &[], |r| r.get::<String>(0))
            )
            .is_err()
    );
}
