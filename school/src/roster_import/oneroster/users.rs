//! The users of a OneRoster package: who is a student or a teacher (1.1: the row's `role`;
//! 1.2: `roles.csv`, a primary role before a secondary one), a teacher's personnel code, a
//! student's consent, year group, form, active flag and date of birth, and the users who are
//! neither: parents, guardians and relatives (the guardians of the students whose
//! `agentSourcedIds` name them, in that order) and administrators (staff, not users of the
//! hub).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::super::collect::Collect;
use super::super::roster::{Agent, Coverage, Person, Role, Roster};
use super::{EXTENSION, Status, USER_ROLES, status};
use crate::office;
use crate::table::{Row, RowError, Table};
use rollcall_store::guardians::Relationship;
use rollcall_store::school::ProfileChange;

/// A role as the file spells it: `Some(None)` for a role that is not Rollcall's people.
pub(super) fn role(row: &Row, column: &str, errors: &mut Vec<RowError>) -> Option<Option<Role>> {
    let value = row.raw(column);
    let Some(known) = USER_ROLES.iter().find(|r| r.eq_ignore_ascii_case(value)) else {
        let roles = USER_ROLES.join(", ");
        errors.push(RowError::new(
            row.at,
            format!("{column} {value:?}: one of OneRoster's roles ({roles})"),
        ));
        return None;
    };
    Some(match *known {
        "student" => Some(Role::Student),
        "teacher" => Some(Role::Teacher),
        _ => None,
    })
}

/// 1.2: each user's role, the primary one first (`None`: roles none of them ours).
pub(super) fn read_roles(
    t: &Table,
    mode: Coverage,
    errors: &mut Vec<RowError>,
) -> HashMap<String, Option<Role>> {
    let mut found: HashMap<String, ((bool, bool), Option<Role>)> = HashMap::new();
    for row in t.rows() {
        let (Some(Status::Active), Some(user), Some(role)) = (
            status(&row, mode, errors),
            row.required("userSourcedId", errors),
            role(&row, "role", errors),
        ) else {
            continue;
        };
        let primary = match row.raw("roleType").to_ascii_lowercase().as_str() {
            "primary" => true,
            "secondary" => false,
            other => {
                errors.push(RowError::new(
                    row.at,
                    format!("roleType {other:?}: primary or secondary"),
                ));
                continue;
            }
        };
        // A role of ours before one that is not, a primary one before a secondary one.
        let rank = (role.is_some(), primary);
        let seen = found.entry(user).or_insert((rank, role));
        if rank > seen.0 {
            *seen = (rank, role);
        }
    }
    found.into_iter().map(|(u, (_, r))| (u, r)).collect()
}

/// What a user who is neither a student nor a teacher is to Rollcall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Other {
    /// A parent, guardian or relative: a guardian of the students who name them.
    Family(Relationship),
    /// An administrator, site administrator or principal: a member of staff.
    Administrator,
}

/// What a user with OneRoster role `role` is, when they are something to Rollcall.
fn other_role(role: &str) -> Option<Other> {
    let is = |r: &str| role.eq_ignore_ascii_case(r);
    if ["administrator", "siteAdministrator", "principal"]
        .into_iter()
        .any(is)
    {
        return Some(Other::Administrator);
    }
    [
        ("parent", Relationship::Parent),
        ("guardian", Relationship::Guardian),
        ("relative", Relationship::Relative),
    ]
    .into_iter()
    .find(|(r, _)| is(r))
    .map(|(_, relationship)| Other::Family(relationship))
}

/// 1.2: what each user whose roles include none of Rollcall's is: an administrator's role
/// before a family one, else the first.
pub(super) fn read_other_roles(t: &Table) -> HashMap<String, Other> {
    let mut found: HashMap<String, Other> = HashMap::new();
    for row in t.rows() {
        if row.raw("status").eq_ignore_ascii_case("tobedeleted") {
            continue;
        }
        let Some(other) = other_role(row.raw("role")) else {
            continue;
        };
        let seen = found
            .entry(row.raw("userSourcedId").to_owned())
            .or_insert(other);
        if other == Other::Administrator {
            *seen = other;
        }
    }
    found
}

/// Each user's date of birth from `demographics.csv` (empty: none); rows to be deleted say
/// nothing.
pub(super) fn read_births(
    t: &Table,
    errors: &mut Vec<RowError>,
) -> HashMap<String, Option<NaiveDate>> {
    let mut births = HashMap::new();
    for row in t.rows() {
        if row.raw("status").eq_ignore_ascii_case("tobedeleted") {
            continue;
        }
        if let (Some(id), Some(born)) = (
            row.required("sourcedId", errors),
            row.born_on("birthDate", errors),
        ) {
            births.insert(id, born);
        }
    }
    births
}

