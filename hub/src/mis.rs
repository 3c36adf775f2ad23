//! The register written back to the school's MIS (issue 69): the task that, every
//! `mis.check_every_secs` while this hub leads the school (so in a district exactly one hub
//! writes each school's marks), gathers the pupils' statutory marks into the outbox and writes
//! what is due through the school's [`Connector`].
//!
//! What is written, and when, is `rollcall_school::mis`'s (the rules) and the outbox
//! `rollcall_store::mis`'s; each vendor's wire format is its connector's ([`wonde`],
//! [`edfi`]). Here: one pass, in order:
//!
//! 1. **Gather** the last `mis.days_back` days' marks: a pupil-day whose marks changed gets a
//!    new version, pending.
//! 2. **Write** each due day in the MIS's codes (the office's code table). A day that cannot
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

use chrono::NaiveDate;
use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_school::mis::{self as rules, Unsendable};
use rollcall_shared::UnixMillis;
use rollcall_store::audit::{self, Change};
use rollcall_store::mis::{self as outbox, Comparison, OutboxDay};
use rollcall_store::register::Stamp;
use rollcall_store::{Db, StoreError};
use serde_json::json;
use tokio::sync::watch;

use crate::config::{Config, MisConfig};
pub use connector::{DayRead, DayWrite, MisCode, MisError, Receipt};
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
    /// Pupil-days whose marks were new or changed.
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
    let window = (rules.local_day(now), config.mis.days_back);
    let last = memory.seen;
    let gathered = db
        .write(move |tx| rules::gather(tx, (&rules, &rule), window, last, now))
        .await?;
    memory.seen = Some(gathered.stamp);
    let mut passed = Passed {
        changed: gathered.changed,
        ..Passed::default()
    };
    let (due, table) = db
        .read(move |c| {
            let due = outbox::due(c, now, PER_PASS)?;
            Ok::<_, StoreError>((due, rules::code_table(outbox::codes(c)?)))
        })
        .await?;
    for day in due {
        let outcome = write(connector, &day, &table).await;
        let now = clock.now();
        match &outcome {
            Ok(_) => passed.written += 1,
            Err(Outcome::Failed(..)) => passed.failed += 1,
            Err(Outcome::Refused(_)) => passed.refused += 1,
        }
        db.write(move |tx| record(tx, &day, outcome, now)).await?;
    }
    passed.compared =
        compare_if_due(db, config, connector, clock, &mut memory.compare_failed_at).await?;
    Ok(passed)
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

/// Records what became of `d`'s version; a refusal is audited, with the MIS's words.
fn record(
    tx: &dyn rollcall_store::Sql,
    d: &OutboxDay,
    outcome: Result<Option<String>, Outcome>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    match outcome {
        Ok(mis_ref) => {
            outbox::written(tx, d, mis_ref.as_deref(), now)?;
        }
        Err(Outcome::Failed(said, after)) => {
            let wait = rules::backoff(d.tries + 1, after);
            let next = UnixMillis(now.0.saturating_add(wait.as_millis() as i64));
            tracing::warn!(
                student = %d.student, day = %d.day, tries = d.tries + 1,
                "the MIS did not take a day's marks, trying again in {} s: {said}",
                wait.as_secs()
            );
            outbox::retry(tx, d, next, &said)?;
        }
        Err(Outcome::Refused(said)) => {
            tracing::warn!(student = %d.student, day = %d.day, "not written back: {said}");
            if outbox::refused(tx, d, &said)? {
                audit::log(
                    tx,
                    Change {
                        actor: "system",
                        action: "mis.refused",
                        target: format!("mis:{}:{}", d.student, d.day),
                        before: None,
                        after: Some(json!({
                            "am": d.am, "pm": d.pm, "version": d.version, "reason": said,
                        })),
                        at: now,
                    },
                )?;
            }
        }
    }
    Ok(())
}
