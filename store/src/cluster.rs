//! The hubs sharing the database and the leases they hold: plain reads and writes. Which hub
//! handles what is decided by `rollcall_hub::cluster`, never here.

use rollcall_shared::UnixMillis;

use super::error::StoreError;
use super::sql::{Dialect, Sql, params};

// Taken when free, expired, or already ours (then renewed); one statement, so two hubs asking
// at once cannot both get it.
const HOLD: &str = "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4";
const RELEASE: &str = "DELETE FROM leases WHERE name = ?1 AND holder = ?2";
const BEAT: &str = "INSERT INTO hubs (id, started_at, seen_at) VALUES (?1, ?2, ?2)
    ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at";
const LIVE: &str = "SELECT id FROM hubs WHERE seen_at > ?1 AND started_at <= ?2 ORDER BY id";
const GONE: &str = "DELETE FROM hubs WHERE seen_at <= ?1";
const LEAVE: &str = "DELETE FROM hubs WHERE id = ?1";

/// The database server's clock. The hubs judge each other by it, not by their own
/// clocks, so a hub whose clock is off is neither counted dead nor counts the others dead.
pub fn now(sql: &dyn Sql) -> Result<UnixMillis, StoreError> {
    let query = match sql.dialect() {
        Dialect::Postgres => "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        Dialect::Sqlite => "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    };
    sane(sql.query_one(query, &[], "the database's clock", |r| r.get(0))?)
}

/// Clock readings the hubs work with (Unix ms, 2000 to 9999): the beats, cut-offs and lease
/// are computed from them, and no sum of these can overflow.
const SANE: std::ops::RangeInclusive<i64> = 946_684_800_000..=253_402_300_799_999;

fn sane(now: i64) -> Result<UnixMillis, StoreError> {
    match SANE.contains(&now) {
        true => Ok(UnixMillis(now)),
        false => Err(StoreError::Config(format!(
            "the server's clock reads {now} ms since 1970, not a time between 2000 and 9999"
        ))),
    }
}

/// Takes or renews lease `name` for `holder` until `until`; `false` when another
/// holds it and it has not run out at `now`.
pub fn hold(
    sql: &dyn Sql,
    name: &str,
    holder: &str,
    now: UnixMillis,
    until: UnixMillis,
) -> Result<bool, StoreError> {
    Ok(sql.execute(HOLD, params![name, holder, until, now])? == 1)
}

/// Gives lease `name` up, if `holder` has it.
pub fn release(sql: &dyn Sql, name: &str, holder: &str) -> Result<(), StoreError> {
    sql.execute(RELEASE, params![name, holder])?;
    Ok(())
}

/// Says hub `id` is alive at `now`.
pub fn beat(sql: &dyn Sql, id: &str, now: UnixMillis) -> Result<(), StoreError> {
    sql.execute(BEAT, params![id, now])?;
    Ok(())
}

/// The hubs seen after `since` that started by `joined`, by id; those not seen since are
/// forgotten.
pub fn live(
    sql: &dyn Sql,
    since: UnixMillis,
    joined: UnixMillis,
) -> Result<Vec<String>, StoreError> {
    sql.execute(GONE, params![since])?;
    let ids = sql.query_map(LIVE, params![since, joined], |r| r.get(0))?;
    Ok(ids.into_iter().collect::<Result<_, _>>()?)
}

