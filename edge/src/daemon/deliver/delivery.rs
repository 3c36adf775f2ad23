//! The outbox's delivery protocol, without I/O: which records to publish now, when to retry,
//! what an acknowledgement or a reconnect changes.
//!
//! Each record the outbox holds is [`Delivery::Pending`] (never sent by this process, or due
//! again after a reconnect) or [`Delivery::InFlight`] (sent, waiting for the hub's
//! `RecordAck` until `retry_at`). An acknowledgement removes it (`Acked`: the row is deleted).
//! At most [`MAX_IN_FLIGHT`] records are in flight: a pending record waits for room, so a
//! hub that falls behind slows its units rather than queueing their whole backlog.
//! Retries back off exponentially from `min` to `max`, spread at random over the upper half
//! of each wait so that the units of a school, which lose the hub together, do not come back
//! in step; the records of one publish share one draw, so the outbox still drains oldest
//! first. The first wait is never shorter than twice the time the hub's acks lately take
//! ([`AckTime`]): a hub that is slow but answering is not sent copies on top of its work. Time and the draw are passed in, so the whole protocol is tested with plain values
//! and tokio's paused clock.

use rollcall_runtime::{AckTime, Backoff};
use rollcall_shared::{MAX_IN_FLIGHT, RecordId};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// Where one record is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Committed, to be published as soon as the link is up.
    Pending,
    /// Published `attempts` times, last `at`; republished at `retry_at` unless acknowledged
    /// first.
    InFlight {
        attempts: u32,
        at: Instant,
        retry_at: Instant,
    },
}

impl Delivery {
    /// After a publish attempt at `now` (whether the broker took it or not); `draw` in
    /// `[0, 1]` places the retry within the upper half of the back-off ([`Backoff::spread`]).
    pub fn on_attempt(self, now: Instant, backoff: Backoff, draw: f64) -> Delivery {
        let attempts = match self {
            Delivery::Pending => 1,
            Delivery::InFlight { attempts, .. } => attempts.saturating_add(1),
        };
        Delivery::InFlight {
            attempts,
            at: now,
            retry_at: now + backoff.spread(attempts, draw),
        }
    }

    /// After the link came back: everything unacknowledged goes out again at once.
    pub fn on_reconnect(self) -> Delivery {
        Delivery::Pending
    }

    /// Whether the record should be published at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        match self {
            Delivery::Pending => true,
            Delivery::InFlight { retry_at, .. } => *retry_at <= now,
        }
    }
}

/// Delivery state of every record in the outbox, oldest first (record ids are UUID v7).
#[derive(Debug)]
pub struct Tracker {
    records: BTreeMap<RecordId, Delivery>,
    backoff: Backoff,
    /// How long the hub lately takes to acknowledge: no retry comes sooner than twice this.
    acks: AckTime,
}

impl Tracker {
    pub fn new(backoff: Backoff) -> Self {
        Self {
            records: BTreeMap::new(),
            backoff,
            acks: AckTime::default(),
        }
    }

    /// A record was committed (or found in the outbox at start).
    pub fn add(&mut self, id: RecordId) {
        self.records.entry(id).or_insert(Delivery::Pending);
    }

    /// Records to publish at `now`, oldest first, at most `limit`: retries that fell due,
    /// and pending records while the window has room.
    pub fn due(&self, now: Instant, limit: usize) -> Vec<RecordId> {
        let mut room = self.room();
        let due = self.records.iter().filter(|(_, d)| match d {
            Delivery::Pending if room > 0 => {
                room -= 1;
                true
            }
            Delivery::Pending => false,
            Delivery::InFlight { .. } => d.is_due(now),
        });
        due.map(|(id, _)| *id).take(limit).collect()
    }

    /// How many more records may be sent before acks come back ([`MAX_IN_FLIGHT`]).
    fn room(&self) -> usize {
        let in_flight = self.records.values();
        let in_flight = in_flight.filter(|d| matches!(d, Delivery::InFlight { .. }));
        MAX_IN_FLIGHT.saturating_sub(in_flight.count())
    }

    /// A publish of `ids` was attempted at `now`: their retries share one random draw.
    pub fn attempted(&mut self, ids: &[RecordId], now: Instant) {
        self.attempted_with(ids, now, rand::random());
    }

