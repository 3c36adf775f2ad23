//! The MQTT link: connection options, the [`Publisher`] boundary and the event-loop task.
//!
//! Client id = device id; last will = `Message::Offline` (retained) on the status topic.
//! The event loop runs in its own task: it (re)subscribes on every connect and reports the link
//! up only once the broker has granted the subscriptions (a record published before that could
//! be acknowledged into the void and go out twice), decodes what the hub sends
//! (`Limits::FROM_HUB`) into [`LinkEvent`]s, and after an error waits with exponential backoff,
//! spread at random ([`Backoff::jittered`]), before rumqttc reconnects: a dead broker never
//! busy-loops, and the units of a school do not all knock at the moment it comes back.

use std::time::Duration;

use rollcall_runtime::Backoff;
use rollcall_runtime::tls::{TlsError, client_config};
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    DeviceCommand, DeviceId, DeviceOffline, GalleryUpdate, Limits, Message, RecordAck, SiteId,
    SiteSettings, UnitSettings, decode, encode,
};
use rumqttc::{
    AsyncClient, ClientError, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, SubAck,
    SubscribeFilter, SubscribeReasonCode, TlsConfiguration, Transport,
};
use tokio::sync::mpsc;

use crate::config::{BrokerConfig, BrokerUrl, Secrets};
use crate::daemon::shutdown::Shutdown;

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
    UnitSettings(UnitSettings),
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
    let nodes = endpoint
        .broker
        .nodes()
        .map(|url| options(endpoint, url))
        .collect::<Result<Vec<_>, _>>()?;
    let (client, mut eventloop) = AsyncClient::new(nodes[0].clone(), REQUEST_CAPACITY);
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
        nodes: Nodes::new(nodes),
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

/// The client's options for the broker node at `url`.
fn options(e: &Endpoint<'_>, url: &str) -> Result<MqttOptions, MqttError> {
    let url = BrokerUrl::parse(url)?;
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
    nodes: Nodes,
}

/// Subscribes to `topics`, in one request answered by one SubAck, after `after`, from a task
/// of its own: the request queue may be full of records waiting to go out (after a
/// reconnection it often is), and only the event loop, which must keep running meanwhile,
/// makes room in it. A subscription dropped for a full queue would leave the unit without
/// acks until its next reconnection.
fn subscribe(client: &AsyncClient, topics: &[String], after: Duration) {
    let client = client.clone();
    let filters: Vec<SubscribeFilter> = topics
        .iter()
        .map(|t| SubscribeFilter::new(t.clone(), QoS::AtLeastOnce))
        .collect();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        if let Err(e) = client.subscribe_many(filters).await {
            tracing::error!("subscribing: {e}");
        }
    });
}

/// Whether the broker refused any of the subscriptions `ack` answers.
fn refused(ack: &SubAck) -> bool {
    ack.return_codes
        .iter()
        .any(|c| matches!(c, SubscribeReasonCode::Failure))
}

/// The nodes of the broker (one, or those of a cluster) and the one in use: a failed
/// connection moves on to the next, round, so a unit whose node died finds a live one.
struct Nodes {
    options: Vec<MqttOptions>,
    current: usize,
}

impl Nodes {
    fn new(options: Vec<MqttOptions>) -> Self {
        Self {
            options,
            current: 0,
        }
    }

    /// After a failed connection: the next node's options, if there is another node.
    fn next(&mut self) -> Option<&MqttOptions> {
        if self.options.len() < 2 {
            return None;
        }
        self.current = (self.current + 1) % self.options.len();
        self.options.get(self.current)
    }
}

impl Session {
    async fn run(mut self, mut eventloop: EventLoop, mut shutdown: Shutdown) {
        let mut failures = 0u32;
        // Connected and subscribed: what the link is told as `Connected`.
        let mut up = false;
        loop {
            let polled = tokio::select! {
                _ = shutdown.wait() => break,
                polled = eventloop.poll() => polled,
            };
            let event = match polled {
                Ok(event) => event,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = self.backoff.jittered(failures);
                    tracing::warn!("broker connection: {e}; retrying in {wait:?}");
                    if let Some(next) = self.nodes.next() {
                        let (host, port) = next.broker_address();
                        tracing::info!("trying the broker's node {host}:{port} next");
                        eventloop.mqtt_options = next.clone();
                    }
                    up = false;
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
            }
            if let Event::Incoming(Packet::SubAck(ack)) = &event {
                if refused(ack) {
                    // A broker may refuse a subscription for a while (a clustered one while
                    // its nodes elect leaders): without it no ack would ever arrive, so ask
                    // again.
                    tracing::warn!(
                        "the broker refused a subscription; subscribing again in {:?}",
                        self.backoff.min
                    );
                    self.resubscribe_later(self.backoff.min);
                } else if !up {
                    up = true;
                    self.send(LinkEvent::Connected).await;
                }
            }
            if let Event::Incoming(Packet::Publish(p)) = event {
                self.route(&p.topic, &p.payload).await;
            }
        }
        self.drain(eventloop).await;
    }

    fn subscribe(&self) {
        subscribe(&self.client, &self.subscriptions, Duration::ZERO);
    }

    fn resubscribe_later(&self, after: Duration) {
        subscribe(&self.client, &self.subscriptions, after);
    }

    async fn route(&self, topic: &str, payload: &[u8]) {
        let event = match decode(payload, Limits::FROM_HUB) {
            Ok(Message::Ack(ack)) => LinkEvent::Ack(ack),
            Ok(Message::Gallery(update)) => LinkEvent::Gallery(update),
            Ok(Message::Command(command)) => LinkEvent::Command(command),
            Ok(Message::Site(settings)) => LinkEvent::Site(settings),
            Ok(Message::UnitSettings(settings)) => LinkEvent::UnitSettings(settings),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> MqttOptions {
        MqttOptions::new("door", "127.0.0.1", port)
    }

    #[test]
    fn a_failure_moves_round_the_nodes_and_a_single_node_stays() {
        let mut nodes = Nodes::new(vec![node(1), node(2), node(3)]);
        let ports: Vec<u16> = (0..4)
            .map(|_| nodes.next().map(|o| o.broker_address().1).unwrap())
            .collect();
        assert_eq!(ports, [2, 3, 1, 2]);
        assert!(Nodes::new(vec![node(1)]).next().is_none());
    }

    #[test]
    fn a_failure_code_in_a_suback_is_a_refusal() {
        let ack = |codes| SubAck {
            pkid: 1,
            return_codes: codes,
        };
        let ok = SubscribeReasonCode::Success(QoS::AtLeastOnce);
        assert!(!refused(&ack(vec![ok, ok])));
        assert!(refused(&ack(vec![ok, SubscribeReasonCode::Failure])));
    }
}
