//! The register written back to the school's MIS (issue 69): the task that, every
//! `mis.check_every_secs` while this hub leads the school (so in a district exactly one hub
//! writes each school's marks), gathers the pupils' statutory marks into the outbox and writes
//! what is due through the school's [`Connector`].
//!
//! What is written, and when, is `rollcall_school::mis`'s (the rules) and the outbox
//! `rollcall_store::mis`'s; each vendor's wire format is its connector's ([`wonde`],
//! [`edfi`]). Here: one pass, in order:
//!
//! 1. **Gather** the last `mis.days_back` days' marks: a pupil-day (or a pupil's lesson)
//!    whose marks changed gets a new version, pending.
//! 2. **Write** each due day, then each due lesson mark (`mis.lessons`), in the MIS's codes (the office's code table). A day that cannot
//!    be sent (no MIS reference, a code without a mapping) is refused at once, with what to
//!    fix; the MIS's answer is recorded against the version written: taken, failed (tried
//!    again after the backoff, the MIS's words kept), or refused for good (listed for the
//!    office). A hub stopped mid-write leaves the day pending; the next leader writes the
//!    same version with the same key.
//! 3. **Compare**, once a day after `mis.compare_at` (school time): the day's marks are read
//!    back from the MIS and set beside what Rollcall wrote ([`compare`]); each difference is
//!    listed for the office to settle. An MIS that cannot be read is tried again ten minutes
//!    later.
//!
//! Must never: hold a secret in a log line or an error, or stop the hub.

pub mod connector;
pub mod edfi;
pub mod wonde;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_school::mis::{self as rules, Registers, Unsendable};
use rollcall_shared::UnixMillis;
use rollcall_store::audit::{self, Change};
use rollcall_store::mis::lessons::{self as lesson_outbox, OutboxLesson};
use rollcall_store::mis::{self as outbox, Comparison, OutboxDay};
use rollcall_store::register::Stamp;
use rollcall_store::{Db, Sql, StoreError};
use serde_json::json;
use tokio::sync::watch;

use crate::config::{Config, MisConfig};
pub use connector::{DayRead, DayWrite, LessonWrite, MisCode, MisError, Receipt};
use edfi::EdFi;
use wonde::Wonde;

/// Most days written in one pass (the rest wait for the next).
const PER_PASS: usize = 500;
/// The wait before reading a day back again after the MIS could not be read.
const COMPARE_RETRY: Duration = Duration::from_secs(10 * 60);

/// What a leader's passes remember from one to the next.
#[derive(Debug, Default)]
pub struct Memory {
    /// The register's stamp the last gathering saw.
    seen: Option<Stamp>,
    /// When reading the day back from the MIS last failed.
    compare_failed_at: Option<UnixMillis>,
}

/// The school's connector.
#[derive(Clone, Debug)]
pub enum Connector {
    Wonde(Wonde),
    EdFi(EdFi),
}

impl Connector {
    /// The MIS's name as the office page shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Connector::Wonde(_) => "Wonde",
            Connector::EdFi(_) => "Ed-Fi ODS/API",
        }
    }

    /// Writes `w`, replacing whatever the MIS holds for the pupil's day.
    pub async fn write(&self, w: &DayWrite) -> Result<Receipt, MisError> {
        match self {
            Connector::Wonde(c) => c.write(w).await,
            Connector::EdFi(c) => c.write(w).await,
        }
    }

    /// Writes `w`, replacing the pupil's mark in that lesson.
    pub async fn write_lesson(&self, w: &LessonWrite) -> Result<Receipt, MisError> {
        match self {
            Connector::Wonde(c) => c.write_lesson(w).await,
            Connector::EdFi(c) => c.write_lesson(w).await,
        }
    }

    /// A harmless call that says whether the credentials and the school's id work: what the
    /// MIS answered, in a sentence for the office.
    pub async fn try_connection(&self) -> Result<String, MisError> {
        match self {
            Connector::Wonde(c) => c.try_connection().await,
            Connector::EdFi(c) => c.try_connection().await,
        }
    }

    /// The MIS's attendance codes, for the code table.
    pub async fn codes(&self) -> Result<Vec<MisCode>, MisError> {
        match self {
            Connector::Wonde(c) => c.codes().await,
            Connector::EdFi(c) => c.codes().await,
        }
    }

    /// Every pupil's marks the MIS holds for `day`.
    pub async fn read_day(&self, day: NaiveDate) -> Result<Vec<DayRead>, MisError> {
        match self {
            Connector::Wonde(c) => c.read_day(day).await,
            Connector::EdFi(c) => c.read_day(day).await,
        }
    }
}

