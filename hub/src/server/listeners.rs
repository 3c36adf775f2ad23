//! The hub's listeners besides HTTP: how records arrive (the embedded broker on its socket, or
//! the external broker's client) and the Prometheus listener.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::error::RunError;
use super::started::Started;
use crate::auth::hashing::Hashing;
use crate::broker::login::Logins;
use crate::broker::{self, Broker, Sessions};
use crate::config::{Config, MqttMode};
use crate::ingest::mqtt::Link;
use crate::ingest::route::Intakes;
use crate::ingest::{Metrics, Outbound};
use rollcall_store::{Db, StoreError};

/// One of the two ways records arrive.
pub(super) enum BrokerLink {
    Embedded(Broker),
    External(Link),
}

impl BrokerLink {
    pub(super) async fn run(
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

/// The embedded broker (on `mqtt`, else `mqtt.embedded.listen`) for the one school it may
/// serve, or the external one's client for every school, as configured.
pub(super) async fn broker_link(
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

/// The Prometheus listener bound on `[metrics] listen`; `None` when unset.
pub(super) async fn metrics_listener(config: &Config) -> Result<Option<TcpListener>, RunError> {
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
