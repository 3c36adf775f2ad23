//! How long gathering a large school's marks for the MIS takes, on a real SQLite file.
//!
//!   cargo bench -p rollcall-school --bench mis_gather [-- PUPILS]
//!
//! The school: classes of 30 (1,200 pupils by default), each class in six one-hour lessons a
//! day, Monday to Friday (08:50, 09:50, 11:00, 12:00, 13:40, 14:40), its pupils members since
//! 1 September 2026. The register: the two school weeks up to Friday 27 November 2026, every
//! lesson closed. Most pupils are present; one entry in twenty is absent (`N`) and one in
//! thirty late (`L`). At 17:00 on the Friday it times a gathering over the last 14 days as
//! the hub's pass makes one (`rollcall_school::mis::read` without the write lock, then
//! `mis::put` under it), and how long the putting held the write lock:
//! - the first gathering: every pupil-day (and every pupil-lesson, with lessons) is new;
//! - a gathering after one amendment: the register's stamp changed, so all of it is read
//!   again, and one pupil's mark is put;
//! - an idle gathering: the stamp is the last one's, so nothing is read.
//!
//! Each runs on two copies of the school: one writing the statutory sessions back, one the
//! sessions and the lessons. Prints the median and the worst of each, and what each found.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rollcall_school::attendance::Rules;
use rollcall_school::mis::{self, Gathered, Registers};
use rollcall_school::statutory::{MarkFrom, SessionRule};
use rollcall_shared::*;
use rollcall_store::keys::Keyring;
use rollcall_store::marks::Source;
use rollcall_store::register::{self, Amendment, ClosedSession, NewEntry, Stamp};
use rollcall_store::school::{self, Class, Student};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{Db, Sql, StoreError, consent};
use uuid::Uuid;

const CLASS_SIZE: usize = 30;
/// The minute of the day each lesson starts; each lasts an hour.
const LESSONS: [u16; 6] = [530, 590, 660, 720, 820, 880];
/// The days gathered: two school weeks, ending on the Friday.
const DAYS_BACK: u16 = 14;
const AMENDMENTS: usize = 5;
const IDLE_RUNS: usize = 15;

fn main() -> anyhow::Result<()> {
    let pupils: usize = match std::env::args().nth(1).filter(|a| !a.starts_with('-')) {
        Some(n) => n.parse()?,
        None => 1_200,
    };
    let rules = Rules {
        zone: SiteZone::named("Europe/London")?,
        late_after_minutes: 10,
        early_minutes: 10,
    };
    let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let dir = tempfile::tempdir()?;
    for (n, registers) in [Registers::Sessions, Registers::SessionsAndLessons]
        .into_iter()
        .enumerate()
    {
        let db = open(&dir.path().join(format!("hub-{n}.sqlite3")))?;
        let school = seed(&db, pupils, &rules, friday)?;
        if n == 0 {
            school.describe();
        }
        let bench = Bench {
            db: &db,
            rules: &rules,
            registers,
            today: friday,
            now: rules.instant(friday, 17 * 60),
        };
        bench.run(&school)?;
    }
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<Db> {
    let keys = Keyring::load_or_create(&path.with_extension("key"))?;
    Ok(Db::open(path, keys)?)
}

/// What the gatherings run against: the database, the school's rules, and what is written back.
struct Bench<'a> {
    db: &'a Db,
    rules: &'a Rules,
    registers: Registers,
    today: NaiveDate,
    now: UnixMillis,
}

