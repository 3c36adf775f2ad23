//! The hub's connection to the broker, over plain TCP or TLS (rustls with ring).
//! Subscribes to the device channels on every connect, forwards publishes into a bounded
//! channel (so a slow database slows reading, never loses data) and publishes what is queued
//! on the outbound channel. Reconnects with backoff; never panics on broker errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rollcall_runtime::tls::{TlsError, client_config};
use rollcall_shared::topics::{Channel, hub_filter};
use rollcall_shared::{Limits, SiteId};
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeFilter, SubscribeReasonCode,
    TlsConfiguration, Transport,
};
use tokio::sync::{mpsc, watch};

use super::metrics::add;
use super::{CHANNEL_CAPACITY, Incoming, Metrics, Outbound};
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

/// Subscribes to every door unit's uplink channels of `site` after `after`, from a task of its
/// own: the request queue may be full of acks waiting to go out, and only the event loop, which
/// must keep running meanwhile, makes room in it (a subscription dropped for a full queue would
/// leave the hub deaf until its next reconnection).
fn subscribe(client: &AsyncClient, site: &SiteId, after: Duration) {
    let (client, site) = (client.clone(), site.clone());
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let filters = [Channel::Records, Channel::Status, Channel::Requests]
            .map(|c| SubscribeFilter::new(hub_filter(&site, c), QoS::AtLeastOnce));
        if let Err(e) = client.subscribe_many(filters).await {
            tracing::error!("cannot subscribe: {e}");
        }
    });
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
    site: SiteId,
    metrics: Arc<Metrics>,
}

impl Link {
    /// The link `config` describes; fails when its TLS files cannot be used.
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Result<Self, TlsError> {
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
            site: config.site.clone(),
            metrics,
        })
    }

    /// Runs until shutdown.
    pub async fn run(
        self,
        inbound: mpsc::Sender<Incoming>,
        mut outbound: mpsc::Receiver<Outbound>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (client, mut events) = AsyncClient::new(self.nodes[0].clone(), CHANNEL_CAPACITY);
        let mut node = 0;
        // Acks are small and each is waited for: no Nagle delay.
        let mut network = events.network_options();
        network.set_tcp_nodelay(true);
        events.set_network_options(network);
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                event = events.poll() => match event {
                    Ok(event) => {
                        backoff = Duration::from_millis(100);
                        self.on_event(&client, event, &inbound).await;
                    }
                    Err(e) => {
                        self.metrics.mqtt_connected.store(false, Ordering::Relaxed);
                        add(&self.metrics.broker_errors, 1);
                        tracing::warn!("broker connection: {e}; retrying in {backoff:?}");
                        if self.nodes.len() > 1 {
                            node = (node + 1) % self.nodes.len();
                            events.mqtt_options = self.nodes[node].clone();
                            let (host, port) = events.mqtt_options.broker_address();
                            tracing::info!("trying the broker's node {host}:{port} next");
                        }
                        tokio::select! {
                            _ = shutdown.changed() => break,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                },
                Some(out) = outbound.recv() => {
                    if let Err(e) = client.try_publish(out.topic, QoS::AtLeastOnce, false, out.payload) {
                        add(&self.metrics.publish_failures, 1);
                        tracing::warn!("cannot queue a publish: {e}");
                    }
                }
            }
        }
        self.close(&client, &mut events).await;
    }

    async fn on_event(&self, client: &AsyncClient, event: Event, inbound: &mpsc::Sender<Incoming>) {
        match event {
            Event::Incoming(Packet::ConnAck(_)) => {
                tracing::info!("connected to the broker");
                subscribe(client, &self.site, Duration::ZERO);
            }
            Event::Incoming(Packet::SubAck(ack)) => {
                let refused = ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure));
                if refused {
                    // A clustered broker may refuse while its nodes elect leaders: without
                    // the subscription no record would arrive, so ask again.
                    tracing::warn!(
                        "the broker refused a subscription; subscribing again in {RESUBSCRIBE:?}"
                    );
                    subscribe(client, &self.site, RESUBSCRIBE);
                } else {
                    self.metrics.mqtt_connected.store(true, Ordering::Relaxed);
                }
            }
            Event::Incoming(Packet::Publish(p)) => {
                let incoming = Incoming {
                    topic: p.topic,
                    payload: p.payload,
                };
                // Waiting here is the backpressure: the broker holds unread messages.
                let _ = inbound.send(incoming).await;
            }
            _ => {}
        }
    }

    /// Sends what is queued, disconnects, and gives up after a second.
    async fn close(&self, client: &AsyncClient, events: &mut EventLoop) {
        let _ = client.try_disconnect();
        let drain = async { while events.poll().await.is_ok() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        self.metrics.mqtt_connected.store(false, Ordering::Relaxed);
    }
}
