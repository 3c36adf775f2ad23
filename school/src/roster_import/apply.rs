//! An import in the order its rows depend on each other: people (teachers are named by
//! classes; students with their year group, form, date of birth and active flag), teachers as
//! staff, students' guardians, students' consent, the leavers the file makes, classes, memberships, the students left in no class,
//! terms; then the gate and the audit. Each phase plans its steps and, unless it is a dry run,
//! applies them in the caller's transaction; any bad reference or a closed gate is an error,
//! so the caller's transaction is dropped and nothing is half-imported.

mod family;
mod members;
mod resolve;
mod staff;

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use uuid::Uuid;

use super::gate::Gate;
use super::plan::{Action, Plan};
use super::roster::{Coverage, Person, Role, Roster, TermRow};
use crate::consent::{self, ConsentError};
use crate::table::RowError;
use rollcall_store::audit::{self, Change};
use rollcall_store::consent::{self as stored_consent, State};
use rollcall_store::imports::{self, Held};
use rollcall_store::school::{Contact, Profile};
use rollcall_store::timetable::{self, Term};
use rollcall_store::{Sql, StoreError, school};

/// How an import runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Say what would change, change nothing.
    pub dry_run: bool,
    /// The number of leavers a person confirmed (`--confirm-leavers N`).
    pub confirm_leavers: Option<usize>,
    /// Add the terms the calendar lacks.
    pub add_terms: bool,
    /// `roster.max_leavers_percent`.
    pub max_leavers_percent: u32,
    /// The school's day the import runs on: the memberships it adds count from it.
    pub today: NaiveDate,
}

/// Why an import did not happen; nothing of it was kept.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", crate::table::nothing_imported(.0, "roster"))]
    Rows(Vec<RowError>),
    #[error("{}", .0.refusal())]
    Leavers(Gate),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Plans the import of `roster` and applies it unless `options.dry_run`, all in the
/// transaction `sql` is in (the caller commits).
pub fn import(
    sql: &dyn Sql,
    roster: &Roster,
    options: Options,
    actor: &str,
    now: UnixMillis,
) -> Result<Plan, ImportError> {
    let mut p = Planner::new(sql, roster, options, now)?;
    p.people()?;
    p.staff()?;
    p.guardians()?;
    p.consents(actor)?;
    p.leavers()?;
    p.classes()?;
    p.memberships()?;
    p.no_class_left();
    p.terms()?;
    p.finish(actor)
}

/// What the hub holds of earlier imports, read before anything changes.
struct Before {
    students: HashMap<String, Held<StudentId>>,
    teachers: HashMap<String, Held<Uuid>>,
    classes: HashMap<String, Held<ClassId>>,
    members: BTreeSet<(String, String)>,
    /// Imported students' classes (imported or not), by source id.
    class_counts: HashMap<String, usize>,
    /// Students who have not left, imported or not.
    students_in_school: usize,
    /// What the hub holds of each student beyond their name.
    profiles: HashMap<StudentId, Profile>,
    /// How the office reaches each student who has an address or a phone.
    contacts: HashMap<StudentId, Contact>,
}

/// An id the import resolved: `None` for a row a dry run would create.
type Resolved<Id> = Option<Id>;

struct Planner<'a> {
    sql: &'a dyn Sql,
    roster: &'a Roster,
    options: Options,
    now: UnixMillis,
    held: Before,
    /// The file's people by source id.
    people: HashMap<&'a str, &'a Person>,
    plan: Plan,
    errors: Vec<RowError>,
    students: HashMap<&'a str, Resolved<StudentId>>,
    teachers: HashMap<&'a str, Resolved<Uuid>>,
    classes: HashMap<&'a str, Resolved<ClassId>>,
    /// Students this import makes leavers.
    leavers: BTreeSet<String>,
    /// Memberships this import adds and removes, as (class, student).
    added: Vec<(String, String)>,
    removed: Vec<(String, String)>,
}

