//! The delivery task: POSTs due webhook rows and records each outcome.

use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_runtime::shutdown::Every;
use rollcall_shared::UnixMillis;
use rollcall_store::sql::params;
use tokio::sync::watch;

use super::Hooks;
use super::sign::{MAX_ATTEMPTS, retry_delay, signature};
use rollcall_store::{Db, Sql, StoreError};

/// How often due deliveries are looked for.
const EVERY: Duration = Duration::from_secs(2);
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most deliveries sent per look.
const BATCH: i64 = 32;

/// One row to send.
#[derive(Debug)]
struct Due {
    id: i64,
    url: String,
    event: String,
    payload: String,
    attempts: u32,
}

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
        let due = db.read(move |sql| due(sql, now)).await;
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

fn due(sql: &dyn Sql, now: UnixMillis) -> Result<Vec<Due>, StoreError> {
    let rows = sql.query_map(
        "SELECT id, url, event, payload, attempts FROM webhook_deliveries
         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ?1
         ORDER BY next_at, id LIMIT ?2",
        params![now, BATCH],
        |r| {
            Ok(Due {
                id: r.get("id")?,
                url: r.get("url")?,
                event: r.get("event")?,
                payload: r.get("payload")?,
                attempts: r.get("attempts")?,
            })
        },
    )?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
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
        Ok(()) => {
            sql.execute(
                "UPDATE webhook_deliveries SET attempts = ?2, delivered_at = ?3, last_error = NULL
                 WHERE id = ?1",
                params![d.id, attempts, now],
            )?;
        }
        Err(e) if attempts >= MAX_ATTEMPTS => {
            tracing::warn!(
                url = d.url,
                event = d.event,
                "webhook given up after {attempts} attempts: {e}"
            );
            sql.execute(
                "UPDATE webhook_deliveries SET attempts = ?2, failed_at = ?3, last_error = ?4
                 WHERE id = ?1",
                params![d.id, attempts, now, e],
            )?;
        }
        Err(e) => {
            tracing::info!(
                url = d.url,
                event = d.event,
                attempts,
                "webhook not delivered, will retry: {e}"
            );
            sql.execute(
                "UPDATE webhook_deliveries SET attempts = ?2, next_at = ?3, last_error = ?4
                 WHERE id = ?1",
                params![d.id, attempts, now.saturating_add(retry_delay(attempts)), e],
            )?;
        }
    }
    Ok(())
}
