//! The hub's scheduled work, each a loop until the stop signal: closing registers, scheduled
//! backups, the retention policy.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_shared::UnixMillis;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::notify::{Event, Hooks};
use rollcall_school::closed_set::{self, Naming};
use rollcall_school::register;
use rollcall_store::{Db, Sql, StoreError};

/// A period in Unix milliseconds.
fn period_ms(period: Duration) -> i64 {
    i64::try_from(period.as_millis()).unwrap_or(i64::MAX)
}

/// How often the backup schedule is looked at.
const BACKUP_CHECK_EVERY: Duration = Duration::from_secs(600);
/// How often the retention policy runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Writes and locks the register of each session once it has closed, at start (catching up
/// on any downtime) and then every `register.check_every_secs`; amends the automatic absences
/// that records arriving late contradict. First, with `[attendance] name_lessons_jointly`,
/// names together the cards of the lessons whose arrivals came in since the last pass.
pub(super) async fn close_registers(
    db: Db,
    config: Arc<Config>,
    clock: SharedClock,
    hooks: Hooks,
    stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs(u64::from(config.register.check_every_secs));
    let grace = i64::from(config.register.close_after_minutes) * 60_000;
    let mut every = Every::new(period, stop);
    // The lessons whose arrivals came in since the last pass are named together once.
    let mut last_pass = UnixMillis(
        clock
            .now()
            .0
            .saturating_sub(period_ms(period).saturating_mul(2)),
    );
    while every.tick().await {
        let (rules, now, hooks) = (config.rules(), clock.now(), hooks.clone());
        let since = std::mem::replace(&mut last_pass, now);
        let threshold = config.reports.at_risk_below;
        let jointly =
            (config.attendance.name_lessons_jointly).then(|| config.gallery.model.clone());
        let closed = db
            .write(move |tx| {
                if let Some(model) = &jointly {
                    let naming = Naming {
                        rules: &rules,
                        model,
                        now,
                    };
                    let came_in = |sql: &dyn Sql| closed_set::arrivals_came_in(sql, &naming, since);
                    if let Err(e) = tx.attempt(came_in) {
                        tracing::warn!("the lessons' cards were not named together: {e}");
                    }
                }
                let closed = register::close_due(tx, &rules, grace, now, jointly.as_ref())?;
                for session in &closed {
                    hooks.enqueue(tx, Event::SessionClosed, &serde_json::json!(session), now)?;
                }
                register::admit_late(tx, &rules, now)?;
                super::at_risk::after_closing(tx, &hooks, &closed, &rules, (threshold, now))?;
                Ok::<_, StoreError>(closed.len())
            })
            .await;
        match closed {
            Ok(0) => {}
            Ok(n) => tracing::info!("register: closed {n} sessions"),
            Err(e) => tracing::error!("register: closing sessions failed, will retry: {e}"),
        }
    }
}

/// Takes a backup into `dir` whenever the newest there is `backup.every_hours` old
/// ([`crate::backup::scheduled`]); looked at every [`BACKUP_CHECK_EVERY`], so a restart does
/// not take an extra one and a missed one is taken soon after the hub is back.
pub(super) async fn backups(
    config: Arc<Config>,
    dir: PathBuf,
    clock: SharedClock,
    stop: watch::Receiver<bool>,
) {
    let mut every = Every::new(BACKUP_CHECK_EVERY, stop);
    while every.tick().await {
        let (config, dir, now) = (config.clone(), dir.clone(), clock.now());
        let taken = tokio::task::spawn_blocking(move || {
            crate::backup::scheduled(&config.database_path(), &config.backup, &dir, now)
        })
        .await;
        match taken {
            Ok(Ok(Some(summary))) => tracing::info!("backup written: {summary}"),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!("scheduled backup failed, will try again: {e}"),
            Err(e) => tracing::error!("scheduled backup task failed: {e}"),
        }
    }
}

/// Applies the retention policy ([`rollcall_school::retention`]) on schedule; tells the pusher when
/// leavers' templates went, so door units drop them.
pub(super) async fn retention(
    db: Db,
    config: Arc<Config>,
    clock: SharedClock,
    gallery_changed: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    let mut every = Every::new(RETENTION_EVERY, stop);
    while every.tick().await {
        let (now, policy, rules) = (clock.now(), config.retention.clone(), config.rules());
        let purged = db
            .write(move |tx| rollcall_school::retention::run(tx, &policy, &rules, now))
            .await;
        match purged {
            Ok(p) if p.is_empty() => {}
            Ok(p) => {
                tracing::info!(
                    faces = p.faces,
                    undecided = p.undecided,
                    leavers_templates = p.leavers_templates,
                    records = p.records,
                    register_sessions = p.register_sessions,
                    mis_writes = p.mis_writes,
                    visits = p.visits,
                    staff_entries = p.staff_entries,
                    notices = p.notices,
                    guardian_accounts = p.guardian_accounts,
                    sent_keys = p.sent_keys,
                    "retention applied"
                );
                if p.leavers_templates > 0 {
                    gallery_changed.notify_one();
                }
            }
            Err(e) => tracing::error!("retention: {e}"),
        }
    }
}
