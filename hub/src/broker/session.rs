//! One door unit's connection: CONNECT and login, then packets both ways until it leaves.
//!
//! A publish outside the device's own topics, a second CONNECT, QoS 2 or a malformed packet
//! ends the connection (and is counted); a subscription outside its own topics is refused in
//! the SUBACK. When the connection ends without a DISCONNECT, the device's last will goes to
//! ingest, as a broker would publish it.
//!
//! Each unit holds at most [`PLACES`] places in the hub's queue for ingest. Past saturation
//! every unit then has about as many records in each batch, so all fall behind alike: none is
//! crowded out, and the records a batch writes were captured at about the same time.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{DeviceId, Limits};
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    Codec, ConnAck, Connect, ConnectReturnCode, LastWill, Packet, PubAck, Publish, SubAck,
    SubscribeReasonCode, UnsubAck,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::acl;
use super::cert::ClientCert;
use super::login::Refused;
use super::sessions::{Delivery, SESSION_QUEUE, SessionHandle, Shared};
use crate::ingest::Incoming;
use crate::ingest::metrics::add;

/// How long a refused login waits before its CONNACK (slows down guessing).
const REFUSAL_DELAY: Duration = Duration::from_secs(1);
/// Keep-alive used when a client asks for none (0), so dead sockets are still noticed.
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(300);
/// Most of one unit's publishes queued for ingest at once: its share of the queue. Without it,
/// past saturation the units whose turn came first after a batch filled the places the batch
/// freed, and kept them: a few units were answered at once and the rest waited seconds. A
/// batch then wrote records captured seconds apart, each on an index page of its own, and the
/// hub stored a sixth less than it could. One unit alone still moves 4 records a transaction
/// (some thousands a second): far more than a door makes.
pub const PLACES: usize = 4;

/// Why a session ended.
enum End {
    /// The device sent DISCONNECT: its will is discarded.
    Clean,
    /// Anything else: the socket closed, a protocol error, a timeout. The will is published.
    Abrupt(String),
    /// The hub is stopping or another connection of the device took over: no will.
    Quiet,
}

/// Who is on the other end of a new connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer {
    pub remote: SocketAddr,
    /// Distinguishes this connection from a later one of the same device.
    pub serial: u64,
    /// When the connection is closed unless its CONNECT has arrived.
    pub connect_by: Instant,
    /// The device its verified TLS client certificate names, if it presented one.
    pub cert: ClientCert,
}

/// Serves one connection until it ends: its CONNECT and login, then packets both ways, then
/// the will if it ended abruptly.
pub(super) async fn run<S>(
    stream: S,
    peer: Peer,
    shared: &Arc<Shared>,
    inbound: mpsc::Sender<Incoming>,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let codec = Codec {
        max_incoming_size: Limits::FROM_DEVICE.max_bytes + 1024,
        max_outgoing_size: Limits::FROM_HUB.max_bytes + 1024,
    };
    let mut framed = Framed::new(stream, codec);
    let Some(connect) = read_connect(&mut framed, &peer, shared).await else {
        return;
    };
    let login = connect
        .login
        .as_ref()
        .map(|l| (l.username.as_str(), l.password.as_str()));
    let device = match shared
        .logins
        .check(&connect.client_id, login, peer.cert)
        .await
    {
        Ok(device) => device,
        Err(refused) => return refuse(&mut framed, shared, peer.remote, &refused).await,
    };
    let will = connect.last_will.filter(|w| {
        let own = Topic::new(&shared.site, device, Channel::Status).to_string();
        w.topic == own
    });
    let keep_alive = keep_alive(connect.keep_alive);
    let Some((mut session, taken_over)) =
        accept(&mut framed, &peer, device, shared, &inbound).await
    else {
        return;
    };
    let end = session
        .serve(&mut framed, keep_alive, &taken_over, &mut stop)
        .await;
    shared.unregister(device, peer.serial);
    let remote = peer.remote;
    match end {
        End::Clean => tracing::info!(%remote, %device, "mqtt: door unit disconnected"),
        End::Quiet => tracing::debug!(%remote, %device, "mqtt: connection closed by the hub"),
        End::Abrupt(why) => {
            tracing::info!(%remote, %device, "mqtt: door unit lost: {why}");
            if let Some(will) = will {
                publish_will(will, &inbound).await;
            }
        }
    }
}

