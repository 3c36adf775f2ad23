//! Storing what devices send. A batch of publishes is checked, written in one transaction,
//! and only after the commit are its records acknowledged (one ack per device per batch) and
//! gallery requests answered. A refused publish is counted and logged, never fatal. A record
//! is stored under the room the registry has for its device; one the hub does not believe
//! (see `vet`) is acknowledged all the same and held in quarantine, never counted.

use std::collections::HashMap;
use std::sync::Arc;

use rollcall_models::quality::QualityGate;
use rollcall_runtime::clock::SharedClock;
use rollcall_school::arrival::Window;
use rollcall_school::attendance::Rules;
use rollcall_shared::message::MAX_ACK_IDS;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    DeviceId, Envelope, Message, ModelId, PROTOCOL_VERSION, RecordAck, SiteId, SiteSettings,
};
use tokio::sync::{Notify, mpsc, watch};

use super::acked::Acked;
use super::batch::{Batch, Outcome, Savepoints};
use super::classify::{Refusal, classify};
use super::metrics::add;
use super::turns::Turns;
use super::{Incoming, MAX_BATCH, Metrics, Outbound, send};
use crate::notify::Hooks;
use rollcall_store::{Db, StoreError};

/// What the ingest task needs.
#[derive(Clone, Debug)]
pub struct Ingest {
    pub db: Db,
    pub site: SiteId,
    /// Sent before every gallery a device asked for: the zone its timetable is in.
    pub settings: SiteSettings,
    pub model: ModelId,
    pub clock: SharedClock,
    /// How far from the hub's clock a record's capture time may lie.
    pub window: Window,
    /// The quality a Confident capture must meet to be learned (the enrolment gate).
    pub gate: QualityGate,
    pub metrics: Arc<Metrics>,
    pub outbound: mpsc::Sender<Outbound>,
    /// Told when the batch taught the gallery a template, so door units get it.
    pub gallery_changed: Arc<Notify>,
    /// Told (through the outbox, in the batch's transaction) when a door unit goes offline.
    pub hooks: Hooks,
    /// Which door units are this hub's to answer (all, unless several hubs share the
    /// database): another hub handles the others' messages.
    pub cluster: watch::Receiver<crate::cluster::View>,
    /// How the hubs sharing the school's tables divide its units' messages.
    pub division: Division,
    /// The school's attendance rules, when a lesson's cards are named together as records
    /// arrive (`[attendance] name_lessons_jointly`).
    pub lessons: Option<Rules>,
}

/// How the hubs sharing a school's tables divide its door units' messages between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Division {
    /// Each hub answers its share of the units.
    Units,
    /// Records come through the hubs' shared subscription (`[mqtt] shared_subscriptions`):
    /// the broker gave each to this hub alone, so it stores any unit's; the rest by unit.
    SharedRecords,
    /// Each hub answers every unit of its share of the schools (a hub serving several): one
    /// hub writes a school's records, so they batch together and no two hubs wait on the
    /// school's writers' lock.
    Schools,
}

impl Ingest {
    /// Processes batches from `inbound` until shutdown, then stores what is held and queued.
    /// Each batch is one turn of every door unit with messages held ([`Turns`]); the hold
    /// takes from the queue whatever it has room for, before each batch and while it is
    /// written.
    pub async fn run(
        self,
        mut inbound: mpsc::Receiver<Incoming>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (mut acked, mut turns) = (Acked::default(), Turns::default());
        while !*shutdown.borrow() {
            if turns.is_empty() {
                tokio::select! {
                    _ = shutdown.changed() => break,
                    first = inbound.recv() => match first {
                        Some(first) => turns.push(first),
                        None => break,
                    },
                }
            }
            hold(&mut turns, &mut inbound);
            let handled = self.handle(turns.take(MAX_BATCH), &mut acked);
            tokio::pin!(handled);
            // While the batch is written, the hold takes what arrives: past saturation every
            // unit's waiting records are then in it for the next batch's turns.
            loop {
                tokio::select! {
                    biased;
                    () = &mut handled => break,
                    Some(incoming) = inbound.recv(), if !turns.is_full() => {
                        turns.push(incoming);
                        hold(&mut turns, &mut inbound);
                    }
                }
            }
        }
        while let Ok(incoming) = inbound.try_recv() {
            turns.push(incoming);
        }
        while !turns.is_empty() {
            self.handle(turns.take(MAX_BATCH), &mut acked).await;
        }
    }

