//! The hub's connection to the broker, over plain TCP or TLS (rustls with ring).
//!
//! Two connections, so that reading never stands in the way of writing:
//! - the **intake** subscribes to the device channels of the schools this hub answers on every
//!   connect and as they move ([`super::subscriptions`]), and hands publishes to
//!   their school's bounded ingest queue ([`Intakes`]: one school's, or on a hub of several
//!   the one its topic's site names), waiting when it is full: the hub then stops reading,
//!   MQTT's flow control holds the rest at the broker, and a door unit whose record was not
//!   taken publishes it again later (it keeps every record until the hub acknowledges it);
//! - the **outlet** publishes what is queued on the outbound channel (acks, gallery updates,
//!   commands), waiting for room in its client's queue rather than dropping: a full outlet
//!   slows the ingest that feeds it, which slows the intake, never the other way round.
//!
//! Each reconnects with backoff, moving on to the broker's next node; neither panics on broker
//! errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rollcall_runtime::tls::{TlsError, client_config};
use rollcall_shared::Limits;
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubAck, SubscribeReasonCode,
    TlsConfiguration, Transport,
};
use tokio::sync::{Notify, mpsc, watch};

use super::metrics::add;
use super::route::Intakes;
use super::subscriptions;
use super::{CHANNEL_CAPACITY, Incoming, Outbound};
use crate::config::{Config, MqttTransport};

/// The client id: `mqtt.client_id`, and when several hubs share the database (and so the
/// broker), a part of its own per process, so no hub's connection takes another's over.
fn client_id(config: &Config) -> String {
    match config.store.url {
        Some(_) => format!(
            "{}-{}",
            config.mqtt.client_id,
            uuid::Uuid::new_v4().simple()
        ),
        None => config.mqtt.client_id.clone(),
    }
}

/// The client's options for the broker node at `host:port`.
fn options(config: &Config, id: &str, host: String, port: u16) -> Result<MqttOptions, TlsError> {
    let mut options = MqttOptions::new(id, host, port);
    options
        .set_keep_alive(Duration::from_secs(config.mqtt.keep_alive_secs))
        .set_clean_session(true)
        .set_max_packet_size(
            Limits::FROM_DEVICE.max_bytes + 1024,
            Limits::FROM_HUB.max_bytes + 1024,
        );
    if let (Some(user), Some(pass)) = (&config.secrets.mqtt_username, &config.secrets.mqtt_password)
    {
        options.set_credentials(user, pass);
    }
    if let MqttTransport::Tls {
        ca_file,
        client_cert,
        client_key,
    } = &config.mqtt.transport
    {
        let tls = client_config(ca_file, client_cert.as_deref(), client_key.as_deref())?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
    }
    Ok(options)
}

/// How long after a refused subscription the hub asks again.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The broker link.
#[derive(Debug)]
pub struct Link {
    /// The options for each node of the broker, in the order they are tried: the embedded
    /// broker or a single external one has one; a clustered external broker one per node.
    nodes: Vec<MqttOptions>,
    /// Records through a shared subscription (`[mqtt] shared_subscriptions`).
    shared: bool,
}

/// The counters of every school the link carries: its state and its errors are each one's.
#[derive(Debug, Clone)]
struct LinkMetrics(Intakes);

impl LinkMetrics {
    fn connected(&self, up: bool) {
        for m in self.0.metrics() {
            m.mqtt_connected.store(up, Ordering::Relaxed);
        }
    }

    fn broker_error(&self) {
        let schools = self.0.metrics();
        schools.iter().for_each(|m| add(&m.broker_errors, 1));
    }

    fn publish_failure(&self) {
        let schools = self.0.metrics();
        schools.iter().for_each(|m| add(&m.publish_failures, 1));
    }
}

