//! The hub test harness: a real hub on `127.0.0.1:0` with a real SQLite file in a temporary
//! directory, a hand-driven clock, and a small JSON client. Readiness is polled with a
//! deadline, never slept for.

pub mod camera;
pub mod door;
pub mod faces;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use reqwest::StatusCode;
use rollcall_hub::config::{Config, MqttMode, SchoolConfig};
use rollcall_runtime::Settings;
use rollcall_runtime::clock::{Clock, ManualClock};
use rollcall_school::attendance::Rules;
use rollcall_shared::{
    AttendanceRecord, Candidate, Decision, DeviceId, EMBEDDING_DIM, Embedding, FaceQuality,
    GalleryVersion, Limits, Message, ModelId, RecordId, SiteId, SiteZone, Thumbnail, UnixMillis,
    encode,
};
use rollcall_store::Db;
use rollcall_store::postgres::Schema;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// Monday 23 November 2026, the harness's "today".
pub fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// The test school's time zone: London, on GMT (= UTC) in late November.
pub fn zone() -> SiteZone {
    SiteZone::named("Europe/London").unwrap()
}

/// Unix milliseconds of `hh:mm` on [`monday`] in the test school's zone (equal to UTC).
pub fn monday_at(hh: u16, mm: u16) -> i64 {
    let rules = Rules {
        zone: zone(),
        late_after_minutes: 0,
        early_minutes: 0,
    };
    rules.instant(monday(), hh * 60 + mm).0
}

/// A running hub.
pub struct TestHub {
    pub addr: SocketAddr,
    /// Where door units connect: the embedded broker, or the external one.
    pub mqtt_addr: SocketAddr,
    pub shutdown: Option<oneshot::Sender<()>>,
    pub handle: JoinHandle<Result<(), rollcall_hub::RunError>>,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    pub site: SiteId,
    /// The certificate clients must trust when the hub serves HTTPS.
    pub tls_root: Option<Vec<u8>>,
    /// The host name `api` addresses: the first school's, on a hub of several.
    pub host: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// A loopback address with a port free a moment ago, for a listener the hub binds itself.
pub fn free_loopback_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// Starts a hub whose broker is the external `broker`, or (`None`) its own embedded broker on
/// a free port, without the face models (photo enrolment off).
pub async fn start_hub(broker: Option<SocketAddr>) -> TestHub {
    start_hub_with(broker, |_| {}).await
}

/// [`start_hub`] with the configuration adjusted by `configure` before validation.
pub async fn start_hub_with(
    broker: Option<SocketAddr>,
    configure: impl FnOnce(&mut Config),
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    rollcall_hub::setup::init(&data_dir, ADMIN, PASSWORD).unwrap();
    let clock = ManualClock::at(UnixMillis(monday_at(9, 5)));
    boot(dir, broker, clock, configure).await
}

/// A hub with its own embedded broker whose clock starts at `at`, for a day other than the
/// tests' Monday (a day the clocks change).
pub async fn start_hub_at(at: UnixMillis, configure: impl FnOnce(&mut Config)) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    rollcall_hub::setup::init(&data_dir, ADMIN, PASSWORD).unwrap();
    boot(dir, None, ManualClock::at(at), configure).await
}

/// A hub of school `school` (its site, and its schema in the PostgreSQL database at `url`)
/// with its own embedded broker; signing tokens with `share_key`'s key when given, as a
/// district that signs every school's tokens with one key would.
pub async fn start_school_hub(url: &str, school: &str, share_key: Option<&TestHub>) -> TestHub {
    start_school_hub_with(url, school, share_key, |_| {}).await
}

