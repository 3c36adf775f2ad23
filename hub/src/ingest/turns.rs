//! What ingest has taken from its queue and not yet stored, each door unit's apart, given out
//! a turn each.
//!
//! Past saturation every door unit has a window of records waiting for the hub
//! (`MAX_IN_FLIGHT`), and its outbox holds the rest. An external broker hands the hub them
//! all as one stream, in the order they came, and gives no unit a share of it. The units
//! whose acks go out first (a batch's go in device-id order) publish their next records
//! first; those fill the queue while a batch is written, and the units' outboxes drift
//! seconds apart. A batch then holds records captured seconds apart, each on an index page of
//! its own. Held here, every unit's waiting records are in view, and a batch takes one from
//! each unit in turn: each unit moves at the same pace, their outboxes stay together, and a
//! batch's records share index pages (docs/PERFORMANCE.md, "A turn of every door unit in each
//! batch").
//!
//! The hold is bounded, in messages and in bytes ([`HOLD`], [`HOLD_BYTES`]): when it is full
//! ingest stops taking from its queue, and the queue's bound holds the rest back as before.
//! A unit's messages keep their order: its key is its topic without the channel.

use std::collections::{HashMap, VecDeque};

use super::{CHANNEL_CAPACITY, Incoming};

/// Most messages held: more than 200 door units' windows of 32, so that past saturation
/// every unit's waiting records are held, not left in the broker's one stream.
pub const HOLD: usize = 8 * CHANNEL_CAPACITY;

/// Most bytes of payload held: 8,192 records of 4 KiB, so that units sending large messages
/// (faces with their crops, up to 64 KiB each) cannot make the hub hold half a gigabyte.
pub const HOLD_BYTES: usize = 32 * 1024 * 1024;

/// The held messages, each unit's in the order they came, and the units with any in the
/// order their turns come.
#[derive(Debug, Default)]
pub struct Turns {
    by_unit: HashMap<String, VecDeque<Incoming>>,
    order: VecDeque<String>,
    len: usize,
    bytes: usize,
}

impl Turns {
    /// Holds `incoming` after its unit's earlier messages. Taken from the queue, it gives
    /// back its unit's place there ([`crate::broker::PLACES`]).
    pub fn push(&mut self, mut incoming: Incoming) {
        incoming.place = None;
        self.len += 1;
        self.bytes += incoming.payload.len();
        let unit = unit(&incoming.topic);
        match self.by_unit.get_mut(unit) {
            Some(waiting) => waiting.push_back(incoming),
            None => {
                self.order.push_back(unit.to_owned());
                self.by_unit
                    .insert(unit.to_owned(), VecDeque::from([incoming]));
            }
        }
    }

    /// Up to `most` messages, one from each unit in turn, each unit's oldest first. A unit
    /// whose turn the batch ended before keeps its place in the order.
    pub fn take(&mut self, most: usize) -> Vec<Incoming> {
        let mut batch = Vec::with_capacity(most.min(self.len));
        while batch.len() < most
            && let Some(unit) = self.order.pop_front()
        {
            let Some(waiting) = self.by_unit.get_mut(&unit) else {
                continue;
            };
            if let Some(incoming) = waiting.pop_front() {
                self.len -= 1;
                self.bytes -= incoming.payload.len();
                batch.push(incoming);
            }
            if waiting.is_empty() {
                self.by_unit.remove(&unit);
            } else {
                self.order.push_back(unit);
            }
        }
        batch
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether ingest should leave the rest in its queue for now.
    pub fn is_full(&self) -> bool {
        self.len >= HOLD || self.bytes >= HOLD_BYTES
    }
}

/// The part of a topic naming its door unit: all but the channel.
fn unit(topic: &str) -> &str {
    topic.rsplit_once('/').map_or(topic, |(unit, _)| unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(unit: &str, n: usize) -> Incoming {
        Incoming {
            topic: format!("rollcall/v1/school/{unit}/records"),
            payload: bytes::Bytes::from(n.to_string()),
            place: None,
        }
    }

    fn names(batch: &[Incoming]) -> Vec<String> {
        batch
            .iter()
            .map(|m| {
                let unit = m.topic.split('/').nth(3).unwrap();
                format!("{unit}{}", String::from_utf8_lossy(&m.payload))
            })
            .collect()
    }

    #[test]
    fn a_batch_takes_one_from_each_unit_in_turn_each_units_oldest_first() {
        let mut turns = Turns::default();
        for n in 0..5 {
            turns.push(message("a", n));
        }
        turns.push(message("b", 0));
        turns.push(message("c", 0));
        turns.push(message("b", 1));
        assert_eq!(names(&turns.take(5)), ["a0", "b0", "c0", "a1", "b1"]);
        assert_eq!(names(&turns.take(10)), ["a2", "a3", "a4"]);
        assert!(turns.is_empty());
    }

    #[test]
    fn a_unit_whose_turn_did_not_come_goes_first_next_time() {
        let mut turns = Turns::default();
        for unit in ["a", "b", "c"] {
            turns.push(message(unit, 0));
            turns.push(message(unit, 1));
        }
        assert_eq!(names(&turns.take(2)), ["a0", "b0"]);
        turns.push(message("d", 0));
        assert_eq!(names(&turns.take(4)), ["c0", "a1", "b1", "d0"]);
        assert_eq!(names(&turns.take(4)), ["c1"]);
    }

    #[test]
    fn a_units_channels_share_its_turn_and_keep_their_order() {
        let mut turns = Turns::default();
        turns.push(message("a", 0));
        let mut status = message("a", 1);
        status.topic = "rollcall/v1/school/a/status".into();
        turns.push(status);
        turns.push(message("b", 0));
        let batch = turns.take(3);
        assert_eq!(names(&batch), ["a0", "b0", "a1"]);
        assert!(batch[2].topic.ends_with("/status"));
    }

    #[test]
    fn the_hold_is_full_at_its_count_or_its_bytes() {
        let mut turns = Turns::default();
        for n in 0..HOLD - 1 {
            turns.push(message(&format!("u{}", n % 300), n));
        }
        assert!(!turns.is_full());
        turns.push(message("u0", 0));
        assert!(turns.is_full());
        turns.take(1);
        assert!(!turns.is_full());

        let mut large = Turns::default();
        let crop = bytes::Bytes::from(vec![0u8; 64 * 1024]);
        for _ in 0..HOLD_BYTES / crop.len() - 1 {
            let mut m = message("a", 0);
            m.payload = crop.clone();
            large.push(m);
        }
        assert!(!large.is_full());
        let mut m = message("b", 0);
        m.payload = crop;
        large.push(m);
        assert!(large.is_full(), "{} bytes held", large.bytes);
    }
}
