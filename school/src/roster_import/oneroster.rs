//! OneRoster CSV packages, versions 1.1 and 1.2, as the CSV binding lays them out.
//!
//! `manifest.csv` comes first and decides: `oneroster.version` says the layout (1.1: each
//! user's `role` in `users.csv`; 1.2: roles in `roles.csv`, `primary` before `secondary`,
//! `userProfiles` ignored), and each `file.<name>` says `bulk`, `delta` or `absent`. A file the
//! manifest marks absent is not read even when it is there; one it marks bulk or delta must
//! be. In a bulk file a `tobedeleted` row is left out; in a delta every row says `active` or
//! `tobedeleted`. Unknown versions and values are refused with the reason.
//!
//! Read: users (`users`: their roles, a teacher's personnel code, parents, guardians and
//! relatives as the guardians of the students whose `agentSourcedIds` name them, administrators
//! as staff, and a student's consent to face recognition in the extension
//! columns `metadata.rollcall.consent`, `…consent_by`, `…consent_signed_on`,
//! `…consent_reference`; their year group from `grades`, their form from
//! `metadata.rollcall.form`, active from `enabledUser`, and their date of birth from
//! `demographics.csv`'s `birthDate`), classes, enrollments, and `academicSessions` (the terms,
//! or the semesters when there are no terms, offered to the calendar). Whether an enrollment's class
//! and user exist is for the import to say: a delta may name ones only the hub holds.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::collect::Collect;
use super::roster::{ClassRow, Coverage, Coverages, Enrollment, Role, Roster, TermRow};
use crate::office;
use crate::table::{Row, RowError, Table};

mod users;

use users::{Users, read_births, read_other_roles, read_roles, read_users, role};

const MANIFEST: &str = "manifest.csv";
/// The prefix of the extension columns of `users.csv` that carry a student's consent and form.
const EXTENSION: &str = "metadata.rollcall.";

/// The layouts this hub reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1_1,
    V1_2,
}

/// What `manifest.csv` says.
struct Manifest {
    version: Version,
    files: HashMap<String, Coverage>,
}

impl Version {
    /// The columns `users.csv` must have.
    fn user_columns(self) -> &'static [&'static str] {
        match self {
            Version::V1_1 => &["sourcedId", "role", "givenName", "familyName"],
            Version::V1_2 => &["sourcedId", "givenName", "familyName"],
        }
    }
}

impl Manifest {
    /// What the manifest says of `name` (`users`, `roles`, …); a file it does not list is
    /// absent.
    fn coverage(&self, name: &str) -> Coverage {
        self.files.get(name).copied().unwrap_or(Coverage::Absent)
    }
}

/// A OneRoster package from its files by name (`manifest.csv`, `users.csv`, …): the manifest
/// read, every file it lists opened, then each read into the roster.
pub fn read(files: &BTreeMap<String, Vec<u8>>) -> Result<Roster, Vec<RowError>> {
    let Some(bytes) = files.get(MANIFEST) else {
        return Err(vec![whole(
            MANIFEST,
            "missing: a OneRoster package starts with its manifest, which says which files \
             are bulk, delta or absent",
        )]);
    };
    let manifest = manifest(bytes)?;
    let mut c = Collect::default();
    let mut roster = Roster {
        format: match manifest.version {
            Version::V1_1 => "OneRoster 1.1",
            Version::V1_2 => "OneRoster 1.2",
        },
        coverage: Coverages {
            users: manifest.coverage("users"),
            classes: manifest.coverage("classes"),
            enrollments: manifest.coverage("enrollments"),
        },
        ..Roster::default()
    };
    let tables = Tables::open(files, &manifest, &mut c);
    tables.read(&mut roster, &mut c);
    c.finish(roster)
}

/// The files of a package the manifest lists, each with what the manifest says of it.
struct Tables {
    users: Option<(Table, Coverage)>,
    roles: Option<(Table, Coverage)>,
    classes: Option<(Table, Coverage)>,
    enrollments: Option<(Table, Coverage)>,
    sessions: Option<(Table, Coverage)>,
    demographics: Option<(Table, Coverage)>,
}

