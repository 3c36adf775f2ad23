//! A small stand-in for the hub: decodes records, acknowledges them (optionally losing some
//! acks), answers gallery requests with the school's time zone (as the hub does,
//! [`SCHOOL_ZONE`]) and a snapshot it built with the real pipeline from
//! enrolment photos, and keeps everything it received for the test to check.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::model_id;
use rollcall_shared::topics::{Channel, Topic, hub_filter};
use rollcall_shared::*;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::task::JoinHandle;

use super::pipeline;

/// The enrolled gallery and who is who.
pub struct Enrolment {
    pub update: GalleryUpdate,
    pub students: HashMap<String, StudentId>,
}

/// Enrols each identity from the given photos with the real pipeline.
pub fn enrol(people: &[(&str, Vec<PathBuf>)]) -> Enrolment {
    let pipeline = pipeline();
    let mut state = GalleryState::empty(model_id());
    state.version = GalleryVersion(1);
    let mut students = HashMap::new();
    for (name, photos) in people {
        let student = StudentId::random();
        let mut embeddings = Vec::new();
        for photo in photos {
            let image = load_image(photo, ImageLimits::default()).unwrap();
            let face = pipeline
                .primary_face(&image)
                .unwrap()
                .expect("an enrolment face");
            let e = pipeline.embed(std::slice::from_ref(&face)).unwrap();
            embeddings.push(e[0]);
        }
        let entry = GalleryEntry {
            student,
            classes: Vec::new(),
            embeddings,
        };
        state.entries.insert(student, entry);
        students.insert(name.to_string(), student);
    }
    Enrolment {
        update: GalleryUpdate::snapshot(&state),
        students,
    }
}

/// What the hub has seen.
#[derive(Default)]
pub struct Seen {
    /// Every record delivery, duplicates included, in arrival order.
    pub deliveries: Vec<AttendanceRecord>,
    pub statuses: Vec<DeviceStatus>,
    pub requests: Vec<GalleryRequest>,
}

impl Seen {
    /// Deliveries per record id (the hub's dedupe).
    pub fn by_id(&self) -> BTreeMap<RecordId, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.deliveries {
            *counts.entry(r.id).or_insert(0) += 1;
        }
        counts
    }

    /// The deduplicated records, first delivery of each.
    pub fn records(&self) -> Vec<AttendanceRecord> {
        let mut seen = std::collections::HashSet::new();
        self.deliveries
            .iter()
            .filter(|r| seen.insert(r.id))
            .cloned()
            .collect()
    }
}

/// A running hub client.
pub struct Hub {
    pub seen: Arc<Mutex<Seen>>,
    /// Acks to lose before acknowledging again.
    pub lose_acks: Arc<AtomicU32>,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hub {
    /// A hub that sends `gallery` on request, and says to keep faces that match nobody.
    pub fn start(broker: SocketAddr, gallery: Option<GalleryUpdate>) -> Hub {
        Self::start_with(broker, gallery, UnknownFaces::Keep)
    }

    /// A hub that sends `gallery` on request, and says what to do with faces that match
    /// nobody.
    pub fn start_with(
        broker: SocketAddr,
        gallery: Option<GalleryUpdate>,
        unknown_faces: UnknownFaces,
    ) -> Hub {
        let mut opts = MqttOptions::new(
            format!("hub-{}", uuid::Uuid::new_v4()),
            broker.ip().to_string(),
            broker.port(),
        );
        opts.set_keep_alive(Duration::from_secs(5));
        opts.set_max_packet_size(Limits::FROM_HUB.max_bytes, Limits::FROM_HUB.max_bytes);
        let (client, mut eventloop) = AsyncClient::new(opts, 64);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let lose_acks = Arc::new(AtomicU32::new(0));
        let state = HubState {
            client,
            seen: seen.clone(),
            lose_acks: lose_acks.clone(),
            gallery,
            unknown_faces,
        };
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => state.subscribe().await,
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        state.on_publish(&p.topic, &p.payload).await
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Hub {
            seen,
            lose_acks,
            task,
        }
    }

    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().unwrap())
    }
}

struct HubState {
    client: AsyncClient,
    seen: Arc<Mutex<Seen>>,
    lose_acks: Arc<AtomicU32>,
    gallery: Option<GalleryUpdate>,
    unknown_faces: UnknownFaces,
}

/// The zone the stand-in hub says the school is in (not this machine's, so a test can tell).
pub const SCHOOL_ZONE: &str = "Pacific/Auckland";

fn site() -> SiteId {
    SiteId::new("test-site").unwrap()
}

impl HubState {
    async fn subscribe(&self) {
        for channel in [Channel::Records, Channel::Status, Channel::Requests] {
            self.client
                .subscribe(hub_filter(&site(), channel), QoS::AtLeastOnce)
                .await
                .unwrap();
        }
    }

    async fn on_publish(&self, topic: &str, payload: &[u8]) {
        let Some(topic) = Topic::parse(topic) else {
            return;
        };
        match decode(payload, Limits::FROM_DEVICE) {
            Ok(Message::Record(r)) => self.on_record(topic.device, r).await,
            Ok(Message::Status(s)) => self.seen.lock().unwrap().statuses.push(s),
            Ok(Message::GalleryRequest(req)) => self.on_request(topic.device, req).await,
            _ => {}
        }
    }

    async fn on_record(&self, device: DeviceId, record: AttendanceRecord) {
        let id = record.id;
        self.seen.lock().unwrap().deliveries.push(record);
        let lose = self
            .lose_acks
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if lose {
            return;
        }
        let ack = Message::Ack(RecordAck { records: vec![id] });
        self.send(device, Channel::Acks, ack).await;
    }

    async fn on_request(&self, device: DeviceId, request: GalleryRequest) {
        self.seen.lock().unwrap().requests.push(request);
        if let Some(update) = &self.gallery {
            let settings = SiteSettings {
                timezone: SCHOOL_ZONE.into(),
                unknown_faces: self.unknown_faces,
            };
            self.send(device, Channel::Gallery, Message::Site(settings))
                .await;
            self.send(device, Channel::Gallery, Message::Gallery(update.clone()))
                .await;
        }
    }

    async fn send(&self, device: DeviceId, channel: Channel, message: Message) {
        let topic = Topic::new(&site(), device, channel).to_string();
        let bytes = encode(&message, Limits::FROM_HUB).unwrap();
        self.client
            .publish(topic, QoS::AtLeastOnce, false, bytes)
            .await
            .unwrap();
    }
}