impl<'a> Planner<'a> {
    fn new(
        sql: &'a dyn Sql,
        roster: &'a Roster,
        options: Options,
        now: UnixMillis,
    ) -> Result<Self, StoreError> {
        let held = Before {
            students: imports::students(sql)?,
            teachers: imports::teachers(sql)?,
            classes: imports::classes(sql)?,
            members: imports::members(sql)?.into_iter().collect(),
            class_counts: imports::class_counts(sql)?,
            students_in_school: imports::students_in_school(sql)?,
            profiles: (school::students(sql)?.into_iter())
                .map(|s| (s.id, s.profile))
                .collect(),
            contacts: school::contacts(sql)?,
        };
        let c = roster.coverage;
        let coverage = [("users", c.users), ("classes", c.classes)];
        let coverage = coverage.into_iter().chain([("enrollments", c.enrollments)]);
        let plan = Plan {
            dry_run: options.dry_run,
            format: roster.format,
            coverage: coverage.map(|(k, v)| (k, coverage_name(v))).collect(),
            ..Plan::default()
        };
        Ok(Planner {
            sql,
            roster,
            options,
            now,
            held,
            people: roster
                .people
                .iter()
                .map(|p| (p.source_id.as_str(), p))
                .collect(),
            plan,
            errors: Vec::new(),
            students: HashMap::new(),
            teachers: HashMap::new(),
            classes: HashMap::new(),
            leavers: BTreeSet::new(),
            added: Vec::new(),
            removed: Vec::new(),
        })
    }

    fn apply(&self) -> bool {
        !self.options.dry_run
    }

    /// Students and teachers the file names; a person whose role it does not say keeps the
    /// one the hub knows them by, and one the hub does not know is not Rollcall's.
    fn people(&mut self) -> Result<(), StoreError> {
        for p in &self.roster.people {
            let held_role = if self.held.students.contains_key(&p.source_id) {
                Some(Role::Student)
            } else {
                self.held
                    .teachers
                    .contains_key(&p.source_id)
                    .then_some(Role::Teacher)
            };
            match p.role.or(held_role) {
                Some(Role::Student) => self.student(p)?,
                Some(Role::Teacher) => self.teacher(p)?,
                None => {}
            }
        }
        Ok(())
    }

    fn student(&mut self, p: &'a Person) -> Result<(), StoreError> {
        let (sql, now) = (self.sql, self.now);
        if let Some(Some(born)) = p.profile.born_on
            && born > self.today()
        {
            let why = format!("date of birth {born} is after the day of the import");
            self.errors.push(RowError::new(p.at, why));
        }
        let (action, id, why) = match self.held.students.get(&p.source_id) {
            None => {
                let profile = p.profile.applied_to(&Profile::default());
                let contact = contact_of(p, Contact::default());
                let id = self.apply().then(|| {
                    let id = imports::insert_student(sql, &p.source_id, &p.name, now)?;
                    school::set_contact(sql, id, &contact)?;
                    school::set_profile(sql, id, &profile).map(|()| id)
                });
                (Action::Create, id.transpose()?, "new".to_owned())
            }
            Some(h) => {
                let held = self.held.profiles.get(&h.id).cloned().unwrap_or_default();
                let mut changes = p.profile.described(&held);
                let reach = self.held.contacts.get(&h.id).cloned().unwrap_or_default();
                let contact = contact_of(p, reach.clone());
                if contact.email != reach.email {
                    changes.push("e-mail address changed".into());
                }
                if contact.phone != reach.phone {
                    changes.push("phone changed".into());
                }
                if h.name != p.name {
                    changes.insert(
                        0,
                        "renamed (the same student: faces and register stay)".into(),
                    );
                }
                if changes.is_empty() {
                    (Action::Unchanged, Some(h.id), "as on the hub".to_owned())
                } else {
                    if self.apply() {
                        imports::rename_student(sql, h.id, &p.name)?;
                        school::set_profile(sql, h.id, &p.profile.applied_to(&held))?;
                        school::set_contact(sql, h.id, &contact)?;
                    }
                    (Action::Update, Some(h.id), changes.join("; "))
                }
            }
        };
        self.students.insert(&p.source_id, id);
        self.plan
            .push("student", &p.source_id, &p.name, action, &why);
        Ok(())
    }