impl Bench<'_> {
    /// Times the three gatherings, one after the other, and prints them.
    fn run(&self, school: &School) -> anyhow::Result<()> {
        let mut seen = None;
        let first = time(1, |_| Ok(()), || self.gather(&mut seen))?;
        let (days, lessons) = self.db.read_blocking(|sql| {
            let days = rollcall_store::mis::counts(sql)?.pending;
            Ok::<_, StoreError>((days, rollcall_store::mis::lessons::counts(sql)?.pending))
        })?;
        let amended = time(
            AMENDMENTS,
            |i| self.amend(school.amendable(i)),
            || self.gather(&mut seen),
        )?;
        let idle = time(IDLE_RUNS, |_| Ok(()), || self.gather(&mut seen))?;
        let written = match self.registers {
            Registers::Sessions => "sessions",
            Registers::SessionsAndLessons => "sessions and lessons",
        };
        println!(
            "  writing back {written} (outboxes after the first: {days} days, {lessons} lessons):"
        );
        for (what, runs, figures) in [
            ("the first gathering", 1, first),
            ("after one amendment", AMENDMENTS, amended),
            ("idle", IDLE_RUNS, idle),
        ] {
            report(what, runs, figures);
        }
        Ok(())
    }

    /// After the last one, which saw `seen`; remembers the stamp it saw.
    /// One gathering as the hub's pass makes it: the register read (no write lock), then what
    /// changed put (under it); how long the putting held the write lock, and what it put.
    fn gather(&self, seen: &mut Option<Stamp>) -> Result<(Duration, Gathered), StoreError> {
        let rule = SessionRule {
            afternoon_from: 12 * 60,
            morning: MarkFrom::FirstLesson,
            afternoon: MarkFrom::FirstLesson,
        };
        let how = (self.rules, &rule, self.registers);
        let window = (self.today, DAYS_BACK);
        let read = |c: &dyn Sql| mis::read(c, how, window, *seen, self.now);
        let Some(marks) = self.db.read_blocking(read)? else {
            let stamp = seen.expect("nothing read only when the stamp was seen");
            let (changed, lessons_changed) = (0, 0);
            return Ok((
                Duration::ZERO,
                Gathered {
                    changed,
                    lessons_changed,
                    stamp,
                },
            ));
        };
        let t = Instant::now();
        let gathered = self
            .db
            .write_blocking(|tx| mis::put(tx, &marks, self.now))?;
        let writing = t.elapsed();
        *seen = Some(gathered.stamp);
        Ok((writing, gathered))
    }

    /// The office marks the pupil's lesson as authorised absence (`C`), outside the time.
    fn amend(&self, key: (Uuid, NaiveDate, StudentId)) -> Result<(), StoreError> {
        let amendment = Amendment {
            code: "C".into(),
            reason: "Dentist (a letter)".into(),
            by_user: "office".into(),
            by_name: "The office".into(),
            by_role: "office".into(),
            at: self.now,
        };
        self.db
            .write_blocking(|tx| register::amend(tx, key, &amendment))
    }
}

/// One line: the median and the worst of `runs`, and what the last run found.
fn report(
    what: &str,
    runs: usize,
    (median, worst, (writing, g)): (Duration, Duration, (Duration, Gathered)),
) {
    let plural = if runs == 1 { "run: " } else { "runs:" };
    println!(
        "    {what:<20} {runs:>2} {plural} median {:>7.1} ms, worst {:>7.1} ms \
         (write lock {:>6.1} ms); changed {} days, {} lessons",
        ms(median),
        ms(worst),
        ms(writing),
        g.changed,
        g.lessons_changed
    );
}

