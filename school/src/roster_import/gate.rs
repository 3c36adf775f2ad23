//! The safety gate: a valid file from the school's own system must never cost students their
//! place by mistake (a nightly delta sent as the whole school, a half-exported file). An
//! import that would make more than a set share of the school's students leavers stops and
//! says so, unless a person confirms that number of leavers.

use serde::Serialize;

/// How many students an import makes leavers, against the school's limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub leavers: usize,
    /// The school's students before the import (those who have not left).
    pub students: usize,
    /// `roster.max_leavers_percent`.
    pub max_percent: u32,
    /// Over the limit: the import needs `confirm_leavers` equal to `leavers`.
    pub needs_confirmation: bool,
    pub confirmed: bool,
}

impl Gate {
    pub fn new(leavers: usize, students: usize, max_percent: u32, confirm: Option<usize>) -> Self {
        let over = leavers.saturating_mul(100) > students.saturating_mul(max_percent as usize);
        Gate {
            leavers,
            students,
            max_percent,
            needs_confirmation: over,
            confirmed: confirm == Some(leavers),
        }
    }

    /// Whether the import may go ahead.
    pub fn open(&self) -> bool {
        !self.needs_confirmation || self.confirmed
    }

    /// Why it may not, in the words of the person importing.
    pub fn refusal(&self) -> String {
        let share = self.leavers * 100 / self.students.max(1);
        format!(
            "this import makes {} of the school's {} students leavers ({share} %), more than \
             the {} % it makes without confirmation; nothing was imported. Check that the file \
             is the whole school (a nightly change file must say delta in its manifest), then \
             confirm the {} leavers",
            self.leavers, self.students, self.max_percent, self.leavers
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_leavers_than_the_share_need_that_number_confirmed() {
        assert!(Gate::new(1, 10, 10, None).open(), "10 % is within 10 %");
        assert!(Gate::new(0, 0, 10, None).open(), "an empty school");
        let gate = Gate::new(4, 5, 10, None);
        assert!(gate.needs_confirmation && !gate.open());
        assert!(
            gate.refusal()
                .contains("4 of the school's 5 students leavers (80 %)")
        );
        assert!(!Gate::new(4, 5, 10, Some(3)).open(), "another number");
        assert!(Gate::new(4, 5, 10, Some(4)).open());
        assert!(Gate::new(2, 10, 20, None).open());
        assert!(!Gate::new(3, 10, 20, None).open());
        assert!(
            !Gate::new(1, 1, 0, None).open(),
            "0 %: every leaver confirmed"
        );
    }
}