    /// The day of the import (UTC's, a day ahead: the school's zone may be ahead of UTC).
    fn today(&self) -> NaiveDate {
        chrono::DateTime::from_timestamp_millis(self.now.0)
            .and_then(|t| t.date_naive().succ_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Consent the file records: a change of state is recorded as an admin's answer would be
    /// (checked, audited, erasing faces on refusal, withdrawal or objection); the same state
    /// again changes nothing.
    fn consents(&mut self, actor: &str) -> Result<(), StoreError> {
        let today = self.today();
        for p in &self.roster.people {
            let (Some(statement), Some(&id)) =
                (&p.consent, self.students.get(p.source_id.as_str()))
            else {
                continue;
            };
            let statement = match statement.clone().checked(today) {
                Ok(s) => s,
                Err(e) => {
                    self.errors.push(RowError::new(p.at, e.to_string()));
                    continue;
                }
            };
            let held = id.map_or(Ok(State::NotAsked), |id| {
                stored_consent::state_of(self.sql, id)
            })?;
            if held == statement.state {
                continue;
            }
            let mut why = format!("consent {} → {}", held.as_str(), statement.state.as_str());
            if consent::erases(statement.state) {
                why += ": their faces are erased";
            }
            self.plan
                .push("consent", &p.source_id, &p.name, Action::Update, &why);
            if let (true, Some(id)) = (self.apply(), id) {
                consent::record(self.sql, id, &statement, actor, self.now).map_err(
                    |e| match e {
                        ConsentError::Store(e) => e,
                        other => StoreError::Conflict(other.to_string()),
                    },
                )?;
            }
        }
        Ok(())
    }

    fn teacher(&mut self, p: &'a Person) -> Result<(), StoreError> {
        let (sql, now) = (self.sql, self.now);
        let (action, id, why) = match self.held.teachers.get(&p.source_id) {
            None => {
                let Some(username) = p.username.as_deref() else {
                    let why = "username is empty: a new teacher needs a user name on the hub";
                    self.errors.push(RowError::new(p.at, why));
                    return Ok(());
                };
                let id = self.apply().then(|| {
                    let email = p.email.as_deref();
                    imports::insert_teacher(sql, &p.source_id, username, &p.name, email, now)
                });
                let why = "new: an account without a password (an admin sets one)";
                (Action::Create, id.transpose()?, why)
            }
            Some(h) if h.name == p.name && h.detail == p.email => {
                (Action::Unchanged, Some(h.id), "as on the hub")
            }
            Some(h) => {
                if self.apply() {
                    imports::update_teacher(sql, h.id, &p.name, p.email.as_deref())?;
                }
                (Action::Update, Some(h.id), "name or e-mail changed")
            }
        };
        self.teachers.insert(&p.source_id, id);
        self.plan
            .push("teacher", &p.source_id, &p.name, action, why);
        Ok(())
    }

    /// A bulk users file leaves out the students who left; a delta deletes them by name.
    fn leavers(&mut self) -> Result<(), StoreError> {
        let gone: Vec<(String, &'static str)> = match self.roster.coverage.users {
            Coverage::Bulk => {
                let mut out: Vec<String> = (self.held.students.keys())
                    .filter(|s| !self.students.contains_key(s.as_str()))
                    .cloned()
                    .collect();
                out.sort();
                let why = "not in the roster: taken out of their classes and marked as left \
                           (kept, never deleted)";
                out.into_iter().map(|s| (s, why)).collect()
            }
            Coverage::Delta => {
                let why = "deleted in the school's system: taken out of their classes and \
                           marked as left (kept, never deleted)";
                let deleted = self.roster.deleted.users.iter();
                deleted.map(|s| (s.clone(), why)).collect()
            }
            Coverage::Absent => Vec::new(),
        };
        for (source, why) in gone {
            if let Some(h) = self.held.students.get(&source) {
                let (id, name, left) = (h.id, h.name.clone(), h.gone);
                if left {
                    let why = "not in the school's system: left already";
                    self.plan
                        .push("student", &source, &name, Action::Unchanged, why);
                    continue;
                }
                if self.apply() {
                    imports::leave_all_classes(self.sql, id)?;
                }
                self.plan
                    .push("student", &source, &name, Action::Leaver, why);
                self.leavers.insert(source);
            } else if let Some(h) = self.held.teachers.get(&source) {
                self.disable(&source, h.id, h.name.clone(), h.gone)?;
            }
        }
        Ok(())
    }

    fn disable(
        &mut self,
        source: &str,
        id: Uuid,
        name: String,
        gone: bool,
    ) -> Result<(), StoreError> {
        if gone {
            let why = "deleted in the school's system: disabled already";
            self.plan
                .push("teacher", source, &name, Action::Unchanged, why);
            return Ok(());
        }
        if self.apply() {
            imports::disable_teacher(self.sql, id)?;
        }
        let why = "deleted in the school's system: the account is disabled (kept, with its \
                   history; an admin deletes it)";
        self.plan
            .push("teacher", source, &name, Action::Disable, why);
        Ok(())
    }

    /// Terms the calendar lacks are offered, and added when asked; a term overlapping one
    /// the calendar has is left to the calendar.
    fn terms(&mut self) -> Result<(), StoreError> {
        let mut calendar = timetable::terms(self.sql)?;
        for t in &self.roster.terms {
            let clash = calendar
                .iter()
                .find(|c| c.first_day <= t.last_day && t.first_day <= c.last_day);
            if let Some(c) = clash {
                let why = format!("the calendar has {} on these days", c.name);
                self.plan
                    .push("term", &t.source_id, &t.name, Action::Unchanged, &why);
                continue;
            }
            let term = new_term(t);
            if self.options.add_terms {
                if self.apply() {
                    timetable::insert_term(self.sql, &term)?;
                }
                let why = format!("added to the calendar: {} to {}", t.first_day, t.last_day);
                self.plan
                    .push("term", &t.source_id, &t.name, Action::Create, &why);
            } else {
                let why = format!(
                    "{} to {}, not on the calendar: ask for the terms to add it",
                    t.first_day, t.last_day
                );
                self.plan
                    .push("term", &t.source_id, &t.name, Action::Offered, &why);
            }
            calendar.push(term);
        }
        Ok(())
    }

    fn finish(mut self, actor: &str) -> Result<Plan, ImportError> {
        if !self.errors.is_empty() {
            return Err(ImportError::Rows(self.errors));
        }
        let o = self.options;
        let gate = Gate::new(
            self.plan.leavers(),
            self.held.students_in_school,
            o.max_leavers_percent,
            o.confirm_leavers,
        );
        self.plan.gate = gate;
        if self.apply() && !gate.open() {
            return Err(ImportError::Leavers(gate));
        }
        self.plan.leavers_first();
        if self.apply() && self.plan.changes() {
            school::note_leavers(self.sql, self.now)?;
            let after = serde_json::json!({
                "format": self.plan.format,
                "coverage": self.plan.coverage,
                "counts": self.plan.counts,
            });
            let change = Change {
                actor,
                action: "roster.import",
                target: "roster".into(),
                before: None,
                after: Some(after),
                at: self.now,
            };
            audit::log(self.sql, change)?;
        }
        Ok(self.plan)
    }
}

fn new_term(t: &TermRow) -> Term {
    Term {
        id: Uuid::now_v7(),
        name: t.name.clone(),
        first_day: t.first_day,
        last_day: t.last_day,
    }
}

fn coverage_name(c: Coverage) -> &'static str {
    match c {
        Coverage::Bulk => "bulk",
        Coverage::Delta => "delta",
        Coverage::Absent => "absent",
    }
}

/// How the office reaches the student `p` after the import: what the file gives, else what
/// the hub `held` (a file without the column, or an empty cell, clears nothing).
fn contact_of(p: &Person, held: Contact) -> Contact {
    Contact {
        email: p.email.clone().or(held.email),
        phone: p.phone.clone().or(held.phone),
    }
}