/// Waits for the connection's CONNECT until `peer.connect_by`; `None` (logged, malformed
/// counted) when anything else comes, or nothing.
async fn read_connect<S>(
    framed: &mut Framed<S, Codec>,
    peer: &Peer,
    shared: &Shared,
) -> Option<Connect>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let remote = peer.remote;
    match tokio::time::timeout_at(peer.connect_by, framed.next()).await {
        Ok(Some(Ok(Packet::Connect(c)))) => Some(c),
        Ok(Some(Ok(other))) => {
            tracing::info!(%remote, "mqtt: expected CONNECT, got {other:?}");
            None
        }
        Ok(Some(Err(e))) => {
            add(&shared.metrics.malformed, 1);
            tracing::info!(%remote, "mqtt: bad CONNECT: {e:?}");
            None
        }
        Ok(None) => None,
        Err(_) => {
            tracing::info!(%remote, "mqtt: no CONNECT in time");
            None
        }
    }
}

/// How long the device may stay silent: half as long again as the keep-alive it asked for.
fn keep_alive(asked_secs: u16) -> Duration {
    match asked_secs {
        0 => DEFAULT_KEEP_ALIVE,
        secs => Duration::from_secs(u64::from(secs)) * 3 / 2,
    }
}

/// Answers a logged-in device's CONNECT and registers its session, which a later connection
/// of the same device ends through the returned `Notify`; `None` when the CONNACK cannot be
/// sent.
async fn accept<'a, S>(
    framed: &mut Framed<S, Codec>,
    peer: &Peer,
    device: DeviceId,
    shared: &'a Shared,
    inbound: &'a mpsc::Sender<Incoming>,
) -> Option<(Session<'a>, Arc<Notify>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (deliver, deliveries) = mpsc::channel(SESSION_QUEUE);
    let taken_over = Arc::new(Notify::new());
    let handle = SessionHandle {
        serial: peer.serial,
        deliver,
        taken_over: taken_over.clone(),
    };
    let connack = ConnAck::new(ConnectReturnCode::Success, false);
    if framed.send(Packet::ConnAck(connack)).await.is_err() {
        return None;
    }
    shared.register(device, handle);
    tracing::info!(remote = %peer.remote, %device, "mqtt: door unit connected");
    let session = Session {
        device,
        shared,
        inbound,
        places: Arc::new(Semaphore::new(PLACES)),
        deliveries,
        subscriptions: HashSet::new(),
        next_pkid: 0,
    };
    Some((session, taken_over))
}

/// Answers a refused login after a pause, and counts it.
async fn refuse<S>(
    framed: &mut Framed<S, Codec>,
    shared: &Shared,
    remote: SocketAddr,
    refused: &Refused,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tracing::warn!(%remote, "mqtt: login refused: {refused}");
    let code = match refused {
        Refused::NotADevice(_) => ConnectReturnCode::BadClientId,
        Refused::Store(_) => ConnectReturnCode::ServiceUnavailable,
        Refused::Unknown(_) | Refused::Disabled(_) => {
            add(&shared.metrics.unknown_device, 1);
            ConnectReturnCode::NotAuthorized
        }
        Refused::CertMismatch { .. } | Refused::CertUnnamed => ConnectReturnCode::NotAuthorized,
        Refused::NoLogin | Refused::UserMismatch { .. } | Refused::WrongSecret(_) => {
            ConnectReturnCode::BadUserNamePassword
        }
    };
    add(&shared.metrics.login_refused, 1);
    tokio::time::sleep(REFUSAL_DELAY).await;
    let _ = framed
        .send(Packet::ConnAck(ConnAck::new(code, false)))
        .await;
}

async fn publish_will(will: LastWill, inbound: &mpsc::Sender<Incoming>) {
    let incoming = Incoming {
        topic: will.topic,
        payload: will.message,
        place: None,
    };
    let _ = inbound.send(incoming).await;
}

/// A logged-in device's state.
struct Session<'a> {
    device: DeviceId,
    shared: &'a Shared,
    inbound: &'a mpsc::Sender<Incoming>,
    /// The unit's places in the queue for ingest ([`PLACES`]).
    places: Arc<Semaphore>,
    /// What the hub sends the device (acks, galleries, commands), queued by [`Shared::route`].
    deliveries: mpsc::Receiver<Delivery>,
    subscriptions: HashSet<String>,
    next_pkid: u16,
}

