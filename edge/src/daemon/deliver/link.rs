//! The link task: everything between the outbox and the broker, on the async executor.
//!
//! It learns of committed records from the pipeline thread, publishes what the delivery
//! [`Tracker`] says is due (only while connected), deletes records the hub acknowledges,
//! republishes everything unacknowledged on reconnect, sends heartbeats, applies gallery
//! updates, the school's settings (time zone, unknown faces) and the unit's settings (reported
//! back on every connect and after every change), and obeys hub commands. SQLite
//! work goes through `spawn_blocking`. It ends when the pipeline thread is done (the
//! `committed` channel closes), after a short flush.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rollcall_shared::topics::Channel;
use rollcall_shared::{
    DeviceCommand, DeviceId, DeviceStatus, GalleryRequest, GalleryUpdate, Limits, Message,
    RecordAck, RecordId, SiteSettings, SiteZone, UnitSettings, UnixMillis, UnknownFaces, encode,
};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::delivery::Tracker;
use super::mqtt::{LinkEvent, PublishError, Publisher};
use super::outbox::{Outbox, OutboxError, Shed};
use crate::daemon::capture::trigger::{TriggerKind, TriggerTx};
use crate::daemon::clock::ClockState;
use crate::daemon::decide::gallery::MatchGallery;
use crate::daemon::light::indicator as light;
use crate::daemon::light::status_light::LightTx;
use crate::daemon::sync::gallery_store::{GalleryStore, SyncError};
use crate::daemon::sync::unit_settings::Tuner;

/// Records published per wake-up, so acks and heartbeats are never starved.
const BATCH: usize = 32;
/// How long to wait when rumqttc's queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(100);
/// How long to wait after the outbox could not be read before trying again.
const READ_ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How long shutdown waits for outstanding acks.
const FLUSH: Duration = Duration::from_secs(2);

/// Everything the link needs.
pub struct Link {
    pub device: DeviceId,
    pub publisher: Arc<dyn Publisher>,
    pub outbox: Outbox,
    pub tracker: Tracker,
    pub store: GalleryStore,
    pub gallery: watch::Sender<Arc<MatchGallery>>,
    /// The school's time zone, as the hub last said it (kept in the `site` table).
    pub zone: watch::Sender<SiteZone>,
    /// What becomes of faces that match nobody, as the hub last said it (the `site` table).
    pub unknown_faces: watch::Sender<UnknownFaces>,
    /// The settings the hub chose for this unit.
    pub tuner: Tuner,
    /// Faces the pipeline dropped since the start: sent in each heartbeat.
    pub discarded: Arc<AtomicU64>,
    pub triggers: TriggerTx,
    /// Red after the hub has been out of reach for a while.
    pub light: LightTx,
    /// Whether the clock is synchronised: sent in each heartbeat.
    pub clock_state: ClockState,
    pub heartbeat: Duration,
    pub thumbnail_retention: Duration,
    pub started: Instant,
    pub connected: bool,
    pub last_error: Option<String>,
    pub paused_until: Option<Instant>,
    /// What the outbox had shed when it was last logged.
    pub shed_logged: Shed,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("device", &self.device)
            .field("connected", &self.connected)
            .finish()
    }
}