/// [`start_school_hub`] with the configuration adjusted by `adjust`.
pub async fn start_school_hub_with(
    url: &str,
    school: &str,
    share_key: Option<&TestHub>,
    adjust: impl FnOnce(&mut Config),
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let schema = Schema::try_from(school.to_owned()).unwrap();
    let site = SiteId::new(school).unwrap();
    let configure = |c: &mut Config| {
        c.site = site.clone();
        c.store.url = Some(url.to_owned());
        c.store.schema = schema.clone();
    };
    let mut config = Config {
        data_dir: data_dir.clone(),
        ..Config::default()
    };
    configure(&mut config);
    // The PostgreSQL client blocks: off the test's executor.
    let init = move || rollcall_hub::setup::init_store(&config, ADMIN, PASSWORD);
    tokio::task::spawn_blocking(init).await.unwrap().unwrap();
    if let Some(other) = share_key {
        let key = rollcall_hub::auth::key::KEY_FILE;
        std::fs::copy(other.data_dir.join(key), data_dir.join(key)).unwrap();
    }
    let clock = ManualClock::at(UnixMillis(monday_at(9, 5)));
    boot(dir, None, clock, |c| {
        configure(c);
        adjust(c);
    })
    .await
}

/// A second hub of the school `first` serves (site and schema `school` in the PostgreSQL
/// database at `url`), with `first`'s keys and its own embedded broker, its clock where
/// `first`'s is: the two share the school's work, one leading.
pub async fn join_school_hub(
    first: &TestHub,
    url: &str,
    school: &str,
    adjust: impl FnOnce(&mut Config),
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    rollcall_hub::setup::create_data_dir(&data_dir).unwrap();
    for key in [
        rollcall_hub::auth::key::KEY_FILE,
        rollcall_store::keys::KEY_FILE,
    ] {
        std::fs::copy(first.data_dir.join(key), data_dir.join(key)).unwrap();
    }
    let (url, school) = (url.to_owned(), school.to_owned());
    let configure = move |c: &mut Config| {
        c.site = SiteId::new(&school).unwrap();
        c.store.url = Some(url);
        c.store.schema = Schema::try_from(school).unwrap();
        adjust(c);
    };
    boot(dir, None, ManualClock::at(first.clock.now()), configure).await
}

/// One hub process serving several schools of a district (`[[schools]]`), each given as its
/// site (its schema named the same) and the host name its API answers at, each with its own
/// first admin, all in the PostgreSQL database at `url` and on the external `broker`. The
/// first school's admin is the district's (`[district] admins`).
pub async fn start_district_hub(
    url: &str,
    broker: SocketAddr,
    schools: &[(&str, &str)],
) -> TestHub {
    start_district_hub_with(url, broker, schools, |_| {}).await
}

/// [`start_district_hub`] with the configuration adjusted by `adjust` before validation.
pub async fn start_district_hub_with(
    url: &str,
    broker: SocketAddr,
    schools: &[(&str, &str)],
    adjust: impl Fn(&mut Config) + Send + 'static,
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let listed = school_list(schools);
    let url = url.to_owned();
    let district_admin = format!("{}/{ADMIN}", schools[0].0);
    let configure = move |c: &mut Config| {
        c.store.url = Some(url.clone());
        c.schools = listed.clone();
        c.district.admins = vec![district_admin.clone()];
        adjust(c);
    };
    let mut config = Config {
        data_dir: data_dir.clone(),
        ..Config::default()
    };
    configure(&mut config);
    for (site, _) in schools {
        let school = config.school(site).unwrap();
        // The PostgreSQL client blocks: off the test's executor.
        let init = move || rollcall_hub::setup::init_store(&school, ADMIN, PASSWORD);
        tokio::task::spawn_blocking(init).await.unwrap().unwrap();
    }
    let clock = ManualClock::at(UnixMillis(monday_at(9, 5)));
    boot(dir, Some(broker), clock, configure).await
}

/// Another hub process of `first`'s district: the same schools, database and broker, with
/// a copy of its keys (as a district's second machine has) and nothing made anew.
pub async fn another_district_hub(
    first: &TestHub,
    url: &str,
    broker: SocketAddr,
    schools: &[(&str, &str)],
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    rollcall_hub::setup::create_data_dir(&data_dir).unwrap();
    for key in [
        rollcall_hub::auth::key::KEY_FILE,
        rollcall_store::keys::KEY_FILE,
    ] {
        std::fs::copy(first.data_dir.join(key), data_dir.join(key)).unwrap();
    }
    let (url, listed) = (url.to_owned(), school_list(schools));
    let configure = move |c: &mut Config| {
        c.store.url = Some(url.clone());
        c.schools = listed.clone();
    };
    let clock = ManualClock::at(first.clock.now());
    boot(dir, Some(broker), clock, configure).await
}

