//! A lesson's cards named as one closed set. The people who walk through a classroom door
//! during a lesson are, with few exceptions, that lesson's students, each at most once; so the
//! faces the door was not sure of (its cards) are named together, against the students not yet
//! marked, rather than each against the whole class. Pure.
//!
//! 1. *Who may be named*: a card is measured against every student of the lesson. One whose
//!    nearest student is already marked stays a card: it is most likely that student again
//!    (walking in twice, or seen at a second door), and naming it as somebody else would be a
//!    guess. A card the caller says may not name anybody (a face judged not live) still takes
//!    part below, as a rival for the students it is near, but is never named.
//! 2. *Named jointly* ([`name_jointly`]): the cards against the unmarked students only, with
//!    the band of each card's grade and the margin counted against unmarked students alone (a
//!    runner-up already marked present does not compete). The caller narrows the bands for the
//!    number of students still unmarked ([`Thresholds::for_searched`]).
//! 3. *Only the nearest*: a card becomes a mark only when the assignment names it Confident
//!    as its own nearest unmarked student. The assignment may name a card as its second
//!    student when its first is another card's; such a card stays a card.
//!
//! Everything else stays as it was: a card that is not named waits for a teacher, who is
//! offered [`suggest`]'s guess for all of a lesson's cards at once.

use std::hash::Hash;

use super::assignment::{PhotoFace, name_jointly};
use super::decision::{Decision, Thresholds};
use super::gallery::Match;
use crate::quality::Grade;

/// One card of the lesson as the search saw it.
#[derive(Debug, Clone, Copy)]
pub struct Card<'a, Id> {
    pub grade: Grade,
    /// Its distance to every student of the lesson, marked or not, nearest first.
    pub matches: &'a [Match<Id>],
    /// Whether the card may be named at all (false: it takes part as a rival only).
    pub may_name: bool,
}

/// The student each card is named as, in order; `None` for a card that stays a card.
///
/// `unmarked` says which students of the lesson are not yet marked; `thresholds` are the
/// closed set's, narrowed for the number of them.
pub fn name_among_unmarked<Id: Copy + Eq + Hash>(
    cards: &[Card<'_, Id>],
    unmarked: impl Fn(&Id) -> bool,
    thresholds: &Thresholds,
) -> Vec<Option<Id>> {
    let open: Vec<Vec<Match<Id>>> = cards
        .iter()
        .map(|c| {
            c.matches
                .iter()
                .copied()
                .filter(|m| unmarked(&m.id))
                .collect()
        })
        .collect();
    let faces: Vec<PhotoFace<'_, Id>> = cards
        .iter()
        .zip(&open)
        .map(|(card, matches)| PhotoFace {
            grade: card.grade,
            matches,
        })
        .collect();
    let named = name_jointly(&faces, thresholds);
    cards
        .iter()
        .zip(&open)
        .zip(named)
        .map(|((card, open), named)| {
            let nearest = card.matches.first()?;
            let student = named.student?;
            let nearest_is_open = open.first().is_some_and(|m| m.id == nearest.id);
            let chosen = card.may_name
                && named.decision == Decision::Confident
                && nearest_is_open
                && student == nearest.id;
            chosen.then_some(student)
        })
        .collect()
}

/// The student each card most likely is, for a teacher to confirm or correct: the least-cost
/// assignment of the cards to the unmarked students within `reach` of them, each student at
/// most once, whatever the grade and however close the runner-up (a person decides). A card
/// whose nearest student is already marked, or that may not be named, is offered nobody.
pub fn suggest<Id: Copy + Eq + Hash>(
    cards: &[Card<'_, Id>],
    unmarked: impl Fn(&Id) -> bool,
    reach: f32,
) -> Vec<Option<Id>> {
    let open: Vec<Vec<Match<Id>>> = cards
        .iter()
        .map(|c| match c.matches.first() {
            Some(nearest) if c.may_name && unmarked(&nearest.id) => c
                .matches
                .iter()
                .copied()
                .filter(|m| unmarked(&m.id))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let faces: Vec<PhotoFace<'_, Id>> = open
        .iter()
        .map(|matches| PhotoFace {
            grade: Grade::Good,
            matches,
        })
        .collect();
    let anyone = Thresholds {
        confident: reach,
        confident_weak: reach,
        uncertain: reach,
        min_margin: 0.0,
    };
    name_jointly(&faces, &anyone)
        .into_iter()
        .map(|named| named.student)
        .collect()
}

#[cfg(test)]
mod tests;
