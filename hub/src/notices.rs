//! Families told the same morning (issue 57): the task that runs the school's rules
//! (`rollcall_school::notices`) every `notices.check_every_secs` while this hub leads, and
//! sends what they leave pending.
//!
//! Each pass: the morning's notices, second contacts and arrivals are written
//! ([`rollcall_school::notices::morning`]); then every pending message that is due goes out,
//! by the relay ([`crate::email::smtp`]) or the SMS gateway ([`sms`]), its reply link made
//! only now (the database keeps `{reply_link}`, never a working link). A message that fails
//! is tried again after 1, 2, 4 … minutes and shown as failed after `notices.tries`; each
//! message sent or given up on is audited with its text. Never stops the hub.

pub mod sms;

use std::sync::Arc;
use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_school::notices::{self, ReplyKey, Settings};
use rollcall_shared::UnixMillis;
use rollcall_store::audit::{self, Change};
use rollcall_store::notices::{self as stored, Message};
use rollcall_store::{Db, StoreError};
use serde_json::json;
use tokio::sync::watch;

use crate::config::{Config, NoticesConfig};
use crate::email::smtp::Mailer;
use sms::Gateway;

/// Most messages sent in one pass (the rest wait for the next).
const PER_PASS: usize = 200;

/// The school's choices as the rules take them.
pub fn settings(config: &NoticesConfig) -> Settings {
    Settings {
        school: config.school_name.trim().to_owned(),
        after_first_lesson_minutes: config.after_first_lesson_minutes,
        channels: config.channels.clone(),
        second_contact_after_minutes: config.second_contact_after_minutes,
        arrived_message: config.arrived_message,
    }
}

/// How a message goes out.
#[derive(Clone, Debug)]
pub struct Senders {
    pub mailer: Option<Mailer>,
    pub sms: Option<Gateway>,
    pub replies: ReplyKey,
}

/// Runs the passes until `stop` (see the module docs).
pub async fn run(
    db: Db,
    config: Arc<Config>,
    senders: Senders,
    clock: SharedClock,
    stop: watch::Receiver<bool>,
) {
    let period = Duration::from_secs(u64::from(config.notices.check_every_secs));
    let mut every = Every::new(period, stop);
    while every.tick().await {
        pass(&db, &config, &senders, clock.now()).await;
    }
}

/// One pass at `now`.
pub async fn pass(db: &Db, config: &Config, senders: &Senders, now: UnixMillis) {
    let (rules, settings) = (config.rules(), settings(&config.notices));
    let day = rules.local_day(now);
    let written = db
        .write(move |tx| notices::morning(tx, &rules, &settings, day, now))
        .await;
    match written {
        Ok(p) if p.told + p.second + p.arrived + p.unreachable > 0 => tracing::info!(
            told = p.told,
            second = p.second,
            arrived = p.arrived,
            unreachable = p.unreachable,
            "families' notices"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!("families' notices: the morning's pass failed, will retry: {e}"),
    }
    let due = db.read(move |c| stored::due(c, now, PER_PASS)).await;
    let due = match due {
        Ok(due) => due,
        Err(e) => return tracing::error!("families' notices: cannot read what is due: {e}"),
    };
    for message in due {
        let outcome = send(config, senders, &message).await;
        let tries = config.notices.tries;
        let recorded = db
            .write(move |tx| record(tx, &message, outcome, tries, now))
            .await;
        if let Err(e) = recorded {
            tracing::error!("families' notices: cannot record a message's outcome: {e}");
        }
    }
}

/// The message as the family gets it: its reply link made.
pub fn text(config: &Config, replies: &ReplyKey, m: &Message) -> String {
    let token = replies.token(m.student, m.day);
    let link = format!(
        "{}/#/reply/{token}",
        config.notices.pages_url.trim_end_matches('/')
    );
    m.body.replace("{reply_link}", &link)
}

/// Sends `m` by its channel; the error says why it did not go.
async fn send(config: &Config, senders: &Senders, m: &Message) -> Result<(), String> {
    let body = text(config, &senders.replies, m);
    match m.channel.as_str() {
        "email" => {
            let mailer = senders
                .mailer
                .as_ref()
                .ok_or("no relay is set up ([email])")?;
            let subject = m.subject.as_deref().unwrap_or_default();
            mailer.send(&m.address, subject, body).await
        }
        "sms" => {
            let gateway = senders.sms.as_ref().ok_or("no SMS gateway is set up")?;
            let to = sms::mobile_number(&m.address)?;
            gateway.send(&to, &body).await.map_err(|e| e.to_string())
        }
        other => Err(format!("no such channel {other:?}")),
    }
}

/// Records what became of `m`: sent, tried again later, or failed for good; audited when
/// it is over.
fn record(
    tx: &dyn rollcall_store::Sql,
    m: &Message,
    outcome: Result<(), String>,
    tries: u8,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let tried = m.tries + 1;
    let action = match &outcome {
        Ok(()) => {
            stored::sent(tx, m.id, now)?;
            "notice.sent"
        }
        Err(e) if tried < u32::from(tries) => {
            let wait = 60_000_i64 << (tried - 1).min(10);
            stored::retry(tx, m.id, UnixMillis(now.0 + wait), e)?;
            tracing::warn!(message = %m.id, channel = m.channel, "not sent, tried again later: {e}");
            return Ok(());
        }
        Err(e) => {
            stored::failed(tx, m.id, e)?;
            tracing::warn!(message = %m.id, channel = m.channel, "not sent, given up: {e}");
            "notice.failed"
        }
    };
    let about = json!({
        "kind": m.kind, "channel": m.channel, "contact": m.contact, "guardian": m.guardian,
        "subject": m.subject, "text": m.body, "tries": tried, "error": outcome.err(),
    });
    audit::log(
        tx,
        Change {
            actor: "system",
            action,
            target: format!("notice:{}:{}", m.student, m.day),
            before: None,
            after: Some(about),
            at: now,
        },
    )
}