    /// [`Tracker::attempted`] with the draw given.
    pub fn attempted_with(&mut self, ids: &[RecordId], now: Instant, draw: f64) {
        let backoff = self.acks.patient(self.backoff);
        for id in ids {
            if let Some(d) = self.records.get_mut(id) {
                *d = d.on_attempt(now, backoff, draw);
            }
        }
    }

    /// The hub acknowledged `ids` at `now`; returns those this outbox held (to delete).
    pub fn acked(&mut self, ids: &[RecordId], now: Instant) -> Vec<RecordId> {
        let mut held = Vec::with_capacity(ids.len());
        for id in ids {
            match self.records.remove(id) {
                Some(Delivery::InFlight {
                    attempts: 1, at, ..
                }) => {
                    self.acks.observe(now.saturating_duration_since(at));
                    held.push(*id);
                }
                Some(_) => held.push(*id),
                None => {}
            }
        }
        held
    }

    /// The record left the outbox without an ack (refused, deleted by an operator).
    pub fn forget(&mut self, id: RecordId) {
        self.records.remove(&id);
    }

    pub fn reconnected(&mut self) {
        for d in self.records.values_mut() {
            *d = d.on_reconnect();
        }
    }

    /// When the next record falls due: `now` while any is pending and the window has room
    /// (more than one batch may be), else the earliest retry; `None` when the tracker is
    /// empty.
    pub fn next_due(&self, now: Instant) -> Option<Instant> {
        let room = self.room() > 0;
        let due = self.records.values().filter_map(|d| match d {
            Delivery::InFlight { retry_at, .. } => Some(*retry_at),
            Delivery::Pending => room.then_some(now),
        });
        due.min()
    }

