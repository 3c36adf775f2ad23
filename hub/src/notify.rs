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

pub use crate::config::Event;
use crate::config::WebhookConfig;
pub use rollcall_store::webhooks::{Delivery, Standing, recent};
use rollcall_store::{Sql, StoreError, webhooks};

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
            webhooks::enqueue(sql, &hook.url, event.as_str(), &body, now)?;
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
