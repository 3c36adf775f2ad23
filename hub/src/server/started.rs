//! One school started on this hub: what every school of the process shares ([`Common`]),
//! what each school's tasks share ([`Parts`]), and starting them: ingest, the gallery pusher,
//! cluster membership, face resealing and, while this hub leads, the scheduled work.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rollcall_runtime::clock::SharedClock;
use rollcall_school::enrol::Enroller;
use rollcall_shared::SiteSettings;
use rollcall_store::Db;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use super::error::RunError;
use super::scheduled::{backups, close_registers, retention};
use super::stores::{reseal, upgrade_enrolments, warn_of_code_clashes};
use crate::auth::hashing::Hashing;
use crate::auth::key::SigningKey;
use crate::auth::limiter::{Limits, LoginLimiter};
use crate::auth::oidc::Oidc;
use crate::auth::pace::Pace;
use crate::auth::signin::Lifetimes;
use crate::auth::tokens::Tokens;
use crate::broker::Sessions;
use crate::cluster;
use crate::config::Config;
use crate::district::District;
use crate::email::smtp::Mailer;
use crate::http_state::Hub;
use crate::ingest::process::{Division, Ingest};
use crate::ingest::push::Pusher;
use crate::ingest::route::Intake;
use crate::ingest::{CHANNEL_CAPACITY, Incoming, Metrics, Outbound};
use crate::mis::Connector;
use crate::notices::Senders;
use crate::notices::sms::Gateway;
use crate::notify::{self, Hooks};
use rollcall_school::notices::ReplyKey;

/// What every school of the process shares, and each school is started with.
#[derive(Clone)]
pub(super) struct Common {
    pub(super) key: SigningKey,
    pub(super) faces: Option<Arc<Enroller>>,
    pub(super) hashing: Hashing,
    pub(super) clock: SharedClock,
    /// Messages to door units, through whichever broker link runs.
    pub(super) outbound: mpsc::Sender<Outbound>,
    /// This hub among those sharing the database.
    pub(super) me: String,
    pub(super) division: Division,
    pub(super) district: Option<Arc<District>>,
    pub(super) stop: watch::Receiver<bool>,
}

/// One school running on this hub: its tasks spawned, its state, its ingest's queue.
pub(super) struct Started {
    pub(super) hosts: Vec<String>,
    pub(super) hub: Arc<Hub>,
    pub(super) parts: Parts,
    pub(super) queue: mpsc::Sender<Incoming>,
}

impl Started {
    /// How the broker link hands the school its door units' messages.
    pub(super) fn intake(&self) -> Intake {
        let parts = &self.parts;
        Intake {
            site: parts.config.site.clone(),
            queue: self.queue.clone(),
            metrics: parts.metrics.clone(),
            schools_divided: (parts.division == Division::Schools).then(|| parts.cluster.clone()),
        }
    }

    /// The school as its district sees it.
    pub(super) fn district_school(&self) -> crate::district::School {
        crate::district::School {
            db: self.parts.db.clone(),
            rules: self.parts.config.rules(),
        }
    }
}