    pub fn get(&self, id: &RecordId) -> Option<Delivery> {
        self.records.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const B: Backoff = Backoff {
        min: Duration::from_secs(5),
        max: Duration::from_secs(60),
    };

    #[tokio::test(start_paused = true)]
    async fn unacked_records_come_due_again_after_the_backoff() {
        let mut t = Tracker::new(B);
        let id = RecordId::now_v7();
        t.add(id);
        let start = Instant::now();
        assert_eq!(t.due(start, 10), [id]);
        t.attempted_with(&[id], start, 1.0);
        assert!(t.due(start, 10).is_empty());
        assert_eq!(t.next_due(start), Some(start + Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(t.due(Instant::now(), 10), [id]);
        t.attempted_with(&[id], Instant::now(), 1.0);
        let Some(Delivery::InFlight {
            attempts, retry_at, ..
        }) = t.get(&id)
        else {
            panic!("in flight")
        };
        assert_eq!(
            (attempts, retry_at - Instant::now()),
            (2, Duration::from_secs(10))
        );
    }

    #[test]
    fn an_ack_removes_only_held_records_and_reconnect_resends_all() {
        let mut t = Tracker::new(B);
        let (a, b, stranger) = (RecordId::now_v7(), RecordId::now_v7(), RecordId::now_v7());
        t.add(a);
        t.add(b);
        let now = Instant::now();
        t.attempted(&[a, b], now);
        assert_eq!(t.acked(&[a, stranger], now), [a]);
        assert_eq!(
            t.acked(&[a], now),
            Vec::<RecordId>::new(),
            "a second ack is a no-op"
        );
        assert!(t.due(now, 10).is_empty());
        t.reconnected();
        assert_eq!(t.due(now, 10), [b]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn due_is_oldest_first_and_limited() {
        let mut t = Tracker::new(B);
        let ids: Vec<RecordId> = (0..5).map(|_| RecordId::now_v7()).collect();
        for id in ids.iter().rev() {
            t.add(*id);
        }
        assert_eq!(t.due(Instant::now(), 3), ids[..3]);
    }

    #[test]
    fn records_left_pending_after_a_batch_are_due_at_once() {
        let mut t = Tracker::new(B);
        let ids: Vec<RecordId> = (0..5).map(|_| RecordId::now_v7()).collect();
        ids.iter().for_each(|id| t.add(*id));
        let now = Instant::now();
        t.attempted(&t.due(now, 3), now);
        // The first batch is acked before its retry: two records were never sent.
        t.acked(&ids[..3], now);
        assert_eq!(t.next_due(now), Some(now), "the rest go out now, not never");
        assert_eq!(t.due(now, 3), ids[3..]);
        assert_eq!(Tracker::new(B).next_due(now), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_window_holds_new_records_until_acks_come_but_not_retries() {
        let mut t = Tracker::new(B);
        let ids: Vec<RecordId> = (0..MAX_IN_FLIGHT + 3).map(|_| RecordId::now_v7()).collect();
        ids.iter().for_each(|id| t.add(*id));
        let start = Instant::now();
        let sent = t.due(start, usize::MAX);
        assert_eq!(sent, ids[..MAX_IN_FLIGHT], "one window, oldest first");
        t.attempted_with(&sent, start, 1.0);
        assert!(t.due(start, usize::MAX).is_empty(), "the window is full");
        let retry = start + Duration::from_secs(5);
        assert_eq!(t.next_due(start), Some(retry), "no wake-up before a retry");

        // Two acks make room for exactly two more, the oldest waiting.
        t.acked(&ids[..2], start);
        assert_eq!(
            t.due(start, usize::MAX),
            ids[MAX_IN_FLIGHT..MAX_IN_FLIGHT + 2]
        );
        t.attempted_with(&ids[MAX_IN_FLIGHT..MAX_IN_FLIGHT + 2], start, 1.0);

        // The unacked ones fall due again; the last record still waits for room.
        tokio::time::advance(Duration::from_secs(5)).await;
        let again = t.due(Instant::now(), usize::MAX);
        assert_eq!(again, ids[2..MAX_IN_FLIGHT + 2]);
        assert!(!again.contains(&ids[MAX_IN_FLIGHT + 2]));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_are_spread_between_half_and_all_of_the_backoff_and_a_batch_keeps_its_order() {
        let mut t = Tracker::new(B);
        let ids: Vec<RecordId> = (0..4).map(|_| RecordId::now_v7()).collect();
        ids.iter().for_each(|id| t.add(*id));
        let start = Instant::now();
        t.attempted_with(&ids, start, 0.0);
        assert_eq!(t.next_due(start), Some(start + Duration::from_millis(2500)));
        // Two units that published at the same moment come due apart.
        let mut other = Tracker::new(B);
        other.add(ids[0]);
        other.attempted_with(&ids[..1], start, 0.8);
        assert_eq!(
            other.next_due(start),
            Some(start + Duration::from_millis(4500))
        );
        // One batch shares its draw: all come due together and go out oldest first.
        tokio::time::advance(Duration::from_millis(2500)).await;
        assert_eq!(t.due(Instant::now(), 10), ids);
        t.attempted(&ids, Instant::now());
        let retries: Vec<Instant> = ids
            .iter()
            .map(|id| match t.get(id) {
                Some(Delivery::InFlight { retry_at, .. }) => retry_at,
                other => panic!("in flight, not {other:?}"),
            })
            .collect();
        assert!(retries.iter().all(|r| *r == retries[0]));
        let wait = retries[0] - Instant::now();
        assert!((Duration::from_secs(5)..=Duration::from_secs(10)).contains(&wait));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hub_slow_to_ack_is_sent_no_copy_sooner_than_twice_its_ack_time() {
        let mut t = Tracker::new(B);
        // Acks that lately take 4 s (each the first send's: the only ones that count).
        for _ in 0..40 {
            let id = RecordId::now_v7();
            t.add(id);
            t.attempted_with(&[id], Instant::now(), 1.0);
            tokio::time::advance(Duration::from_secs(4)).await;
            assert_eq!(t.acked(&[id], Instant::now()), [id]);
        }
        let id = RecordId::now_v7();
        t.add(id);
        let sent = Instant::now();
        t.attempted_with(&[id], sent, 1.0);
        let due = t.next_due(sent).unwrap() - sent;
        assert_eq!(
            due,
            Duration::from_secs(16),
            "four times the ack time (the draw 1.0: the longest spread), not the back-off's 5 s"
        );
        // A copy's ack says nothing of the hub's pace: fast acks of copies change nothing.
        tokio::time::advance(due).await;
        t.attempted_with(&[id], Instant::now(), 1.0);
        t.acked(&[id], Instant::now());
        let next = RecordId::now_v7();
        t.add(next);
        t.attempted_with(&[next], Instant::now(), 1.0);
        assert_eq!(t.next_due(Instant::now()).unwrap() - Instant::now(), due);
    }
}
