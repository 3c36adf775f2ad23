//! Which topics a door unit may use: it publishes only on its own device channels (records,
//! status, requests) and subscribes only to its own hub channels (acks, gallery, commands),
//! named exactly, without wildcards. Pure functions, no I/O.

use rollcall_shared::topics::Topic;
use rollcall_shared::{DeviceId, SiteId};

/// Whether `device` may publish on `topic`.
pub fn may_publish(site: &SiteId, device: DeviceId, topic: &str) -> bool {
    own(site, device, topic).is_some_and(|t| t.channel.from_device())
}

/// Whether `device` may subscribe to `filter`.
pub fn may_subscribe(site: &SiteId, device: DeviceId, filter: &str) -> bool {
    own(site, device, filter).is_some_and(|t| !t.channel.from_device())
}

/// `topic` parsed, when it is one of `device`'s topics at `site`.
fn own(site: &SiteId, device: DeviceId, topic: &str) -> Option<Topic> {
    Topic::parse(topic).filter(|t| &t.site == site && t.device == device)
}

#[cfg(test)]
mod tests {
    use rollcall_shared::topics::Channel;

    use super::*;

    fn site() -> SiteId {
        SiteId::new("north").unwrap()
    }

    fn topic(device: DeviceId, channel: Channel) -> String {
        Topic::new(&site(), device, channel).to_string()
    }

    #[test]
    fn a_device_publishes_only_its_own_device_channels() {
        let (me, other) = (DeviceId::random(), DeviceId::random());
        for channel in Channel::ALL {
            let allowed = channel.from_device();
            assert_eq!(may_publish(&site(), me, &topic(me, channel)), allowed);
            assert!(!may_publish(&site(), me, &topic(other, channel)));
        }
        let elsewhere = Topic::new(&SiteId::new("south").unwrap(), me, Channel::Records);
        assert!(!may_publish(&site(), me, &elsewhere.to_string()));
    }

    #[test]
    fn a_device_subscribes_only_to_its_own_hub_channels_without_wildcards() {
        let (me, other) = (DeviceId::random(), DeviceId::random());
        for channel in Channel::ALL {
            let allowed = !channel.from_device();
            assert_eq!(may_subscribe(&site(), me, &topic(me, channel)), allowed);
            assert!(!may_subscribe(&site(), me, &topic(other, channel)));
        }
        for filter in [
            "#".to_owned(),
            "rollcall/v1/north/#".to_owned(),
            "rollcall/v1/north/+/acks".to_owned(),
            format!("rollcall/v1/north/{me}/+"),
            format!("rollcall/v1/north/{me}/acks/#"),
        ] {
            assert!(!may_subscribe(&site(), me, &filter), "{filter}");
        }
    }
}
