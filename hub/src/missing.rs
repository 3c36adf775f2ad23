//! Pupils missing from lessons and registers not taken (issue 70): the task that runs the
//! school's rule (`rollcall_school::missing`) every `register.check_every_secs` while this hub
//! leads, and tells people what it raised.
//!
//! Each pass, in one transaction: the alerts raised, ended and the registers noted
//! (`watch::pass`), and a webhook queued for each new one (`student.missing`,
//! `student.found`, `register.not_taken`), so a pass that fails tells nobody and one run again
//! tells nobody twice. Then, with `[email]`, each alert not yet mailed goes to the pastoral
//! staff (admins and staff with the pastoral permission, enabled, with an address), each
//! pupil found after it to them too, and each reminder to the lesson's teacher when they want
//! it; a message is marked sent only once the relay took it, so a failure is tried again on
//! the next pass that day. Never stops the hub.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_school::attendance::Rules;
use rollcall_school::missing::rule::Missing;
use rollcall_school::missing::watch::{self, Watch, Watched};
use rollcall_shared::UnixMillis;
use rollcall_store::missing::{self as stored, Alert};
use rollcall_store::users::{self, User};
use rollcall_store::{Db, Sql, StoreError, school, timetable};
use serde_json::json;
use tokio::sync::watch as signal;

use crate::config::Config;
use crate::email::smtp::Mailer;
use crate::notify::{Event, Hooks};

/// The school's choice of when a pupil is missing.
pub fn watch_of(config: &Config) -> Watch {
    Watch {
        after_minutes: config.attendance.missing_after_minutes,
    }
}

/// Watches the lessons every `register.check_every_secs` until the stop signal.
pub async fn run(
    db: Db,
    config: Arc<Config>,
    hooks: Hooks,
    mailer: Option<Mailer>,
    clock: SharedClock,
    stop: signal::Receiver<bool>,
) {
    let period = Duration::from_secs(u64::from(config.register.check_every_secs));
    let mut every = Every::new(period, stop);
    while every.tick().await {
        let (rules, now) = (config.rules(), clock.now());
        match pass(&db, &rules, watch_of(&config), &hooks, now).await {
            Ok(w) if w.alerted.is_empty() && w.found.is_empty() && w.reminded.is_empty() => {}
            Ok(w) => tracing::info!(
                missing = w.alerted.len(),
                found = w.found.len(),
                registers_not_taken = w.reminded.len(),
                "lessons watched"
            ),
            Err(e) => tracing::error!("watching the lessons failed, will try again: {e}"),
        }
        if let Some(mailer) = &mailer {
            let day = rules.local_day(now);
            if let Err(e) = mail(&db, mailer, &config, &rules, day, clock.now()).await {
                tracing::error!("mailing missing pupils and registers failed, will retry: {e}");
            }
        }
    }
}

/// One pass at `now`, its webhooks queued in its transaction.
pub async fn pass(
    db: &Db,
    rules: &Rules,
    watch: Watch,
    hooks: &Hooks,
    now: UnixMillis,
) -> Result<Watched, StoreError> {
    let (rules, hooks) = (rules.clone(), hooks.clone());
    db.write(move |tx| {
        let watched = watch::pass(tx, &rules, watch, now)?;
        for m in &watched.alerted {
            hooks.enqueue(tx, Event::StudentMissing, &missing_payload(m), now)?;
        }
        for (alert, at) in &watched.found {
            let name = school::student(tx, alert.student)?.name;
            let payload = found_payload(alert, &name, *at);
            hooks.enqueue(tx, Event::StudentFound, &payload, now)?;
        }
        for r in &watched.reminded {
            hooks.enqueue(tx, Event::RegisterNotTaken, &json!(r), now)?;
        }
        Ok(watched)
    })
    .await
}

fn missing_payload(m: &Missing) -> serde_json::Value {
    json!({
        "student": m.student,
        "name": m.name,
        "slot_id": m.slot_id,
        "day": m.day,
        "class_id": m.class_id,
        "class_name": m.class_name,
        "room": m.room,
        "starts_at": m.starts_at,
        "in_school": m.in_school,
    })
}

fn found_payload(a: &Alert, name: &str, at: UnixMillis) -> serde_json::Value {
    json!({
        "student": a.student,
        "name": name,
        "slot_id": a.slot_id,
        "day": a.day,
        "class_name": a.class_name,
        "room": a.room,
        "alerted_at": a.alerted_at,
        "found_at": at,
    })
}

/// One message waiting, and what to note once the relay took it.
enum Mail {
    Missing(Alert),
    Found(Alert),
    /// A reminder, with its lesson's class and start ("7B at 10:00").
    Reminder(stored::Reminder, String),
}

