//! The MQTT link: connection options, the [`Publisher`] boundary and the event-loop task.
//!
//! Client id = device id; last will = `Message::Offline` (retained) on the status topic.
//! The event loop runs in its own task: it (re)subscribes on every connect, decodes what the
//! hub sends (`Limits::FROM_HUB`) into [`LinkEvent`]s, and after an error waits with
//! exponential backoff before rumqttc reconnects, so a dead broker never busy-loops.

use std::time::Duration;

use rollcall_runtime::Backoff;
use rollcall_runtime::tls::{TlsError, client_config};
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    DeviceCommand, DeviceId, DeviceOffline, GalleryUpdate, Limits, Message, RecordAck, SiteId,
    SiteSettings, decode, encode,
};
use rumqttc::{
    AsyncClient, ClientError, Event, EventLoop, LastWill, MqttOptions, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;

use super::shutdown::Shutdown;
use crate::config::{BrokerConfig, BrokerUrl, Secrets};

/// Requests rumqttc may buffer before `try_publish` reports "full".
const REQUEST_CAPACITY: usize = 256;
/// Events from the event loop waiting for the link.
const EVENT_CAPACITY: usize = 64;

/// What the network tells the link.
#[derive(Debug)]
pub enum LinkEvent {
    Connected,
    Disconnected(String),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteSettings),
}

/// Why a message could not be handed to the broker connection.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the outgoing queue is full")]
    Full,
    #[error("the connection task has stopped")]
    Closed,
    #[error("cannot encode: {0}")]
    Encode(#[from] rollcall_shared::EncodeError),
    #[error("{0}")]
    Injected(String),
}

/// Hands encoded messages to the broker connection without blocking.
pub trait Publisher: Send + Sync + 'static {
    fn publish(&self, channel: Channel, payload: Vec<u8>) -> Result<(), PublishError>;
}

/// The rumqttc client: QoS 1; only the status channel is retained, records never are.
#[derive(Debug, Clone)]
pub struct MqttPublisher {
    client: AsyncClient,
    site: SiteId,
    device: DeviceId,
}

impl Publisher for MqttPublisher {
    fn publish(&self, channel: Channel, payload: Vec<u8>) -> Result<(), PublishError> {
        let topic = Topic::new(&self.site, self.device, channel).to_string();
        let retain = channel == Channel::Status;
        self.client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload)
            .map_err(|e| match e {
                ClientError::TryRequest(rumqttc::Request::Publish(_)) => PublishError::Full,
                _ => PublishError::Closed,
            })
    }
}

/// Why the connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error(transparent)]
    Url(#[from] crate::config::UrlError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("last will: {0}")]
    Encode(#[from] rollcall_shared::EncodeError),
    #[error("broker.ca_file is required with mqtts://")]
    NoCa,
}

/// Who is connecting to which broker, how.
#[derive(Debug)]
pub struct Endpoint<'a> {
    pub broker: &'a BrokerConfig,
    pub secrets: &'a Secrets,
    pub site: &'a SiteId,
    pub device: DeviceId,
}

