//! Turning one incoming publish into a trusted `(device, envelope)` pair, or saying why not.
//! Pure: no database, no broker. Whether the device is registered is `process`'s job.

use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{DecodeError, DeviceId, Envelope, Limits, Message, SiteId, decode_envelope};

/// Why a publish was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("topic {0:?} is not a device topic of this site")]
    BadTopic(String),
    #[error("undecodable payload: {0}")]
    Malformed(#[from] DecodeError),
    #[error("a {kind} message does not belong on the {channel} channel")]
    WrongChannel {
        kind: &'static str,
        channel: Channel,
    },
    #[error("message names device {claimed} but arrived on the topic of {topic}")]
    Forged { claimed: DeviceId, topic: DeviceId },
}

/// The device a message speaks for, when it names one.
fn claimed_device(message: &Message) -> Option<DeviceId> {
    match message {
        Message::Record(r) => Some(r.device),
        Message::Status(s) => Some(s.device),
        Message::Offline(o) => Some(o.device),
        Message::GalleryRequest(g) => Some(g.device),
        Message::SettingsReport(r) => Some(r.device),
        Message::Ack(_)
        | Message::Gallery(_)
        | Message::Command(_)
        | Message::Site(_)
        | Message::UnitSettings(_) => None,
    }
}

fn belongs_on(message: &Message, channel: Channel) -> bool {
    matches!(
        (message, channel),
        (Message::Record(_), Channel::Records)
            | (
                Message::Status(_) | Message::Offline(_) | Message::SettingsReport(_),
                Channel::Status
            )
            | (Message::GalleryRequest(_), Channel::Requests)
    )
}

/// Checks topic, payload and identity of one publish. The envelope keeps the protocol
/// version the device wrote in, which the hub answers in.
pub fn classify(
    site: &SiteId,
    topic: &str,
    payload: &[u8],
) -> Result<(DeviceId, Envelope), Refusal> {
    let parsed = Topic::parse(topic)
        .filter(|t| &t.site == site && t.channel.from_device())
        .ok_or_else(|| Refusal::BadTopic(topic.to_owned()))?;
    let envelope = decode_envelope(payload, Limits::FROM_DEVICE)?;
    let message = &envelope.message;
    if !belongs_on(message, parsed.channel) {
        return Err(Refusal::WrongChannel {
            kind: message.kind(),
            channel: parsed.channel,
        });
    }
    match claimed_device(message) {
        Some(claimed) if claimed == parsed.device => Ok((parsed.device, envelope)),
        Some(claimed) => Err(Refusal::Forged {
            claimed,
            topic: parsed.device,
        }),
        None => Err(Refusal::WrongChannel {
            kind: message.kind(),
            channel: parsed.channel,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_shared::{
        DeviceOffline, GalleryRequest, GalleryVersion, OLDEST_VERSION, PROTOCOL_VERSION, encode,
        encode_as,
    };

    fn site() -> SiteId {
        SiteId::new("north").unwrap()
    }

    fn request(device: DeviceId) -> Vec<u8> {
        let m = Message::GalleryRequest(GalleryRequest {
            device,
            have: GalleryVersion(0),
            full: false,
        });
        encode(&m, Limits::FROM_DEVICE).unwrap()
    }

    #[test]
    fn a_message_on_its_own_devices_topic_is_accepted() {
        let d = DeviceId::random();
        let topic = Topic::new(&site(), d, Channel::Requests).to_string();
        let (device, envelope) = classify(&site(), &topic, &request(d)).unwrap();
        assert_eq!((device, envelope.version), (d, PROTOCOL_VERSION));
    }

    #[test]
    fn a_door_unit_one_version_behind_is_understood_and_its_version_kept() {
        let d = DeviceId::random();
        let topic = Topic::new(&site(), d, Channel::Status).to_string();
        let old = encode_as(
            OLDEST_VERSION,
            &Message::Offline(DeviceOffline { device: d }),
            Limits::FROM_DEVICE,
        );
        let (_, envelope) = classify(&site(), &topic, &old.unwrap()).unwrap();
        assert_eq!(envelope.version, OLDEST_VERSION);
    }

    #[test]
    fn forged_misplaced_foreign_and_garbage_payloads_are_refused() {
        let d = DeviceId::random();
        let other = DeviceId::random();
        let topic = |c| Topic::new(&site(), d, c).to_string();
        assert!(matches!(
            classify(&site(), &topic(Channel::Requests), &request(other)),
            Err(Refusal::Forged { .. })
        ));
        assert!(matches!(
            classify(&site(), &topic(Channel::Records), &request(d)),
            Err(Refusal::WrongChannel { .. })
        ));
        let elsewhere = Topic::new(&SiteId::new("south").unwrap(), d, Channel::Requests);
        assert!(matches!(
            classify(&site(), &elsewhere.to_string(), &request(d)),
            Err(Refusal::BadTopic(_))
        ));
        assert!(matches!(
            classify(&site(), &topic(Channel::Status), b"\x01\xffgarbage"),
            Err(Refusal::Malformed(_))
        ));
        let offline = encode(
            &Message::Offline(DeviceOffline { device: d }),
            Limits::FROM_DEVICE,
        );
        assert!(classify(&site(), &topic(Channel::Status), &offline.unwrap()).is_ok());
    }
}