/// `[[schools]]` for each (site, host name).
fn school_list(schools: &[(&str, &str)]) -> Vec<SchoolConfig> {
    schools
        .iter()
        .map(|(site, host)| SchoolConfig::new(SiteId::new(*site).unwrap(), vec![host.to_string()]))
        .collect()
}

/// Stops `hub` and starts a new one on its data directory, its clock where it was, with its
/// own embedded broker.
pub async fn restart_hub_with(hub: TestHub, configure: impl FnOnce(&mut Config)) -> TestHub {
    restart_hub_on(hub, None, configure).await
}

/// Stops `hub` and starts it again on its data and at its address (a browser's pages keep
/// their origin), after `away` has run with the hub down.
pub async fn restart_hub_after<F: Future<Output = ()>>(mut hub: TestHub, away: F) -> TestHub {
    let dir = hub._dir.take().unwrap();
    let (clock, addr) = (ManualClock::at(hub.clock.now()), hub.addr);
    hub.stop().await;
    away.await;
    boot_at(dir, None, clock, addr, |c| {
        c.auth.access_token_minutes = 1440
    })
    .await
}

/// [`restart_hub_with`], the new hub on the external `broker` (or `None`: its own).
pub async fn restart_hub_on(
    mut hub: TestHub,
    broker: Option<SocketAddr>,
    configure: impl FnOnce(&mut Config),
) -> TestHub {
    let dir = hub._dir.take().unwrap();
    let clock = ManualClock::at(hub.clock.now());
    hub.stop().await;
    boot(dir, broker, clock, configure).await
}

async fn boot(
    dir: tempfile::TempDir,
    broker: Option<SocketAddr>,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut Config),
) -> TestHub {
    boot_at(
        dir,
        broker,
        clock,
        "127.0.0.1:0".parse().unwrap(),
        configure,
    )
    .await
}

