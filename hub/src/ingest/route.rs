//! Where a message a door unit published goes: to its school's ingest. A hub of one school
//! hands every message to its one ingest; a hub of several (`[[schools]]`) reads the school
//! from the topic's site (`rollcall/v1/<site>/…`), and counts and drops what is for a site it
//! does not serve (the link hears every site on the district's broker). When the hubs divide
//! the schools between them, each subscribes to its own schools' records
//! ([`super::subscriptions`]); a message of a school another hub answers (its status, its
//! requests, a record sent while the school moved) is left here, unread.
//! Each school's ingest has its own bounded queue; waiting for room in it is the backpressure
//! that stops the link reading.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use rollcall_shared::SiteId;
use rollcall_shared::topics::{Channel, PREFIX};
use tokio::sync::{mpsc, watch};

use super::metrics::add;
use super::{Incoming, Metrics};
use crate::cluster::View;

/// One school's ingest, as the link hands it messages.
#[derive(Debug, Clone)]
pub struct Intake {
    pub site: SiteId,
    pub queue: mpsc::Sender<Incoming>,
    pub metrics: Arc<Metrics>,
    /// When the hubs divide the schools: which hubs are live, so which schools are this one's.
    pub schools_divided: Option<watch::Receiver<View>>,
}

/// A school the link carries, and whether this hub answers its door units now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heard {
    pub site: SiteId,
    pub answers: bool,
}

/// Each school's ingest, by site; a school a district admin adds joins them while the hub
/// runs ([`Intakes::add`]).
#[derive(Debug, Clone)]
pub struct Intakes {
    by_site: Arc<RwLock<HashMap<String, Intake>>>,
    /// How many schools there are: changed by each one added.
    count: Arc<watch::Sender<usize>>,
}

impl Intakes {
    pub fn new(schools: impl IntoIterator<Item = Intake>) -> Self {
        let by_site: HashMap<String, Intake> = schools
            .into_iter()
            .map(|intake| (intake.site.to_string(), intake))
            .collect();
        let count = Arc::new(watch::Sender::new(by_site.len()));
        Self {
            by_site: Arc::new(RwLock::new(by_site)),
            count,
        }
    }

    /// Hands `intake`'s school its messages from now on.
    pub fn add(&self, intake: Intake) {
        let mut by_site = self.by_site.write().unwrap_or_else(PoisonError::into_inner);
        // The link's state is every school's: the newcomer's is its elders'.
        if let Some(elder) = by_site.values().next() {
            let up = elder.metrics.mqtt_connected.load(Ordering::Relaxed);
            intake.metrics.mqtt_connected.store(up, Ordering::Relaxed);
        }
        by_site.insert(intake.site.to_string(), intake);
        self.count.send_replace(by_site.len());
    }

    /// Told of each school added.
    pub fn added(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Intake>> {
        self.by_site.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The queue of a hub's one school; `None` with several.
    pub fn only(&self) -> Option<mpsc::Sender<Incoming>> {
        let by_site = self.read();
        match by_site.len() {
            1 => by_site.values().next().map(|i| i.queue.clone()),
            _ => None,
        }
    }

    /// Each school's counters.
    pub fn metrics(&self) -> Vec<Arc<Metrics>> {
        self.read().values().map(|i| i.metrics.clone()).collect()
    }

    /// Each school, and whether this hub answers its door units now.
    pub fn heard(&self) -> Vec<Heard> {
        let by_site = self.read();
        let heard = by_site.values().map(|intake| Heard {
            site: intake.site.clone(),
            answers: intake.answers(),
        });
        heard.collect()
    }

    /// What tells when the schools this hub answers may have changed: each school's view of
    /// the live hubs, when the hubs divide the schools.
    pub fn views(&self) -> Vec<watch::Receiver<View>> {
        let by_site = self.read();
        let views = by_site.values();
        views.filter_map(|i| i.schools_divided.clone()).collect()
    }

    /// Hands `incoming` to its school's ingest, waiting while that queue is full; `false`
    /// when it is for no school this hub serves (dropped).
    pub async fn send(&self, incoming: Incoming) -> bool {
        let queue = match self.only() {
            Some(only) => only,
            None => match self.read().get(site_of(&incoming.topic)) {
                Some(intake) if intake.answers() => intake.queue.clone(),
                Some(intake) => {
                    if incoming.topic.ends_with(Channel::Records.as_str()) {
                        add(&intake.metrics.records_for_other_hubs, 1);
                    }
                    return true;
                }
                None => return false,
            },
        };
        // Closed only when the hub is stopping: the message is the broker's again.
        let _ = queue.send(incoming).await;
        true
    }
}

impl Intake {
    /// Whether this hub answers the school's units now.
    fn answers(&self) -> bool {
        let school = self.schools_divided.as_ref();
        school.is_none_or(|view| view.borrow().owns_school(&self.site))
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

    fn intake(site: &str, queue: mpsc::Sender<Incoming>) -> Intake {
        Intake {
            site: SiteId::new(site).unwrap(),
            queue,
            metrics: Arc::default(),
            schools_divided: None,
        }
    }

    fn incoming(topic: &str) -> Incoming {
        Incoming {
            topic: topic.to_owned(),
            payload: bytes::Bytes::from_static(b"x"),
            place: None,
        }
    }

    #[tokio::test]
    async fn each_message_reaches_the_ingest_of_its_topics_school() {
        let (north_tx, mut north) = mpsc::channel(4);
        let (south_tx, mut south) = mpsc::channel(4);
        let intakes = Intakes::new([intake("north", north_tx), intake("south", south_tx)]);
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
    async fn a_school_another_hub_answers_is_left_unread_and_counted() {
        let (north_tx, mut north) = mpsc::channel(4);
        let (south_tx, mut south) = mpsc::channel(4);
        // Two live hubs: each school is one's, and which is the hash's business.
        let live: Arc<[String]> = Arc::new(["a".to_owned(), "b".to_owned()]);
        let view = |me: &str| View {
            me: me.into(),
            live: live.clone(),
            leader: false,
        };
        let north_site = SiteId::new("north").unwrap();
        let me = if view("a").owns_school(&north_site) {
            "a"
        } else {
            "b"
        };
        let (_keep, divided) = watch::channel(view(me));
        let mut north_intake = intake("north", north_tx);
        north_intake.schools_divided = Some(divided.clone());
        let mut south_intake = intake("south", south_tx);
        south_intake.schools_divided = Some(divided);
        let metrics = south_intake.metrics.clone();
        let intakes = Intakes::new([north_intake, south_intake]);
        let device = uuid::Uuid::new_v4();
        let topic = |site| format!("rollcall/v1/{site}/{device}/records");
        assert!(intakes.send(incoming(&topic("north"))).await);
        assert!(intakes.send(incoming(&topic("south"))).await);
        assert!(north.try_recv().is_ok(), "north is this hub's");
        let south_is_mine = view(me).owns_school(&SiteId::new("south").unwrap());
        assert_eq!(south.try_recv().is_ok(), south_is_mine);
        let others = metrics
            .records_for_other_hubs
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(others, u64::from(!south_is_mine));
    }

    #[tokio::test]
    async fn a_hub_of_one_school_hands_its_ingest_everything() {
        let (tx, mut rx) = mpsc::channel(4);
        let intakes = Intakes::new([intake("north", tx)]);
        assert!(intakes.send(incoming("not/a/topic")).await);
        assert_eq!(rx.try_recv().unwrap().topic, "not/a/topic");
    }
}
