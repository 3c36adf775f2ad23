//! The records this hub acknowledged a moment ago, so that a door unit's resend of one is
//! answered without the database.
//!
//! A door unit publishes a record again when its ack is late (`edge/src/daemon/outbox`), and
//! past saturation an ack is late often: the copies then arrive while the hub is busiest, and
//! each would cost the store a transaction's worth of round trips only to find the record
//! there. The hub remembers what it acknowledged after a commit, the most recent
//! [`RECENTLY_ACKED`] records, and acknowledges a copy of one at once. A copy it does not
//! remember (older, or sent to another hub) takes the store's path and is found a duplicate
//! there, as before: the memory saves work, it decides nothing.

use hashlink::LruCache;
use rollcall_shared::{DeviceId, RecordId};

/// How many acknowledged records the hub remembers: a minute of a busy hub's records, longer
/// than a door unit's first waits for an ack (5, 10, 20 s), in about 6 MiB.
pub const RECENTLY_ACKED: usize = 65_536;

/// Records acknowledged after their batch committed, the newest [`RECENTLY_ACKED`] of them.
#[derive(Debug)]
pub struct Acked {
    recent: LruCache<(DeviceId, RecordId), ()>,
}

impl Default for Acked {
    fn default() -> Self {
        Self::with_capacity(RECENTLY_ACKED)
    }
}

impl Acked {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            recent: LruCache::new(capacity),
        }
    }

    /// Remembers that `device`'s record `id` is committed and acknowledged.
    pub fn remember(&mut self, device: DeviceId, id: RecordId) {
        self.recent.insert((device, id), ());
    }

    /// Whether `device`'s record `id` was acknowledged a moment ago (after its commit).
    pub fn knows(&mut self, device: DeviceId, id: RecordId) -> bool {
        self.recent.get(&(device, id)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_record_is_known_to_its_own_device_only() {
        let mut acked = Acked::default();
        let (door, other, id) = (DeviceId::random(), DeviceId::random(), RecordId::random());
        assert!(!acked.knows(door, id));
        acked.remember(door, id);
        assert!(acked.knows(door, id));
        assert!(
            !acked.knows(other, id),
            "another unit's claim to the same id"
        );
        assert!(!acked.knows(door, RecordId::random()));
    }

    #[test]
    fn the_oldest_is_forgotten_first_and_a_resend_keeps_a_record_fresh() {
        let mut acked = Acked::with_capacity(3);
        let door = DeviceId::random();
        let ids: Vec<RecordId> = (0..4).map(|_| RecordId::random()).collect();
        for id in &ids[..3] {
            acked.remember(door, *id);
        }
        assert!(acked.knows(door, ids[0]), "a resend of the oldest");
        acked.remember(door, ids[3]);
        assert!(acked.knows(door, ids[0]), "seen again, kept");
        assert!(!acked.knows(door, ids[1]), "the least recently seen went");
        assert!(acked.knows(door, ids[2]) && acked.knows(door, ids[3]));
    }
}
