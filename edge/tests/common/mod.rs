//! Harness for the daemon's integration tests: the real face pipeline on real photos, a real
//! Mosquitto on a free port, an in-test hub, and a daemon started and stopped per test.
//! Readiness is always polled with a deadline, never slept for.

#![allow(dead_code)]

pub mod hub;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rollcall_edge::config::{EdgeConfig, Secrets, load_str};
use rollcall_edge::daemon::light::status_light::{FakeClockStatus, FakeLamps};
use rollcall_edge::daemon::{Hardware, PublisherLayer, ReplaySource};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions, model_id};
use rollcall_runtime::SystemClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use rollcall_e2e::faces::photos_of;

/// The real pipeline with the real weights, loaded once per test binary.
pub fn pipeline() -> Arc<FacePipeline> {
    static PIPELINE: OnceLock<Arc<FacePipeline>> = OnceLock::new();
    PIPELINE
        .get_or_init(|| {
            let dir = rollcall_e2e::setup::models();
            let loaded = FacePipeline::load(&dir, PipelineOptions::default());
            Arc::new(loaded.unwrap_or_else(|e| panic!("{}: {e}", dir.path().display())))
        })
        .clone()
}

/// A directory holding copies of `photos` named so they replay in the given order.
pub fn replay_dir(photos: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, photo) in photos.iter().enumerate() {
        let ext = photo.extension().unwrap().to_str().unwrap();
        std::fs::copy(photo, dir.path().join(format!("{i:03}.{ext}"))).unwrap();
    }
    dir
}

/// A test config: loopback broker on `port`, replay camera, manual trigger, short timings.
/// The thresholds are test values for LFW photos, not recommendations.
pub fn config(data_dir: &Path, replay: &Path, port: u16, extra_env: &[(&str, &str)]) -> EdgeConfig {
    let text = format!(
        r#"
data_dir = "{data}"
[device]
id = "{id}"
site = "test-site"
room = "Lab 3"
[broker]
url = "mqtt://127.0.0.1:{port}"
keep_alive = "5s"
reconnect_min = "50ms"
reconnect_max = "500ms"
[trigger]
manual = true
[camera]
kind = "replay"
dir = "{replay}"
fps = 1000.0
[burst]
frames = 3
spacing = "1ms"
[matching]
calibrated_for = "{model}"
confident = 0.35
uncertain = 0.42
min_margin = 0.015
cooldown = "1ms"
[outbox]
retry_min = "300ms"
retry_max = "2s"
[status]
heartbeat = "1s"
"#,
        data = data_dir.display(),
        id = uuid::Uuid::new_v4(),
        replay = replay.display(),
        model = model_id(),
    );
    let env = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()));
    load_str(&text, "test config", env).expect("test config is valid")
}

/// A daemon running in the test's runtime.
pub struct Daemon {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    pub socket: PathBuf,
    /// Every change of the status light and buzzer.
    pub lamps: FakeLamps,
    /// What the daemon is told of its clock's synchronisation (synchronised at first).
    pub clock_status: FakeClockStatus,
}

impl Daemon {
    pub fn start(config: EdgeConfig, layer: Option<PublisherLayer>) -> Self {
        let replay = match &config.camera {
            rollcall_edge::config::CameraConfig::Replay { dir, fps } => {
                ReplaySource::open(dir, *fps).unwrap()
            }
            _ => unreachable!("tests replay photos"),
        };
        let socket = rollcall_edge::daemon::capture::socket::socket_path(&config.data_dir);
        let triggers = vec![
            Box::new(rollcall_edge::daemon::capture::socket::ManualTrigger {
                path: socket.clone(),
            }) as Box<dyn rollcall_edge::daemon::Trigger>,
        ];
        let lamps = FakeLamps::default();
        let clock_status = FakeClockStatus(Arc::new(std::sync::Mutex::new(Some(true))));
        let hardware = Hardware {
            camera: Box::new(replay),
            recognizer: Box::new(pipeline()),
            triggers,
            clock: Arc::new(SystemClock),
            lamps: Box::new(lamps.clone()),
            clock_status: Box::new(clock_status.clone()),
            publisher_layer: layer,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            rollcall_edge::daemon::run(config, Secrets::default(), hardware, shutdown)
                .await
                .expect("daemon ran");
        });
        Self {
            stop: Some(stop),
            task,
            socket,
            lamps,
            clock_status,
        }
    }

    /// Asks for a burst through the manual-trigger socket (waits for the socket to exist).
    pub async fn trigger(&self) {
        self.trigger_holding(None).await
    }

    /// [`trigger`](Self::trigger), saying someone stays at the door for `hold`.
    pub async fn trigger_holding(&self, hold: Option<Duration>) {
        let socket = self.socket.clone();
        wait_for("trigger socket", Duration::from_secs(20), || {
            socket.exists()
        })
        .await;
        let path = self.socket.clone();
        let queued = tokio::task::spawn_blocking(move || {
            rollcall_edge::daemon::capture::socket::send_trigger(&path, hold)
        })
        .await
        .unwrap()
        .expect("trigger sent");
        assert!(queued, "the trigger was queued");
    }

    /// SIGTERM-equivalent: finish the burst, flush, disconnect.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(60), &mut self.task)
            .await
            .expect("daemon stopped in time")
            .unwrap();
    }
}

/// Polls `ready` every 20 ms until it holds or `timeout` passes (then panics naming `what`).
pub async fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} not reached within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The school time zone the daemon whose data dir is `dir` holds (read through SQLite).
pub fn school_zone(dir: &Path) -> Option<String> {
    // Any key: the zone is not sealed.
    let keys = rollcall_runtime::seal::FaceKeys::generate();
    let db =
        rollcall_edge::daemon::db::Db::open(&dir.join(rollcall_edge::daemon::db::FILE_NAME), keys)
            .ok()?;
    let store = rollcall_edge::daemon::sync::gallery_store::GalleryStore::new(
        db,
        rollcall_shared::ModelId::new("any").unwrap(),
    );
    store.zone().unwrap().map(|z| z.name().to_owned())
}

/// Records in the outbox of the daemon whose data dir is `dir` (read through SQLite).
pub fn outbox_depth(dir: &Path) -> u32 {
    let path = dir.join(rollcall_edge::daemon::db::FILE_NAME);
    if !path.exists() {
        return 0;
    }
    // Any key: counting records opens none.
    let keys = rollcall_runtime::seal::FaceKeys::generate();
    let db = rollcall_edge::daemon::db::Db::open(&path, keys).unwrap();
    rollcall_edge::daemon::deliver::outbox::Outbox::new(db, u64::MAX)
        .depth()
        .unwrap()
}
