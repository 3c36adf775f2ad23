//! Everything that arrives from door units over MQTT, and everything the hub sends back.
//!
//! `mqtt` owns the broker connection: it forwards incoming publishes into a bounded channel
//! (`route`: to which school's) and publishes what others put on the [`Outbound`] channel;
//! `subscriptions` keeps it subscribed to what this hub answers. `classify` checks a payload
//! without I/O; what a record becomes (believed or held, stored as its unit is registered,
//! with its face or without, how it starts in review) is the school's rule
//! (`rollcall_school::arrival`). `process` stores a batch in one transaction
//! (`batch`: what the transaction does), a turn of each door unit with messages waiting (`turns`),
//! and only then acknowledges it; `acked` remembers what it acknowledged, so that a resend is
//! answered without the store.

pub mod acked;
mod batch;
pub mod classify;
pub mod metrics;
pub mod mqtt;
pub mod process;
pub mod push;
pub mod route;
pub mod subscriptions;
pub mod turns;

pub use metrics::Metrics;

/// A message for the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// A publish received from the broker.
#[derive(Debug)]
pub struct Incoming {
    pub topic: String,
    pub payload: bytes::Bytes,
    /// One of its door unit's places in the queue for ingest ([`crate::broker::PLACES`]; the
    /// embedded broker's only), given back when ingest takes the message.
    pub place: Option<OwnedSemaphorePermit>,
}

/// Capacity of the incoming and outgoing channels.
pub const CHANNEL_CAPACITY: usize = 1024;
/// Most messages stored in one transaction (and acknowledged together): as many as the queue
/// holds. Past saturation a batch is a turn of every unit ([`turns`]), and the larger the
/// batch the fewer times each index page it changes is written.
pub const MAX_BATCH: usize = CHANNEL_CAPACITY;

use rollcall_shared::topics::Topic;
use rollcall_shared::{Limits, Message, encode_as};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

/// Encodes `message` in protocol `version` (the one its device speaks) and queues it for
/// `topic`. Returns whether it was queued.
pub async fn send(
    outbound: &mpsc::Sender<Outbound>,
    topic: &Topic,
    version: u16,
    message: &Message,
) -> bool {
    let payload = match encode_as(version, message, Limits::FROM_HUB) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(%topic, kind = message.kind(), "cannot encode: {e}");
            return false;
        }
    };
    let out = Outbound {
        topic: topic.to_string(),
        payload,
    };
    outbound.send(out).await.is_ok()
}
