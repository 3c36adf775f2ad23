//! Roster import: students, teachers, classes, memberships and terms from the school
//! information system, as a plain CSV (`plain`) or a OneRoster 1.1 or 1.2 CSV package
//! (`oneroster`). `rollcall-hub roster import`, `POST /api/v1/roster/import` and the Admin page
//! use it.
//!
//! A file says how much of the school it speaks for, and only that changes: the plain CSV is
//! always the whole school; a OneRoster package's manifest says, file by file, `bulk` (this is
//! all there is), `delta` (only the rows named change: `active` creates or updates,
//! `tobedeleted` removes) or `absent` (nothing to read). A nightly delta naming one student
//! leaves every other student as they are.
//!
//! A student's consent to face recognition travels in optional columns (`consent`,
//! `consent_by`, `consent_signed_on`, `consent_reference`; OneRoster's `users.csv` with the
//! `metadata.rollcall.` prefix): a change is recorded as an admin's would be, checked the same
//! way, and a refusal, withdrawal or objection erases the student's faces.
//!
//! What the school says of a student beyond their name travels too: year group, form, date of
//! birth and whether they are active (plain CSV: `year_group`, `form`, `date_of_birth`,
//! `active`; OneRoster: `grades`, `metadata.rollcall.form`, `demographics.csv`'s `birthDate`,
//! `enabledUser`). A column the file lacks leaves that detail as the hub holds it; an empty
//! field clears it (an empty `active` is `true`).
//!
//! Everything is keyed by the source's ids (`external_ref`): importing the same file again
//! changes nothing, and a renamed student stays the same student, faces and register
//! included. A student the school's system no longer has (left out of a bulk file, or deleted
//! by a delta), or left in no class, is a leaver: out of their classes and marked as left
//! (their faces go after `retention.leaver_days`), never deleted. An import that would make
//! more than `roster.max_leavers_percent` of the school's students leavers stops unless the
//! number is confirmed (`gate`). A dry run says what would change, leavers first, with a
//! reason per row; a roster with any bad row is refused whole, and an import is one
//! transaction: nothing is ever half-imported. Teachers made by an import have no password
//! until an admin sets one; classes and students made by hand (no source id) are never touched.

mod apply;
mod collect;
mod gate;
pub mod oneroster;
mod package;
pub mod plain;
mod plan;
mod roster;

pub use crate::table::{At, RowError};
pub use apply::{ImportError, Options, import};
pub use gate::Gate;
pub use package::{MAX_FILE, ONEROSTER_FILES, read_dir, read_zip};
pub use plan::{Action, Plan, Step};
pub use roster::{
    ClassRow, Coverage, Coverages, Deleted, Enrollment, Person, Role, Roster, TermRow,
};

#[cfg(test)]
mod tests;