/// [`boot`], serving HTTP at `http` (port 0: any free one).
async fn boot_at(
    dir: tempfile::TempDir,
    broker: Option<SocketAddr>,
    clock: Arc<ManualClock>,
    http: SocketAddr,
    configure: impl FnOnce(&mut Config),
) -> TestHub {
    let data_dir = dir.path().join("data");
    let mut config = Config {
        site: SiteId::new("test-site").unwrap(),
        timezone: zone(),
        data_dir: data_dir.clone(),
        ..Config::default()
    };
    // Bound first, so that `configure` sees where the hub serves (`config.http.listen`).
    let listener = tokio::net::TcpListener::bind(http).await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.http.listen = addr;
    let mqtt = match broker {
        Some(broker) => {
            config.mqtt.mode = MqttMode::External;
            config.mqtt.broker = broker.to_string();
            None
        }
        None => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
    };
    let mqtt_addr = match &mqtt {
        Some(listener) => listener.local_addr().unwrap(),
        None => broker.unwrap(),
    };
    // What the hub tells door units (provisioning) is where its broker really listens.
    if mqtt.is_some() {
        config.mqtt.embedded.listen = mqtt_addr;
    }
    config.mqtt.client_id = format!("hub-{}", uuid::Uuid::new_v4());
    config.mqtt.keep_alive_secs = 5;
    config.faces.enabled = false;
    config.gallery.model = rollcall_shared::ModelId::new("dlib-resnet-v1").unwrap();
    // The review queue and the strangers' tests need faces that match nobody kept; the default,
    // discarding them, has its own tests.
    config.privacy.unknown_faces = rollcall_shared::UnknownFaces::Keep;
    configure(&mut config);
    config.validate().unwrap();
    let tls_root = config
        .http
        .tls
        .as_ref()
        .map(|t| std::fs::read(&t.cert).unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let first = config.schools.first();
    let site = first.map_or_else(|| config.site.clone(), |s| s.site.clone());
    let host = first.map(|s| s.hosts[0].clone());
    let shared: rollcall_runtime::clock::SharedClock = clock.clone();
    let listeners = rollcall_hub::Listeners {
        http: listener,
        mqtt,
    };
    let handle = tokio::spawn(rollcall_hub::run_on(
        config,
        listeners,
        shared,
        async move {
            let _ = rx.await;
        },
    ));
    let hub = TestHub {
        addr,
        mqtt_addr,
        shutdown: Some(tx),
        handle,
        clock,
        data_dir,
        site,
        tls_root,
        host,
        _dir: Some(dir),
    };
    let api = hub.api();
    wait_for(
        "the hub's health endpoint",
        Duration::from_secs(20),
        || async { api.get("/health").await.0 == StatusCode::OK },
    )
    .await;
    hub
}

impl TestHub {
    pub fn api(&self) -> Api {
        match (&self.tls_root, &self.host) {
            (Some(root), _) => Api::https(self.addr, root),
            (None, Some(host)) => Api::at_host(self.addr, host),
            (None, None) => Api::new(self.addr),
        }
    }

    pub async fn admin(&self) -> Api {
        self.api().login(ADMIN, PASSWORD).await
    }

    /// A second handle on the hub's database (WAL lets tests read and seed beside it).
    pub fn db(&self) -> Db {
        let keys = rollcall_store::keys::Keyring::load(
            &self.data_dir.join(rollcall_store::keys::KEY_FILE),
        )
        .unwrap();
        Db::open(&self.data_dir.join(rollcall_store::DATABASE_FILE), keys).unwrap()
    }

    /// Writes a member of staff straight into the store, past the hub's rules: data kept from
    /// before a rule, such as a personnel code that clashes but for its case.
    pub async fn staff_written_straight(&self, code: &str, name: &str) {
        let member = rollcall_school::staff::Details {
            code: code.into(),
            name: name.into(),
            active: true,
            ..Default::default()
        }
        .checked()
        .unwrap()
        .into_member(uuid::Uuid::now_v7(), UnixMillis(1));
        self.db()
            .write(move |tx| rollcall_store::staff::insert(tx, &member))
            .await
            .unwrap();
    }

    /// Stops the hub and checks it stopped cleanly.
    /// Ends the hub at once, as a killed process ends: nothing it does on stopping (leaving
    /// its cluster, giving up the lease) is done.
    pub async fn kill(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }

    pub async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("the hub stopped within 20 s")
            .unwrap()
            .unwrap();
    }
}

/// The hub's metrics.
pub async fn metrics(hub: &TestHub) -> Value {
    hub.api().get("/metrics").await.1
}

/// Waits until the hub is connected to its broker.
pub async fn wait_connected(hub: &TestHub) {
    wait_for(
        "the hub's broker connection",
        Duration::from_secs(10),
        || async { metrics(hub).await["mqtt_connected"] == json!(true) },
    )
    .await;
}

/// Stores `r` as ingest would (received when captured); returns its id. Fails the test if
/// a record with that id was already stored.
pub async fn store(hub: &TestHub, r: AttendanceRecord) -> String {
    let id = r.id.to_string();
    let added = hub
        .db()
        .write(move |sql| rollcall_school::arrival::store(sql, &r, r.captured_at))
        .await
        .unwrap();
    assert!(added, "record {id} stored once");
    id
}

/// The door unit `device` sure it saw `student` at `at`, stored as ingest would.
pub async fn door_saw(hub: &TestHub, device: &str, student: &str, at: i64) {
    let device = device.parse().expect("a device id");
    store(
        hub,
        record(device, Decision::Confident, &[(student, 0.3)], at),
    )
    .await;
}

