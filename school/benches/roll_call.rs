//! How long the emergency roll call takes for a school of 2,000, on a real SQLite file.
//!
//!   cargo bench -p rollcall-school --bench roll_call [-- STUDENTS]
//!
//! The school: 80 classes of 25 (2,000 students by default), each in a lesson in its own room
//! on Monday 09:00–10:00, each room with a door unit, and a gate with a unit facing in and one
//! facing out. The morning: every student through the gate between 08:20 and 08:55, into their
//! lesson at 09:01, one in ten out through the gate at 09:30; one in twenty marked present by
//! their teacher instead of the door. At 09:40 it times, through the hub's own code:
//! - the list (`GET /roll-call` before a roll call: every read and the grouping);
//! - starting one (`POST /roll-calls`: the list, and writing it in one transaction);
//! - the list while it is under way (`GET /roll-call` during the drill);
//! - the day so far as Missing now reads it (`GET /missing`: every lesson started, its roster
//!   and cards, and every movement of the day), and the leader's minute pass that raises and
//!   ends alerts of pupils missing from a lesson (issue 70).
//!
//! The aim is ≤ 2 s for 2,000 students (issue 33). Prints the medians and the worst of each.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rollcall_school::arrival;
use rollcall_school::attendance::Rules;
use rollcall_school::missing::watch::{self, Day, Watch};
use rollcall_school::roll_call::{expected, load};
use rollcall_shared::*;
use rollcall_store::keys::Keyring;
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::roll_calls::{self, Kind, RollCall};
use rollcall_store::school::{self, Class, Student};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{Db, Sql, StoreError, consent};
use uuid::Uuid;

const CLASS_SIZE: usize = 25;
const RUNS: usize = 15;

fn main() -> anyhow::Result<()> {
    let students: usize = match std::env::args().nth(1).filter(|a| !a.starts_with('-')) {
        Some(n) => n.parse()?,
        None => 2_000,
    };
    let dir = tempfile::tempdir()?;
    let keys = Keyring::load_or_create(&dir.path().join("faces.key"))?;
    let db = Db::open(&dir.path().join("hub.sqlite3"), keys)?;
    let rules = Rules {
        zone: SiteZone::named("Europe/London")?,
        late_after_minutes: 10,
        early_minutes: 10,
    };
    let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let at = |minute: u16| rules.instant(monday, minute);
    let records = seed(&db, students, monday, &at)?;
    let now = at(9 * 60 + 40);

    let list = time(RUNS, || {
        db.read_blocking(|sql| {
            Ok::<_, StoreError>(expected(&load(sql, &rules, now)?.inputs()).len())
        })
    })?;
    let start = time(5, || {
        db.write_blocking(|tx| {
            let (id, people) = start_drill(tx, &rules, now)?;
            roll_calls::end(tx, id, now, "bench")?;
            Ok::<_, StoreError>(people)
        })
    })?;
    let during = {
        let (id, _) = db.write_blocking(|tx| start_drill(tx, &rules, now))?;
        time(RUNS, || {
            db.read_blocking(|sql| Ok::<_, StoreError>(roll_calls::people(sql, id)?.len()))
        })?
    };
    let day = time(RUNS, || {
        db.read_blocking(|sql| Ok::<_, StoreError>(Day::load(sql, &rules, now)?.lessons.len()))
    })?;
    let missing = Watch { after_minutes: 10 };
    let pass = time(5, || {
        db.write_blocking(|tx| {
            Ok::<_, StoreError>(watch::pass(tx, &rules, missing, now)?.alerted.len())
        })
    })?;
    println!(
        "roll call of {students} students ({} expected, {records} records today), SQLite:",
        list.2
    );
    for (what, (median, worst, _)) in [
        ("the list (GET /roll-call)", list),
        ("starting one (POST /roll-calls)", start),
        ("the list under way", during),
        ("the day for Missing now", day),
        ("the missing pupils' pass", pass),
    ] {
        println!(
            "  {what:<34} median {:>7.1} ms, worst {:>7.1} ms",
            ms(median),
            ms(worst)
        );
    }
    Ok(())
}

/// Starts a drill as `POST /roll-calls` does: its id, and how many it lists.
fn start_drill(tx: &dyn Sql, rules: &Rules, now: UnixMillis) -> Result<(Uuid, usize), StoreError> {
    let people = expected(&load(tx, rules, now)?.inputs());
    let call = RollCall {
        id: Uuid::now_v7(),
        kind: Kind::Drill,
        started_at: now,
        started_by: "bench".into(),
        ended_at: None,
        ended_by: None,
        people: 0,
        accounted: 0,
        visitors: 0,
        visitors_accounted: 0,
        staff: 0,
        staff_accounted: 0,
    };
    roll_calls::start(tx, &call, &people)?;
    Ok((call.id, people.len()))
}

