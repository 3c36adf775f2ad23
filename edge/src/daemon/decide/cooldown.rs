//! Per-student cooldown: no second record for the same person within the configured period.
//! Pure; time is passed in (tokio's `Instant`, so tests run on the paused clock).
//!
//! Rules: a student with a record in the last `period` gets no new one — except that a
//! Confident sighting after only Uncertain ones is let through (it settles the register).
//! Unknown faces have no id: a new Unknown is suppressed when its embedding is within
//! `same_person` of an Unknown recorded in the last `period`.

use std::collections::HashMap;
use std::time::Duration;

use rollcall_shared::{Decision, Embedding, StudentId};
use tokio::time::Instant;

/// Most recent Unknown faces remembered.
const MAX_UNKNOWNS: usize = 64;

#[derive(Debug)]
pub struct Cooldown {
    period: Duration,
    same_person: f32,
    students: HashMap<StudentId, (Instant, Decision)>,
    unknowns: Vec<(Instant, Embedding)>,
}

impl Cooldown {
    pub fn new(period: Duration, same_person: f32) -> Self {
        Self {
            period,
            same_person,
            students: HashMap::new(),
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
        student: Option<StudentId>,
        decision: Decision,
        embedding: &Embedding,
        now: Instant,
    ) -> bool {
        self.forget_before(now);
        match (student, decision) {
            (Some(s), Decision::Confident | Decision::Uncertain) => {
                self.admit_student(s, decision, now)
            }
            _ => self.admit_unknown(embedding, now),
        }
    }

    fn admit_student(&mut self, s: StudentId, decision: Decision, now: Instant) -> bool {
        let allowed = match self.students.get(&s) {
            None => true,
            Some((_, before)) => *before == Decision::Uncertain && decision == Decision::Confident,
        };
        if allowed {
            self.students.insert(s, (now, decision));
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
        self.students
            .retain(|_, (at, _)| now.duration_since(*at) < period);
        self.unknowns
            .retain(|(at, _)| now.duration_since(*at) < period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: Embedding = Embedding::ZERO;

    #[tokio::test(start_paused = true)]
    async fn a_student_gets_one_record_per_period() {
        let mut c = Cooldown::new(Duration::from_secs(600), 0.5);
        let s = StudentId::random();
        assert!(c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(!c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        assert!(!c.admit(Some(s), Decision::Uncertain, &Z, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(c.admit(Some(s), Decision::Confident, &Z, Instant::now()));
        assert!(c.admit(
            Some(StudentId::random()),
            Decision::Confident,
            &Z,
            Instant::now()
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn confident_after_uncertain_gets_through_once() {
        let mut c = Cooldown::new(Duration::from_secs(600), 0.5);
        let s = StudentId::random();
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