/// A record from `device` in Lab 3 at `captured_at` with `decision` and its candidates
/// (student id, distance), as a door unit sends it: a face crop unless it is Confident.
pub fn record(
    device: DeviceId,
    decision: Decision,
    candidates: &[(&str, f32)],
    captured_at: i64,
) -> AttendanceRecord {
    let candidates = candidates
        .iter()
        .map(|(s, d)| Candidate {
            student: s.parse().unwrap(),
            distance: *d,
        })
        .collect();
    let thumbnail =
        (decision != Decision::Confident).then(|| Thumbnail(vec![0xFF, 0xD8, 0xFF, 0xD9]));
    AttendanceRecord {
        id: RecordId::now_v7(),
        device,
        room: "Lab 3".into(),
        captured_at: UnixMillis(captured_at),
        model: ModelId::new("dlib-resnet-v1").unwrap(),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.1; EMBEDDING_DIM]),
        decision,
        candidates,
        thumbnail,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.995,
            yaw_deg: 2.0,
            frames: 3,
        },
        clock: rollcall_shared::ClockSync::Unknown,
        direction: Some(rollcall_shared::Direction::Both),
        liveness: None,
        staff: None,
    }
}

/// `name`'s line of a session's roster.
pub fn row<'a>(roster: &'a Value, name: &str) -> &'a Value {
    roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {roster}"))
}

/// The roster at `session` (a path) once its register is written, polled for up to 15 s.
pub async fn wait_locked(api: &Api, session: &str) -> Value {
    let mut last = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let (status, roster) = api.get(session).await;
        assert_eq!(status, StatusCode::OK, "{roster}");
        if roster["session"]["locked"] == true {
            return roster;
        }
        last = roster;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{session} was not locked: {last}");
}

/// Polls `ready` every 20 ms until it holds, panicking after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ready().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} was not ready within {timeout:?}");
}

/// `n` Confident records of `device` naming `student`, encoded as the unit publishes them: a
/// unit's backlog.
pub fn backlog(device: DeviceId, student: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let r = record(
                device,
                Decision::Confident,
                &[(student, 0.3)],
                monday_at(9, 1),
            );
            encode(&Message::Record(r), Limits::FROM_DEVICE).unwrap()
        })
        .collect()
}

/// Holds the hub's SQLite file `database` in a write transaction, so that no batch is stored
/// until the returned connection rolls it back.
pub fn hold_store(database: &Path) -> rusqlite::Connection {
    let holder = rusqlite::Connection::open(database).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
}

/// How many records the hub stored before record `id` in the SQLite file `database`, in the
/// order it wrote them (`rowid`), once `others` records besides it are stored.
pub async fn stored_before(database: &Path, id: RecordId, others: usize) -> usize {
    let reader = rusqlite::Connection::open(database).unwrap();
    let count = |sql: &str| -> usize {
        let n: i64 = reader
            .query_row(sql, [id.to_string()], |r| r.get(0))
            .unwrap();
        n as usize
    };
    wait_for("the other records stored", Duration::from_secs(30), || {
        let stored = count("SELECT count(*) FROM records WHERE id != ?1");
        async move { stored == others }
    })
    .await;
    count("SELECT count(*) FROM records WHERE rowid < (SELECT rowid FROM records WHERE id = ?1)")
}