impl Common {
    /// Starts `school`, whose store is `db`: its ingest, gallery pusher, cluster membership,
    /// face resealing and scheduled work, spawned on `tasks` until the hub stops.
    pub(super) async fn start(
        &self,
        school: crate::config::School,
        db: Db,
        tasks: &mut JoinSet<()>,
    ) -> Result<Started, RunError> {
        let stop = &self.stop;
        upgrade_enrolments(&db, &school.config, &self.clock).await?;
        warn_of_code_clashes(&db).await?;
        let mailer = crate::digests::mailer(&school.config).map_err(RunError::Email)?;
        let hooks = Hooks::load(&school.config.webhooks, &school.config.site);
        let hooks = hooks.map_err(RunError::Webhooks)?;
        let oidc = school.config.auth.oidc.as_ref().map(Oidc::new).transpose();
        let oidc = oidc.map_err(RunError::Oidc)?;
        let (view_tx, view) = watch::channel(match db.dialect() {
            rollcall_store::Dialect::Sqlite => cluster::View::alone(&self.me),
            rollcall_store::Dialect::Postgres => cluster::View::joining(&self.me),
        });
        let notices = school.config.notices.clone();
        let mis = school.config.mis.clone();
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
            replies: ReplyKey::derive(&self.key.0),
            sms: sms_gateway(&notices)?,
            mis: mis_connector(&mis)?,
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

/// Waits for every task to finish; a task's panic goes on in this one.
pub(super) async fn join_all(mut tasks: JoinSet<()>) {
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
pub(super) struct Parts {
    pub(super) config: Arc<Config>,
    pub(super) db: Db,
    pub(super) clock: SharedClock,
    pub(super) metrics: Arc<Metrics>,
    pub(super) sessions: Arc<Sessions>,
    /// Messages to door units, through whichever broker link runs.
    pub(super) outbound: mpsc::Sender<Outbound>,
    /// Woken when the gallery changes, so the pusher sends door units their updates.
    pub(super) gallery_changed: Arc<Notify>,
    pub(super) hooks: Hooks,
    pub(super) hashing: Hashing,
    /// The hubs sharing the database, and whether this one leads ([`crate::cluster`]).
    pub(super) cluster: watch::Receiver<cluster::View>,
    /// The key families' reply links are signed with.
    pub(super) replies: ReplyKey,
    /// The school's SMS gateway (`[notices.sms]`), when it has one.
    pub(super) sms: Option<Gateway>,
    /// The school's MIS (`[mis]`), when its register is written back.
    pub(super) mis: Option<Connector>,
    /// How those hubs divide the school's door units' messages.
    pub(super) division: Division,
}

/// Password hashing slots, shared by sign-ins and the embedded broker's device logins.
pub(super) fn hashing(config: &Config) -> Hashing {
    let auth = &config.auth;
    Hashing::new(
        auth.hashing_at_once as usize,
        Duration::from_millis(auth.hashing_max_wait_ms.into()),
    )
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
            pace: Pace::new(&self.config.http.limits),
            metrics: self.metrics.clone(),
            sessions: self.sessions.clone(),
            outbound: self.outbound.clone(),
            gallery_changed: self.gallery_changed.clone(),
            faces,
            oidc,
            mailer,
            replies: self.replies.clone(),
            mis: self.mis.clone(),
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
            window: config.ingest.window(),
            gate: config.faces.gate,
            metrics: self.metrics.clone(),
            outbound: self.outbound.clone(),
            gallery_changed: self.gallery_changed.clone(),
            hooks: self.hooks.clone(),
            cluster: self.cluster.clone(),
            division: self.division,
            lessons: config
                .attendance
                .name_lessons_jointly
                .then(|| config.rules()),
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

    /// The tasks that run on a clock: closing registers, watching lessons for missing pupils
    /// and registers not taken, delivering webhooks, the e-mail digest (when set up) and
    /// retention.
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
        tasks.spawn(crate::missing::run(
            db.clone(),
            config.clone(),
            hooks.clone(),
            mailer.clone(),
            clock.clone(),
            stop.clone(),
        ));
        tasks.spawn(notify::deliver::run(
            db.clone(),
            hooks,
            clock.clone(),
            stop.clone(),
        ));
        if let Some(mailer) = mailer.clone() {
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
        if config.notices.enabled {
            let senders = Senders {
                mailer: mailer.clone(),
                sms: self.sms.clone(),
                replies: self.replies.clone(),
            };
            tasks.spawn(crate::notices::run(
                db.clone(),
                config.clone(),
                senders,
                clock.clone(),
                stop.clone(),
            ));
        }
        if let Some(connector) = self.mis.clone() {
            tasks.spawn(crate::mis::run(
                db.clone(),
                config.clone(),
                connector,
                clock.clone(),
                stop.clone(),
            ));
        }
        if let Some(dir) = config.backup.dir.clone() {
            tasks.spawn(backups(config.clone(), dir, clock.clone(), stop.clone()));
        }
    }
}

/// The school's MIS connector, when `[mis]` names one.
fn mis_connector(mis: &crate::config::MisConfig) -> Result<Option<Connector>, RunError> {
    Connector::from_config(mis).map_err(RunError::Mis)
}

/// The school's SMS gateway, when `[notices]` sends by SMS.
fn sms_gateway(notices: &crate::config::NoticesConfig) -> Result<Option<Gateway>, RunError> {
    match (&notices.sms, notices.enabled) {
        (Some(sms), true) => Gateway::new(sms)
            .map(Some)
            .map_err(|e| RunError::Notices(e.to_string())),
        _ => Ok(None),
    }
}
