//! The MQTT topic layout, in one place.
//!
//! `rollcall/v1/{site}/{device}/{channel}`. Devices publish on `records`, `status` and
//! `requests` and subscribe to `acks`, `gallery` and `commands`; the hub the other way round,
//! with `+` in the device segment. A broker ACL lets each device use only its own topics.
//! Records are published with QoS 1 and never retained.

use std::fmt;
use std::str::FromStr;

use crate::ids::{DeviceId, SiteId};

/// First segments of every topic; bumped with incompatible protocol changes.
pub const PREFIX: &str = "rollcall/v1";

/// The last segment of a topic: what flows on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Device → hub: attendance records (QoS 1, not retained).
    Records,
    /// Device → hub: heartbeats and the last will (QoS 1, retained so the hub sees the last one).
    Status,
    /// Device → hub: gallery requests (QoS 1).
    Requests,
    /// Hub → device: record acknowledgements (QoS 1).
    Acks,
    /// Hub → device: gallery updates (QoS 1).
    Gallery,
    /// Hub → device: commands (QoS 1).
    Commands,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Records,
        Channel::Status,
        Channel::Requests,
        Channel::Acks,
        Channel::Gallery,
        Channel::Commands,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Records => "records",
            Channel::Status => "status",
            Channel::Requests => "requests",
            Channel::Acks => "acks",
            Channel::Gallery => "gallery",
            Channel::Commands => "commands",
        }
    }

    /// Whether devices publish on this channel (the hub subscribes to it).
    pub fn from_device(self) -> bool {
        matches!(self, Channel::Records | Channel::Status | Channel::Requests)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

/// A concrete topic of one device.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    pub site: SiteId,
    pub device: DeviceId,
    pub channel: Channel,
}

impl Topic {
    pub fn new(site: &SiteId, device: DeviceId, channel: Channel) -> Self {
        Self {
            site: site.clone(),
            device,
            channel,
        }
    }

    /// Parses a topic the hub received; `None` for anything not of the layout.
    pub fn parse(topic: &str) -> Option<Topic> {
        let rest = topic.strip_prefix(PREFIX)?.strip_prefix('/')?;
        let mut parts = rest.split('/');
        let site = SiteId::new(parts.next()?).ok()?;
        let device = parts.next()?.parse().ok()?;
        let channel = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Topic {
            site,
            device,
            channel,
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}/{}/{}/{}", self.site, self.device, self.channel)
    }
}

/// The filter the hub subscribes with to hear `channel` from every device of `site`.
pub fn hub_filter(site: &SiteId, channel: Channel) -> String {
    format!("{PREFIX}/{site}/+/{channel}")
}

/// [`hub_filter`] as a shared subscription of the hubs of `site` (`$share/GROUP/FILTER`,
/// MQTT 5, which Mosquitto also grants MQTT 3.1.1 clients): the broker hands each message
/// to one of the hubs subscribed this way rather than to all of them.
pub fn shared_hub_filter(site: &SiteId, channel: Channel) -> String {
    format!("$share/rollcall-hubs-{site}/{}", hub_filter(site, channel))
}

/// The filter a hub serving several schools subscribes with to hear `channel` from every
/// device of every site on the broker: one subscription whatever the number of schools (a
/// clustered broker keeps state per subscription), the site read from each topic.
pub fn district_filter(channel: Channel) -> String {
    format!("{PREFIX}/+/+/{channel}")
}

/// [`district_filter`] as a shared subscription of the district's hubs.
pub fn shared_district_filter(channel: Channel) -> String {
    format!("$share/rollcall-hubs/{}", district_filter(channel))
}

/// The broker ACL pattern (Mosquitto's `pattern` syntax, `%u` = user name = device id) that
/// lets a device use only its own topics.
pub fn device_acl_pattern(site: &SiteId, channel: Channel) -> String {
    format!("{PREFIX}/{site}/%u/{channel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_their_string_form() {
        let site = SiteId::new("north").unwrap();
        for channel in Channel::ALL {
            let t = Topic::new(&site, DeviceId::random(), channel);
            assert_eq!(Topic::parse(&t.to_string()), Some(t));
        }
    }

    #[test]
    fn foreign_and_malformed_topics_are_not_parsed() {
        let d = DeviceId::random();
        for bad in [
            format!("rollcall/v2/north/{d}/records"),
            format!("rollcall/v1/north/{d}/records/extra"),
            format!("rollcall/v1/north/{d}/nope"),
            "rollcall/v1/north/not-a-uuid/records".to_owned(),
            format!("rollcall/v1/No+rth/{d}/records"),
            format!("rollcall/v1/north/{d}"),
        ] {
            assert_eq!(Topic::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn hub_filter_matches_every_device_of_a_site() {
        let site = SiteId::new("north").unwrap();
        assert_eq!(
            hub_filter(&site, Channel::Records),
            "rollcall/v1/north/+/records"
        );
        assert_eq!(
            device_acl_pattern(&site, Channel::Acks),
            "rollcall/v1/north/%u/acks"
        );
        assert!(Channel::Records.from_device() && !Channel::Acks.from_device());
    }
}