impl Connector {
    /// The connector `[mis]` names, its secret file read now; `None` when write-back is off.
    pub fn from_config(config: &MisConfig) -> Result<Option<Connector>, String> {
        let timeout = config.timeout_secs;
        if let Some(w) = &config.wonde {
            return wonde::Wonde::new(w, timeout).map(|c| Some(Connector::Wonde(c)));
        }
        if let Some(e) = &config.edfi {
            return edfi::EdFi::new(e, timeout).map(|c| Some(Connector::EdFi(c)));
        }
        Ok(None)
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Passed {
    /// Pupil-days and pupils' lesson marks that were new or changed.
    pub changed: usize,
    pub written: usize,
    /// Tried again later.
    pub failed: usize,
    /// Refused for good (by the MIS, or unsendable).
    pub refused: usize,
    /// The day compared with the MIS in this pass, if one was.
    pub compared: Option<NaiveDate>,
}

/// Runs the passes until `stop` (see the module docs).
pub async fn run(
    db: Db,
    config: Arc<Config>,
    connector: Connector,
    clock: SharedClock,
    stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs(u64::from(config.mis.check_every_secs));
    let mut halt = stop.clone();
    let mut every = Every::new(period, stop);
    let mut memory = Memory::default();
    while every.tick().await {
        // A pass stopped mid-write (the hub stopping, or no longer leading) leaves its day
        // pending: the next leader writes the same version with the same key.
        let passed = tokio::select! {
            passed = pass(&db, &config, &connector, &clock, &mut memory) => passed,
            _ = halt.changed() => return,
        };
        match passed {
            Ok(p) if p != Passed::default() => tracing::info!(
                mis = connector.name(),
                changed = p.changed,
                written = p.written,
                failed = p.failed,
                refused = p.refused,
                compared = ?p.compared,
                "register written back"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("writing the register back: {e}; trying again next pass"),
        }
    }
}

/// One pass (see the module docs), remembering for the next in `memory`.
pub async fn pass(
    db: &Db,
    config: &Config,
    connector: &Connector,
    clock: &SharedClock,
    memory: &mut Memory,
) -> Result<Passed, StoreError> {
    let now = clock.now();
    let rules = config.rules();
    let rule = config
        .register
        .statutory
        .rule()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let registers = if config.mis.lessons {
        Registers::SessionsAndLessons
    } else {
        Registers::Sessions
    };
    let window = (rules.local_day(now), config.mis.days_back);
    let last = memory.seen;
    // The register read without the write lock; only what changed is put under it.
    let marks = db
        .read(move |c| rules::read(c, (&rules, &rule, registers), window, last, now))
        .await?;
    let mut passed = Passed::default();
    if let Some(marks) = marks {
        let gathered = db.write(move |tx| rules::put(tx, &marks, now)).await?;
        memory.seen = Some(gathered.stamp);
        passed.changed = gathered.changed + gathered.lessons_changed;
    }
    let (days, lessons, table) = db
        .read(move |c| {
            let days = outbox::due(c, now, PER_PASS)?;
            let lessons = lesson_outbox::due(c, now, PER_PASS.saturating_sub(days.len()))?;
            Ok::<_, StoreError>((days, lessons, rules::code_table(outbox::codes(c)?)))
        })
        .await?;
    for day in days {
        let outcome = write(connector, &day, &table).await;
        passed.count(&outcome);
        let now = clock.now();
        db.write(move |tx| record(tx, &day, outcome, now)).await?;
    }
    for lesson in lessons {
        let outcome = write_lesson(connector, &lesson, &table).await;
        passed.count(&outcome);
        let now = clock.now();
        db.write(move |tx| record(tx, &lesson, outcome, now))
            .await?;
    }
    passed.compared =
        compare_if_due(db, config, connector, clock, &mut memory.compare_failed_at).await?;
    Ok(passed)
}

impl Passed {
    fn count(&mut self, outcome: &Result<Option<String>, Outcome>) {
        match outcome {
            Ok(_) => self.written += 1,
            Err(Outcome::Failed(..)) => self.failed += 1,
            Err(Outcome::Refused(_)) => self.refused += 1,
        }
    }
}

/// Compares today once it is past `mis.compare_at`, and not again within [`COMPARE_RETRY`]
/// of an MIS that could not be read (`failed_at`); the day compared.
async fn compare_if_due(
    db: &Db,
    config: &Config,
    connector: &Connector,
    clock: &SharedClock,
    failed_at: &mut Option<UnixMillis>,
) -> Result<Option<NaiveDate>, StoreError> {
    let (now, rules) = (clock.now(), config.rules());
    let retry = i64::try_from(COMPARE_RETRY.as_millis()).unwrap_or(i64::MAX);
    if failed_at.is_some_and(|at| now.0 < at.0.saturating_add(retry)) {
        return Ok(None);
    }
    let today = rules.local_day(now);
    let minute = config.mis.compare_minute().map_err(StoreError::Config)?;
    if now < rules.instant(today, minute) {
        return Ok(None);
    }
    if db
        .read(move |c| outbox::comparison(c, today))
        .await?
        .is_some()
    {
        return Ok(None);
    }
    match compare(db, connector, today, now).await {
        Ok(c) => {
            *failed_at = None;
            tracing::info!(day = %today, pupils = c.pupils, differences = c.differences, "compared with the MIS");
            Ok(Some(today))
        }
        Err(CompareError::Mis(e)) => {
            *failed_at = Some(now);
            let mins = COMPARE_RETRY.as_secs() / 60;
            tracing::warn!(day = %today, "the MIS could not be read back, trying again in {mins} minutes: {e}");
            Ok(None)
        }
        Err(CompareError::Store(e)) => Err(e),
    }
}

/// Why a day could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("the MIS could not be read: {0}")]
    Mis(#[from] MisError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `day`'s marks back from the MIS, sets them beside what Rollcall wrote and records
/// the differences (`rollcall_school::mis::differences`).
pub async fn compare(
    db: &Db,
    connector: &Connector,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<Comparison, CompareError> {
    let read = connector.read_day(day).await?;
    // Each pupil under every reference the MIS knows them by: the school's may be any.
    let held: rules::Held = read
        .into_iter()
        .flat_map(|r| {
            let marks = (r.am, r.pm);
            std::iter::once(r.pupil)
                .chain(r.aliases)
                .map(move |name| (name.trim().to_owned(), marks.clone()))
        })
        .collect();
    let comparison = db
        .write(move |tx| {
            let table = rules::code_table(outbox::codes(tx)?);
            let written = outbox::of_day(tx, day)?;
            let (pupils, found) = rules::differences(&written, &held, &table, now);
            outbox::compared(tx, day, pupils, &found, now)
        })
        .await?;
    Ok(comparison)
}

/// Why a day was not written.
#[derive(Debug)]
enum Outcome {
    /// Tried again after the backoff (at least `after`, when the MIS asked).
    Failed(String, Option<Duration>),
    Refused(String),
}

/// Writes `d` in the MIS's codes; the receipt's reference when the MIS took it.
async fn write(
    connector: &Connector,
    d: &OutboxDay,
    table: &HashMap<String, String>,
) -> Result<Option<String>, Outcome> {
    let (pupil, am, pm) =
        rules::in_mis_codes(d, table).map_err(|e: Unsendable| Outcome::Refused(e.to_string()))?;
    let w = DayWrite {
        pupil,
        day: d.day,
        am,
        pm,
        key: rules::write_key(d),
        previous: d.mis_ref.clone(),
    };
    match connector.write(&w).await {
        Ok(receipt) => Ok(receipt.mis_ref),
        Err(e @ MisError::Refused { .. }) => Err(Outcome::Refused(e.to_string())),
        Err(MisError::Failed { said, after }) => Err(Outcome::Failed(said, after)),
    }
}

/// Writes the pupil's mark in lesson `l` in the MIS's code; the receipt's reference when the
/// MIS took it.
async fn write_lesson(
    connector: &Connector,
    l: &OutboxLesson,
    table: &HashMap<String, String>,
) -> Result<Option<String>, Outcome> {
    let mark = rules::lesson_in_mis_codes(l, table)
        .map_err(|e: Unsendable| Outcome::Refused(e.to_string()))?;
    let w = LessonWrite {
        pupil: mark.pupil,
        class: mark.class,
        day: l.day,
        starts: time_of(l.start_minute),
        ends: time_of(l.end_minute),
        code: mark.code,
        key: rules::lesson_write_key(l),
    };
    match connector.write_lesson(&w).await {
        Ok(receipt) => Ok(receipt.mis_ref),
        Err(e @ MisError::Refused { .. }) => Err(Outcome::Refused(e.to_string())),
        Err(MisError::Failed { said, after }) => Err(Outcome::Failed(said, after)),
    }
}

/// The time `minute` minutes after the school's midnight; a lesson ending at midnight ends at
/// 23:59.
fn time_of(minute: u32) -> NaiveTime {
    let minute = minute.min(24 * 60 - 1);
    NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN)
}

/// A row of either outbox: what [`record`] needs to record a write's outcome.
trait Queued {
    fn tries(&self) -> i64;
    /// As the audit log and the hub's log name it.
    fn target(&self) -> String;
    /// What the row asked the MIS to hold, for the audit.
    fn marks(&self) -> serde_json::Value;
    fn written(
        &self,
        tx: &dyn Sql,
        mis_ref: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool, StoreError>;
    fn retry(&self, tx: &dyn Sql, next: UnixMillis, said: &str) -> Result<bool, StoreError>;
    fn refused(&self, tx: &dyn Sql, said: &str) -> Result<bool, StoreError>;
}

impl Queued for OutboxDay {
    fn tries(&self) -> i64 {
        self.tries
    }
    fn target(&self) -> String {
        format!("mis:{}:{}", self.student, self.day)
    }
    fn marks(&self) -> serde_json::Value {
        json!({"am": self.am, "pm": self.pm, "version": self.version})
    }
    fn written(
        &self,
        tx: &dyn Sql,
        mis_ref: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        outbox::written(tx, self, mis_ref, now)
    }
    fn retry(&self, tx: &dyn Sql, next: UnixMillis, said: &str) -> Result<bool, StoreError> {
        outbox::retry(tx, self, next, said)
    }
    fn refused(&self, tx: &dyn Sql, said: &str) -> Result<bool, StoreError> {
        outbox::refused(tx, self, said)
    }
}

impl Queued for OutboxLesson {
    fn tries(&self) -> i64 {
        self.tries
    }
    fn target(&self) -> String {
        format!("mis:{}:{}:session:{}", self.student, self.day, self.slot)
    }
    fn marks(&self) -> serde_json::Value {
        json!({"class": self.class_name, "code": self.code, "version": self.version})
    }
    fn written(
        &self,
        tx: &dyn Sql,
        mis_ref: Option<&str>,
        now: UnixMillis,
    ) -> Result<bool, StoreError> {
        lesson_outbox::written(tx, self, mis_ref, now)
    }
    fn retry(&self, tx: &dyn Sql, next: UnixMillis, said: &str) -> Result<bool, StoreError> {
        lesson_outbox::retry(tx, self, next, said)
    }
    fn refused(&self, tx: &dyn Sql, said: &str) -> Result<bool, StoreError> {
        lesson_outbox::refused(tx, self, said)
    }
}

/// Records what became of `q`'s version; a refusal is audited, with the MIS's words.
fn record(
    tx: &dyn Sql,
    q: &impl Queued,
    outcome: Result<Option<String>, Outcome>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    match outcome {
        Ok(mis_ref) => {
            q.written(tx, mis_ref.as_deref(), now)?;
        }
        Err(Outcome::Failed(said, after)) => {
            let wait = rules::backoff(q.tries() + 1, after);
            let next = UnixMillis(now.0.saturating_add(wait.as_millis() as i64));
            tracing::warn!(
                write = %q.target(), tries = q.tries() + 1,
                "the MIS did not take a write, trying again in {} s: {said}",
                wait.as_secs()
            );
            q.retry(tx, next, &said)?;
        }
        Err(Outcome::Refused(said)) => {
            tracing::warn!(write = %q.target(), "not written back: {said}");
            if q.refused(tx, &said)? {
                let mut after = q.marks();
                after["reason"] = json!(said);
                audit::log(
                    tx,
                    Change {
                        actor: "system",
                        action: "mis.refused",
                        target: q.target(),
                        before: None,
                        after: Some(after),
                        at: now,
                    },
                )?;
            }
        }
    }
    Ok(())
}
