//! Webhook deliveries: each event for each receiver is a row the hub's delivery task sends,
//! and retries until the receiver answers or it gives up. Only SQL; when to retry and how a
//! delivery is signed are the hub's (`notify`).

use rollcall_shared::UnixMillis;
use serde::Serialize;

use super::error::StoreError;
use super::sql::{Sql, params};

const ENQUEUE: &str = "INSERT INTO webhook_deliveries (url, event, payload, created_at, next_at)
    VALUES (?1, ?2, ?3, ?4, ?4)";
const DUE: &str = "SELECT id, url, event, payload, attempts FROM webhook_deliveries
    WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ?1
    ORDER BY next_at, id LIMIT ?2";
const DELIVERED: &str = "UPDATE webhook_deliveries SET attempts = ?2, delivered_at = ?3,
    last_error = NULL WHERE id = ?1";
const GIVEN_UP: &str = "UPDATE webhook_deliveries SET attempts = ?2, failed_at = ?3,
    last_error = ?4 WHERE id = ?1";
const RETRY: &str = "UPDATE webhook_deliveries SET attempts = ?2, next_at = ?3, last_error = ?4
    WHERE id = ?1";
const RECENT: &str = "SELECT id, url, event, created_at, attempts, next_at, delivered_at,
    failed_at, last_error FROM webhook_deliveries ORDER BY id DESC LIMIT ?1";

/// Where one webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (a day of tries, or a receiver that is no more).
    Failed,
    /// Not yet answered: tried again at `next_at`.
    Waiting,
}

/// One delivery as `GET /webhooks/deliveries` lists it (the payload is left out: it may name
/// students).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub url: String,
    pub event: String,
    pub created_at: UnixMillis,
    pub attempts: u32,
    pub standing: Standing,
    pub next_at: UnixMillis,
    pub delivered_at: Option<UnixMillis>,
    pub failed_at: Option<UnixMillis>,
    pub last_error: Option<String>,
}

/// One delivery to send now.
#[derive(Debug)]
pub struct Due {
    pub id: i64,
    pub url: String,
    pub event: String,
    pub payload: String,
    pub attempts: u32,
}

/// Queues `payload` for `url`, due at once.
pub fn enqueue(
    sql: &dyn Sql,
    url: &str,
    event: &str,
    payload: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(ENQUEUE, params![url, event, payload, now])?;
    Ok(())
}

/// At most `limit` deliveries due at `now`, the longest waiting first.
pub fn due(sql: &dyn Sql, now: UnixMillis, limit: i64) -> Result<Vec<Due>, StoreError> {
    let rows = sql.query_map(DUE, params![now, limit], |r| {
        Ok(Due {
            id: r.get("id")?,
            url: r.get("url")?,
            event: r.get("event")?,
            payload: r.get("payload")?,
            attempts: r.get("attempts")?,
        })
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Delivery `id` was answered 2xx on its `attempts`th try.
pub fn delivered(sql: &dyn Sql, id: i64, attempts: u32, now: UnixMillis) -> Result<(), StoreError> {
    sql.execute(DELIVERED, params![id, attempts, now])?;
    Ok(())
}

/// Delivery `id` is given up after `attempts` tries, the last failing with `error`.
pub fn given_up(
    sql: &dyn Sql,
    id: i64,
    attempts: u32,
    now: UnixMillis,
    error: &str,
) -> Result<(), StoreError> {
    sql.execute(GIVEN_UP, params![id, attempts, now, error])?;
    Ok(())
}

/// Delivery `id` failed with `error` and is tried again at `next_at`.
pub fn retry(
    sql: &dyn Sql,
    id: i64,
    attempts: u32,
    next_at: UnixMillis,
    error: &str,
) -> Result<(), StoreError> {
    sql.execute(RETRY, params![id, attempts, next_at, error])?;
    Ok(())
}

/// The newest `limit` deliveries, newest first.
pub fn recent(sql: &dyn Sql, limit: u32) -> Result<Vec<Delivery>, StoreError> {
    let rows = sql.query_map(RECENT, params![limit], |r| {
        let (delivered_at, failed_at) = (r.get("delivered_at")?, r.get("failed_at")?);
        let standing = match (&delivered_at, &failed_at) {
            (Some(_), _) => Standing::Delivered,
            (None, Some(_)) => Standing::Failed,
            (None, None) => Standing::Waiting,
        };
        Ok(Delivery {
            id: r.get("id")?,
            url: r.get("url")?,
            event: r.get("event")?,
            created_at: r.get("created_at")?,
            attempts: r.get("attempts")?,
            standing,
            next_at: r.get("next_at")?,
            delivered_at,
            failed_at,
            last_error: r.get("last_error")?,
        })
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}