/// A JSON client for `/api/v1`.
#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}/api/v1"),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            token: None,
        }
    }

    /// A client whose connections come from `local` (e.g. 127.0.0.2: any 127/8 address is
    /// loopback), so the hub sees another client address.
    pub fn from_address(addr: SocketAddr, local: std::net::IpAddr) -> Self {
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .local_address(local)
                .build()
                .unwrap(),
            ..Self::new(addr)
        }
    }

    /// A client addressing the hub at `addr` by the host name `host` (as a browser would a
    /// school's address that resolves to it).
    pub fn at_host(addr: SocketAddr, host: &str) -> Self {
        let client = reqwest::Client::builder()
            .resolve(host, addr)
            .no_proxy()
            .build()
            .unwrap();
        Self {
            base: format!("http://{host}:{}/api/v1", addr.port()),
            client,
            token: None,
        }
    }

    /// A client for a hub serving HTTPS as `localhost` with a certificate signed by `root_pem`.
    pub fn https(addr: SocketAddr, root_pem: &[u8]) -> Self {
        let root = reqwest::Certificate::from_pem(root_pem).unwrap();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root)
            .resolve("localhost", addr)
            .https_only(true)
            .no_proxy()
            .build()
            .unwrap();
        Self {
            base: format!("https://localhost:{}/api/v1", addr.port()),
            client,
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// Logs in, panicking on failure.
    pub async fn login(&self, user: &str, password: &str) -> Api {
        let (status, body) = self
            .post(
                "/auth/login",
                json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {user}: {body}");
        self.with_token(body["access_token"].as_str().unwrap())
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, text) = self.raw(method, path, body).await;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Sends a change with an `Idempotency-Key`, as a phone sends a queued decision: the
    /// status, the body and the seconds to wait when told to.
    pub async fn keyed(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        key: &str,
    ) -> (StatusCode, Value, Option<u64>) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Idempotency-Key", key)
            .json(&body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let text = resp.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, wait)
    }

    /// The status and body text.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        match req.send().await {
            Ok(resp) => (resp.status(), resp.text().await.unwrap_or_default()),
            Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        }
    }

    /// POSTs `files` (name, bytes) as `multipart/form-data` parts named `photo`.
    pub async fn upload(&self, path: &str, files: Vec<(String, Vec<u8>)>) -> (StatusCode, Value) {
        self.upload_with(path, files, &[]).await
    }

    /// [`Api::upload`] with text `fields` before the photos.
    pub async fn upload_with(
        &self,
        path: &str,
        files: Vec<(String, Vec<u8>)>,
        fields: &[(&str, String)],
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.clone());
        }
        for (name, bytes) in files {
            form = form.part(
                "photo",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        }
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                (
                    status,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                )
            }
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Value::String(e.to_string()),
            ),
        }
    }

    /// POSTs `body` as it is (a CSV file), with `content_type`.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GETs raw bytes (thumbnails), with their status and content type.
    pub async fn bytes(&self, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let kind = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, kind, resp.bytes().await.unwrap().to_vec())
    }

    /// The response headers of a GET of `path`.
    pub async fn headers(&self, path: &str) -> reqwest::header::HeaderMap {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap().headers().clone()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    /// POSTs and returns the body, asserting `expected`.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let (status, out) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {out}");
        out
    }

    /// Records a parent's written consent for `student`, as an admin does before enrolling.
    pub async fn give_consent(&self, student: &str) {
        let path = format!("/students/{student}/consent");
        let (status, out) = self.put(&path, consent_given()).await;
        assert_eq!(status, StatusCode::OK, "PUT {path}: {out}");
    }
}

/// A parent's written consent, as `PUT /students/{id}/consent` takes it.
pub fn consent_given() -> Value {
    json!({"state": "given", "by": "Jane Doe (mother)", "signed_on": "2025-09-01", "reference": "form 12"})
}

/// A school with one teacher's class in "Lab 3" on Mondays 09:00–10:00, two students (both
/// enrolled) and a device in the room.
pub struct School {
    pub teacher: Api,
    pub class: String,
    pub slot: String,
    pub students: Vec<String>,
    pub device: String,
    /// The device's MQTT secret (its user name is its id).
    pub device_secret: String,
}

pub async fn seed_school(admin: &Api) -> School {
    let teacher = admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let class = admin
        .created(
            "/classes",
            json!({"name": "7B", "teacher_id": teacher["id"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut students = Vec::new();
    for (i, name) in ["Ada", "Bo"].into_iter().enumerate() {
        let s = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = admin
            .put(
                &format!("/classes/{class}/students/{s}"),
                json!({"from": "2026-09-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        admin.give_consent(&s).await;
        let embedding: Vec<f32> = (0..128).map(|k| (k as f32 + i as f32) / 128.0).collect();
        admin
            .created(
                &format!("/students/{s}/embeddings"),
                json!({"model": "dlib-resnet-v1", "embedding": embedding}),
            )
            .await;
        students.push(s);
    }
    let slot = admin
        .created("/timetable", json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00", "from": "2026-09-01"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = admin
        .created("/devices", json!({"name": "door-lab3", "room": "Lab 3"}))
        .await;
    let signed_out = Api {
        token: None,
        ..admin.clone()
    };
    let teacher = signed_out.login("tess", "teacher password").await;
    School {
        teacher,
        class,
        slot,
        students,
        device: device["device"]["id"].as_str().unwrap().to_owned(),
        device_secret: device["mqtt_password"].as_str().unwrap().to_owned(),
    }
}