impl Link {
    /// The link `config` describes; fails when its TLS files cannot be used.
    pub fn new(config: &Config) -> Result<Self, TlsError> {
        let mut addresses = config.mqtt_nodes();
        if addresses.is_empty() {
            addresses.push(("127.0.0.1".into(), 1883));
        }
        let id = client_id(config);
        let nodes = addresses
            .into_iter()
            .map(|(host, port)| options(config, &id, host, port))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            nodes,
            shared: config.mqtt.shared_subscriptions,
        })
    }

    /// Runs both connections until shutdown, counting in the metrics of each school of
    /// `inbound`.
    pub async fn run(
        self,
        inbound: Intakes,
        outbound: mpsc::Receiver<Outbound>,
        shutdown: watch::Receiver<bool>,
    ) {
        let metrics = LinkMetrics(inbound.clone());
        let outlet = Connection::open(&self.nodes, Role::Outlet, metrics.clone());
        let outlet = tokio::spawn(outlet.publish(outbound, shutdown.clone()));
        self.intake(inbound, metrics, shutdown).await;
        let _ = outlet.await;
    }

    /// Reads what door units publish into `inbound` until shutdown.
    async fn intake(
        &self,
        inbound: Intakes,
        metrics: LinkMetrics,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut intake = Connection::open(&self.nodes, Role::Intake, metrics);
        // Subscribing from a task of its own: this loop, which alone makes room in the
        // client's request queue, keeps running meanwhile.
        let anew = Arc::new(Notify::new());
        let keep = subscriptions::keep(
            intake.client.clone(),
            inbound.clone(),
            self.shared,
            anew.clone(),
            shutdown.clone(),
        );
        let keeping = tokio::spawn(keep);
        let mut unserved: u64 = 0;
        while let Some(event) = intake.next(&mut shutdown).await {
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    tracing::info!("connected to the broker");
                    anew.notify_one();
                }
                Event::Incoming(Packet::SubAck(ack)) => intake.on_suback(&ack, &anew),
                Event::Incoming(Packet::Publish(p)) => {
                    let incoming = Incoming {
                        topic: p.topic,
                        payload: p.payload,
                        place: None,
                    };
                    // Waiting here is the backpressure: the broker holds what is not read.
                    let served = tokio::select! {
                        _ = shutdown.changed() => break,
                        served = inbound.send(incoming) => served,
                    };
                    if !served {
                        unserved += 1;
                        if unserved.is_power_of_two() {
                            tracing::warn!(
                                dropped = unserved,
                                "messages for schools this hub does not serve were dropped: \
                                 each hub of a district serves every school of its broker"
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        keeping.abort();
        intake.close().await;
    }
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reads the door units' channels, as the configured client id; its state is the link's
    /// (`mqtt_connected`).
    Intake,
    /// Publishes to the door units, as the client id followed by `-out`.
    Outlet,
}

/// One connection to the broker: its client, its event loop and which node it is on.
struct Connection {
    role: Role,
    client: AsyncClient,
    events: EventLoop,
    nodes: Vec<MqttOptions>,
    node: usize,
    backoff: Duration,
    metrics: LinkMetrics,
}

impl Connection {
    fn on_suback(&self, ack: &SubAck, anew: &Arc<Notify>) {
        let refused = ack
            .return_codes
            .iter()
            .any(|c| matches!(c, SubscribeReasonCode::Failure));
        if refused {
            // A clustered broker may refuse while its nodes elect leaders: without the
            // subscription no record would arrive, so ask again.
            tracing::warn!(
                "the broker refused a subscription; subscribing again in {RESUBSCRIBE:?}"
            );
            let anew = anew.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RESUBSCRIBE).await;
                anew.notify_one();
            });
        } else {
            self.metrics.connected(true);
        }
    }

    /// A connection for `role` to the first of `nodes`.
    fn open(nodes: &[MqttOptions], role: Role, metrics: LinkMetrics) -> Self {
        let nodes: Vec<MqttOptions> = nodes
            .iter()
            .map(|node| {
                let mut node = node.clone();
                if role == Role::Outlet {
                    node.set_client_id(format!("{}-out", node.client_id()));
                }
                node
            })
            .collect();
        let (client, mut events) = AsyncClient::new(nodes[0].clone(), CHANNEL_CAPACITY);
        // Acks are small and each is waited for: no Nagle delay.
        let mut network = events.network_options();
        network.set_tcp_nodelay(true);
        events.set_network_options(network);
        Self {
            role,
            client,
            events,
            nodes,
            node: 0,
            backoff: Duration::from_millis(100),
            metrics,
        }
    }

    /// The next event; after a broken connection, waits (doubling, up to [`MAX_BACKOFF`])
    /// and tries the broker's next node. `None` at shutdown.
    async fn next(&mut self, shutdown: &mut watch::Receiver<bool>) -> Option<Event> {
        loop {
            let polled = tokio::select! {
                _ = shutdown.changed() => return None,
                polled = self.events.poll() => polled,
            };
            let e = match polled {
                Ok(event) => {
                    self.backoff = Duration::from_millis(100);
                    return Some(event);
                }
                Err(e) => e,
            };
            self.down();
            self.metrics.broker_error();
            let backoff = self.backoff;
            tracing::warn!("broker connection: {e}; retrying in {backoff:?}");
            if self.nodes.len() > 1 {
                self.node = (self.node + 1) % self.nodes.len();
                self.events.mqtt_options = self.nodes[self.node].clone();
                let (host, port) = self.events.mqtt_options.broker_address();
                tracing::info!("trying the broker's node {host}:{port} next");
            }
            tokio::select! {
                _ = shutdown.changed() => return None,
                _ = tokio::time::sleep(backoff) => {}
            }
            self.backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Publishes what arrives on `outbound` until shutdown. A publish waits for room in the
    /// client's queue (full while the broker is slow to acknowledge or unreachable), which
    /// slows whoever queued it; it is never dropped.
    async fn publish(
        mut self,
        mut outbound: mpsc::Receiver<Outbound>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (client, metrics) = (self.client.clone(), self.metrics.clone());
        let publisher = tokio::spawn(async move {
            while let Some(out) = outbound.recv().await {
                let queued = client.publish(out.topic, QoS::AtLeastOnce, false, out.payload);
                if let Err(e) = queued.await {
                    // Only when the event loop is gone: the hub is stopping.
                    metrics.publish_failure();
                    tracing::warn!("cannot queue a publish: {e}");
                    return;
                }
            }
        });
        while self.next(&mut shutdown).await.is_some() {}
        self.close().await;
        publisher.abort();
    }

    /// Sends what is queued, disconnects, and gives up after a second.
    async fn close(&mut self) {
        let _ = self.client.try_disconnect();
        let events = &mut self.events;
        let drain = async { while events.poll().await.is_ok() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        self.down();
    }

    /// The connection is down: the link is, when this is its intake.
    fn down(&self) {
        if self.role == Role::Intake {
            self.metrics.connected(false);
        }
    }
}
