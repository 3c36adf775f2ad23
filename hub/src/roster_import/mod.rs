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
mod table;

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::consent::Statement;
use crate::store::school::ProfileChange;

pub use apply::{ImportError, Options, import};
pub use gate::Gate;
pub use package::{MAX_FILE, ONEROSTER_FILES, read_dir, read_zip};
pub use plan::{Action, Plan, Step};
pub use table::{At, RowError};

/// What the file says of a person, whom the hub keeps as a student or a teacher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Student,
    Teacher,
}

/// How much of the school one part of a roster speaks for (OneRoster's manifest values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Coverage {
    /// Everything there is: what the file leaves out is gone.
    #[default]
    Bulk,
    /// Only the rows it names change.
    Delta,
    /// Nothing to read.
    Absent,
}

/// One person of the school's system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub source_id: String,
    pub name: String,
    /// A teacher's user name on the hub (needed for a teacher the hub does not hold yet).
    pub username: Option<String>,
    pub email: Option<String>,
    /// `None`: the file does not say (a 1.2 delta without the person's roles): the hub's.
    pub role: Option<Role>,
    /// A student's consent to face recognition, when the file's consent columns say one.
    pub consent: Option<Statement>,
    /// A student's year group, form, date of birth and active flag, as far as the file says.
    pub profile: ProfileChange,
    pub at: At,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRow {
    pub source_id: String,
    pub name: String,
    pub at: At,
}

/// A person in a class: a student's membership, or the class's teacher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrollment {
    pub class: String,
    pub user: String,
    pub role: Role,
    /// A teacher's primary enrolment: the class's teacher before any other.
    pub primary: bool,
    pub at: At,
}

/// A term of the school's calendar (OneRoster `academicSessions`), offered to the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermRow {
    pub source_id: String,
    pub name: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub at: At,
}

/// What each part of a roster speaks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverages {
    pub users: Coverage,
    pub classes: Coverage,
    pub enrollments: Coverage,
}

/// What a delta marks `tobedeleted`, by source id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub users: BTreeSet<String>,
    pub classes: BTreeSet<String>,
    /// (class, student).
    pub memberships: BTreeSet<(String, String)>,
}

/// What a roster file says, checked row by row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// `plain CSV`, `OneRoster 1.1` or `OneRoster 1.2`.
    pub format: &'static str,
    pub coverage: Coverages,
    pub people: Vec<Person>,
    pub classes: Vec<ClassRow>,
    pub enrollments: Vec<Enrollment>,
    pub deleted: Deleted,
    pub terms: Vec<TermRow>,
}

#[cfg(test)]
mod tests;
