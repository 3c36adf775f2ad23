//! Starting and stopping the hub: opens the store, starts the broker link, ingest, gallery
//! push, retention and HTTP tasks (for each school, on a hub of several, and for each school
//! a district admin adds while it runs), and on shutdown tells each of them through one
//! watch channel and waits for all of them to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::login::Logins;
use crate::broker::{self, Broker, Sessions};
use rollcall_runtime::tls::TlsError;
use rollcall_shared::SiteSettings;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::auth::hashing::Hashing;
use crate::auth::key::{KeyError, SigningKey};
use crate::auth::limiter::{Limits, LoginLimiter};
use crate::auth::oidc::Oidc;
use crate::auth::signin::Lifetimes;
use crate::auth::tokens::Tokens;
use crate::cluster;
use crate::config::{Config, MqttMode};
use crate::district::District;
use crate::email::smtp::Mailer;
use crate::http::tls;
use crate::http_state::Hub;
use crate::ingest::mqtt::Link;
use crate::ingest::process::{Division, Ingest};
use crate::ingest::push::Pusher;
use crate::ingest::route::{Intake, Intakes};
use crate::ingest::vet::Window;
use crate::ingest::{CHANNEL_CAPACITY, Incoming, Metrics, Outbound};
use crate::notify::{self, Hooks};
use rollcall_models::pipeline::{model_id, previous_model_id};
use rollcall_runtime::clock::SharedClock;
use rollcall_school::enrol::{self, Enroller, LoadError};
use rollcall_store::{Db, StoreError};

mod added;
mod scheduled;

