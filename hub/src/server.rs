//! Starting and stopping the hub: opens the store, starts the broker link, ingest, gallery
//! push, retention and HTTP tasks (for each school, on a hub of several, and for each school
//! a district admin adds while it runs), and on shutdown tells each of them through one
//! watch channel and waits for all of them to finish.
//!
//! From the ground up: `error` ([`RunError`]), `stores` (each school's store opened),
//! `scheduled` (the leader's work), `started` (one school's tasks), `listeners` (the broker
//! link and the metrics listener) and `added` (schools a district admin adds while the hub
//! runs); this file binds them together in [`run_on`].

use std::future::Future;
use std::sync::Arc;

use rollcall_runtime::clock::SharedClock;
use rollcall_store::StoreError;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::auth::key::SigningKey;
use crate::config::Config;
use crate::district::District;
use crate::http::tls;
use crate::ingest::CHANNEL_CAPACITY;
use crate::ingest::process::Division;
use crate::ingest::route::Intakes;

mod added;
mod at_risk;
mod error;
mod listeners;
mod scheduled;
mod started;
mod stores;

use added::Adding;
pub use error::RunError;
use listeners::{broker_link, metrics_listener};
use started::{Common, Started, hashing, join_all};
use stores::{load_faces, open_stores};

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
