//! The wire protocol through a real Mosquitto: a device's record reaches a subscriber on the
//! hub's topic filter intact, QoS 1, not retained.

use std::time::Duration;

use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::{Channel, Topic, hub_filter};
use rollcall_shared::*;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

fn record(device: DeviceId) -> AttendanceRecord {
    AttendanceRecord {
        id: RecordId::now_v7(),
        device,
        room: "Lab 3".into(),
        captured_at: UnixMillis::now(),
        model: ModelId::new("test-model").unwrap(),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.1; rollcall_shared::EMBEDDING_DIM]),
        candidates: vec![Candidate {
            student: StudentId::random(),
            distance: 0.31,
        }],
        decision: Decision::Confident,
        thumbnail: None,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.98,
            yaw_deg: 2.0,
            frames: 3,
        },
        clock: rollcall_shared::ClockSync::Unknown,
        direction: Some(rollcall_shared::Direction::Both),
        liveness: None,
        staff: None,
    }
}

fn client(id: &str, broker: &Mosquitto) -> (AsyncClient, rumqttc::EventLoop) {
    let addr = broker.addr();
    let mut opts = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    opts.set_keep_alive(Duration::from_secs(5));
    AsyncClient::new(opts, 16)
}

#[tokio::test]
async fn a_record_crosses_a_real_broker_intact() {
    let broker = Mosquitto::start().expect("start mosquitto");
    let site = SiteId::new("test-site").unwrap();
    let device = DeviceId::random();

    let (hub, mut hub_loop) = client("hub", &broker);
    hub.subscribe(hub_filter(&site, Channel::Records), QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = hub_loop.poll().await.unwrap() {
            break;
        }
    }

    let (edge, mut edge_loop) = client(&device.to_string(), &broker);
    let sent = record(device);
    let payload = encode(&Message::Record(sent.clone()), Limits::FROM_DEVICE).unwrap();
    let topic = Topic::new(&site, device, Channel::Records).to_string();
    edge.publish(topic.clone(), QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
    tokio::spawn(async move { while edge_loop.poll().await.is_ok() {} });

    let received = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = hub_loop.poll().await.unwrap() {
                return p;
            }
        }
    })
    .await
    .expect("the record arrived within 10 s");

    assert_eq!(received.topic, topic);
    assert!(!received.retain, "records are never retained");
    assert_eq!(received.qos, QoS::AtLeastOnce);
    let parsed = Topic::parse(&received.topic).unwrap();
    assert_eq!((parsed.device, parsed.channel), (device, Channel::Records));
    assert_eq!(
        decode(&received.payload, Limits::FROM_DEVICE).unwrap(),
        Message::Record(sent)
    );
}
