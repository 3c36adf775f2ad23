//! A door unit simulated in the test process: logs in to the hub's embedded broker as one
//! registered device, publishes whatever it is told (well-formed records or garbage) and
//! collects the hub's acknowledgements.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    AttendanceRecord, Decision, DeviceId, Embedding, FaceQuality, GalleryVersion, Limits, Message,
    ModelId, RecordId, SiteId, Thumbnail, UnixMillis, decode, encode,
};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

/// What the simulated door unit heard.
#[derive(Debug)]
pub enum Heard {
    Message(Channel, Message),
    /// The connection ended (the broker closed it, or an error).
    Disconnected(String),
}

/// A simulated door unit.
#[derive(Debug)]
pub struct Door {
    pub client: AsyncClient,
    pub device: DeviceId,
    site: SiteId,
    inbox: mpsc::UnboundedReceiver<Heard>,
}

/// The `password = "…"` line of a secrets file written by `device add --secrets-file`.
pub fn secret_from(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file)?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("password"))
        .and_then(|rest| rest.split('"').nth(1))
        .map(str::to_owned)
        .with_context(|| format!("no password in {}", file.display()))
}

/// The options a door unit logs in with: its id as client id and user name.
pub fn options(port: u16, device: DeviceId, secret: &str) -> MqttOptions {
    let mut opts = MqttOptions::new(device.to_string(), "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(Limits::FROM_HUB.max_bytes, Limits::FROM_HUB.max_bytes);
    opts.set_credentials(device.to_string(), secret);
    opts
}

/// A client that sends each packet at once, as the door unit's does (no Nagle delay).
pub fn client(options: MqttOptions, capacity: usize) -> (AsyncClient, EventLoop) {
    let (client, mut events) = AsyncClient::new(options, capacity);
    let mut network = events.network_options();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    (client, events)
}

impl Door {
    /// Logs in to the broker at `port` and subscribes to the device's acks.
    pub async fn login(
        port: u16,
        site: &str,
        device: DeviceId,
        secret: &str,
    ) -> anyhow::Result<Door> {
        let site = SiteId::new(site)?;
        let (client, events) = client(options(port, device, secret), 1024);
        let acks = Topic::new(&site, device, Channel::Acks).to_string();
        client.subscribe(acks, QoS::AtLeastOnce).await?;
        let (tx, inbox) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        tokio::spawn(pump(events, tx, ready_tx));
        tokio::time::timeout(Duration::from_secs(10), ready.recv())
            .await
            .context("no SUBACK within 10 s")?
            .context("the connection ended before the SUBACK")?;
        Ok(Door {
            client,
            device,
            site,
            inbox,
        })
    }

    /// The topic of this device's `channel`.
    pub fn topic(&self, channel: Channel) -> String {
        Topic::new(&self.site, self.device, channel).to_string()
    }

    pub async fn publish(&self, channel: Channel, message: &Message) -> anyhow::Result<()> {
        self.publish_raw(&self.topic(channel), encode(message, Limits::FROM_DEVICE)?)
            .await
    }

    pub async fn publish_raw(&self, topic: &str, payload: Vec<u8>) -> anyhow::Result<()> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await?;
        Ok(())
    }

    /// The next thing heard, or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Heard> {
        tokio::time::timeout(timeout, self.inbox.recv())
            .await
            .ok()
            .flatten()
    }

    /// Waits up to `timeout` for acks naming every id in `ids`; returns those acked.
    pub async fn acked(&mut self, ids: &[RecordId], timeout: Duration) -> Vec<RecordId> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut acked = Vec::new();
        while !ids.iter().all(|id| acked.contains(id)) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Heard::Message(_, Message::Ack(ack))) => acked.extend(ack.records),
                Some(Heard::Message(..)) => {}
                Some(Heard::Disconnected(_)) | None => break,
            }
        }
        acked
    }
}

async fn pump(
    mut events: EventLoop,
    tx: mpsc::UnboundedSender<Heard>,
    ready: mpsc::UnboundedSender<()>,
) {
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                let _ = ready.send(());
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let channel = Topic::parse(&p.topic).map(|t| t.channel);
                if let (Some(channel), Ok(message)) =
                    (channel, decode(&p.payload, Limits::FROM_HUB))
                {
                    let _ = tx.send(Heard::Message(channel, message));
                }
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Heard::Disconnected(e.to_string()));
                return;
            }
        }
    }
}

/// A well-formed Unknown record from `device` in `room`, captured at `captured_at`.
pub fn record(device: DeviceId, room: &str, captured_at: UnixMillis) -> AttendanceRecord {
    AttendanceRecord {
        id: RecordId::now_v7(),
        device,
        room: room.to_owned(),
        captured_at,
        model: ModelId::new("dlib-resnet-v1").expect("a valid model id"),
        gallery_version: GalleryVersion(0),
        embedding: Embedding([0.1; rollcall_shared::EMBEDDING_DIM]),
        decision: Decision::Unknown,
        candidates: Vec::new(),
        thumbnail: Some(Thumbnail(vec![0xFF, 0xD8, 0xFF, 0xD9])),
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.98,
            yaw_deg: 2.0,
            frames: 1,
        },
        clock: rollcall_shared::ClockSync::Unknown,
        direction: Some(rollcall_shared::Direction::Both),
        liveness: None,
        staff: None,
    }
}