/// Sends every message of `day` still to go.
async fn mail(
    db: &Db,
    mailer: &Mailer,
    config: &Config,
    rules: &Rules,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let pages = config.email.as_ref().and_then(|e| e.pages_url.clone());
    let lesson_rules = rules.clone();
    let (waiting, people, names) = db
        .read(move |c: &dyn Sql| {
            let mut waiting: Vec<Mail> = Vec::new();
            waiting.extend(
                stored::unmailed(c, day, false)?
                    .into_iter()
                    .map(Mail::Missing),
            );
            waiting.extend(stored::unmailed(c, day, true)?.into_iter().map(Mail::Found));
            for r in stored::reminders_on(c, day)? {
                if r.mailed_at.is_none() {
                    let lesson = lesson_named(c, &lesson_rules, &r)?;
                    waiting.push(Mail::Reminder(r, lesson));
                }
            }
            // An idle minute costs the three small reads above.
            if waiting.is_empty() {
                return Ok((waiting, Vec::new(), HashMap::new()));
            }
            let mut names = HashMap::new();
            for m in &waiting {
                if let Mail::Missing(a) | Mail::Found(a) = m {
                    names.insert(a.student, school::student(c, a.student)?.name);
                }
            }
            Ok::<_, StoreError>((waiting, users::list(c)?, names))
        })
        .await?;
    let pastoral: Vec<&str> = people
        .iter()
        .filter(|u| hears(u))
        .filter_map(|u| u.email.as_deref())
        .collect();
    let clock = |at: UnixMillis| {
        let minute = rules.zone.local(at.0).minute;
        format!("{:02}:{:02}", minute / 60, minute % 60)
    };
    let link = |page: &str| {
        pages
            .as_deref()
            .map(|p| format!("\n\n{}/#/{page}\n", p.trim_end_matches('/')))
            .unwrap_or_default()
    };
    for message in waiting {
        let name = |a: &Alert| names.get(&a.student).cloned().unwrap_or_default();
        let (to, subject, body): (Vec<&str>, String, String) = match &message {
            Mail::Missing(a) => (
                pastoral.clone(),
                format!("Missing from a lesson: {} ({})", name(a), a.class_name),
                format!(
                    "{} is in school today ({}) but is not marked in {} in {}, which started \
                     at {}.{}",
                    name(a),
                    a.in_school,
                    a.class_name,
                    a.room,
                    clock(a.starts_at),
                    link("missing")
                ),
            ),
            Mail::Found(a) => (
                pastoral.clone(),
                format!("Found: {} ({})", name(a), a.class_name),
                format!(
                    "{} was found: marked in {} at {} (missing since {}).{}",
                    name(a),
                    a.class_name,
                    a.ended_at.map(clock).unwrap_or_default(),
                    clock(a.alerted_at),
                    link("missing")
                ),
            ),
            Mail::Reminder(r, lesson) => {
                let teacher = people.iter().find(|u| Some(u.id) == r.teacher);
                let to = teacher
                    .filter(|t| !t.disabled && t.choices.register_reminders)
                    .and_then(|t| t.email.as_deref())
                    .into_iter()
                    .collect();
                (
                    to,
                    format!("Register not taken: {lesson}"),
                    format!(
                        "The register of {lesson} still has cards to decide or pupils to mark. \
                         Open Review to take it.{}",
                        link("review")
                    ),
                )
            }
        };
        // At most once: noted as sent when anyone took it (or nobody was to), tried again on
        // the next pass only when every address failed (the relay down).
        let mut taken = to.is_empty();
        for address in &to {
            match mailer.send(address, &subject, body.clone()).await {
                Ok(()) => taken = true,
                Err(e) => tracing::warn!("{subject}: not sent to {address}: {e}"),
            }
        }
        if taken {
            db.write(move |tx| mailed(tx, &message, now)).await?;
        }
    }
    Ok(())
}

/// Notes that `message` went (or had nobody to go to).
fn mailed(tx: &dyn Sql, message: &Mail, now: UnixMillis) -> Result<(), StoreError> {
    match message {
        Mail::Missing(a) => stored::set_mailed(tx, (a.slot_id, a.day, a.student), false, now),
        Mail::Found(a) => stored::set_mailed(tx, (a.slot_id, a.day, a.student), true, now),
        Mail::Reminder(r, _) => stored::set_reminder_mailed(tx, (r.slot_id, r.day), now),
    }
}

/// Whether `user` hears of the whole school's missing pupils.
pub fn hears(user: &User) -> bool {
    !user.disabled && (user.pastoral || user.role == users::Role::Admin)
}

/// "7B at 10:00", or "a lesson taken off the timetable since".
fn lesson_named(c: &dyn Sql, rules: &Rules, r: &stored::Reminder) -> Result<String, StoreError> {
    match timetable::slot(c, r.slot_id) {
        Ok(slot) => {
            let class = school::class(c, slot.class_id)?.name;
            let starts = rules.instant(r.day, slot.start_minute);
            let minute = rules.zone.local(starts.0).minute;
            Ok(format!("{class} at {:02}:{:02}", minute / 60, minute % 60))
        }
        Err(StoreError::NotFound(_)) => Ok("a lesson taken off the timetable since".into()),
        Err(e) => Err(e),
    }
}