impl Tables {
    /// Opens every file the manifest lists as bulk or delta (`roles.csv` only in 1.2); one it
    /// lists but the package lacks is an error.
    fn open(files: &BTreeMap<String, Vec<u8>>, manifest: &Manifest, c: &mut Collect) -> Tables {
        let open = |name: &str, file: &'static str, required: &[&str], c: &mut Collect| {
            let coverage = manifest.coverage(name);
            if coverage == Coverage::Absent {
                return None;
            }
            let Some(bytes) = files.get(file) else {
                let mode = if coverage == Coverage::Bulk {
                    "bulk"
                } else {
                    "delta"
                };
                c.errors.push(whole(
                    file,
                    &format!("the manifest says file.{name} is {mode}, but the package lacks it"),
                ));
                return None;
            };
            Some((Table::read(file, bytes, required, &mut c.errors), coverage))
        };
        let users = open("users", "users.csv", manifest.version.user_columns(), c);
        let roles = (manifest.version == Version::V1_2)
            .then(|| open("roles", "roles.csv", ROLE_COLUMNS, c))
            .flatten();
        let classes = open("classes", "classes.csv", &["sourcedId", "title"], c);
        let enrollments = open("enrollments", "enrollments.csv", ENROLLMENT_COLUMNS, c);
        let sessions = open(
            "academicSessions",
            "academicSessions.csv",
            SESSION_COLUMNS,
            c,
        );
        let demographics = open("demographics", "demographics.csv", &["sourcedId"], c);
        Tables {
            users,
            roles,
            classes,
            enrollments,
            sessions,
            demographics,
        }
    }

    /// Reads the open files into `roster`: roles and dates of birth first, for the users.
    fn read(self, roster: &mut Roster, c: &mut Collect) {
        let others = self.roles.as_ref().map(|(t, _)| read_other_roles(t));
        let roles = self
            .roles
            .map(|(t, mode)| read_roles(&t, mode, &mut c.errors));
        let births = self
            .demographics
            .map(|(t, _)| read_births(&t, &mut c.errors));
        if let Some((t, mode)) = &self.users {
            let people = Users {
                roles: roles.as_ref(),
                births: births.as_ref(),
                others: others.as_ref(),
            };
            read_users(t, *mode, people, roster, c);
        }
        if let Some((t, mode)) = &self.classes {
            read_classes(t, *mode, roster, c);
        }
        if let Some((t, mode)) = &self.enrollments {
            read_enrollments(t, *mode, roster, c);
        }
        if let Some((t, mode)) = &self.sessions {
            roster.terms = read_terms(t, *mode, &mut c.errors);
        }
    }
}

const ROLE_COLUMNS: &[&str] = &["sourcedId", "userSourcedId", "roleType", "role"];
const ENROLLMENT_COLUMNS: &[&str] = &["sourcedId", "classSourcedId", "userSourcedId", "role"];
const SESSION_COLUMNS: &[&str] = &["sourcedId", "title", "type", "startDate", "endDate"];

/// Every role a OneRoster 1.1 or 1.2 user may have; only students and teachers are
/// Rollcall's people.
const USER_ROLES: [&str; 13] = [
    "administrator",
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
];

fn manifest(bytes: &[u8]) -> Result<Manifest, Vec<RowError>> {
    let mut errors = Vec::new();
    let t = Table::read(MANIFEST, bytes, &["propertyName", "value"], &mut errors);
    let mut version = None;
    let mut files = HashMap::new();
    for row in t.rows() {
        let (property, value) = (row.raw("propertyName"), row.raw("value"));
        match property {
            "manifest.version" if value != "1.0" => errors.push(RowError::new(
                row.at,
                format!("manifest.version {value:?}: this hub reads manifest version 1.0"),
            )),
            "oneroster.version" => match value {
                "1.1" => version = Some(Version::V1_1),
                "1.2" => version = Some(Version::V1_2),
                _ => errors.push(RowError::new(
                    row.at,
                    format!("oneroster.version {value:?}: this hub reads OneRoster 1.1 and 1.2"),
                )),
            },
            _ => {
                if let Some(name) = property.strip_prefix("file.") {
                    match coverage(value) {
                        Some(c) => {
                            files.insert(name.to_owned(), c);
                        }
                        None => errors.push(RowError::new(
                            row.at,
                            format!("{property} {value:?}: bulk, delta or absent"),
                        )),
                    }
                }
            }
        }
    }
    match version {
        Some(version) if errors.is_empty() => Ok(Manifest { version, files }),
        Some(_) => Err(errors),
        None if errors.is_empty() => Err(vec![whole(
            MANIFEST,
            "it does not say oneroster.version (1.1 or 1.2)",
        )]),
        None => Err(errors),
    }
}

fn coverage(value: &str) -> Option<Coverage> {
    match value.to_ascii_lowercase().as_str() {
        "bulk" => Some(Coverage::Bulk),
        "delta" => Some(Coverage::Delta),
        "absent" => Some(Coverage::Absent),
        _ => None,
    }
}