/// What other files say of the users in `users.csv`.
#[derive(Clone, Copy)]
pub(super) struct Users<'a> {
    /// 1.2: each user's role.
    pub(super) roles: Option<&'a HashMap<String, Option<Role>>>,
    /// Dates of birth, when the package has `demographics.csv`.
    pub(super) births: Option<&'a HashMap<String, Option<NaiveDate>>>,
    /// 1.2: what the users who are neither students nor teachers are.
    pub(super) others: Option<&'a HashMap<String, Other>>,
}

pub(super) fn read_users(
    t: &Table,
    mode: Coverage,
    users: Users,
    roster: &mut Roster,
    c: &mut Collect,
) {
    let roles = users.roles;
    for row in t.rows() {
        let e = &mut c.errors;
        let (Some(state), Some(id)) = (status(&row, mode, e), row.required("sourcedId", e)) else {
            continue;
        };
        if state == Status::Deleted {
            if mode == Coverage::Delta {
                roster.deleted.users.insert(id);
            }
            continue;
        }
        // 1.1: the row's own role; 1.2: roles.csv, or the hub's when it does not say. A
        // parent, guardian or relative is a student's guardian.
        let other = match users.others {
            None => other_role(row.raw("role")),
            Some(others) => others.get(&id).copied(),
        };
        let role = match roles {
            None => match role(&row, "role", e) {
                Some(Some(r)) => Some(r),
                Some(None) | None => {
                    read_other(&row, id, other, roster, e);
                    continue;
                }
            },
            Some(roles) => match roles.get(&id) {
                Some(Some(r)) => Some(*r),
                Some(None) => {
                    read_other(&row, id, other, roster, e);
                    continue;
                }
                None => None,
            },
        };
        let Some(name) = full_name(&row, e) else {
            continue;
        };
        let username = row.optional("username", e);
        if role == Some(Role::Teacher) && username.is_none() {
            e.push(RowError::new(
                row.at,
                "username is empty: a teacher's user name on the hub",
            ));
            continue;
        }
        let email = row.account(username.as_deref().unwrap_or(""), "email", e);
        let phone = row.checked_by("phone", office::phone_number, e);
        let consent = row.consent(EXTENSION, e);
        let profile = match role {
            Some(Role::Teacher) => ProfileChange::default(),
            _ => ProfileChange {
                year_group: row.group("grades", e),
                form: row.group(&format!("{EXTENSION}form"), e),
                born_on: users.births.and_then(|b| b.get(&id).copied()),
                active: row.active("enabledUser", e),
            },
        };
        let identifier = match role {
            Some(Role::Teacher) => row.optional("identifier", e),
            _ => None,
        };
        let agents = match role {
            Some(Role::Teacher) => Vec::new(),
            _ => row
                .raw("agentSourcedIds")
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        c.person(Person {
            source_id: id,
            name: name.clone(),
            username,
            email,
            identifier,
            phone,
            role,
            consent,
            profile,
            agents,
            at: row.at,
        });
    }
}

/// A parent's, guardian's or relative's row, as a guardian of the students that name them;
/// an administrator's, as a member of staff.
fn read_other(
    row: &Row,
    id: String,
    other: Option<Other>,
    roster: &mut Roster,
    e: &mut Vec<RowError>,
) {
    let Some(other) = other else {
        return;
    };
    let Some(name) = full_name(row, e) else {
        return;
    };
    let relationship = match other {
        Other::Family(relationship) => relationship,
        Other::Administrator => {
            roster.administrators.push(Person {
                source_id: id,
                name: name.clone(),
                username: None,
                email: row.checked_by("email", crate::accounts::email_address, e),
                identifier: row.optional("identifier", e),
                phone: None,
                role: None,
                consent: None,
                profile: ProfileChange::default(),
                agents: Vec::new(),
                at: row.at,
            });
            return;
        }
    };
    let mobile = match row.raw("sms").trim().is_empty() {
        true => "phone",
        false => "sms",
    };
    roster.agents.push(Agent {
        source_id: id,
        name: name.clone(),
        relationship,
        email: row.checked_by("email", crate::accounts::email_address, e),
        phone: row.checked_by(mobile, office::phone_number, e),
        at: row.at,
    });
}

/// A person's name as the row gives it: the preferred given and family names, else the legal
/// ones; `None` (and the row's error) when both are empty.
fn full_name(row: &Row<'_>, e: &mut Vec<RowError>) -> Option<String> {
    let given = row
        .name("preferredGivenName", e)
        .or(row.name("givenName", e));
    let family = row
        .name("preferredFamilyName", e)
        .or(row.name("familyName", e));
    let name = [given, family].into_iter().flatten().collect::<Vec<_>>();
    if name.is_empty() {
        e.push(RowError::new(
            row.at,
            "givenName and familyName are both empty",
        ));
        return None;
    }
    Some(name.join(" "))
}
