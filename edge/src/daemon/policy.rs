//! What the outbox does when unacknowledged records outgrow their disk budget. Pure.
//!
//! In order: (1) drop the thumbnails of the oldest records that have one, (2) store the new
//! record without its thumbnail, (3) refuse a new Unknown record. Confident and Uncertain
//! records are always stored, even over the budget (logged and counted): they are the
//! register, and a school would rather lose disk headroom than a child's attendance.

use rollcall_shared::Decision;

/// What to do with a new record of `len` bytes when `used` of `max` are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It fits.
    Store,
    /// Free space by dropping old thumbnails (and this record's own) first, then look again.
    MakeRoom,
    /// Over the budget but kept: Confident and Uncertain records are never dropped.
    StoreOverBudget,
    /// Over the budget: an Unknown record is refused.
    Refuse,
}

/// The admission rule. `room_made` says whether thumbnails have already been dropped.
pub fn admit(decision: Decision, used: u64, len: u64, max: u64, room_made: bool) -> Admission {
    if used.saturating_add(len) <= max {
        return Admission::Store;
    }
    if !room_made {
        return Admission::MakeRoom;
    }
    match decision {
        Decision::Unknown => Admission::Refuse,
        Decision::Confident | Decision::Uncertain => Admission::StoreOverBudget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_go_first_then_unknowns_and_never_the_register() {
        use Admission::*;
        assert_eq!(admit(Decision::Unknown, 10, 5, 100, false), Store);
        assert_eq!(admit(Decision::Unknown, 98, 5, 100, false), MakeRoom);
        assert_eq!(admit(Decision::Unknown, 98, 5, 100, true), Refuse);
        assert_eq!(
            admit(Decision::Confident, 98, 5, 100, true),
            StoreOverBudget
        );
        assert_eq!(
            admit(Decision::Uncertain, 98, 5, 100, true),
            StoreOverBudget
        );
    }
}
