//! Store-and-forward under failure, against a real Mosquitto and the real pipeline: publish
//! errors, lost acks, a crash between commit and publish, a broker restart. Each test checks,
//! record id by record id, that the hub got every record and, after dedupe by id, once.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::hub::{Hub, enrol};
use common::{Daemon, config, outbox_depth, photos_of, replay_dir, wait_for};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_edge::daemon::PublisherLayer;
use rollcall_edge::daemon::deliver::mqtt::{PublishError, Publisher};
use rollcall_shared::topics::Channel;
use rollcall_shared::{GalleryVersion, RecordId};

const PERSON: &str = "Abdullah_Gul";
const WAIT: Duration = Duration::from_secs(90);

/// Fails the first `fail` record publishes (forever when `fail` is `u32::MAX`).
struct Failing {
    inner: Arc<dyn Publisher>,
    fail: Arc<AtomicU32>,
}

impl Publisher for Failing {
    fn publish(&self, channel: Channel, payload: Vec<u8>) -> Result<(), PublishError> {
        let failing = channel == Channel::Records
            && self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                    u32::MAX => Some(n),
                    0 => None,
                    n => Some(n - 1),
                })
                .is_ok();
        if failing {
            return Err(PublishError::Injected("injected publish failure".into()));
        }
        self.inner.publish(channel, payload)
    }
}

fn failing(fail: Arc<AtomicU32>) -> PublisherLayer {
    Box::new(move |inner: Arc<dyn Publisher>| -> Arc<dyn Publisher> {
        Arc::new(Failing { inner, fail })
    })
}

/// A broker, a hub with one enrolled person, and a replay of a photo of them.
struct Rig {
    device: String,
    broker: Mosquitto,
    hub: Hub,
    replay: tempfile::TempDir,
    data: tempfile::TempDir,
}

fn rig(broker: Mosquitto) -> Rig {
    let photos = photos_of(PERSON);
    let (probe, enrolment) = photos.split_last().unwrap();
    let hub = Hub::start(
        broker.addr(),
        Some(enrol(&[(PERSON, enrolment.to_vec())]).update),
    );
    Rig {
        device: uuid::Uuid::new_v4().to_string(),
        broker,
        hub,
        replay: replay_dir(std::slice::from_ref(probe)),
        data: tempfile::tempdir().unwrap(),
    }
}

impl Rig {
    fn daemon(&self, layer: Option<PublisherLayer>) -> Daemon {
        Daemon::start(self.config(self.broker.addr().port()), layer)
    }

    /// The same device (id, data dir) every time.
    fn config(&self, port: u16) -> rollcall_edge::config::EdgeConfig {
        let id = [("ROLLCALL_EDGE_DEVICE__ID", self.device.as_str())];
        config(self.data.path(), self.replay.path(), port, &id)
    }

    async fn wait_ready(&self) {
        wait_for("gallery v1", WAIT, || {
            self.hub.seen(|s| {
                s.statuses
                    .iter()
                    .any(|st| st.gallery_version == GalleryVersion(1))
            })
        })
        .await;
    }

    async fn burst(&self, daemon: &Daemon, records_before: usize) {
        daemon.trigger().await;
        let data = self.data.path().to_owned();
        wait_for("record committed", WAIT, || {
            outbox_depth(&data) > 0 || self.hub.seen(|s| s.records().len()) > records_before
        })
        .await;
    }

    /// Every record delivered at least once, the outbox empty: returns deliveries per id.
    async fn settle(&self, expected: usize) -> BTreeMap<RecordId, usize> {
        wait_for("all records at the hub", WAIT, || {
            self.hub.seen(|s| s.records().len()) >= expected
        })
        .await;
        wait_for("outbox drained", WAIT, || {
            outbox_depth(self.data.path()) == 0
        })
        .await;
        let by_id = self.hub.seen(|s| s.by_id());
        assert_eq!(
            by_id.len(),
            expected,
            "each record once after dedupe: {by_id:?}"
        );
        by_id
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_errors_are_retried_and_nothing_is_lost() {
    let rig = rig(Mosquitto::start().unwrap());
    let daemon = rig.daemon(Some(failing(Arc::new(AtomicU32::new(2)))));
    rig.wait_ready().await;
    rig.burst(&daemon, 0).await;
    rig.burst(&daemon, 0).await;
    let by_id = rig.settle(2).await;
    daemon.stop().await;
    assert!(by_id.values().all(|&n| n >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ack_means_a_republish_that_the_hub_dedupes() {
    let rig = rig(Mosquitto::start().unwrap());
    rig.hub.lose_acks.store(1, Ordering::SeqCst);
    let daemon = rig.daemon(None);
    rig.wait_ready().await;
    rig.burst(&daemon, 0).await;
    let by_id = rig.settle(1).await;
    daemon.stop().await;
    let deliveries: Vec<usize> = by_id.values().copied().collect();
    assert_eq!(
        deliveries,
        [2],
        "published, ack lost, republished after the backoff"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_publish_loses_nothing() {
    let rig = rig(Mosquitto::start().unwrap());
    let first = rig.daemon(Some(failing(Arc::new(AtomicU32::new(u32::MAX)))));
    rig.wait_ready().await;
    rig.burst(&first, 0).await;
    assert_eq!(outbox_depth(rig.data.path()), 1);
    first.stop().await;
    assert!(
        rig.hub.seen(|s| s.deliveries.is_empty()),
        "nothing was published"
    );

    let second = rig.daemon(None);
    let by_id = rig.settle(1).await;
    second.stop().await;
    assert_eq!(by_id.values().sum::<usize>(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_nothing() {
    // The broker listens on a second, fixed-for-this-test port so a new one can take it over.
    let port = rollcall_e2e::free_port().unwrap();
    let listener = format!("listener {port} 127.0.0.1\nallow_anonymous true\n");
    let mut rig = rig(Mosquitto::start_with(&listener).unwrap());
    let daemon = Daemon::start(rig.config(port), None);
    rig.wait_ready().await;
    rig.burst(&daemon, 0).await;
    rig.settle(1).await;

    drop(std::mem::replace(
        &mut rig.broker,
        Mosquitto::start_with("allow_anonymous true\n").unwrap(),
    ));
    daemon.trigger().await;
    let data = rig.data.path().to_owned();
    wait_for("record committed during the outage", WAIT, || {
        outbox_depth(&data) == 1
    })
    .await;
    rig.broker = Mosquitto::start_with(&listener).unwrap();
    let hub = Hub::start(([127, 0, 0, 1], port).into(), None);
    wait_for("record after the restart", WAIT, || {
        hub.seen(|s| s.records().len()) == 1
    })
    .await;
    wait_for("outbox drained", WAIT, || outbox_depth(&data) == 0).await;
    daemon.stop().await;
    let before = rig.hub.seen(|s| s.by_id());
    let after = hub.seen(|s| s.by_id());
    assert!(
        before.keys().all(|id| !after.contains_key(id)),
        "no record delivered twice across the restart"
    );
    assert_eq!(before.len() + after.len(), 2);
}
