//! Signed webhooks: events the school's other systems want to hear about, delivered at least
//! once.
//!
//! An event is written to the `webhook_deliveries` outbox in the same transaction as the
//! change it reports (a session's register written, a door unit gone offline), one row per
//! receiver that asked for it, so a crash can neither lose it nor send one for a change that
//! never committed. The [`deliver`] task POSTs due rows, signed ([`sign`]), and retries with a
//! growing delay until the receiver answers 2xx or a day has passed. Which students crossed
//! the at-risk threshold is decided by the pure [`crossings`].

pub mod deliver;
pub mod sign;

use std::path::Path;

use rollcall_shared::{SiteId, UnixMillis};
use rollcall_store::sql::params;

pub use crate::config::Event;
use crate::config::WebhookConfig;
use rollcall_store::{Sql, StoreError};

/// Which students crossed the threshold since last looked: those below now and not before
/// (`fell`, each reported once), and those remembered below who no longer are (`rose`).
pub fn crossings<T: Copy + Eq + std::hash::Hash>(
    remembered: &std::collections::HashSet<T>,
    below_now: &[T],
) -> (Vec<T>, Vec<T>) {
    let fell = below_now
        .iter()
        .copied()
        .filter(|s| !remembered.contains(s))
        .collect();
    let rose = remembered
        .iter()
        .copied()
        .filter(|s| !below_now.contains(s))
        .collect();
    (fell, rose)
}

/// Shortest secret accepted, in bytes.
const MIN_SECRET: usize = 16;

/// A receiver, ready to sign for.
#[derive(Clone)]
pub struct Hook {
    pub url: String,
    pub secret: Vec<u8>,
    pub events: Vec<Event>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// Every receiver of one school's events.
#[derive(Clone, Debug)]
pub struct Hooks {
    /// The school's site, named in every event (`"school"`): one receiver may hear several
    /// schools of a district.
    pub school: SiteId,
    pub receivers: Vec<Hook>,
}

impl Hooks {
    /// The receivers `config` names for the school at `school`, each secret file read.
    pub fn load(config: &[WebhookConfig], school: &SiteId) -> Result<Hooks, String> {
        let receivers = config
            .iter()
            .map(|c| {
                c.validate()?;
                Ok(Hook {
                    url: c.url.clone(),
                    secret: read_secret(&c.secret_file)?,
                    events: c.events.iter().filter_map(|e| Event::parse(e)).collect(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Hooks {
            school: school.clone(),
            receivers,
        })
    }

    /// Queues `event` for every receiver that asked for it (in the caller's transaction).
    pub fn enqueue(
        &self,
        sql: &dyn Sql,
        event: Event,
        payload: &serde_json::Value,
        now: UnixMillis,
    ) -> Result<usize, StoreError> {
        let body = serde_json::json!({
            "event": event,
            "at": now,
            "school": self.school,
            "data": payload,
        });
        let body = body.to_string();
        let mut n = 0;
        for hook in self.receivers.iter().filter(|h| h.events.contains(&event)) {
            sql.execute(
                "INSERT INTO webhook_deliveries (url, event, payload, created_at, next_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![hook.url, event.as_str(), body, now],
            )?;
            n += 1;
        }
        Ok(n)
    }
}

fn read_secret(path: &Path) -> Result<Vec<u8>, String> {
    let raw =
        std::fs::read(path).map_err(|e| format!("webhook secret_file {}: {e}", path.display()))?;
    let secret = raw.trim_ascii().to_vec();
    if secret.len() < MIN_SECRET {
        return Err(format!(
            "webhook secret_file {}: the secret must be at least {MIN_SECRET} bytes",
            path.display()
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_student_is_reported_once_per_fall_below_the_threshold() {
        let remembered: HashSet<u8> = [1, 2].into();
        let (fell, mut rose) = crossings(&remembered, &[2, 3]);
        rose.sort();
        assert_eq!(fell, [3], "1 and 2 were already below; 3 is new");
        assert_eq!(rose, [1], "1 has risen back and may fall again");
        assert_eq!(crossings(&HashSet::new(), &[] as &[u8]), (vec![], vec![]));
    }

    #[test]
    fn every_event_has_its_name() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        assert_eq!(Event::parse("student.at_risk"), Some(Event::StudentAtRisk));
    }
}

/// Where one webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
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
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub url: String,
    pub event: String,
    pub created_at: rollcall_shared::UnixMillis,
    pub attempts: u32,
    pub standing: Standing,
    pub next_at: rollcall_shared::UnixMillis,
    pub delivered_at: Option<rollcall_shared::UnixMillis>,
    pub failed_at: Option<rollcall_shared::UnixMillis>,
    pub last_error: Option<String>,
}

const RECENT: &str = "SELECT id, url, event, created_at, attempts, next_at, delivered_at,
    failed_at, last_error FROM webhook_deliveries ORDER BY id DESC LIMIT ?1";

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