impl Link {
    /// Runs until `committed` closes, then flushes.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<LinkEvent>,
        mut committed: mpsc::Receiver<RecordId>,
    ) {
        let mut heartbeat = tokio::time::interval(self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self.next_wake();
            tokio::select! {
                Some(event) = events.recv() => self.on_event(event).await,
                id = committed.recv() => match id {
                    Some(id) => { self.tracker.add(id); self.publish_due().await; }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake) => self.publish_due().await,
                _ = heartbeat.tick() => self.on_heartbeat().await,
            }
        }
        self.flush(&mut events).await;
    }

    /// When to publish next: never while disconnected (reconnecting publishes), at the end
    /// of a pause, else when the tracker says a record is due (at once for pending ones).
    fn next_wake(&self) -> Instant {
        let now = Instant::now();
        let far = now + Duration::from_secs(3600);
        if !self.connected {
            return far;
        }
        if let Some(paused_until) = self.paused_until {
            return paused_until;
        }
        self.tracker.next_due(now).unwrap_or(far)
    }

    async fn on_event(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Connected => self.on_connected().await,
            LinkEvent::Disconnected(reason) => {
                self.connected = false;
                self.light.send(light::Event::Disconnected);
                self.last_error = Some(format!("broker: {reason}"));
            }
            LinkEvent::Ack(ack) => self.on_ack(ack).await,
            LinkEvent::Gallery(update) => self.on_gallery(update).await,
            LinkEvent::Command(command) => self.on_command(command).await,
            LinkEvent::Site(settings) => self.on_site(settings).await,
            LinkEvent::UnitSettings(settings) => self.on_unit_settings(settings).await,
        }
    }

    async fn on_connected(&mut self) {
        tracing::info!(pending = self.tracker.len(), "connected to the broker");
        self.connected = true;
        self.light.send(light::Event::Connected);
        self.tracker.reconnected();
        self.send_status().await;
        self.report_settings();
        let version = self.gallery.borrow().version();
        self.request_gallery(version.0 == 0);
        self.publish_due().await;
    }

    async fn on_ack(&mut self, ack: RecordAck) {
        let held = self.tracker.acked(&ack.records, Instant::now());
        if held.is_empty() {
            return;
        }
        let outbox = self.outbox.clone();
        let ids = held.clone();
        match blocking(move || outbox.delete(&ids)).await {
            Ok(_) => {
                for id in &held {
                    let _record = tracing::info_span!("record", %id).entered();
                    tracing::info!("acknowledged by the hub: deleted from the outbox");
                }
            }
            Err(e) => {
                // Still in the outbox: published again after the backoff, so the next ack
                // deletes them (forgotten here, they would wait for a restart).
                held.iter().for_each(|id| self.tracker.add(*id));
                self.tracker.attempted(&held, Instant::now());
                self.error(format!(
                    "deleting acknowledged records (retried later): {e}"
                ));
            }
        }
    }

    async fn on_gallery(&mut self, update: GalleryUpdate) {
        let current = self.gallery.borrow().clone();
        let store = self.store.clone();
        let applied = tokio::task::spawn_blocking(move || {
            store.apply(&current.state, &update).map(MatchGallery::new)
        })
        .await;
        match applied {
            Ok(Ok(next)) => {
                tracing::info!(version = %next.version(), students = next.len(), "gallery updated");
                self.gallery.send_replace(Arc::new(next));
                // The hub learns at once which gallery this unit holds: a student whose
                // consent ended is confirmed gone from here without waiting for a heartbeat.
                self.send_status().await;
            }
            Ok(Err(SyncError::Refused(e))) if e.needs_full_snapshot() => {
                tracing::warn!("gallery update refused ({e}); asking for a full snapshot");
                self.request_gallery(true);
            }
            Ok(Err(e)) => self.error(format!("gallery update: {e}")),
            Err(e) => self.error(format!("gallery update task: {e}")),
        }
    }

    /// The hub's settings replace the ones held, on disk first: the timetable is read in the
    /// zone, and faces that match nobody are kept or dropped, from the next burst on. A zone
    /// this device's tz database does not know is refused and the old settings kept.
    async fn on_site(&mut self, settings: SiteSettings) {
        let zone = match settings.zone() {
            Ok(zone) => zone,
            Err(e) => {
                let held = self.zone.borrow().name().to_owned();
                return self.error(format!("the hub's time zone: {e}; keeping {held}"));
            }
        };
        let unknown_faces = settings.unknown_faces;
        if *self.zone.borrow() == zone && *self.unknown_faces.borrow() == unknown_faces {
            return;
        }
        let store = self.store.clone();
        let saved = zone.clone();
        match blocking(move || store.save_site(&saved, unknown_faces)).await {
            Ok(()) => {
                let unknown = unknown_faces.as_str();
                tracing::info!(timezone = %zone, unknown_faces = unknown, "school settings set by the hub");
                self.zone.send_replace(zone);
                self.unknown_faces.send_replace(unknown_faces);
            }
            Err(e) => self.error(format!("saving the school's settings: {e}")),
        }
    }

    /// The hub's settings for this unit: in force from the next burst if the rules take them;
    /// either way the hub is told.
    async fn on_unit_settings(&mut self, settings: UnitSettings) {
        self.tuner.take(settings, &self.store).await;
        self.report_settings();
    }

    fn report_settings(&mut self) {
        let report = self.tuner.report(self.device);
        self.send(Channel::Status, Message::SettingsReport(report));
    }

    async fn on_command(&mut self, command: DeviceCommand) {
        match command {
            DeviceCommand::ResyncGallery => self.request_gallery(true),
            DeviceCommand::SendStatus => self.send_status().await,
            DeviceCommand::Trigger => {
                self.triggers.fire(TriggerKind::Hub);
            }
        }
    }

    async fn on_heartbeat(&mut self) {
        self.send_status().await;
        if self.gallery.borrow().version().0 == 0 {
            self.request_gallery(true);
        }
        let cutoff = UnixMillis::now().0 - self.thumbnail_retention.as_millis() as i64;
        let outbox = self.outbox.clone();
        match blocking(move || outbox.expire_thumbnails(UnixMillis(cutoff))).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "expired thumbnails deleted"),
            Err(e) => self.error(format!("expiring thumbnails: {e}")),
        }
    }

    /// Publishes the records that are due, oldest first, at most [`BATCH`].
    async fn publish_due(&mut self) {
        let now = Instant::now();
        if !self.connected || self.paused_until.is_some_and(|p| p > now) {
            return;
        }
        self.paused_until = None;
        let due = self.tracker.due(now, BATCH);
        if due.is_empty() {
            return;
        }
        let outbox = self.outbox.clone();
        let ids = due.clone();
        let payloads = blocking(move || {
            ids.iter()
                .map(|id| outbox.payload(*id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
        let payloads = match payloads {
            Ok(p) => p,
            Err(e) => {
                self.paused_until = Some(now + READ_ERROR_PAUSE);
                return self.error(format!("reading the outbox: {e}"));
            }
        };
        let mut attempted = Vec::with_capacity(due.len());
        for (id, payload) in due.into_iter().zip(payloads) {
            let Some(payload) = payload else {
                self.tracker.forget(id);
                continue;
            };
            let _record = tracing::info_span!("record", %id).entered();
            match self.publisher.publish(Channel::Records, payload) {
                Ok(()) => tracing::debug!("published"),
                Err(PublishError::Full) => {
                    self.paused_until = Some(now + QUEUE_FULL_PAUSE);
                    break;
                }
                Err(e) => self.error(format!("publishing record {id}: {e}")),
            }
            attempted.push(id);
        }
        self.tracker.attempted(&attempted, now);
    }

    async fn send_status(&mut self) {
        let outbox = self.outbox.clone();
        let held = move || Ok::<_, OutboxError>((outbox.depth()?, outbox.room().ok()));
        let (depth, free) = blocking(held).await.unwrap_or((u32::MAX, None));
        let mut status = DeviceStatus {
            device: self.device,
            sent_at: UnixMillis::now(),
            uptime_s: self.started.elapsed().as_secs(),
            outbox_depth: depth,
            gallery_version: self.gallery.borrow().version(),
            software_version: env!("CARGO_PKG_VERSION").into(),
            last_error: None,
            model: Some(self.gallery.borrow().model().clone()),
            free_disk_bytes: free,
            clock: self.clock_state.get(),
            unknown_discarded: self.discarded.load(Ordering::Relaxed),
        };
        if let Some(e) = &self.last_error {
            status.set_last_error(e);
        }
        self.send(Channel::Status, Message::Status(status));
        let shed = self.outbox.stats.snapshot();
        if shed != self.shed_logged {
            tracing::warn!(?shed, "outbox: records or thumbnails shed since start");
            self.shed_logged = shed;
        }
    }

    fn request_gallery(&mut self, full: bool) {
        let have = self.gallery.borrow().version();
        let request = GalleryRequest {
            device: self.device,
            have,
            full,
        };
        self.send(Channel::Requests, Message::GalleryRequest(request));
    }

    /// Best-effort sends (status, requests): repeated by their own timers if lost.
    fn send(&mut self, channel: Channel, message: Message) {
        if !self.connected {
            return;
        }
        let sent = encode(&message, Limits::FROM_DEVICE)
            .map_err(PublishError::from)
            .and_then(|bytes| self.publisher.publish(channel, bytes));
        if let Err(e) = sent {
            tracing::warn!("sending {}: {e}", message.kind());
        }
    }

    fn error(&mut self, message: String) {
        tracing::error!("{message}");
        self.last_error = Some(message);
    }

    /// Publishes what is due and waits briefly for acknowledgements.
    async fn flush(&mut self, events: &mut mpsc::Receiver<LinkEvent>) {
        self.publish_due().await;
        let deadline = Instant::now() + FLUSH;
        while self.connected && self.tracker_has_in_flight() {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(event)) => self.on_event(event).await,
                _ => break,
            }
        }
        tracing::info!(unacknowledged = self.tracker.len(), "link stopped");
    }

    fn tracker_has_in_flight(&self) -> bool {
        !self.tracker.is_empty()
    }
}

/// Runs SQLite work off the executor.
async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(format!("blocking task failed: {e}")),
    }
}
