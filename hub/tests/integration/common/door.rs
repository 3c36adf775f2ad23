//! A fake door unit on a real broker: publishes as one device and collects what the hub sends
//! it, so tests can check acks and gallery updates as a device sees them.

use std::net::SocketAddr;
use std::time::Duration;

use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::*;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

use super::TestHub;

/// A fake door unit: publishes as `device` and collects what the hub sends it.
pub struct Door {
    pub client: AsyncClient,
    inbox: mpsc::UnboundedReceiver<(Channel, Envelope)>,
    site: SiteId,
    pub device: DeviceId,
    /// The protocol version it writes in (the current one unless a test says otherwise).
    pub version: u16,
    /// The site settings the hub has sent, oldest first (`next` sets them aside).
    pub settings: Vec<SiteSettings>,
    /// The protocol version of the last message `next` returned.
    pub heard_version: u16,
}

/// The options a door unit connects with: its id as client id (and user name with `secret`).
pub fn options(addr: SocketAddr, device: DeviceId, secret: Option<&str>) -> MqttOptions {
    let mut opts = MqttOptions::new(device.to_string(), addr.ip().to_string(), addr.port());
    opts.set_keep_alive(Duration::from_secs(5));
    opts.set_max_packet_size(Limits::FROM_HUB.max_bytes, Limits::FROM_HUB.max_bytes);
    if let Some(secret) = secret {
        opts.set_credentials(device.to_string(), secret);
    }
    opts
}

impl Door {
    /// A door unit on an anonymous Mosquitto.
    pub async fn connect(broker: &Mosquitto, site: &SiteId, device: DeviceId) -> Door {
        Door::connect_with(options(broker.addr(), device, None), site, device).await
    }

    /// A door unit logged in to the hub's embedded broker with its secret.
    pub async fn login(hub: &TestHub, device: DeviceId, secret: &str) -> Door {
        let opts = options(hub.mqtt_addr, device, Some(secret));
        Door::connect_with(opts, &hub.site, device).await
    }

    /// A door unit connected with `opts`, subscribed to its three channels.
    pub async fn connect_with(opts: MqttOptions, site: &SiteId, device: DeviceId) -> Door {
        let (client, events) = AsyncClient::new(opts, 64);
        for channel in [Channel::Acks, Channel::Gallery, Channel::Commands] {
            let topic = Topic::new(site, device, channel).to_string();
            client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
        }
        let (tx, inbox) = mpsc::unbounded_channel();
        let (subscribed_tx, mut subscribed) = mpsc::unbounded_channel();
        tokio::spawn(pump(events, tx, subscribed_tx));
        for _ in 0..3 {
            tokio::time::timeout(Duration::from_secs(10), subscribed.recv())
                .await
                .unwrap();
        }
        Door {
            client,
            inbox,
            site: site.clone(),
            device,
            version: PROTOCOL_VERSION,
            settings: Vec::new(),
            heard_version: 0,
        }
    }

    pub async fn publish(&self, channel: Channel, message: &Message) {
        let payload = encode_as(self.version, message, Limits::FROM_DEVICE).unwrap();
        self.publish_raw(channel, payload).await;
    }

    pub async fn publish_raw(&self, channel: Channel, payload: Vec<u8>) {
        let topic = Topic::new(&self.site, self.device, channel).to_string();
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    /// Publishes `record` while `held` holds the hub's store, lets the store go a second
    /// later, and waits for the record's ack.
    pub async fn publish_then_release(
        &mut self,
        record: &AttendanceRecord,
        held: rusqlite::Connection,
    ) {
        self.publish(Channel::Records, &Message::Record(record.clone()))
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        held.execute_batch("ROLLBACK").unwrap();
        let Message::Ack(ack) = self.next(Channel::Acks).await else {
            panic!("{} is acknowledged", record.id);
        };
        assert_eq!(ack.records, vec![record.id]);
    }

    pub async fn next(&mut self, channel: Channel) -> Message {
        let wait = async {
            loop {
                let (c, Envelope { version, message }) = self.inbox.recv().await.unwrap();
                match message {
                    Message::Site(s) => self.settings.push(s),
                    m if c == channel => return (version, m),
                    _ => {}
                }
            }
        };
        let (version, message) = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("a message from the hub within 10 s");
        self.heard_version = version;
        message
    }
}

async fn pump(
    mut events: EventLoop,
    tx: mpsc::UnboundedSender<(Channel, Envelope)>,
    subscribed: mpsc::UnboundedSender<()>,
) {
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                let _ = subscribed.send(());
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let topic = Topic::parse(&p.topic).unwrap();
                let envelope = decode_envelope(&p.payload, Limits::FROM_HUB).unwrap();
                let _ = tx.send((topic.channel, envelope));
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// A hub on an anonymous Mosquitto with the test school seeded and its door unit connected:
/// where most ingest tests start.
pub struct AtTheDoor {
    pub broker: Mosquitto,
    pub hub: TestHub,
    pub admin: super::Api,
    pub school: super::School,
    pub device: DeviceId,
    pub door: Door,
}

/// Starts [`AtTheDoor`].
pub async fn at_the_door() -> AtTheDoor {
    let broker = Mosquitto::start().unwrap();
    let hub = super::start_hub(Some(broker.addr())).await;
    super::wait_connected(&hub).await;
    let admin = hub.admin().await;
    let school = super::seed_school(&admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let door = Door::connect(&broker, &hub.site, device).await;
    AtTheDoor {
        broker,
        hub,
        admin,
        school,
        device,
        door,
    }
}