/// A row's `status`: `None` when the row is refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Deleted,
}

fn status(row: &Row, mode: Coverage, errors: &mut Vec<RowError>) -> Option<Status> {
    match (row.raw("status").to_ascii_lowercase().as_str(), mode) {
        ("", Coverage::Delta) => {
            errors.push(RowError::new(
                row.at,
                "status is empty: every row of a delta file says active or tobedeleted",
            ));
            None
        }
        ("" | "active", _) => Some(Status::Active),
        ("tobedeleted", _) => Some(Status::Deleted),
        (other, _) => {
            errors.push(RowError::new(
                row.at,
                format!("status {other:?}: active or tobedeleted"),
            ));
            None
        }
    }
}

fn read_classes(t: &Table, mode: Coverage, roster: &mut Roster, c: &mut Collect) {
    for row in t.rows() {
        let e = &mut c.errors;
        let (Some(state), Some(id)) = (status(&row, mode, e), row.required("sourcedId", e)) else {
            continue;
        };
        match state {
            Status::Deleted if mode == Coverage::Delta => {
                roster.deleted.classes.insert(id);
            }
            Status::Deleted => {}
            Status::Active => {
                let code = row.checked_by("classCode", office::class_code, e);
                if let Some(name) = row.required_name("title", e) {
                    c.class(ClassRow {
                        source_id: id,
                        name,
                        code,
                        at: row.at,
                    });
                }
            }
        }
    }
}

fn read_enrollments(t: &Table, mode: Coverage, roster: &mut Roster, c: &mut Collect) {
    for row in t.rows() {
        let e = &mut c.errors;
        let (Some(state), Some(class), Some(user), Some(role)) = (
            status(&row, mode, e),
            row.required("classSourcedId", e),
            row.required("userSourcedId", e),
            role(&row, "role", e),
        ) else {
            continue;
        };
        let primary = row.flag("primary", e);
        match (state, role) {
            // Administrators, proctors and aides in a class are not Rollcall's people.
            (_, None) => {}
            (Status::Deleted, Some(Role::Student)) if mode == Coverage::Delta => {
                roster.deleted.memberships.insert((class, user));
            }
            (Status::Deleted, _) => {}
            (Status::Active, Some(role)) => c.enrollment(Enrollment {
                class,
                user,
                role,
                primary,
                at: row.at,
            }),
        }
    }
}

/// The terms (or, when there are none, the semesters) of `academicSessions.csv`.
fn read_terms(t: &Table, mode: Coverage, errors: &mut Vec<RowError>) -> Vec<TermRow> {
    let mut by_type: BTreeMap<&'static str, Vec<TermRow>> = BTreeMap::new();
    for row in t.rows() {
        let (Some(Status::Active), Some(id)) = (
            status(&row, mode, errors),
            row.required("sourcedId", errors),
        ) else {
            continue;
        };
        let kind = match row.raw("type") {
            "term" => "term",
            "semester" => "semester",
            "schoolYear" | "gradingPeriod" => continue,
            other => {
                errors.push(RowError::new(
                    row.at,
                    format!("type {other:?}: gradingPeriod, semester, schoolYear or term"),
                ));
                continue;
            }
        };
        let (Some(name), Some(first), Some(last)) = (
            row.name("title", errors),
            date(&row, "startDate", errors),
            date(&row, "endDate", errors),
        ) else {
            continue;
        };
        if last < first {
            errors.push(RowError::new(row.at, "endDate is before startDate"));
            continue;
        }
        by_type.entry(kind).or_default().push(TermRow {
            source_id: id,
            name,
            first_day: first,
            last_day: last,
            at: row.at,
        });
    }
    by_type
        .remove("term")
        .or_else(|| by_type.remove("semester"))
        .unwrap_or_default()
}

/// A date as `YYYY-MM-DD` (a date-time's date part too).
fn date(row: &Row, column: &str, errors: &mut Vec<RowError>) -> Option<NaiveDate> {
    let raw = row.raw(column);
    let day = raw.split_once('T').map_or(raw, |(d, _)| d);
    match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(RowError::new(
                row.at,
                format!("{column} {raw:?}: a date as YYYY-MM-DD"),
            ));
            None
        }
    }
}

fn whole(file: &str, message: &str) -> RowError {
    RowError {
        file: file.to_owned(),
        line: 0,
        message: message.to_owned(),
    }
}
