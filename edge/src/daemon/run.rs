//! Wiring and lifetime: opens the database, restores the gallery and outbox, starts the MQTT
//! link, the triggers and the pipeline thread, then waits for the shutdown future.
//!
//! Shutdown order: stop the triggers → the pipeline thread finishes its burst → the link
//! publishes what is due and waits briefly for acks → the MQTT session disconnects cleanly.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use rollcall_runtime::{Backoff, systemd};
use rollcall_shared::{ModelId, SiteZone, UnknownFaces};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::capture::trigger::{
    IntervalTrigger, Trigger, TriggerError, TriggerGuard, TriggerKind, TriggerTx,
};
use super::clock::ClockState;
use super::db::{self, Db, DbError};
use super::decide::cooldown::Cooldown;
use super::decide::gallery::MatchGallery;
use super::deliver::delivery::Tracker;
use super::deliver::link::Link;
use super::deliver::mqtt::{self, Endpoint, MqttError};
use super::deliver::outbox::{Outbox, OutboxError, Shed};
use super::hardware::{Hardware, PublisherLayer};
use super::light::status_light::{self, ClockStatus, Lamps, LightTx};
use super::shutdown::{Shutdown, ShutdownTrigger};
use super::sync::gallery_store::GalleryStore;
use super::sync::unit_settings::{Restored, Tuner};
use super::worker::Worker;
use crate::config::{EdgeConfig, Secrets};

/// Records committed but not yet seen by the link.
const COMMITTED_QUEUE: usize = 64;

