//! Pushing gallery deltas when students, embeddings or the timetable change. The HTTP layer
//! only pokes a [`Notify`]; this task recomputes every enabled device's gallery and sends a
//! delta to those that hold one and whose content changed.
//!
//! A push is one write transaction over every unit, so pushes are at least [`MIN_INTERVAL`]
//! apart: on a school morning the door units' Confident captures teach the gallery a template
//! in nearly every ingest batch, and a push per batch held the writers' lock (PostgreSQL)
//! most of the time, the ingest waiting behind it. Changes made meanwhile go out together in
//! the next push.

use std::sync::Arc;
use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{Message, ModelId, SiteId};
use tokio::sync::{Notify, mpsc, watch};

use super::metrics::add;
use super::{Metrics, Outbound, send};
use rollcall_school::gallery::{Trigger, update_for};
use rollcall_store::{Db, devices};

/// What the push task needs.
#[derive(Clone, Debug)]
pub struct Pusher {
    pub db: Db,
    pub site: SiteId,
    pub model: ModelId,
    pub clock: SharedClock,
    pub metrics: Arc<Metrics>,
    pub outbound: mpsc::Sender<Outbound>,
}

/// Shortest time between the starts of two pushes.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

impl Pusher {
    pub async fn run(self, changed: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = changed.notified() => {}
            }
            let next = tokio::time::Instant::now() + MIN_INTERVAL;
            self.push_all().await;
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// Sends each enabled device the delta it needs, if any.
    pub async fn push_all(&self) {
        let (model, now) = (self.model.clone(), self.clock.now());
        let updates = self
            .db
            .write(move |conn| {
                let mut out = Vec::new();
                for dev in devices::list(conn)?.into_iter().filter(|d| d.enabled) {
                    let version = devices::protocol_version(conn, dev.id)?;
                    let push = Trigger::Push;
                    if let Some(u) = update_for(conn, dev.id, &model, push, version, now)? {
                        out.push((dev.id, version, u));
                    }
                }
                Ok::<_, rollcall_store::StoreError>(out)
            })
            .await;
        let updates = match updates {
            Ok(u) => u,
            Err(e) => return tracing::error!("gallery push failed: {e}"),
        };
        for (device, version, update) in updates {
            let topic = Topic::new(&self.site, device, Channel::Gallery);
            if send(&self.outbound, &topic, version, &Message::Gallery(update)).await {
                add(&self.metrics.gallery_updates_sent, 1);
            }
        }
    }
}
