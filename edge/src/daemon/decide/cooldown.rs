//! Per-person cooldown: no second record for the same person within the configured period.
//! Pure; time is passed in (tokio's `Instant`, so tests run on the paused clock).
//!
//! Rules: a student (or, at a gate, a member of staff) with a record in the last `period` gets no new one — except that a
//! Confident sighting after only Uncertain ones is let through (it settles the register).
//! Unknown faces have no id: a new Unknown is suppressed when its embedding is within
//! `same_person` of an Unknown recorded in the last `period`.

use std::collections::HashMap;
use std::time::Duration;

use rollcall_shared::{Decision, Embedding};
use tokio::time::Instant;

use super::gallery::Enrolled;

/// Most recent Unknown faces remembered.
const MAX_UNKNOWNS: usize = 64;

#[derive(Debug)]
pub struct Cooldown {
    period: Duration,
    same_person: f32,
    named: HashMap<Enrolled, (Instant, Decision)>,
    unknowns: Vec<(Instant, Embedding)>,
}

impl Cooldown {
    pub fn new(period: Duration, same_person: f32) -> Self {
        Self {
            period,
            same_person,
            named: HashMap::new(),
            unknowns: Vec::new(),
        }
    }

    /// Takes new settings, remembering what it has seen.
    pub fn retune(&mut self, period: Duration, same_person: f32) {
        self.period = period;
        self.same_person = same_person;
    }

    /// Whether a record may be made now; if so, remembers it.
    pub fn admit(
        &mut self,
        named: Option<Enrolled>,
        decision: Decision,
        embedding: &Embedding,
        now: Instant,
    ) -> bool {
        self.forget_before(now);
        match (named, decision) {
            (Some(who), Decision::Confident | Decision::Uncertain) => {
                self.admit_named(who, decision, now)
            }
            _ => self.admit_unknown(embedding, now),
        }
    }

    fn admit_named(&mut self, who: Enrolled, decision: Decision, now: Instant) -> bool {
        let allowed = match self.named.get(&who) {
            None => true,
            Some((_, before)) => *before == Decision::Uncertain && decision == Decision::Confident,
        };
        if allowed {
            self.named.insert(who, (now, decision));
        }
        allowed
    }

    fn admit_unknown(&mut self, embedding: &Embedding, now: Instant) -> bool {
        let seen = self
            .unknowns
            .iter()
            .any(|(_, e)| e.distance(embedding) <= self.same_person);
        if seen {
            return false;
        }
        if self.unknowns.len() == MAX_UNKNOWNS {
            self.unknowns.remove(0);
        }
        self.unknowns.push((now, *embedding));
        true
    }

    fn forget_before(&mut self, now: Instant) {
        let period = self.period;
        self.named
            .retain(|_, (at, _)| now.duration_since(*at) < period);
        self.unknowns
            .retain(|(at, _)| now.duration_since(*at) < period);
    }
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{StaffId, StudentId};

    use super::*;

    const Z: Embedding = Embedding::ZERO;

    #[tokio::test(start_paused = true)]
    async fn a_student_gets_one_record_per_period() {
        let mut c = Cooldown::new(Duration::from_secs(600), 0.5);
        let s = Enrolled::Student(StudentId::random());
        assert!(c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(!c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        assert!(!c.admit(Some(s), Decision::Uncertain, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        assert!(c.admit(
            Some(Enrolled::Student(StudentId::random())),
            Decision::Confident,
            &Z,
            Instant::now()
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_member_of_staff_gets_one_record_per_period_apart_from_students() {
        let mut c = Cooldown::new(Duration::from_secs(600), 0.5);
        let id = uuid::Uuid::new_v4();
        let (member, student) = (
            Enrolled::Staff(StaffId(id)),
            Enrolled::Student(StudentId(id)),
        );
        assert!(c.admit(Some(member), Decision::Confident, &Z, Instant::now()));
        assert!(!c.admit(Some(member), Decision::Confident, &Z, Instant::now()));
        assert!(
            c.admit(Some(student), Decision::Confident, &Z, Instant::now()),
            "the same bytes as a student's id are someone else"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn confident_after_uncertain_gets_through_once() {
        let mut c = Cooldown::new(Duration::from_secs(600), 0.5);
        let s = Enrolled::Student(StudentId::random());
        assert!(c.admit(Some(s), Decision::Uncertain, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        assert!(!c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_stranger_is_recorded_once_per_period() {
        let mut c = Cooldown::new(Duration::from_secs(60), 0.5);
        let mut other = Z;
        other[0] = 1.0;
        assert!(c.admit(None, Decision::Unknown, &Z, Instant::now()));
        assert!(!c.admit(None, Decision::Unknown, &Z, Instant::now()));
        assert!(c.admit(None, Decision::Unknown, &other, Instant::now()));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(c.admit(None, Decision::Unknown, &Z, Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_stranger_right_after_the_first_is_recorded_at_the_default_bound() {
        let mut c = Cooldown::new(Duration::from_secs(600), crate::config::SAME_STRANGER);
        let at = |d: f32| {
            let mut e = Z;
            e[0] = d;
            e
        };
        assert!(c.admit(None, Decision::Unknown, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(5)).await;
        // Another person at 0.33: inside the old bound (uncertain, 0.40), outside this one.
        assert!(c.admit(None, Decision::Unknown, &at(0.33), Instant::now()));
        assert!(
            !c.admit(None, Decision::Unknown, &at(0.02), Instant::now()),
            "the first again"
        );
    }
}