/// Why the daemon could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error("broker: {0}")]
    Mqtt(#[from] MqttError),
    #[error("trigger: {0}")]
    Trigger(#[from] TriggerError),
    #[error("starting a thread: {0}")]
    Thread(std::io::Error),
}

/// Runs the daemon until `shutdown` resolves, then stops cleanly.
pub async fn run(
    config: EdgeConfig,
    secrets: Secrets,
    hardware: Hardware,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let running = start(&config, &secrets, hardware)?;
    systemd::ready();
    tracing::info!(device = %config.device.id, room = config.device.room, "rollcall-edge running");
    wait_with_watchdog(shutdown).await;
    running.stop().await;
    Ok(())
}

/// Opens the state and starts the status light, the MQTT link, the triggers and the
/// pipeline thread.
fn start(
    config: &EdgeConfig,
    secrets: &Secrets,
    hardware: Hardware,
) -> Result<Running, DaemonError> {
    let model = hardware.recognizer.model_id();
    let (outbox, store, gallery_state) = open_state(config, model.clone())?;
    // edge.toml with the hub's settings the unit last took: what it runs with.
    let restored = Restored::from(config, &store)?;
    let tuned = &restored.config;
    let clock_state = ClockState::default();
    let lights = (hardware.lamps, hardware.clock_status);
    let (light, light_thread) = spawn_light(lights, &clock_state, tuned)?;
    let (gallery_tx, gallery_rx) = watch::channel(Arc::new(MatchGallery::new(gallery_state)));
    let (zone_tx, zone_rx) = watch::channel(restored_zone(&store)?);
    let (unknown_tx, unknown_rx) = watch::channel(restored_unknown_faces(&store)?);
    let discarded = Arc::new(AtomicU64::new(0));
    let (stop, stopping) = Shutdown::new();
    let (net_stop, net_stopping) = Shutdown::new();
    let connection = connect(config, secrets, net_stopping)?;
    let publisher = layered(connection.publisher, hardware.publisher_layer);
    let (trigger_tx, trigger_rx) = TriggerTx::channel();
    let (tuner, tuning_rx, interval) = Tuner::new(config.clone(), model, &restored, light.clone());
    let guards = start_triggers(hardware.triggers, interval, &trigger_tx, &stopping)?;
    let (committed_tx, committed_rx) = mpsc::channel(COMMITTED_QUEUE);
    let worker = Worker {
        camera: hardware.camera,
        recognizer: hardware.recognizer,
        liveness: None,
        tuning: tuning_rx,
        cooldown: Cooldown::new(tuned.matching.cooldown, tuned.matching.same_stranger()),
        gallery: gallery_rx,
        outbox: outbox.clone(),
        committed: committed_tx,
        clock: hardware.clock,
        zone: zone_rx,
        unknown_faces: unknown_rx,
        discarded: discarded.clone(),
        light: light.clone(),
        clock_state: clock_state.clone(),
        shutdown: stopping.clone(),
    };
    let worker = worker.spawn(trigger_rx).map_err(DaemonError::Thread)?;
    let link = Link {
        device: config.device.id,
        publisher,
        tracker: restored_tracker(&outbox, config)?,
        outbox,
        store,
        gallery: gallery_tx,
        zone: zone_tx,
        unknown_faces: unknown_tx,
        tuner,
        discarded,
        triggers: trigger_tx.clone(),
        light,
        clock_state,
        heartbeat: config.status.heartbeat,
        thumbnail_retention: config.outbox.thumbnail_retention,
        started: Instant::now(),
        connected: false,
        last_error: None,
        paused_until: None,
        shed_logged: Shed::default(),
    };
    let link = tokio::spawn(link.run(connection.events, committed_rx));
    Ok(Running {
        stop,
        triggers: trigger_tx,
        guards,
        worker,
        link,
        net_stop,
        connection: connection.task,
        _client: connection.client,
        light: light_thread,
    })
}

/// The MQTT connection to the hub's broker, as this door unit.
fn connect(
    config: &EdgeConfig,
    secrets: &Secrets,
    shutdown: Shutdown,
) -> Result<mqtt::Connection, DaemonError> {
    let endpoint = Endpoint {
        broker: &config.broker,
        secrets,
        site: &config.device.site,
        device: config.device.id,
    };
    Ok(mqtt::connect(&endpoint, shutdown)?)
}

/// The connection's publisher, wrapped in `layer` when there is one (tests inject faults).
fn layered(
    publisher: mqtt::MqttPublisher,
    layer: Option<PublisherLayer>,
) -> Arc<dyn mqtt::Publisher> {
    let publisher: Arc<dyn mqtt::Publisher> = Arc::new(publisher);
    match layer {
        Some(layer) => layer(publisher),
        None => publisher,
    }
}

/// Starts every trigger source sending into `tx`; each keeps running while its guard lives.
/// Starts the hardware's triggers and the interval trigger (every `period`, while it is set:
/// the hub's settings may change it).
fn start_triggers(
    mut triggers: Vec<Box<dyn Trigger>>,
    period: watch::Receiver<Option<Duration>>,
    tx: &TriggerTx,
    stopping: &Shutdown,
) -> Result<Vec<TriggerGuard>, DaemonError> {
    triggers.push(Box::new(IntervalTrigger { period }));
    Ok(triggers
        .into_iter()
        .map(|t| t.start(tx.clone(), stopping.clone()))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The status light's thread, with the unit's lamps and the clock's status.
fn spawn_light(
    (lamps, clock): (Box<dyn Lamps>, Box<dyn ClockStatus>),
    clock_state: &ClockState,
    tuned: &EdgeConfig,
) -> Result<(LightTx, std::thread::JoinHandle<()>), DaemonError> {
    let lit = (tuned.indicator.lamps, tuned.indicator.offline_after);
    status_light::spawn(lamps, clock, clock_state.clone(), lit).map_err(DaemonError::Thread)
}

/// What runs once the daemon has started, each part with the handle that stops it.
struct Running {
    stop: ShutdownTrigger,
    triggers: TriggerTx,
    guards: Vec<TriggerGuard>,
    worker: std::thread::JoinHandle<()>,
    link: tokio::task::JoinHandle<()>,
    net_stop: ShutdownTrigger,
    connection: tokio::task::JoinHandle<()>,
    /// The MQTT client, held until everything has stopped (the link's publisher has its own).
    _client: rumqttc::AsyncClient,
    light: std::thread::JoinHandle<()>,
}

impl Running {
    /// Stops everything in the order the module's docs give.
    async fn stop(self) {
        systemd::stopping();
        tracing::info!("shutting down: finishing the burst in progress");
        self.stop.trigger();
        self.triggers.fire(TriggerKind::Manual);
        drop(self.triggers);
        drop(self.guards);
        let worker = self.worker;
        let _ = tokio::task::spawn_blocking(move || worker.join()).await;
        let _ = self.link.await;
        self.net_stop.trigger();
        let _ = self.connection.await;
        let light = self.light;
        let _ = tokio::task::spawn_blocking(move || light.join()).await;
        tracing::info!("stopped");
    }
}

fn open_state(
    config: &EdgeConfig,
    model: ModelId,
) -> Result<(Outbox, GalleryStore, rollcall_shared::GalleryState), DaemonError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| DaemonError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = Db::open_with_keys(
        &config.data_dir.join(db::FILE_NAME),
        &config.face_key_path(),
    )?;
    let store = GalleryStore::new(db.clone(), model);
    let state = store.load()?;
    tracing::info!(version = %state.version, students = state.entries.len(), "gallery restored");
    Ok((Outbox::new(db, config.outbox.max_bytes), store, state))
}

/// The zone the hub last sent; until it has sent one, this machine's (else UTC).
fn restored_zone(store: &GalleryStore) -> Result<SiteZone, DaemonError> {
    if let Some(zone) = store.zone()? {
        tracing::info!(timezone = %zone, "school time zone restored");
        return Ok(zone);
    }
    let zone = SiteZone::system().unwrap_or_else(|e| {
        tracing::warn!("{e}; using UTC until the hub says otherwise");
        SiteZone::utc()
    });
    tracing::info!(timezone = %zone, "school time zone not yet sent by the hub; using this machine's");
    Ok(zone)
}

/// What the hub last said to do with faces that match nobody (discard until it has said).
fn restored_unknown_faces(store: &GalleryStore) -> Result<UnknownFaces, DaemonError> {
    let unknown_faces = store.unknown_faces()?;
    tracing::info!(
        unknown_faces = unknown_faces.as_str(),
        "faces that match nobody"
    );
    Ok(unknown_faces)
}

fn restored_tracker(outbox: &Outbox, config: &EdgeConfig) -> Result<Tracker, DaemonError> {
    let mut tracker = Tracker::new(Backoff {
        min: config.outbox.retry_min,
        max: config.outbox.retry_max,
    });
    let ids = outbox.ids()?;
    if !ids.is_empty() {
        tracing::info!(
            pending = ids.len(),
            "unacknowledged records found in the outbox"
        );
    }
    ids.into_iter().for_each(|id| tracker.add(id));
    Ok(tracker)
}

/// Waits for `shutdown`, pinging systemd's watchdog meanwhile if it is on.
async fn wait_with_watchdog(shutdown: impl Future<Output = ()>) {
    let Some(period) = systemd::watchdog_period() else {
        return shutdown.await;
    };
    tokio::pin!(shutdown);
    let mut ticks = tokio::time::interval(period.max(Duration::from_millis(100)));
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticks.tick() => systemd::ping(),
        }
    }
}