    /// Stores one batch and answers it. A record `acked` a moment ago is acknowledged again
    /// at once, without the store.
    pub async fn handle(&self, batch: Vec<Incoming>, acked: &mut Acked) {
        let view = self.cluster.borrow().clone();
        let school = self.division == Division::Schools && view.owns_school(&self.site);
        let (mut again, mut accepted) = (Outcome::default(), Vec::new());
        for (device, envelope) in batch.iter().filter_map(|m| self.check(m)) {
            let record = matches!(envelope.message, Message::Record(_));
            let mine = match self.division {
                Division::Units => view.owns(device),
                Division::SharedRecords => record || view.owns(device),
                Division::Schools => school,
            };
            if !mine {
                if record {
                    add(&self.metrics.records_for_other_hubs, 1);
                }
                continue;
            }
            match &envelope.message {
                Message::Record(record) if acked.knows(device, record.id) => {
                    again.repeat(device, envelope.version, record);
                }
                _ => accepted.push((device, envelope)),
            }
        }
        if !again.acks.is_empty() {
            self.conclude(again).await;
        }
        if accepted.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        match self.store(accepted).await {
            Ok(outcome) => {
                for (device, ids) in &outcome.acks {
                    for id in ids {
                        acked.remember(*device, *id);
                    }
                }
                self.conclude(outcome).await;
                self.metrics.timings.ingest_batch(started.elapsed());
            }
            Err(e) => tracing::error!("ingest batch not stored, devices will resend: {e}"),
        }
    }

    /// Writes `accepted` in one transaction, first with no savepoint around each record
    /// (each costs PostgreSQL two round trips). Should the store refuse a record (its CHECKs),
    /// the batch is written again with one around each record, so that only that one is held.
    async fn store(&self, accepted: Vec<(DeviceId, Envelope)>) -> Result<Outcome, StoreError> {
        match self.write(accepted.clone(), Savepoints::Off).await {
            Err(e) if e.is_constraint_violation() => {
                tracing::warn!(
                    "the store refused a record ({e}): the batch again, record by record"
                );
                self.write(accepted, Savepoints::PerRecord).await
            }
            done => done,
        }
    }

    async fn write(
        &self,
        accepted: Vec<(DeviceId, Envelope)>,
        savepoints: Savepoints,
    ) -> Result<Outcome, StoreError> {
        let (model, metrics, window) = (self.model.clone(), self.metrics.clone(), self.window);
        let (gate, hooks, lessons) = (self.gate, self.hooks.clone(), self.lessons.clone());
        let unknown_faces = self.settings.unknown_faces;
        let now = self.clock.now();
        self.db
            .write(move |sql| {
                let batch = Batch {
                    model: &model,
                    gate: &gate,
                    now,
                    window,
                    metrics: &metrics,
                    hooks: &hooks,
                    unknown_faces,
                    savepoints,
                    roster: HashMap::new(),
                    lessons: lessons.as_ref(),
                };
                batch.store(sql, accepted)
            })
            .await
    }

    /// Settles what a committed batch (or a batch's repeats) owes: its counters, the devices'
    /// answers, then a log line per record.
    async fn conclude(&self, mut outcome: Outcome) {
        for counter in std::mem::take(&mut outcome.counted) {
            add(counter(&self.metrics), 1);
        }
        if outcome.learned > 0 {
            add(&self.metrics.templates_learned, outcome.learned as u64);
            self.gallery_changed.notify_one();
        }
        // The devices hear first: their acks do not wait for the batch's log lines.
        let fates = std::mem::take(&mut outcome.fates);
        self.answer(outcome).await;
        for (id, device, decision, fate) in &fates {
            let _record = tracing::info_span!("record", %id, %device).entered();
            tracing::info!(?decision, "{fate}");
        }
    }

    fn check(&self, incoming: &Incoming) -> Option<(DeviceId, Envelope)> {
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
        let version = |d: &DeviceId| outcome.versions.get(d).copied().unwrap_or(PROTOCOL_VERSION);
        for (device, ids) in &outcome.acks {
            let topic = Topic::new(&self.site, *device, Channel::Acks);
            for chunk in ids.chunks(MAX_ACK_IDS) {
                let ack = Message::Ack(RecordAck {
                    records: chunk.to_vec(),
                });
                if send(&self.outbound, &topic, version(device), &ack).await {
                    add(&self.metrics.acks_sent, 1);
                }
            }
        }
        for (device, settings) in outcome.settings {
            let topic = Topic::new(&self.site, device, Channel::Commands);
            let message = Message::UnitSettings(settings);
            send(&self.outbound, &topic, version(&device), &message).await;
        }
        for (device, update) in outcome.galleries {
            let topic = Topic::new(&self.site, device, Channel::Gallery);
            let (v, site) = (version(&device), Message::Site(self.settings.clone()));
            send(&self.outbound, &topic, v, &site).await;
            if send(&self.outbound, &topic, v, &Message::Gallery(update)).await {
                add(&self.metrics.gallery_updates_sent, 1);
            }
        }
    }
}

/// Takes from the queue what the hold has room for.
fn hold(turns: &mut Turns, inbound: &mut mpsc::Receiver<Incoming>) {
    while !turns.is_full()
        && let Ok(incoming) = inbound.try_recv()
    {
        turns.push(incoming);
    }
}
