//! The delivery task: POSTs due webhook rows and records each outcome.

use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_shared::UnixMillis;
use tokio::sync::watch;

use super::Hooks;
use super::sign::{MAX_ATTEMPTS, retry_delay, signature};
use rollcall_store::webhooks::{self, Due};
use rollcall_store::{Db, Sql, StoreError};

/// How often due deliveries are looked for.
const EVERY: Duration = Duration::from_secs(2);
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most deliveries sent per look.
const BATCH: i64 = 32;

/// Sends due deliveries until shutdown.
pub async fn run(db: Db, hooks: Hooks, clock: SharedClock, stop: watch::Receiver<bool>) {
    if hooks.receivers.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return tracing::error!("webhooks: cannot build an HTTP client: {e}"),
    };
    let mut every = Every::new(EVERY, stop);
    while every.tick().await {
        let now = clock.now();
        let due = db.read(move |sql| webhooks::due(sql, now, BATCH)).await;
        let due = match due {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("webhooks: {e}");
                continue;
            }
        };
        for d in due {
            let outcome = send(&client, &hooks, &d, now).await;
            let recorded = db.write(move |sql| record(sql, &d, outcome, now)).await;
            if let Err(e) = recorded {
                tracing::error!("webhooks: recording a delivery: {e}");
            }
        }
    }
}

/// POSTs one delivery: `Ok` on a 2xx answer, else why not.
async fn send(
    client: &reqwest::Client,
    hooks: &Hooks,
    d: &Due,
    now: UnixMillis,
) -> Result<(), String> {
    let hook = hooks
        .receivers
        .iter()
        .find(|h| h.url == d.url)
        .ok_or("this receiver is no longer configured")?;
    let answer = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-rollcall-event", &d.event)
        .header("x-rollcall-delivery", d.id.to_string())
        .header(
            "x-rollcall-signature",
            signature(&hook.secret, now, &d.payload),
        )
        .body(d.payload.clone())
        .send()
        .await
        // With its causes: reqwest's own line says only "error sending request for url".
        .map_err(|e| format!("{:#}", anyhow::Error::new(e)))?;
    match answer.status() {
        s if s.is_success() => Ok(()),
        s => Err(format!("answered {s}")),
    }
}

fn record(
    sql: &dyn Sql,
    d: &Due,
    outcome: Result<(), String>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let attempts = d.attempts + 1;
    match outcome {
        Ok(()) => webhooks::delivered(sql, d.id, attempts, now),
        Err(e) if attempts >= MAX_ATTEMPTS => {
            tracing::warn!(
                url = d.url,
                event = d.event,
                "webhook given up after {attempts} attempts: {e}"
            );
            webhooks::given_up(sql, d.id, attempts, now, &e)
        }
        Err(e) => {
            tracing::info!(
                url = d.url,
                event = d.event,
                attempts,
                "webhook not delivered, will retry: {e}"
            );
            let next = now.saturating_add(retry_delay(attempts));
            webhooks::retry(sql, d.id, attempts, next, &e)
        }
    }
}
