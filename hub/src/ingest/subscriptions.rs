//! What the intake subscribes to, kept so as schools move between hubs.
//!
//! A hub hears the channels door units publish on. For `status` and `requests` (a heartbeat
//! now and then, a gallery asked for) it subscribes with one filter for its one school's
//! site or, serving several, for every site. For `records`, the traffic, it subscribes only
//! to what it answers: when the hubs divide the schools, each subscribes to its own schools'
//! records, so the broker delivers a record to one hub, not to every hub (on a broker
//! without shared subscriptions, such as a NATS cluster, that is the only way); serving
//! them all, one filter for every site again. As hubs come and go the schools move, and
//! [`keep`] subscribes to the ones gained and unsubscribes from the ones lost.
//!
//! A record published while its school moves may reach neither hub: its door unit keeps it
//! and publishes it again until a hub acknowledges it. One that reaches the hub losing it is
//! left unread at the link ([`Intakes`]).

use std::collections::BTreeSet;
use std::future::pending;
use std::sync::Arc;

use futures_util::future::select_all;
use rollcall_shared::SiteId;
use rollcall_shared::topics::{
    Channel, district_filter, hub_filter, shared_district_filter, shared_hub_filter,
};
use rumqttc::{AsyncClient, QoS, SubscribeFilter};
use tokio::sync::{Notify, watch};

use super::route::{Heard, Intakes};
use crate::cluster::View;

/// The filters the intake should hold for `schools`; with `shared`, records through the
/// hubs' shared subscription (the broker then divides them: every hub subscribes to all).
pub fn wanted(schools: &[Heard], shared: bool) -> BTreeSet<String> {
    let every = |c| match schools {
        [one] => hub_filter(&one.site, c),
        _ => district_filter(c),
    };
    let mut filters: BTreeSet<String> = [Channel::Status, Channel::Requests].map(every).into();
    let answered: Vec<&SiteId> = schools
        .iter()
        .filter(|s| s.answers)
        .map(|s| &s.site)
        .collect();
    match (schools, shared) {
        ([one], true) => {
            filters.insert(shared_hub_filter(&one.site, Channel::Records));
        }
        (_, true) => {
            filters.insert(shared_district_filter(Channel::Records));
        }
        (_, false) if answered.len() == schools.len() => {
            filters.insert(every(Channel::Records));
        }
        (_, false) => filters.extend(answered.iter().map(|s| hub_filter(s, Channel::Records))),
    }
    filters
}

/// Keeps `client`'s subscriptions [`wanted`] for what `intakes` answers, schools added
/// included, until `stop`.
/// `anew` is told when the broker holds none of them: after each connection (a clean
/// session), or when it refused one (which, it does not say).
pub async fn keep(
    client: AsyncClient,
    intakes: Intakes,
    shared: bool,
    anew: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut views = intakes.views();
    let mut added = intakes.added();
    let mut held = BTreeSet::new();
    // Nothing is held before the first connection.
    tokio::select! {
        _ = stop.changed() => return,
        _ = anew.notified() => {}
    }
    loop {
        let want = wanted(&intakes.heard(), shared);
        let gained: Vec<SubscribeFilter> = want
            .difference(&held)
            .map(|f| SubscribeFilter::new(f.clone(), QoS::AtLeastOnce))
            .collect();
        if !gained.is_empty() {
            tracing::info!(filters = gained.len(), "subscribing");
            // Waits for room in the client's queue, which its event loop keeps making.
            if let Err(e) = client.subscribe_many(gained).await {
                tracing::error!("cannot subscribe: {e}");
                return;
            }
        }
        for lost in held.difference(&want) {
            tracing::info!(filter = %lost, "unsubscribing: another hub answers it now");
            if let Err(e) = client.unsubscribe(lost.as_str()).await {
                tracing::error!("cannot unsubscribe: {e}");
                return;
            }
        }
        held = want;
        tokio::select! {
            _ = stop.changed() => return,
            _ = anew.notified() => held.clear(),
            _ = any_changed(&mut views) => {}
            // A school joined: its records, and its view of the hubs, are to be followed too.
            _ = added.changed() => views = intakes.views(),
        }
    }
}

/// Waits until one of `views` changes; forever when none can (a hub that does not divide
/// its schools, or one stopping).
async fn any_changed(views: &mut Vec<watch::Receiver<View>>) {
    if views.is_empty() {
        return pending().await;
    }
    let changes = views.iter_mut().map(|v| Box::pin(v.changed()));
    let (changed, gone, _) = select_all(changes).await;
    if changed.is_err() {
        // Its school's cluster task ended: the hub is stopping.
        views.swap_remove(gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(sites: &[(&str, bool)]) -> Vec<Heard> {
        sites
            .iter()
            .map(|&(site, answers)| Heard {
                site: SiteId::new(site).unwrap(),
                answers,
            })
            .collect()
    }

    fn set(filters: &[&str]) -> BTreeSet<String> {
        filters.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn a_hub_of_one_school_hears_its_site() {
        assert_eq!(
            wanted(&heard(&[("north", true)]), false),
            set(&[
                "rollcall/v1/north/+/records",
                "rollcall/v1/north/+/requests",
                "rollcall/v1/north/+/status",
            ])
        );
        let shared = wanted(&heard(&[("north", true)]), true);
        assert!(shared.contains("$share/rollcall-hubs-north/rollcall/v1/north/+/records"));
    }

    #[test]
    fn a_hub_answering_some_schools_subscribes_to_their_records_only() {
        assert_eq!(
            wanted(
                &heard(&[("north", true), ("south", false), ("east", true)]),
                false
            ),
            set(&[
                "rollcall/v1/+/+/requests",
                "rollcall/v1/+/+/status",
                "rollcall/v1/east/+/records",
                "rollcall/v1/north/+/records",
            ])
        );
        let none = wanted(&heard(&[("north", false), ("south", false)]), false);
        assert_eq!(
            none,
            set(&["rollcall/v1/+/+/requests", "rollcall/v1/+/+/status"])
        );
    }

    #[test]
    fn a_hub_answering_every_school_or_sharing_hears_every_site_with_one_filter() {
        let every = set(&[
            "rollcall/v1/+/+/records",
            "rollcall/v1/+/+/requests",
            "rollcall/v1/+/+/status",
        ]);
        assert_eq!(
            wanted(&heard(&[("north", true), ("south", true)]), false),
            every
        );
        let shared = wanted(&heard(&[("north", false), ("south", true)]), true);
        assert!(shared.contains("$share/rollcall-hubs/rollcall/v1/+/+/records"));
        assert_eq!(shared.len(), 3);
    }
}
