//! The door units connected to the embedded broker: who is connected, how the router reaches
//! each ([`SessionHandle`]), and what every connection shares ([`Shared`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rollcall_shared::topics::Topic;
use rollcall_shared::{DeviceId, SiteId};
use tokio::sync::{Notify, mpsc};

use super::login::Logins;
use crate::ingest::metrics::add;
use crate::ingest::{Metrics, Outbound};

/// Messages waiting for one device before further ones are dropped (it is too slow to read).
pub(super) const SESSION_QUEUE: usize = 256;

/// What every connection of the broker uses.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) site: SiteId,
    /// How long a client may take over its TLS handshake and its CONNECT packet, together.
    pub(super) connect_timeout: Duration,
    pub(super) logins: Logins,
    pub(super) metrics: Arc<Metrics>,
    pub(super) sessions: Arc<Sessions>,
}

/// The door units connected to the embedded broker, by device: the router delivers through
/// it, and the hub closes a unit's session through it when the unit is disabled or retired.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<DeviceId, SessionHandle>>);

impl Sessions {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// How many door units are connected.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no door unit is connected.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Closes `device`'s session, if it has one (it may log in again only if it still may).
    /// Returns whether it had one.
    pub fn close(&self, device: DeviceId) -> bool {
        match self.lock().remove(&device) {
            Some(session) => {
                session.taken_over.notify_one();
                tracing::info!(%device, "mqtt: door unit's session closed by the hub");
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DeviceId, SessionHandle>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How the router reaches a connected device.
#[derive(Debug, Clone)]
pub(super) struct SessionHandle {
    /// Distinguishes this connection from a later one of the same device.
    pub(super) serial: u64,
    pub(super) deliver: mpsc::Sender<Delivery>,
    /// Told when a newer connection of the same device takes over.
    pub(super) taken_over: Arc<Notify>,
}

/// A message for a device, with the topic it was published on.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    pub(super) topic: String,
    pub(super) payload: bytes::Bytes,
}

impl Shared {
    /// Hands `out` to the device its topic names, if it is connected and subscribed.
    pub(super) fn route(&self, out: Outbound) {
        let Some(topic) = Topic::parse(&out.topic).filter(|t| t.site == self.site) else {
            tracing::error!(
                topic = out.topic,
                "mqtt: the hub published on a foreign topic"
            );
            return;
        };
        let handle = self.lock().get(&topic.device).cloned();
        let Some(handle) = handle else {
            tracing::debug!(device = %topic.device, "mqtt: device offline, message dropped");
            add(&self.metrics.publish_failures, 1);
            return;
        };
        let delivery = Delivery {
            topic: out.topic,
            payload: out.payload.into(),
        };
        if handle.deliver.try_send(delivery).is_err() {
            tracing::warn!(device = %topic.device, "mqtt: device is not reading, message dropped");
            add(&self.metrics.publish_failures, 1);
        }
    }

    /// Registers a new connection of `device`, telling an older one to close.
    pub(super) fn register(&self, device: DeviceId, handle: SessionHandle) {
        if let Some(old) = self.lock().insert(device, handle) {
            old.taken_over.notify_one();
        }
    }

    /// Forgets connection `serial` of `device` (unless a newer one already took over).
    pub(super) fn unregister(&self, device: DeviceId, serial: u64) {
        let mut sessions = self.lock();
        if sessions.get(&device).is_some_and(|h| h.serial == serial) {
            sessions.remove(&device);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DeviceId, SessionHandle>> {
        self.sessions.lock()
    }
}