use added::Adding;
use scheduled::{backups, close_registers, retention};

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Webhooks(String),
    #[error("{0}")]
    Email(String),
    #[error("{0}")]
    Oidc(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Faces(#[from] LoadError),
    #[error(transparent)]
    FaceKeys(#[from] rollcall_store::keys::KeysError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("MQTT broker: {0}")]
    BrokerTls(TlsError),
    #[error("cannot listen for MQTT on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Carries enrolments of the previous face model over to the current one when the gallery
/// uses the current one (see [`enrol::upgrade_enrolments`]).
async fn upgrade_enrolments(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
) -> Result<(), StoreError> {
    if config.gallery.model != model_id() {
        return Ok(());
    }
    let now = clock.now();
    let upgraded = db
        .write(move |sql| enrol::upgrade_enrolments(sql, now))
        .await?;
    if upgraded > 0 {
        tracing::info!(
            "{upgraded} enrolment embeddings of {} carried over to {}",
            previous_model_id(),
            model_id()
        );
    }
    Ok(())
}

/// The sockets the hub serves, bound by the caller (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    pub http: TcpListener,
    /// The embedded broker's; `None` binds `mqtt.embedded.listen` (unused in external mode).
    pub mqtt: Option<TcpListener>,
}

/// Runs the hub until `shutdown` completes, then stops every task and returns.
pub async fn run(
    config: Config,
    http: TcpListener,
    clock: SharedClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let listeners = Listeners { http, mqtt: None };
    run_on(config, listeners, clock, shutdown).await
}

/// [`run`] on sockets the caller bound.
///
/// A hub of several schools (`[[schools]]`) runs, for each school, what a hub of one runs
/// (its store on the shared pool, ingest, gallery pusher, cluster membership, scheduled work)
/// and shares between them the one broker link, whose intake hands each message to its
/// school's ingest by the site in its topic, and the one HTTP listener, which answers each
/// request as the school its host name reaches. The schools a district admin adds join them
/// while the hub runs ([`added`]).
pub async fn run_on(
    mut config: Config,
    listeners: Listeners,
    clock: SharedClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let Listeners { http, mqtt } = listeners;
    crate::open_files::fit_caps(&mut config);
    let schools = config
        .schools()
        .map_err(|e| RunError::Store(StoreError::Config(e.to_string())))?;
    let stores = open_stores(&schools).await?;
    let district = (!config.schools.is_empty())
        .then(|| Arc::new(District::new(&config.district, config.schools.clone())));
    let (out_tx, out_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (stop_tx, stop) = watch::channel(false);
    let common = Common {
        key: SigningKey::load(&config.data_dir)?,
        faces: load_faces(&config).await?,
        hashing: hashing(&config),
        clock: clock.clone(),
        outbound: out_tx,
        me: Uuid::new_v4().to_string(),
        // Records through the broker's shared subscription when asked for; else a hub of
        // several schools takes all of some schools' units, and a hub of one its share of
        // the units.
        division: match (config.mqtt.shared_subscriptions, config.schools.is_empty()) {
            (true, _) => Division::SharedRecords,
            (false, false) => Division::Schools,
            (false, true) => Division::Units,
        },
        district: district.clone(),
        stop: stop.clone(),
    };
    let tls = config.http.tls.as_ref().map(tls::acceptor).transpose()?;
    let first_store = stores.first().cloned();
    let mut tasks = JoinSet::new();
    let mut started = Vec::new();
    for (school, db) in schools.into_iter().zip(stores) {
        started.push(common.start(school, db, &mut tasks).await?);
    }
    let link = broker_link(&config, &started, mqtt).await?;
    let inbound = Intakes::new(started.iter().map(Started::intake));
    let served = started.iter().map(|s| (s.hosts.clone(), s.hub.clone()));
    let Some(schools) = crate::http::Schools::by_host(served).map(Arc::new) else {
        let none = StoreError::Config("the configuration names no school to serve".into());
        return Err(RunError::Store(none));
    };
    for school in &started {
        let config = &school.parts.config;
        if let Some(district) = &district {
            district.serve(&config.site, school.district_school());
        }
        tracing::info!(site = %config.site, timezone = %config.timezone, "hub running");
    }
    if let (Some(district), Some(first)) = (district, first_store) {
        let mut adding = Adding::new(common, &config, first, &schools, &inbound, district);
        // Those added before this hub started are served from its first request.
        adding.look().await;
        tasks.spawn(adding.run(stop.clone()));
    }
    tasks.spawn(link.run(inbound, out_rx, stop.clone()));
    if let Some(listener) = metrics_listener(&config).await? {
        let metrics = crate::prometheus::serve(schools.clone(), listener, stop.clone());
        tasks.spawn(metrics);
    }
    tasks.spawn(crate::http::conn::serve(schools, http, tls, stop.clone()));
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    join_all(tasks).await;
    Ok(())
}

/// What every school of the process shares, and each school is started with.
#[derive(Clone)]
struct Common {
    key: SigningKey,
    faces: Option<Arc<Enroller>>,
    hashing: Hashing,
    clock: SharedClock,
    /// Messages to door units, through whichever broker link runs.
    outbound: mpsc::Sender<Outbound>,
    /// This hub among those sharing the database.
    me: String,
    division: Division,
    district: Option<Arc<District>>,
    stop: watch::Receiver<bool>,
}

/// One school running on this hub: its tasks spawned, its state, its ingest's queue.
struct Started {
    hosts: Vec<String>,
    hub: Arc<Hub>,
    parts: Parts,
    queue: mpsc::Sender<Incoming>,
}

impl Started {
    /// How the broker link hands the school its door units' messages.
    fn intake(&self) -> Intake {
        let parts = &self.parts;
        Intake {
            site: parts.config.site.clone(),
            queue: self.queue.clone(),
            metrics: parts.metrics.clone(),
            schools_divided: (parts.division == Division::Schools).then(|| parts.cluster.clone()),
        }
    }

    /// The school as its district sees it.
    fn district_school(&self) -> crate::district::School {
        crate::district::School {
            db: self.parts.db.clone(),
            rules: self.parts.config.rules(),
        }
    }
}

impl Common {
    /// Starts `school`, whose store is `db`: its ingest, gallery pusher, cluster membership,
    /// face resealing and scheduled work, spawned on `tasks` until the hub stops.
    async fn start(
        &self,
        school: crate::config::School,
        db: Db,
        tasks: &mut JoinSet<()>,
    ) -> Result<Started, RunError> {
        let stop = &self.stop;
        upgrade_enrolments(&db, &school.config, &self.clock).await?;
        let mailer = crate::digests::mailer(&school.config).map_err(RunError::Email)?;
        let hooks = Hooks::load(&school.config.webhooks, &school.config.site);
        let hooks = hooks.map_err(RunError::Webhooks)?;
        let oidc = school.config.auth.oidc.as_ref().map(Oidc::new).transpose();
        let oidc = oidc.map_err(RunError::Oidc)?;
        let (view_tx, view) = watch::channel(match db.dialect() {
            rollcall_store::Dialect::Sqlite => cluster::View::alone(&self.me),
            rollcall_store::Dialect::Postgres => cluster::View::joining(&self.me),
        });
        let parts = Parts {
            hooks,
            hashing: self.hashing.clone(),
            config: Arc::new(school.config),
            db,
            clock: self.clock.clone(),
            metrics: Arc::default(),
            sessions: Sessions::new(),
            outbound: self.outbound.clone(),
            gallery_changed: Arc::new(Notify::new()),
            cluster: view,
            division: self.division,
        };
        let mut hub = parts.hub(self.key.clone(), self.faces.clone(), mailer.clone(), oidc);
        hub.district = self.district.clone();
        let (queue, in_rx) = mpsc::channel(CHANNEL_CAPACITY);
        tasks.spawn(parts.ingest().run(in_rx, stop.clone()));
        let pusher = parts.pusher();
        tasks.spawn(pusher.run(parts.gallery_changed.clone(), stop.clone()));
        tasks.spawn(cluster::run(parts.db.clone(), view_tx, stop.clone()));
        tasks.spawn(reseal(parts.db.clone()));
        tasks.spawn(parts.lead(mailer, stop.clone()));
        Ok(Started {
            hosts: school.hosts,
            hub: Arc::new(hub),
            parts,
            queue,
        })
    }
}

/// Each school's store: the first opened as a hub of one school opens it, each other on the
/// same PostgreSQL pool in its own schema, brought up to date and its face keys checked.
async fn open_stores(schools: &[crate::config::School]) -> Result<Vec<Db>, RunError> {
    let Some((first, others)) = schools.split_first() else {
        return Ok(Vec::new());
    };
    let db = open_store(&first.config).await?;
    let mut stores = vec![db.clone()];
    for school in others {
        stores.push(open_school(&db, &school.config).await?);
    }
    Ok(stores)
}

/// The school `config` names on the PostgreSQL pool of `first`, in its own schema (made when
/// missing), brought up to date and its face keys checked.
async fn open_school(first: &Db, config: &Config) -> Result<Db, RunError> {
    let (db, config) = (first.clone(), config.clone());
    tokio::task::spawn_blocking(move || {
        crate::setup::open_school(&db, &config).map_err(|e| match e {
            crate::setup::SetupError::Store(e) => RunError::Store(e),
            crate::setup::SetupError::FaceKeys(e) => RunError::FaceKeys(e),
            other => RunError::Store(StoreError::Config(other.to_string())),
        })
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
}

/// SQLite in the data directory (made when missing), or the shared PostgreSQL database of
/// `[store] url`; with the face keys, which must hold every key its faces are sealed with.
async fn open_store(config: &Config) -> Result<Db, RunError> {
    use crate::setup::{self, SetupError};
    let config = config.clone();
    // The PostgreSQL client blocks: off the executor, as every later call.
    let opened = tokio::task::spawn_blocking(move || {
        let db = match &config.store.url {
            None => Db::open(&config.database_path(), setup::keyring(&config)?)?,
            Some(_) => setup::open_unadmitted(&config)?,
        };
        setup::admitted(db, &config)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    opened.map_err(|e| match e {
        SetupError::Store(e) => RunError::Store(e),
        SetupError::FaceKeys(e) => RunError::FaceKeys(e),
        other => RunError::Store(StoreError::Config(other.to_string())),
    })
}

/// Seals, while the hub serves, the faces not yet under the key that seals now: those stored
/// before sealing existed, or under a key rotated out while the hub was down.
async fn reseal(db: Db) {
    let done = tokio::task::spawn_blocking(move || rollcall_store::keys::reseal(&db)).await;
    match done.unwrap_or_else(|e| Err(StoreError::Task(e.to_string()))) {
        Ok(pass) if pass.changed > 0 || pass.unreadable > 0 => tracing::info!(
            sealed = pass.changed,
            unreadable = pass.unreadable,
            "faces sealed under the current key"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("sealing faces under the current key stopped: {e}"),
    }
}

/// The Prometheus listener bound on `[metrics] listen`; `None` when unset.
async fn metrics_listener(config: &Config) -> Result<Option<TcpListener>, RunError> {
    let Some(listen) = config.metrics.listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| RunError::Bind {
            addr: listen,
            source,
        })?;
    Ok(Some(listener))
}

/// Waits for every task to finish; a task's panic goes on in this one.
async fn join_all(mut tasks: JoinSet<()>) {
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// What the hub's tasks share: each takes the handles it needs from here.
#[derive(Clone)]
struct Parts {
    config: Arc<Config>,
    db: Db,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    sessions: Arc<Sessions>,
    /// Messages to door units, through whichever broker link runs.
    outbound: mpsc::Sender<Outbound>,
    /// Woken when the gallery changes, so the pusher sends door units their updates.
    gallery_changed: Arc<Notify>,
    hooks: Hooks,
    hashing: Hashing,
    /// The hubs sharing the database, and whether this one leads ([`crate::cluster`]).
    cluster: watch::Receiver<cluster::View>,
    /// How those hubs divide the school's door units' messages.
    division: Division,
}

/// Password hashing slots, shared by sign-ins and the embedded broker's device logins.
fn hashing(config: &Config) -> Hashing {
    let auth = &config.auth;
    Hashing::new(
        auth.hashing_at_once as usize,
        Duration::from_millis(auth.hashing_max_wait_ms.into()),
    )
}

/// One of the two ways records arrive.
enum BrokerLink {
    Embedded(Broker),
    External(Link),
}

impl BrokerLink {
    async fn run(
        self,
        records: Intakes,
        outbound: mpsc::Receiver<Outbound>,
        stop: watch::Receiver<bool>,
    ) {
        match self {
            BrokerLink::Embedded(broker) => match records.only() {
                Some(records) => broker.run(records.clone(), outbound, stop).await,
                None => tracing::error!("the embedded broker serves one school"),
            },
            BrokerLink::External(link) => link.run(records, outbound, stop).await,
        }
    }
}

impl Parts {
    /// The state the HTTP handlers share.
    fn hub(
        &self,
        key: SigningKey,
        faces: Option<Arc<Enroller>>,
        mailer: Option<Mailer>,
        oidc: Option<Oidc>,
    ) -> Hub {
        let auth = &self.config.auth;
        Hub {
            config: self.config.clone(),
            db: self.db.clone(),
            clock: self.clock.clone(),
            tokens: Tokens::new(key, auth.access_token_minutes),
            signins: Lifetimes::from_days(auth.refresh_token_days, auth.signin_max_days),
            hashing: self.hashing.clone(),
            limiter: LoginLimiter::new(Limits {
                per_address: auth.failed_logins_per_address,
                per_user: auth.failed_logins_per_user,
                max_tracked: auth.limiter_max_tracked as usize,
            }),
            code_limiter: LoginLimiter::new(Limits {
                per_address: self.config.provisioning.wrong_codes_per_address,
                per_user: self.config.provisioning.wrong_codes_per_minute,
                max_tracked: auth.limiter_max_tracked as usize,
            }),
            metrics: self.metrics.clone(),
            sessions: self.sessions.clone(),
            outbound: self.outbound.clone(),
            gallery_changed: self.gallery_changed.clone(),
            faces,
            oidc,
            mailer,
            cluster: self.cluster.clone(),
            district: None,
        }
    }

    fn ingest(&self) -> Ingest {
        let config = &self.config;
        Ingest {
            db: self.db.clone(),
            site: config.site.clone(),
            settings: SiteSettings {
                timezone: config.timezone.name().to_owned(),
                unknown_faces: config.privacy.unknown_faces,
            },
            model: config.gallery.model.clone(),
            clock: self.clock.clone(),
            window: Window::from_config(&config.ingest),
            gate: config.faces.gate,
            metrics: self.metrics.clone(),
            outbound: self.outbound.clone(),
            gallery_changed: self.gallery_changed.clone(),
            hooks: self.hooks.clone(),
            cluster: self.cluster.clone(),
            division: self.division,
        }
    }

    fn pusher(&self) -> Pusher {
        Pusher {
            db: self.db.clone(),
            site: self.config.site.clone(),
            model: self.config.gallery.model.clone(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
            outbound: self.outbound.clone(),
        }
    }

    /// Runs the scheduled work while this hub leads (always, on SQLite), until `stop`.
    fn lead(
        &self,
        mailer: Option<Mailer>,
        mut stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + use<> {
        let parts = self.clone();
        let mut view = self.cluster.clone();
        async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    led = view.wait_for(|v| v.leader) => if led.is_err() { return },
                }
                let (pause, paused) = watch::channel(false);
                let mut tasks = JoinSet::new();
                parts.spawn_schedules(&mut tasks, mailer.clone(), &paused);
                let stopping = tokio::select! {
                    _ = stop.changed() => true,
                    led = view.wait_for(|v| !v.leader) => led.is_err(),
                };
                let _ = pause.send(true);
                while tasks.join_next().await.is_some() {}
                if stopping {
                    return;
                }
            }
        }
    }

    /// The tasks that run on a clock: closing registers, delivering webhooks, the e-mail
    /// digest (when set up) and retention.
    fn spawn_schedules(
        &self,
        tasks: &mut JoinSet<()>,
        mailer: Option<Mailer>,
        stop: &watch::Receiver<bool>,
    ) {
        let (db, config, clock) = (&self.db, &self.config, &self.clock);
        let hooks = self.hooks.clone();
        tasks.spawn(close_registers(
            db.clone(),
            config.clone(),
            clock.clone(),
            hooks.clone(),
            stop.clone(),
        ));
        tasks.spawn(notify::deliver::run(
            db.clone(),
            hooks,
            clock.clone(),
            stop.clone(),
        ));
        if let Some(mailer) = mailer {
            tasks.spawn(crate::digests::run(
                db.clone(),
                config.clone(),
                mailer,
                clock.clone(),
                stop.clone(),
            ));
        }
        tasks.spawn(retention(
            db.clone(),
            config.clone(),
            clock.clone(),
            self.gallery_changed.clone(),
            stop.clone(),
        ));
        if let Some(dir) = config.backup.dir.clone() {
            tasks.spawn(backups(config.clone(), dir, clock.clone(), stop.clone()));
        }
    }
}

/// The embedded broker (on `mqtt`, else `mqtt.embedded.listen`) for the one school it may
/// serve, or the external one's client for every school, as configured.
async fn broker_link(
    config: &Config,
    schools: &[Started],
    mqtt: Option<TcpListener>,
) -> Result<BrokerLink, RunError> {
    Ok(match config.mqtt.mode {
        MqttMode::Embedded => {
            let [school] = schools else {
                return Err(RunError::Store(StoreError::Config(
                    "the embedded broker serves one school: [[schools]] need mqtt.mode = \"external\"".into(),
                )));
            };
            let school = &school.parts;
            BrokerLink::Embedded(
                embedded_broker(
                    &school.config,
                    mqtt,
                    school.db.clone(),
                    school.metrics.clone(),
                    school.hashing.clone(),
                    school.sessions.clone(),
                )
                .await?,
            )
        }
        MqttMode::External => BrokerLink::External(Link::new(config).map_err(RunError::BrokerTls)?),
    })
}

/// The embedded broker on `listener`, or on `mqtt.embedded.listen`.
async fn embedded_broker(
    config: &Config,
    listener: Option<TcpListener>,
    db: Db,
    metrics: Arc<Metrics>,
    hashing: Hashing,
    sessions: Arc<Sessions>,
) -> Result<Broker, RunError> {
    let embedded = &config.mqtt.embedded;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(embedded.listen)
            .await
            .map_err(|source| RunError::Bind {
                addr: embedded.listen,
                source,
            })?,
    };
    let tls = broker::acceptor(config).map_err(RunError::BrokerTls)?;
    let site = config.site.clone();
    Ok(Broker::new(
        listener,
        tls,
        embedded,
        site,
        Logins::new(db, hashing),
        metrics,
        sessions,
    ))
}

/// Loads the face pipeline on the blocking pool when photo enrolment is on.
async fn load_faces(config: &Config) -> Result<Option<Arc<Enroller>>, LoadError> {
    if !config.faces.enabled {
        tracing::info!("photo enrolment is off (faces.enabled = false)");
        return Ok(None);
    }
    let (dir, gate) = (config.faces.models_dir.clone(), config.faces.gate);
    let limits = enrol::photo_limits(config.faces.max_photo_megapixels);
    let loaded =
        tokio::task::spawn_blocking(move || Enroller::load_with(dir.as_ref(), gate, limits))
            .await
            .map_err(|e| LoadError::Missing(format!("loading panicked: {e}")))??;
    Ok(Some(Arc::new(loaded)))
}
