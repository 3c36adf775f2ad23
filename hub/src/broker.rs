//! The embedded broker: with `mqtt.mode = "embedded"` (the default) door units connect to
//! the hub itself, so one process runs the whole hub.
//!
//! It speaks MQTT 3.1.1 (the packet codec is rumqttc's) and routes between door units and the
//! hub only: what a device publishes goes to ingest, what the hub publishes goes to the one
//! device whose topic it names. Every device logs in with its own secret ([`login`]), or with a
//! client certificate naming it ([`cert`]) when `[mqtt.embedded.tls] client_auth` allows, and
//! may use only its own topics ([`acl`]), so a record can never arrive on another device's
//! topic.
//! Sessions are clean (nothing is queued for a device that is offline), which is all the
//! protocol needs: a device resends unacknowledged records and asks for its gallery when it
//! reconnects. QoS 0 and 1 are supported; retained messages are not kept.
//!
//! Why not a general broker crate: rumqttd (0.20) cannot restrict a client to its own
//! topics, and that restriction is what makes a device's identity trustworthy.

pub mod acl;
pub mod cert;
pub mod login;
mod session;
mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rollcall_runtime::tls::{ClientCerts, TlsError};
use rollcall_shared::SiteId;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::{ClientAuth, Config, EmbeddedBroker};
use crate::device_ca::{DeviceCa, ca_cert_path};
use crate::ingest::metrics::add;
use crate::ingest::{Incoming, Metrics, Outbound};
use cert::ClientCert;
use login::Logins;
pub use session::PLACES;
pub use sessions::Sessions;
use sessions::Shared;

/// The broker, bound and ready to run.
pub struct Broker {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    max_connections: usize,
}

/// The TLS acceptor for the embedded broker (no ALPN: MQTT clients send none), verifying door
/// units' client certificates when `client_auth` is on; `None` without `[mqtt.embedded.tls]`.
/// Client certificates without a `client_ca` chain to the hub's own door-unit CA, made in the
/// data directory here on first need (provisioning issues from it).
pub fn acceptor(config: &Config) -> Result<Option<TlsAcceptor>, TlsError> {
    let Some(tls) = &config.mqtt.embedded.tls else {
        return Ok(None);
    };
    let client_ca = config.broker_client_ca();
    if client_ca.is_some() && tls.client_ca.is_none() {
        let today = chrono::Utc::now().date_naive();
        DeviceCa::open_or_create(&config.data_dir, today).map_err(|e| TlsError::ClientCa {
            path: ca_cert_path(&config.data_dir),
            reason: e.to_string(),
        })?;
    }
    let clients = client_ca.as_ref().map(|(ca_file, auth)| ClientCerts {
        ca_file,
        required: *auth == ClientAuth::Required,
    });
    let server = rollcall_runtime::tls::server_config_for_clients(&tls.cert, &tls.key, clients)?;
    Ok(Some(TlsAcceptor::from(server)))
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("listener", &self.listener)
            .field("tls", &self.tls.is_some())
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker serving `listener`, over TLS when `tls` is given.
    pub fn new(
        listener: TcpListener,
        tls: Option<TlsAcceptor>,
        config: &EmbeddedBroker,
        site: SiteId,
        logins: Logins,
        metrics: Arc<Metrics>,
        sessions: Arc<Sessions>,
    ) -> Self {
        let shared = Shared {
            site,
            connect_timeout: Duration::from_secs(config.connect_timeout_secs),
            logins,
            metrics,
            sessions,
        };
        Self {
            listener,
            tls,
            shared: Arc::new(shared),
            max_connections: config.max_connections as usize,
        }
    }

    /// The address door units connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts door units and routes messages until `stop` turns true: device publishes go to
    /// `inbound`, the hub's `outbound` messages to the device they are addressed to.
    pub async fn run(
        self,
        inbound: mpsc::Sender<Incoming>,
        mut outbound: mpsc::Receiver<Outbound>,
        mut stop: watch::Receiver<bool>,
    ) {
        let scheme = if self.tls.is_some() { "mqtts" } else { "mqtt" };
        match self.local_addr() {
            Ok(addr) => tracing::info!("embedded MQTT broker on {scheme}://{addr}"),
            Err(e) => tracing::warn!("embedded MQTT broker: no local address: {e}"),
        }
        self.shared
            .metrics
            .mqtt_connected
            .store(true, Ordering::Relaxed);
        let permits = Arc::new(Semaphore::new(self.max_connections));
        let mut connections = JoinSet::new();
        let mut serial = 0u64;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                Some(out) = outbound.recv() => self.shared.route(out),
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, remote)) => {
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            tracing::warn!(%remote, "mqtt: connection limit reached, refused");
                            add(&self.shared.metrics.broker_errors, 1);
                            continue;
                        };
                        serial += 1;
                        let conn = connection(
                            self.shared.clone(), self.tls.clone(), tcp, remote, serial,
                            inbound.clone(), stop.clone(),
                        );
                        connections.spawn(async move {
                            conn.await;
                            drop(permit);
                        });
                    }
                    Err(e) => {
                        tracing::warn!("mqtt accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        // Sessions see `stop` too and close their sockets.
        let drained = async { while connections.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(5), drained).await;
        self.shared
            .metrics
            .mqtt_connected
            .store(false, Ordering::Relaxed);
    }
}

/// One accepted socket: the TLS handshake if configured, then the MQTT session.
async fn connection(
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    tcp: TcpStream,
    remote: SocketAddr,
    serial: u64,
    inbound: mpsc::Sender<Incoming>,
    stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let connect_by = tokio::time::Instant::now() + shared.connect_timeout;
    let mut peer = session::Peer {
        remote,
        serial,
        connect_by,
        cert: ClientCert::Absent,
    };
    let Some(acceptor) = tls else {
        return session::run(tcp, peer, &shared, inbound, stop).await;
    };
    match tokio::time::timeout_at(connect_by, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => {
            // rustls has verified the chain; the first certificate is the door unit's own.
            let presented = stream.get_ref().1.peer_certificates();
            peer.cert = ClientCert::of(presented.and_then(|c| c.first()).map(|c| c.as_ref()));
            session::run(stream, peer, &shared, inbound, stop).await
        }
        Ok(Err(e)) => tracing::info!(%remote, "mqtt tls handshake: {e}"),
        Err(_) => tracing::info!(%remote, "mqtt tls handshake timed out"),
    }
}
