//! What a roster file says, whatever its format: the people, classes, memberships and terms
//! it names, how much of the school each part speaks for, and what a delta deletes. The
//! readers (`plain`, `oneroster`) make it; `apply` plans and writes it.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::consent::Statement;
use crate::table::At;
use rollcall_store::guardians::Relationship;
use rollcall_store::school::ProfileChange;

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
    /// A teacher's personnel code (OneRoster's `identifier`, the school's own number for them),
    /// when the file gives one.
    pub identifier: Option<String>,
    /// A student's phone number, when the file gives one (checked by
    /// [`crate::office::phone_number`]).
    pub phone: Option<String>,
    /// `None`: the file does not say (a 1.2 delta without the person's roles): the hub's.
    pub role: Option<Role>,
    /// A student's consent to face recognition, when the file's consent columns say one.
    pub consent: Option<Statement>,
    /// A student's year group, form, date of birth and active flag, as far as the file says.
    pub profile: ProfileChange,
    /// A student's guardians, first to last, by their source ids (OneRoster's
    /// `agentSourcedIds`); empty when the file names none.
    pub agents: Vec<String>,
    pub at: At,
}

/// A student's guardian as the file has them (OneRoster's parents, guardians and relatives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub source_id: String,
    pub name: String,
    pub relationship: Relationship,
    pub email: Option<String>,
    /// Their mobile number (OneRoster's `sms`, else `phone`).
    pub phone: Option<String>,
    pub at: At,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRow {
    pub source_id: String,
    pub name: String,
    /// The school's code for the class, when the file gives one (checked by
    /// [`crate::office::class_code`]); `None` leaves the hub's as it is.
    pub code: Option<String>,
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
    /// Students' guardians the file names.
    pub agents: Vec<Agent>,
    /// The school's administrators (OneRoster's `administrator`, `siteAdministrator` and
    /// `principal`): staff, not users of the hub.
    pub administrators: Vec<Person>,
    pub classes: Vec<ClassRow>,
    pub enrollments: Vec<Enrollment>,
    pub deleted: Deleted,
    pub terms: Vec<TermRow>,
}