impl Session<'_> {
    /// Packets both ways until the device leaves, goes silent for `keep_alive`, breaks the
    /// protocol, or the hub stops or another connection of the device takes over.
    async fn serve<S>(
        &mut self,
        framed: &mut Framed<S, Codec>,
        keep_alive: Duration,
        taken_over: &Notify,
        stop: &mut watch::Receiver<bool>,
    ) -> End
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut deadline = Instant::now() + keep_alive;
        loop {
            let step = tokio::select! {
                _ = stop.changed() => Err(End::Quiet),
                _ = taken_over.notified() => Err(End::Quiet),
                _ = tokio::time::sleep_until(deadline) => Err(End::Abrupt("keep-alive expired".into())),
                Some(d) = self.deliveries.recv() => self.deliver(framed, d).await,
                packet = framed.next() => match packet {
                    Some(Ok(packet)) => {
                        deadline = Instant::now() + keep_alive;
                        self.handle(framed, packet).await
                    }
                    Some(Err(e)) => {
                        add(&self.shared.metrics.malformed, 1);
                        Err(End::Abrupt(format!("malformed packet: {e:?}")))
                    }
                    None => Err(End::Abrupt("connection closed".into())),
                },
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Acts on one packet from the device.
    async fn handle<S>(&mut self, framed: &mut Framed<S, Codec>, packet: Packet) -> Result<(), End>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let reply = match packet {
            Packet::Publish(p) => self.publish(framed, p).await?,
            Packet::Subscribe(s) => {
                let codes = s
                    .filters
                    .iter()
                    .map(|f| self.subscribe(&f.path, f.qos))
                    .collect();
                Some(Packet::SubAck(SubAck::new(s.pkid, codes)))
            }
            Packet::Unsubscribe(u) => {
                for topic in &u.topics {
                    self.subscriptions.remove(topic);
                }
                Some(Packet::UnsubAck(UnsubAck::new(u.pkid)))
            }
            Packet::PingReq => Some(Packet::PingResp),
            Packet::PubAck(_) => None,
            Packet::Disconnect => return Err(End::Clean),
            other => {
                add(&self.shared.metrics.malformed, 1);
                return Err(End::Abrupt(format!("unexpected packet {other:?}")));
            }
        };
        match reply {
            Some(reply) => framed
                .send(reply)
                .await
                .map_err(|e| End::Abrupt(format!("write: {e:?}"))),
            None => Ok(()),
        }
    }

    /// Passes a publish to ingest when the topic is the device's own; the answer is its PUBACK.
    async fn publish<S>(
        &mut self,
        framed: &mut Framed<S, Codec>,
        p: Publish,
    ) -> Result<Option<Packet>, End>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if !acl::may_publish(&self.shared.site, self.device, &p.topic) {
            add(&self.shared.metrics.forged, 1);
            tracing::warn!(device = %self.device, topic = p.topic, "mqtt: publish outside own topics");
            return Err(End::Abrupt(format!("published on {}", p.topic)));
        }
        if p.qos == QoS::ExactlyOnce {
            return Err(End::Abrupt("QoS 2 is not supported".into()));
        }
        let (qos, pkid) = (p.qos, p.pkid);
        // Waiting here, for one of the unit's places and then for room in the queue, is the
        // backpressure: a busy ingest slows the device's socket down. The device's acks keep
        // going out meanwhile; were they left queued behind this wait, a long one would fill
        // the queue and drop them, and the device would resend records the hub already holds.
        let (inbound, places) = (self.inbound, self.places.clone());
        let mut sent = std::pin::pin!(async move {
            let place = places.acquire_owned().await.ok();
            let incoming = Incoming {
                topic: p.topic,
                payload: p.payload,
                place,
            };
            inbound.send(incoming).await
        });
        loop {
            tokio::select! {
                biased;
                done = &mut sent => break done.map_err(|_| End::Quiet)?,
                Some(d) = self.deliveries.recv() => self.deliver(framed, d).await?,
            }
        }
        Ok((qos == QoS::AtLeastOnce).then(|| Packet::PubAck(PubAck::new(pkid))))
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> SubscribeReasonCode {
        if !acl::may_subscribe(&self.shared.site, self.device, filter) {
            add(&self.shared.metrics.forged, 1);
            tracing::warn!(device = %self.device, filter, "mqtt: subscription outside own topics refused");
            return SubscribeReasonCode::Failure;
        }
        self.subscriptions.insert(filter.to_owned());
        let granted = match qos {
            QoS::AtMostOnce => QoS::AtMostOnce,
            QoS::AtLeastOnce | QoS::ExactlyOnce => QoS::AtLeastOnce,
        };
        SubscribeReasonCode::Success(granted)
    }

    /// Sends a hub message to the device if it subscribed to its topic (QoS 1).
    async fn deliver<S>(&mut self, framed: &mut Framed<S, Codec>, d: Delivery) -> Result<(), End>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if !self.subscriptions.contains(&d.topic) {
            add(&self.shared.metrics.publish_failures, 1);
            return Ok(());
        }
        self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
        let mut publish = Publish::from_bytes(d.topic, QoS::AtLeastOnce, d.payload);
        publish.pkid = self.next_pkid;
        framed
            .send(Packet::Publish(publish))
            .await
            .map_err(|e| End::Abrupt(format!("write: {e:?}")))
    }
}