/// Runs `f` `runs` times, `before(i)` ahead of run `i` and outside the time: the median and
/// the worst, and what it last answered.
fn time<T>(
    runs: usize,
    mut before: impl FnMut(usize) -> Result<(), StoreError>,
    mut f: impl FnMut() -> Result<T, StoreError>,
) -> anyhow::Result<(Duration, Duration, T)> {
    let mut took = Vec::with_capacity(runs);
    let mut last = None;
    for i in 0..runs {
        before(i)?;
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

/// The school as seeded: each class's lessons (by weekday, then start) and pupils, and the
/// school days.
struct School {
    classes: Vec<(Vec<Slot>, Vec<StudentId>)>,
    pupils: usize,
    days: Vec<NaiveDate>,
}

impl School {
    fn describe(&self) {
        let lessons = self.classes.len() * LESSONS.len() * self.days.len();
        println!(
            "MIS gathering of {} pupils in {} classes: {lessons} lessons closed, {} entries, \
             {} school days in the last {DAYS_BACK}, SQLite:",
            self.pupils,
            self.classes.len(),
            self.pupils * LESSONS.len() * self.days.len(),
            self.days.len()
        );
    }

    /// The entry amended `i`th: a pupil's first lesson of a day, a different pupil and day
    /// each time.
    fn amendable(&self, i: usize) -> (Uuid, NaiveDate, StudentId) {
        let pupil = i * 97 % self.pupils;
        let (slots, members) = &self.classes[pupil / CLASS_SIZE];
        let day = self.days[i % self.days.len()];
        let weekday = day.weekday().number_from_monday() as usize;
        let slot = &slots[(weekday - 1) * LESSONS.len()];
        (slot.id, day, members[pupil % CLASS_SIZE])
    }
}

/// The school and its register, in one transaction: class by class, its lessons, its
/// pupils, and every lesson of the school days closed.
fn seed(db: &Db, pupils: usize, rules: &Rules, friday: NaiveDate) -> anyhow::Result<School> {
    let days: Vec<NaiveDate> = (0..u64::from(DAYS_BACK))
        .rev()
        .filter_map(|back| friday.checked_sub_days(Days::new(back)))
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect();
    let created = rules.instant(NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), 8 * 60);
    let classes = db.write_blocking(|tx| {
        let mut classes = Vec::new();
        for c in 0..pupils.div_ceil(CLASS_SIZE) {
            let first = c * CLASS_SIZE;
            let class = class(tx, c, created)?;
            let members = (first..pupils.min(first + CLASS_SIZE))
                .map(|n| pupil(tx, &class.0, n, created))
                .collect::<Result<Vec<_>, _>>()?;
            for &day in &days {
                close_day(tx, (&class, &members), (day, first), rules)?;
            }
            classes.push((class.1, members.into_iter().map(|m| m.id).collect()));
        }
        Ok::<_, StoreError>(classes)
    })?;
    Ok(School {
        classes,
        pupils,
        days,
    })
}

/// The `c`th class, in room `c`, and its lessons: Monday to Friday, six a day.
fn class(tx: &dyn Sql, c: usize, created: UnixMillis) -> Result<(Class, Vec<Slot>), StoreError> {
    let class = Class {
        id: ClassId::random(),
        name: format!("Class {c:02}"),
        teacher_id: None,
        created_at: created,
        code: None,
    };
    school::insert_class(tx, &class)?;
    let mut slots = Vec::new();
    for weekday in 1..=5 {
        for start in LESSONS {
            let slot = Slot {
                id: Uuid::now_v7(),
                class_id: class.id,
                room: format!("Room {c}"),
                weekday,
                start_minute: start,
                end_minute: start + 60,
                valid_from: None,
                valid_until: None,
            };
            timetable::insert_slot(tx, &slot)?;
            slots.push(slot);
        }
    }
    Ok((class, slots))
}

/// The `n`th pupil, a member of `class` since 1 September.
fn pupil(
    tx: &dyn Sql,
    class: &Class,
    n: usize,
    created: UnixMillis,
) -> Result<Student, StoreError> {
    let student = Student {
        id: StudentId::random(),
        name: format!("Pupil {n:04}"),
        external_ref: Some(format!("UPN{n:06}")),
        created_at: created,
        consent: consent::State::Given,
        profile: Default::default(),
    };
    school::insert_student(tx, &student)?;
    let joined = NaiveDate::from_ymd_opt(2026, 9, 1);
    school::add_member(tx, class.id, student.id, joined)?;
    Ok(student)
}

/// Closes each of the class's lessons on `day`, half an hour after it ends. `first` is the
/// number of the class's first pupil.
fn close_day(
    tx: &dyn Sql,
    ((class, slots), members): (&(Class, Vec<Slot>), &[Student]),
    (day, first): (NaiveDate, usize),
    rules: &Rules,
) -> Result<(), StoreError> {
    let weekday = day.weekday().number_from_monday() as u8;
    for (l, slot) in slots.iter().filter(|s| s.weekday == weekday).enumerate() {
        let starts_at = rules.instant(day, slot.start_minute);
        let session = ClosedSession {
            slot: slot.clone(),
            day,
            class_name: class.name.clone(),
            starts_at,
            ends_at: rules.instant(day, slot.end_minute),
            closed_at: rules.instant(day, slot.end_minute + 30),
        };
        let entries: Vec<NewEntry> = members
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = ((first + i) * 366 + day.ordinal0() as usize) * LESSONS.len() + l;
                entry(s, n, starts_at)
            })
            .collect();
        register::write(tx, &session, &entries)?;
    }
    Ok(())
}

/// The `n`th entry of the register: present, seen by the door; one in twenty absent (`N`),
/// nobody seen; one in thirty late (`L`), seen a quarter of an hour in. Which are absent or
/// late is spread by a hash of `n`.
fn entry(student: &Student, n: usize, starts_at: UnixMillis) -> NewEntry {
    let spread = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let (code, source, seen_after) = match (spread % 20, spread % 30) {
        (7, _) => ("N", Source::Closed, None),
        (_, 11) => ("L", Source::Record, Some(15)),
        _ => ("/", Source::Record, Some(2)),
    };
    NewEntry {
        student: student.id,
        student_name: student.name.clone(),
        code,
        source,
        first_seen_at: seen_after.map(|m: i64| UnixMillis(starts_at.0 + m * 60_000)),
        evidence: Vec::new(),
        reason: None,
    }
}
