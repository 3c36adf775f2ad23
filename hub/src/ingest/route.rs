//! Where a message a door unit published goes: to its school's ingest. A hub of one school
//! hands every message to its one ingest; a hub of several (`[[schools]]`) reads the school
//! from the topic's site (`rollcall/v1/<site>/…`), and counts and drops what is for a site it
//! does not serve (the link hears every site on the district's broker). Each school's ingest
//! has its own bounded queue; waiting for room in it is the backpressure that stops the link
//! reading.

use std::collections::HashMap;

use rollcall_shared::SiteId;
use rollcall_shared::topics::PREFIX;
use tokio::sync::mpsc;

use super::Incoming;

/// Each school's ingest queue, by site.
#[derive(Debug, Clone)]
pub struct Intakes {
    by_site: HashMap<String, mpsc::Sender<Incoming>>,
}

impl Intakes {
    pub fn new(schools: impl IntoIterator<Item = (SiteId, mpsc::Sender<Incoming>)>) -> Self {
        let by_site = schools
            .into_iter()
            .map(|(site, tx)| (site.to_string(), tx))
            .collect();
        Self { by_site }
    }

    /// The queue of a hub's one school; `None` with several.
    pub fn only(&self) -> Option<&mpsc::Sender<Incoming>> {
        match self.by_site.len() {
            1 => self.by_site.values().next(),
            _ => None,
        }
    }

    /// Hands `incoming` to its school's ingest, waiting while that queue is full; `false`
    /// when it is for no school this hub serves (dropped).
    pub async fn send(&self, incoming: Incoming) -> bool {
        let queue = match self.only() {
            Some(only) => only,
            None => match self.by_site.get(site_of(&incoming.topic)) {
                Some(queue) => queue,
                None => return false,
            },
        };
        // Closed only when the hub is stopping: the message is the broker's again.
        let _ = queue.send(incoming).await;
        true
    }
}

/// The site part of a door unit's topic; empty when it has none.
fn site_of(topic: &str) -> &str {
    topic
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(topic: &str) -> Incoming {
        Incoming {
            topic: topic.to_owned(),
            payload: bytes::Bytes::from_static(b"x"),
        }
    }

    #[tokio::test]
    async fn each_message_reaches_the_ingest_of_its_topics_school() {
        let (north_tx, mut north) = mpsc::channel(4);
        let (south_tx, mut south) = mpsc::channel(4);
        let site = |s: &str| SiteId::new(s).unwrap();
        let intakes = Intakes::new([(site("north"), north_tx), (site("south"), south_tx)]);
        assert!(intakes.only().is_none());
        let device = uuid::Uuid::new_v4();
        intakes
            .send(incoming(&format!("rollcall/v1/south/{device}/records")))
            .await;
        intakes
            .send(incoming(&format!("rollcall/v1/north/{device}/status")))
            .await;
        intakes
            .send(incoming(&format!("rollcall/v1/east/{device}/records")))
            .await;
        intakes.send(incoming("elsewhere/north")).await;
        assert!(south.try_recv().unwrap().topic.contains("/south/"));
        assert!(north.try_recv().unwrap().topic.contains("/north/"));
        assert!(north.try_recv().is_err() && south.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_hub_of_one_school_hands_its_ingest_everything() {
        let (tx, mut rx) = mpsc::channel(4);
        let intakes = Intakes::new([(SiteId::new("north").unwrap(), tx)]);
        assert!(intakes.send(incoming("not/a/topic")).await);
        assert_eq!(rx.try_recv().unwrap().topic, "not/a/topic");
    }
}
