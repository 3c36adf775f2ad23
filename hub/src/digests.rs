//! The daily digest task: once a user's digest time (theirs, else the school's) has passed on
//! a digest day (school zone), each enabled user with an address who wants the digest gets it,
//! unless it says nothing. What was done is
//! remembered per user and day (`email_digests`) before the next check, so a restart neither
//! repeats nor skips a day; a failure is retried a few times that day
//! (`email::schedule`), logged, audited (`email.digest_failed`) and listed by
//! `GET /email/digests`. Never stops the hub. The server's floor: what a digest counts is the
//! school's (`rollcall_school::reports`), what was sent is kept by `rollcall_store::digests`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Weekday};
use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_shared::UnixMillis;
use serde_json::json;
use tokio::sync::watch;

mod gather;

pub use gather::gather;

use crate::config::Config;
use crate::email::compose;
use crate::email::schedule::{after_try, due_day, should_try};
use crate::email::smtp::Mailer;
use rollcall_school::access::AccessError;
use rollcall_store::audit::{self, Change};
use rollcall_store::digests::{self, DigestState, DigestStatus};
use rollcall_store::users::{self, User};
use rollcall_store::{Db, Sql, StoreError};

/// The relay from `[email]`, or `None` (said once) when there is none.
pub fn mailer(config: &Config) -> Result<Option<Mailer>, String> {
    match &config.email {
        None => {
            tracing::info!("e-mail is off: no [email] section, so no digests are sent");
            Ok(None)
        }
        Some(c) => Mailer::new(c).map(Some),
    }
}

/// Looks every `email.digest.check_every_secs` whether digests are due, until shutdown.
pub async fn run(
    db: Db,
    config: Arc<Config>,
    mailer: Mailer,
    clock: SharedClock,
    stop: watch::Receiver<bool>,
) {
    let Some(email) = config.email.clone() else {
        return;
    };
    let (at, days) = (
        email.digest.minute().unwrap_or(450),
        email.digest.weekdays(),
    );
    let period = Duration::from_secs(u64::from(email.digest.check_every_secs));
    let mut every = Every::new(period, stop);
    while every.tick().await {
        send_due(&db, &config, &mailer, (at, &days), clock.now()).await;
    }
}

/// Sends each user whose digest time has passed today's digest, if not yet done.
async fn send_due(
    db: &Db,
    config: &Arc<Config>,
    mailer: &Mailer,
    (school_at, days): (u16, &[Weekday]),
    now: UnixMillis,
) {
    let users = db.read(|sql| users::list(sql)).await;
    let users = match users {
        Ok(u) => u,
        Err(e) => return tracing::error!("e-mail digest: reading users: {e}"),
    };
    let rules = config.rules();
    for user in users
        .into_iter()
        .filter(|u| u.role.is_staff() && !u.disabled && u.email.is_some() && u.choices.digest)
    {
        let at = user.choices.digest_at.unwrap_or(school_at);
        let Some(day) = due_day(&rules, now, at, days) else {
            continue;
        };
        if let Err(e) = one(db, config, mailer, &user, (day, now)).await {
            tracing::error!(user = user.username, "e-mail digest: {e}");
        }
    }
}

/// One user's digest for `day`, if it is still to be tried.
async fn one(
    db: &Db,
    config: &Arc<Config>,
    mailer: &Mailer,
    user: &User,
    (day, now): (NaiveDate, UnixMillis),
) -> Result<(), AccessError> {
    let (id, rules, threshold) = (user.id, config.rules(), config.reports.at_risk_below);
    let u = user.clone();
    let (state, digest) = db
        .read(move |c| {
            let state = digests::digest(c, id, day)?;
            let digest = match should_try(state.as_ref(), now) {
                true => Some(gather(c, &u, &rules, (threshold, now))?),
                false => None,
            };
            Ok::<_, AccessError>((state, digest))
        })
        .await?;
    let Some(digest) = digest else {
        return Ok(());
    };
    let outcome = match digest.is_empty() {
        true => Ok(false),
        false => send(mailer, user, &digest).await.map(|()| true),
    };
    let next = after_try(state.as_ref(), outcome, now);
    let (name, to) = (user.username.clone(), user.email.clone());
    db.write(move |tx| {
        digests::set_digest(tx, id, day, &next, now)?;
        audited(tx, &name, to.as_deref(), (day, &next), now)?;
        Ok::<_, AccessError>(())
    })
    .await
}

async fn send(mailer: &Mailer, user: &User, digest: &compose::Digest) -> Result<(), String> {
    let to = user.email.as_deref().unwrap_or_default();
    let text = compose::text(digest, mailer.pages_url.as_deref());
    let sent = mailer.send(to, &compose::subject(digest), text).await;
    match &sent {
        Ok(()) => tracing::info!(user = user.username, "e-mail digest sent"),
        Err(e) => tracing::warn!(user = user.username, "e-mail digest not sent: {e}"),
    }
    sent
}

/// A sent or failed digest goes in the audit log (nothing to say does not).
fn audited(
    conn: &dyn Sql,
    username: &str,
    to: Option<&str>,
    (day, state): (NaiveDate, &DigestState),
    now: UnixMillis,
) -> Result<(), StoreError> {
    let action = match state.status {
        DigestStatus::Sent => "email.digest",
        DigestStatus::Retrying | DigestStatus::Failed => "email.digest_failed",
        DigestStatus::Empty => return Ok(()),
    };
    audit::log(
        conn,
        Change {
            actor: "hub",
            action,
            target: format!("user:{username}"),
            before: None,
            after: Some(json!({
                "day": day, "to": to, "status": state.status, "attempts": state.attempts,
                "error": state.last_error,
            })),
            at: now,
        },
    )
}