/// The running link: a publisher and the stream of events.
#[derive(Debug)]
pub struct Connection {
    pub publisher: MqttPublisher,
    pub client: AsyncClient,
    pub events: mpsc::Receiver<LinkEvent>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Builds the client and starts its event-loop task.
pub fn connect(endpoint: &Endpoint<'_>, shutdown: Shutdown) -> Result<Connection, MqttError> {
    let options = options(endpoint)?;
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
    // Records and acks are small messages that each wait for an answer: send at once
    // rather than hold them back for Nagle's algorithm.
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (tx, events) = mpsc::channel(EVENT_CAPACITY);
    let backoff = Backoff {
        min: endpoint.broker.reconnect_min,
        max: endpoint.broker.reconnect_max,
    };
    let session = Session {
        client: client.clone(),
        subscriptions: subscriptions(endpoint.site, endpoint.device),
        tx,
        backoff,
    };
    let task = tokio::spawn(session.run(eventloop, shutdown));
    let publisher = MqttPublisher {
        client: client.clone(),
        site: endpoint.site.clone(),
        device: endpoint.device,
    };
    Ok(Connection {
        publisher,
        client,
        events,
        task,
    })
}

fn options(e: &Endpoint<'_>) -> Result<MqttOptions, MqttError> {
    let url = BrokerUrl::parse(&e.broker.url)?;
    let mut o = MqttOptions::new(e.device.to_string(), url.host.clone(), url.port);
    o.set_keep_alive(e.broker.keep_alive);
    o.set_clean_session(true);
    o.set_max_packet_size(
        Limits::FROM_HUB.max_bytes + 1024,
        Limits::FROM_DEVICE.max_bytes + 1024,
    );
    let will = encode(
        &Message::Offline(DeviceOffline { device: e.device }),
        Limits::FROM_DEVICE,
    )?;
    let status = Topic::new(e.site, e.device, Channel::Status).to_string();
    o.set_last_will(LastWill::new(status, will, QoS::AtLeastOnce, true));
    if let (Some(user), Some(password)) = (&e.broker.username, &e.secrets.password) {
        o.set_credentials(user.clone(), password.clone());
    }
    if url.tls {
        let ca = e.broker.ca_file.as_deref().ok_or(MqttError::NoCa)?;
        let (cert, key) = (&e.broker.client_cert, &e.broker.client_key);
        let config = client_config(ca, cert.as_deref(), key.as_deref())?;
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    Ok(o)
}

fn subscriptions(site: &SiteId, device: DeviceId) -> Vec<String> {
    [Channel::Acks, Channel::Gallery, Channel::Commands]
        .into_iter()
        .map(|c| Topic::new(site, device, c).to_string())
        .collect()
}

/// The event-loop task's state.
struct Session {
    client: AsyncClient,
    subscriptions: Vec<String>,
    tx: mpsc::Sender<LinkEvent>,
    backoff: Backoff,
}

impl Session {
    async fn run(self, mut eventloop: EventLoop, mut shutdown: Shutdown) {
        let mut failures = 0u32;
        loop {
            let polled = tokio::select! {
                _ = shutdown.wait() => break,
                polled = eventloop.poll() => polled,
            };
            let event = match polled {
                Ok(event) => event,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = self.backoff.delay(failures);
                    tracing::warn!("broker connection: {e}; retrying in {wait:?}");
                    self.send(LinkEvent::Disconnected(e.to_string())).await;
                    tokio::select! {
                        _ = shutdown.wait() => break,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
            };
            if let Event::Incoming(Packet::ConnAck(_)) = &event {
                failures = 0;
                self.subscribe();
                self.send(LinkEvent::Connected).await;
            }
            if let Event::Incoming(Packet::Publish(p)) = event {
                self.route(&p.topic, &p.payload).await;
            }
        }
        self.drain(eventloop).await;
    }

    fn subscribe(&self) {
        for topic in &self.subscriptions {
            if let Err(e) = self.client.try_subscribe(topic.clone(), QoS::AtLeastOnce) {
                tracing::error!("subscribing to {topic}: {e}");
            }
        }
    }

    async fn route(&self, topic: &str, payload: &[u8]) {
        let event = match decode(payload, Limits::FROM_HUB) {
            Ok(Message::Ack(ack)) => LinkEvent::Ack(ack),
            Ok(Message::Gallery(update)) => LinkEvent::Gallery(update),
            Ok(Message::Command(command)) => LinkEvent::Command(command),
            Ok(Message::Site(settings)) => LinkEvent::Site(settings),
            Ok(other) => return tracing::warn!(topic, kind = other.kind(), "unexpected message"),
            Err(e) => return tracing::warn!(topic, "undecodable message: {e}"),
        };
        self.send(event).await;
    }

    async fn send(&self, event: LinkEvent) {
        let _ = self.tx.send(event).await;
    }

    /// After shutdown: send what is queued (the disconnect request included) for a moment.
    async fn drain(self, mut eventloop: EventLoop) {
        let _ = self.client.try_disconnect();
        let drain = async {
            while let Ok(event) = eventloop.poll().await {
                if let Event::Outgoing(rumqttc::Outgoing::Disconnect) = event {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
}
