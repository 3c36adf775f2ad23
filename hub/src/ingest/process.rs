//! Storing what devices send. A batch of publishes is checked, written in one transaction,
//! and only after the commit are its records acknowledged (one ack per device per batch) and
//! gallery requests answered. A refused publish is counted and logged, never fatal. A record
//! is stored under the room the registry has for its device; one the hub does not believe
//! (see `vet`) is acknowledged all the same and held in quarantine, never counted.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use rollcall_shared::message::MAX_ACK_IDS;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    AttendanceRecord, DeviceId, GalleryUpdate, Message, ModelId, RecordAck, RecordId, SiteId,
};
use rusqlite::Connection;
use tokio::sync::{mpsc, watch};

use super::classify::{Refusal, classify};
use super::metrics::add;
use super::vet::{Window, vet};
use super::{Incoming, MAX_BATCH, Metrics, Outbound, send};
use crate::clock::SharedClock;
use crate::gallery::{Trigger, update_for};
use crate::store::quarantine::{self, Reason};
use crate::store::{Db, StoreError, devices, records, school};

/// What the ingest task needs.
#[derive(Clone, Debug)]
pub struct Ingest {
    pub db: Db,
    pub site: SiteId,
    pub model: ModelId,
    pub clock: SharedClock,
    /// How far from the hub's clock a record's capture time may lie.
    pub window: Window,
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
        let (model, metrics, window) = (self.model.clone(), self.metrics.clone(), self.window);
        let now = self.clock.now().0;
        let stored = self
            .db
            .call(move |conn| {
                let batch = Batch {
                    model: &model,
                    now,
                    window,
                    metrics: &metrics,
                };
                batch.store(conn, accepted)
            })
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

/// One batch being written: what every message in it is judged by.
struct Batch<'a> {
    model: &'a ModelId,
    now: i64,
    window: Window,
    metrics: &'a Metrics,
}

impl Batch<'_> {
    fn store(
        &self,
        conn: &mut Connection,
        items: Vec<(DeviceId, Message)>,
    ) -> Result<Outcome, StoreError> {
        let (now, metrics) = (self.now, self.metrics);
        let tx = conn.transaction()?;
        let mut rooms = HashMap::new();
        let mut out = Outcome::default();
        // Counted once committed: a reader that sees a counter move must find what it counts.
        let mut counted: Vec<&AtomicU64> = Vec::new();
        for (device, message) in items {
            let Some(room) = registered_room(&tx, &mut rooms, device, metrics)? else {
                continue;
            };
            match message {
                Message::Record(record) => {
                    let id = record.id;
                    counted.push(&metrics.records_received);
                    counted.extend(self.record(&tx, record, &room)?);
                    devices::touch(&tx, device, now)?;
                    out.acks.entry(device).or_default().push(id);
                }
                Message::Status(status) => {
                    counted.push(&metrics.status_messages);
                    devices::record_status(&tx, &status, now)?;
                }
                Message::Offline(_) => devices::set_offline(&tx, device)?,
                Message::GalleryRequest(req) => {
                    counted.push(&metrics.gallery_requests);
                    devices::touch(&tx, device, now)?;
                    let trigger = Trigger::Request(req);
                    if let Some(u) = update_for(&tx, device, self.model, trigger, now)? {
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

    /// Stores `record` under the device's registered `room`, or holds it in quarantine.
    /// Returns the counters it moves.
    fn record(
        &self,
        tx: &Connection,
        mut record: AttendanceRecord,
        room: &str,
    ) -> Result<Vec<&AtomicU64>, StoreError> {
        let metrics = self.metrics;
        if records::exists(tx, record.id)? {
            return Ok(vec![&metrics.records_duplicate]);
        }
        let known = school::on_roster(tx, record.candidates.iter().map(|c| c.student))?;
        if let Err(doubt) = vet(&record, self.now, self.window, |s| known.contains(&s)) {
            return self.hold(tx, &record, doubt.code(), &doubt.to_string());
        }
        let mut moved = Vec::new();
        if record.room != room {
            tracing::warn!(
                device = %record.device,
                "claims room {:?} but is registered in {room:?}: stored under {room:?}",
                record.room
            );
            record.room = room.to_owned();
            moved.push(&metrics.room_corrected);
        }
        match records::insert(tx, &record, self.now) {
            Ok(true) => moved.push(&metrics.records_stored),
            Ok(false) => moved.push(&metrics.records_duplicate),
            // The table's CHECKs (migration 4) are the last guard: such a record is held too,
            // rather than failing its whole batch again on every resend.
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
            {
                return self.hold(
                    tx,
                    &record,
                    "malformed",
                    &format!("refused by the store: {e}"),
                );
            }
            Err(e) => return Err(e),
        }
        Ok(moved)
    }

    /// Holds `record` in quarantine with its reason (once: a resent record is a duplicate).
    fn hold(
        &self,
        tx: &Connection,
        record: &AttendanceRecord,
        code: &str,
        detail: &str,
    ) -> Result<Vec<&AtomicU64>, StoreError> {
        tracing::warn!(device = %record.device, record = %record.id, "quarantined: {detail}");
        let reason = Reason { code, detail };
        Ok(match quarantine::insert(tx, record, self.now, reason)? {
            true => vec![&self.metrics.records_quarantined],
            false => vec![&self.metrics.records_duplicate],
        })
    }
}

/// The room `device` is registered in, when it may send: registered and enabled. Looked up
/// once per batch; refusals are counted and logged.
fn registered_room(
    conn: &Connection,
    cache: &mut HashMap<DeviceId, Option<(bool, String)>>,
    device: DeviceId,
    metrics: &Metrics,
) -> Result<Option<String>, StoreError> {
    let known = match cache.entry(device) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => {
            slot.insert(devices::get(conn, device)?.map(|d| (d.enabled, d.room)))
        }
    };
    match known.clone() {
        Some((true, room)) => Ok(Some(room)),
        Some((false, _)) => {
            add(&metrics.disabled_device, 1);
            tracing::warn!(%device, "refused: device is disabled");
            Ok(None)
        }
        None => {
            add(&metrics.unknown_device, 1);
            tracing::warn!(%device, "refused: device is not registered");
            Ok(None)
        }
    }
}