/// Runs `f` `runs` times: the median and the worst, and what it last answered.
fn time<T>(
    runs: usize,
    mut f: impl FnMut() -> Result<T, StoreError>,
) -> anyhow::Result<(Duration, Duration, T)> {
    let mut took = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f()?);
        took.push(t.elapsed());
    }
    took.sort();
    Ok((
        took[runs / 2],
        took[runs - 1],
        last.expect("at least one run"),
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The school and its morning; answers how many records were stored. In one transaction: the
/// gate's units, then class by class its room's door unit, the class and its lesson, and each
/// of its students with their morning.
fn seed(
    db: &Db,
    students: usize,
    monday: NaiveDate,
    at: &dyn Fn(u16) -> UnixMillis,
) -> anyhow::Result<usize> {
    let morning = Morning {
        created: at(0),
        gate_in: Unit::new("Main gate", Direction::In),
        gate_out: Unit::new("Main gate", Direction::Out),
        monday,
        at,
    };
    let mut stored = 0;
    db.write_blocking(|tx| {
        morning.gate_in.register(tx)?;
        morning.gate_out.register(tx)?;
        let mut n = 0;
        for c in 0..students.div_ceil(CLASS_SIZE) {
            let lesson = lesson(tx, c, morning.created)?;
            for _ in 0..CLASS_SIZE.min(students - n) {
                stored += morning.student(tx, &lesson, n)?;
                n += 1;
            }
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(stored)
}

const INSERT_DEVICE: &str =
    "INSERT INTO devices (id, name, room, direction, credential_hash, created_at)
            VALUES (?1, ?1, ?2, ?3, 'hash', 0)";

/// A door unit of the school.
struct Unit {
    id: DeviceId,
    room: String,
    direction: Direction,
}

impl Unit {
    fn new(room: &str, direction: Direction) -> Unit {
        Unit {
            id: DeviceId::random(),
            room: room.to_owned(),
            direction,
        }
    }

    fn register(&self, tx: &dyn Sql) -> Result<(), StoreError> {
        let params = rusqlite::params![self.id.to_string(), self.room, self.direction.as_str()];
        tx.execute(INSERT_DEVICE, params)?;
        Ok(())
    }
}

/// The `c`th class and its lesson: in room `c` (with its door unit), Monday 09:00–10:00.
struct Lesson {
    door: Unit,
    class: Class,
    slot: Slot,
}

fn lesson(tx: &dyn Sql, c: usize, created: UnixMillis) -> Result<Lesson, StoreError> {
    let room = format!("Room {c}");
    let door = Unit::new(&room, Direction::Both);
    door.register(tx)?;
    let class = Class {
        id: ClassId::random(),
        name: format!("Class {c:02}"),
        teacher_id: None,
        created_at: created,
        code: None,
    };
    school::insert_class(tx, &class)?;
    let slot = Slot {
        id: Uuid::now_v7(),
        class_id: class.id,
        room,
        weekday: 1,
        start_minute: 9 * 60,
        end_minute: 10 * 60,
        valid_from: None,
        valid_until: None,
    };
    timetable::insert_slot(tx, &slot)?;
    Ok(Lesson { door, class, slot })
}

/// The morning every student has: through the gate's units, on Monday, by the clock `at`.
struct Morning<'a> {
    created: UnixMillis,
    gate_in: Unit,
    gate_out: Unit,
    monday: NaiveDate,
    at: &'a dyn Fn(u16) -> UnixMillis,
}

impl Morning<'_> {
    /// The `n`th student, a member of the lesson's class, and their morning: in through the
    /// gate between 08:20 and 08:55; into the lesson at 09:01, or (one in twenty) marked
    /// present by their teacher instead; one in ten out through the gate at 09:30. Answers how
    /// many of their records were stored.
    fn student(&self, tx: &dyn Sql, lesson: &Lesson, n: usize) -> Result<usize, StoreError> {
        let student = Student {
            id: StudentId::random(),
            name: format!("Student {n:04}"),
            external_ref: None,
            created_at: self.created,
            consent: consent::State::Given,
            profile: Default::default(),
        };
        school::insert_student(tx, &student)?;
        school::add_member(tx, lesson.class.id, student.id, None)?;
        let by_hand = n % 20 == 19;
        let mut day = vec![(&self.gate_in, 8 * 60 + 20 + (n % 35) as u16)];
        if !by_hand {
            day.push((&lesson.door, 9 * 60 + 1));
        }
        if n % 10 == 3 {
            day.push((&self.gate_out, 9 * 60 + 30));
        }
        let mut stored = 0;
        for (unit, minute) in day {
            let record = seen(unit, student.id, (self.at)(minute));
            stored += usize::from(arrival::store(tx, &record, record.captured_at)?);
        }
        if by_hand {
            let mark = Override {
                student: student.id,
                mark: Mark::Present,
                reason: "came with a note".into(),
                set_by: "user:t".into(),
                set_at: (self.at)(9 * 60 + 5),
                code: None,
            };
            marks::set(tx, lesson.slot.id, self.monday, &mark)?;
        }
        Ok(stored)
    }
}

/// A Confident record of `student` by `unit`.
fn seen(unit: &Unit, student: StudentId, at: UnixMillis) -> AttendanceRecord {
    AttendanceRecord {
        id: RecordId::now_v7(),
        device: unit.id,
        room: unit.room.clone(),
        captured_at: at,
        model: ModelId::new("dlib-resnet-v1").expect("a model id"),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.1; EMBEDDING_DIM]),
        candidates: vec![Candidate {
            student,
            distance: 0.3,
        }],
        decision: Decision::Confident,
        thumbnail: None,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.99,
            yaw_deg: 0.0,
            frames: 3,
        },
        clock: ClockSync::Synchronised,
        direction: Some(unit.direction),
        liveness: None,
        staff: None,
    }
}