/// Hub `id` stops (a clean shutdown): the others take its door units at once.
pub fn leave(sql: &dyn Sql, id: &str) -> Result<(), StoreError> {
    sql.execute(LEAVE, params![id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::each;

    #[test]
    fn the_database_clock_is_unix_milliseconds() {
        each(|db| {
            let before = UnixMillis::now().0;
            let now = db.write_blocking(now).unwrap().0;
            let after = UnixMillis::now().0;
            // The server runs on this machine: its clock is this one's, to the millisecond.
            assert!(
                before - 1 <= now && now <= after + 1,
                "{before} ≤ {now} ≤ {after}"
            );
        });
    }

    #[test]
    fn a_clock_far_off_is_refused_not_computed_with() {
        assert_eq!(
            sane(1_764_000_000_000).unwrap(),
            UnixMillis(1_764_000_000_000)
        );
        for absurd in [i64::MIN, -1, 0, i64::MAX] {
            let e = sane(absurd).unwrap_err().to_string();
            assert!(e.contains("server's clock"), "{e}");
        }
    }

    #[test]
    fn a_lease_has_one_holder_until_it_runs_out() {
        each(|db| {
            let hold = |who: &str, now: i64| {
                db.write_blocking(|sql| {
                    hold(
                        sql,
                        "leader",
                        who,
                        UnixMillis(now),
                        UnixMillis(now + 15_000),
                    )
                })
                .unwrap()
            };
            assert!(hold("a", 0));
            assert!(!hold("b", 1_000), "a holds it");
            assert!(hold("a", 10_000), "a renews it");
            assert!(!hold("b", 24_999), "renewed until 25 s");
            assert!(hold("b", 25_000), "run out: b takes it");
            assert!(!hold("a", 25_001));
            db.write_blocking(|sql| release(sql, "leader", "b"))
                .unwrap();
            assert!(hold("a", 25_002), "given up: free at once");
        });
    }

    #[test]
    fn hubs_not_seen_lately_are_not_alive() {
        each(|db| {
            let write = |f: &dyn Fn(&dyn Sql) -> Result<(), StoreError>| {
                db.write_blocking(|sql| f(sql)).unwrap()
            };
            write(&|sql| beat(sql, "b", UnixMillis(1_000)));
            write(&|sql| beat(sql, "a", UnixMillis(5_000)));
            write(&|sql| beat(sql, "c", UnixMillis(9_000)));
            let live = |since, joined| {
                db.write_blocking(|sql| live(sql, UnixMillis(since), UnixMillis(joined)))
                    .unwrap()
            };
            assert_eq!(live(0, 9_000), ["a", "b", "c"]);
            assert_eq!(live(0, 8_999), ["a", "b"], "c has not joined yet");
            assert_eq!(live(4_000, 9_000), ["a", "c"]);
            write(&|sql| beat(sql, "a", UnixMillis(12_000)));
            assert_eq!(
                live(4_000, 9_000),
                ["a", "c"],
                "a beating again keeps its start"
            );
            write(&|sql| leave(sql, "c"));
            assert_eq!(live(4_000, 9_000), ["a"]);
        });
    }

    #[test]
    fn on_postgres_a_beat_waits_for_no_writer_of_the_school() {
        use std::sync::mpsc;
        use std::time::Duration;
        let engine = crate::engines::postgres();
        let db = engine.db.clone();
        // A writer of the school holds its lock until told to let go.
        let (holding, held) = mpsc::channel();
        let (let_go, told) = mpsc::channel::<()>();
        let writer = db.clone();
        let writer = std::thread::spawn(move || {
            writer.write_blocking(|_| {
                holding.send(()).unwrap();
                told.recv()
                    .map_err(|_| StoreError::Config("the test ended".into()))
            })
        });
        held.recv().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (beat, waited) = runtime.block_on(async {
            let a_beat = db.write_membership(|sql| {
                let now = now(sql)?;
                beat(sql, "a", now)?;
                hold(
                    sql,
                    "leader",
                    "a",
                    now,
                    now.saturating_add(Duration::from_secs(15)),
                )
            });
            let beat = tokio::time::timeout(Duration::from_secs(30), a_beat).await;
            // Another writer of the school waits, as writers do.
            let another = db.write(|sql| now(sql));
            let waited = tokio::time::timeout(Duration::from_millis(500), another).await;
            (beat, waited)
        });
        let_go.send(()).unwrap();
        writer.join().unwrap().unwrap();
        drop(runtime);
        let led = beat.expect("the beat waited for the school's writer");
        assert!(led.unwrap(), "a alone holds the lease");
        assert!(waited.is_err(), "a writer waits for the writer before it");
    }
}
