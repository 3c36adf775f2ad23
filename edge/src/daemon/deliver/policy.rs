//! What the outbox does when unacknowledged records outgrow their disk budget, or the disk
//! itself runs out. Pure.
//!
//! In order: (1) drop the thumbnails of the oldest records that have one, (2) store the new
//! record without its thumbnail, (3) refuse a new Unknown record. Confident and Uncertain
//! records are always stored, even over the budget (logged and counted): they are the
//! register, and a school would rather lose disk headroom than a child's attendance.
//!
//! The disk is another matter: no record is stored once it would leave the database less
//! than [`DISK_RESERVE`] to grow into. Deleting acknowledged records and checkpointing the
//! write-ahead log both need to write, so a database that filled its disk to the last byte
//! could never drain its outbox, and would refuse every record from then on.

use rollcall_shared::Decision;

/// Room kept free for the outbox to drain: SQLite appends up to 1,000 pages of 4 KiB to its
/// write-ahead log before a checkpoint copies them into the database, which may grow the
/// file by as much; 8 MiB covers both.
pub const DISK_RESERVE: u64 = 8 * 1024 * 1024;

/// Whether a record of `len` bytes must be refused when the database has `room` bytes left
/// to grow into and `reserve` must stay free.
pub fn disk_full(room: u64, len: u64, reserve: u64) -> bool {
    room < reserve.saturating_add(len)
}

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

    #[test]
    fn the_disk_reserve_is_never_used_for_new_records() {
        assert!(!disk_full(DISK_RESERVE + 100, 100, DISK_RESERVE));
        assert!(disk_full(DISK_RESERVE + 99, 100, DISK_RESERVE));
        assert!(disk_full(0, 1, 0));
        assert!(disk_full(u64::MAX - 1, 1, u64::MAX), "no overflow");
    }
}
