//! The state HTTP handlers share: configuration, database, clock, tokens, sign-in lifetimes,
//! the argon2 gate, the login limiter, each caller's pace,
//! ingest metrics, the handles to MQTT (outbound queue, gallery-changed signal) and the face
//! pipeline.

pub mod sent;

use std::sync::Arc;

use chrono::NaiveDate;
use rollcall_runtime::clock::SharedClock;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{DeviceId, Message, UnixMillis};
use tokio::sync::{Notify, mpsc, watch};

use crate::auth::hashing::Hashing;
use crate::auth::limiter::LoginLimiter;
use crate::auth::signin::Lifetimes;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::ingest::{Metrics, Outbound, send};
use rollcall_school::enrol::Enroller;
use rollcall_store::{Db, Sql, StoreError, devices};

/// Longest a request waits to queue a message for a door unit while the broker link is full.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything a request handler may use.
#[derive(Debug)]
pub struct Hub {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: SharedClock,
    pub tokens: Tokens,
    /// How long refresh tokens and sign-ins live.
    pub signins: Lifetimes,
    /// The one gate argon2 work goes through.
    pub hashing: Hashing,
    pub limiter: LoginLimiter,
    /// Wrong provisioning codes, per address and from everyone (`provisioning::EVERYONE`).
    pub code_limiter: LoginLimiter,
    /// How fast each caller may call the API (`[http.limits]`).
    pub pace: crate::auth::pace::Pace,
    pub metrics: Arc<Metrics>,
    /// Door units connected to the embedded broker (empty with an external broker).
    pub sessions: Arc<crate::broker::Sessions>,
    pub outbound: mpsc::Sender<Outbound>,
    pub gallery_changed: Arc<Notify>,
    /// The face pipeline for photo enrolment; `None` when `faces.enabled` is off.
    pub faces: Option<Arc<Enroller>>,
    /// The school's OpenID provider (`[auth.oidc]`); `None` when it is not set up.
    pub oidc: Option<crate::auth::oidc::Oidc>,
    /// The mail relay (`[email]`); `None` when e-mail is not set up.
    pub mailer: Option<crate::email::smtp::Mailer>,
    /// The key families' reply links are signed with.
    pub replies: rollcall_school::notices::ReplyKey,
    /// The school's MIS (`[mis]`); `None` when write-back is not set up.
    pub mis: Option<crate::mis::Connector>,
    /// The hubs sharing the database as this one sees them (`crate::cluster`).
    pub cluster: watch::Receiver<crate::cluster::View>,
    /// The district, on a hub serving several schools (`[[schools]]`); `None` on a hub of one.
    pub district: Option<Arc<crate::district::District>>,
}

impl Hub {
    pub fn now(&self) -> UnixMillis {
        self.clock.now()
    }

    /// The school's date now, in its time zone.
    pub fn today(&self) -> NaiveDate {
        self.config.rules().local_day(self.now())
    }

    /// Runs `f` in one transaction on the blocking pool; commits when it succeeds.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        // A keyed change claims its key in the transaction of its first write (`sent`).
        let Some(sent) = sent::unclaimed() else {
            return self.db.write(f).await;
        };
        let (claiming, now) = (sent.clone(), self.now());
        let written = self
            .db
            .write(move |tx| {
                let done = f(tx)?;
                sent::claim(tx, &claiming, now)?;
                Ok(done)
            })
            .await;
        if written.is_ok() {
            sent::claimed(&sent);
        }
        written
    }

    /// Runs `f` in a read-only transaction on the blocking pool; it sees what committed
    /// before.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        self.db.read(f).await
    }

    /// Asks the gallery pusher to recompute every device's gallery.
    pub fn gallery_changed(&self) {
        self.gallery_changed.notify_one();
    }

    /// Queues `message` for one of `device`'s topics, in the protocol version it speaks.
    pub async fn publish(&self, device: DeviceId, channel: Channel, message: &Message) -> bool {
        let topic = Topic::new(&self.config.site, device, channel);
        let version = self
            .read(move |c| devices::protocol_version(c, device))
            .await
            .unwrap_or(rollcall_shared::OLDEST_VERSION);
        // A request does not wait long on a broker that is gone or swamped: false is "not
        // queued" (the caller says so), not a request that hangs.
        let queued = send(&self.outbound, &topic, version, message);
        tokio::time::timeout(PUBLISH_WAIT, queued)
            .await
            .unwrap_or(false)
    }
}
