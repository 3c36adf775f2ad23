//! Storing what devices send. A batch of publishes is checked, written in one transaction,
//! and only after the commit are its records acknowledged (one ack per device per batch) and
//! gallery requests answered. A refused publish is counted and logged, never fatal.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use rollcall_shared::message::MAX_ACK_IDS;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{DeviceId, GalleryUpdate, Message, ModelId, RecordAck, RecordId, SiteId};
use rusqlite::Connection;
use tokio::sync::{mpsc, watch};

use super::classify::{Refusal, classify};
use super::metrics::add;
use super::{Incoming, MAX_BATCH, Metrics, Outbound, send};
use crate::clock::SharedClock;
use crate::gallery::{Trigger, update_for};
use crate::store::{Db, StoreError, devices, records};

/// What the ingest task needs.
#[derive(Clone, Debug)]
pub struct Ingest {
    pub db: Db,
    pub site: SiteId,
    pub model: ModelId,
    pub clock: SharedClock,
    pub metrics: Arc<Metrics>,
    pub outbound: mpsc::Sender<Outbound>,
}

/// What a committed batch owes the devices.
#[derive(Debug, Default)]
struct Outcome {
    acks: BTreeMap<DeviceId, Vec<RecordId>>,
    galleries: Vec<(DeviceId, GalleryUpdate)>,
}

impl Ingest {
    /// Processes batches from `inbound` until shutdown, then drains what is already queued.
    pub async fn run(
        self,
        mut inbound: mpsc::Receiver<Incoming>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                first = inbound.recv() => match first {
                    Some(first) => self.handle(take_batch(first, &mut inbound)).await,
                    None => return,
                },
            }
        }
        while let Ok(first) = inbound.try_recv() {
            self.handle(take_batch(first, &mut inbound)).await;
        }
    }

    /// Stores one batch and answers it.
    pub async fn handle(&self, batch: Vec<Incoming>) {
        let accepted: Vec<(DeviceId, Message)> =
            batch.iter().filter_map(|m| self.check(m)).collect();
        if accepted.is_empty() {
            return;
        }
        let (model, metrics) = (self.model.clone(), self.metrics.clone());
        let now = self.clock.now().0;
        let stored = self
            .db
            .call(move |conn| store_batch(conn, accepted, &model, now, &metrics))
            .await;
        match stored {
            Ok(outcome) => self.answer(outcome).await,
            Err(e) => tracing::error!("ingest batch not stored, devices will resend: {e}"),
        }
    }

    fn check(&self, incoming: &Incoming) -> Option<(DeviceId, Message)> {
        match classify(&self.site, &incoming.topic, &incoming.payload) {
            Ok(accepted) => Some(accepted),
            Err(refusal) => {
                let counter = match refusal {
                    Refusal::Forged { .. } => &self.metrics.forged,
                    _ => &self.metrics.malformed,
                };
                add(counter, 1);
                tracing::warn!(topic = %incoming.topic, "refused: {refusal}");
                None
            }
        }
    }

    async fn answer(&self, outcome: Outcome) {
        for (device, ids) in outcome.acks {
            let topic = Topic::new(&self.site, device, Channel::Acks);
            for chunk in ids.chunks(MAX_ACK_IDS) {
                let ack = Message::Ack(RecordAck {
                    records: chunk.to_vec(),
                });
                if send(&self.outbound, &topic, &ack).await {
                    add(&self.metrics.acks_sent, 1);
                }
            }
        }
        for (device, update) in outcome.galleries {
            let topic = Topic::new(&self.site, device, Channel::Gallery);
            if send(&self.outbound, &topic, &Message::Gallery(update)).await {
                add(&self.metrics.gallery_updates_sent, 1);
            }
        }
    }
}

fn take_batch(first: Incoming, inbound: &mut mpsc::Receiver<Incoming>) -> Vec<Incoming> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match inbound.try_recv() {
            Ok(m) => batch.push(m),
            Err(_) => break,
        }
    }
    batch
}

/// Whether `device` may send: registered and enabled. Counts and logs refusals.
fn admitted(
    conn: &Connection,
    cache: &mut HashMap<DeviceId, Option<bool>>,
    device: DeviceId,
    metrics: &Metrics,
) -> Result<bool, StoreError> {
    let enabled = match cache.get(&device) {
        Some(known) => *known,
        None => {
            let enabled = devices::get(conn, device)?.map(|d| d.enabled);
            *cache.entry(device).or_insert(enabled)
        }
    };
    match enabled {
        Some(true) => Ok(true),
        Some(false) => {
            add(&metrics.disabled_device, 1);
            tracing::warn!(%device, "refused: device is disabled");
            Ok(false)
        }
        None => {
            add(&metrics.unknown_device, 1);
            tracing::warn!(%device, "refused: device is not registered");
            Ok(false)
        }
    }
}

fn store_batch(
    conn: &mut Connection,
    items: Vec<(DeviceId, Message)>,
    model: &ModelId,
    now: i64,
    metrics: &Metrics,
) -> Result<Outcome, StoreError> {
    let tx = conn.transaction()?;
    let mut cache = HashMap::new();
    let mut out = Outcome::default();
    // Counted once committed: a reader that sees a counter move must find what it counts.
    let mut counted: Vec<&AtomicU64> = Vec::new();
    for (device, message) in items {
        if !admitted(&tx, &mut cache, device, metrics)? {
            continue;
        }
        match message {
            Message::Record(record) => {
                counted.push(&metrics.records_received);
                counted.push(match records::insert(&tx, &record, now)? {
                    true => &metrics.records_stored,
                    false => &metrics.records_duplicate,
                });
                devices::touch(&tx, device, now)?;
                out.acks.entry(device).or_default().push(record.id);
            }
            Message::Status(status) => {
                counted.push(&metrics.status_messages);
                devices::record_status(&tx, &status, now)?;
            }
            Message::Offline(_) => devices::set_offline(&tx, device)?,
            Message::GalleryRequest(req) => {
                counted.push(&metrics.gallery_requests);
                devices::touch(&tx, device, now)?;
                if let Some(u) = update_for(&tx, device, model, Trigger::Request(req), now)? {
                    out.galleries.push((device, u));
                }
            }
            Message::Ack(_) | Message::Gallery(_) | Message::Command(_) => {}
        }
    }
    tx.commit()?;
    for counter in counted {
        add(counter, 1);
    }
    Ok(out)
}
