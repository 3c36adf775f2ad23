//! An import in the order its rows depend on each other: people (teachers are named by
//! classes), the leavers the file makes, classes, memberships, the students left in no class,
//! terms; then the gate and the audit. Each phase plans its steps and, unless it is a dry run,
//! applies them in the caller's transaction; any bad reference or a closed gate is an error,
//! so the caller's transaction is dropped and nothing is half-imported.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use uuid::Uuid;

use super::plan::{Action, Plan};
use super::{Coverage, Enrollment, Gate, Person, Role, Roster, RowError, TermRow};
use crate::store::audit::{self, Change};
use crate::store::imports::{self, Held};
use crate::store::timetable::{self, Term};
use crate::store::{Sql, StoreError, school};

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
}

/// Why an import did not happen; nothing of it was kept.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} rows of the roster cannot be used; nothing was imported", .0.len())]
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
        let (action, id, why) = match self.held.students.get(&p.source_id) {
            None => {
                let id = self
                    .apply()
                    .then(|| imports::insert_student(sql, &p.source_id, &p.name, now));
                (Action::Create, id.transpose()?, "new")
            }
            Some(h) if h.name == p.name => (Action::Unchanged, Some(h.id), "as on the hub"),
            Some(h) => {
                if self.apply() {
                    imports::rename_student(sql, h.id, &p.name)?;
                }
                let why = "renamed (the same student: faces and register stay)";
                (Action::Update, Some(h.id), why)
            }
        };
        self.students.insert(&p.source_id, id);
        self.plan
            .push("student", &p.source_id, &p.name, action, why);
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

    /// Classes the file names, with their teacher; classes it leaves out or deletes are left
    /// alone with their students (a class's end is for a person to decide).
    fn classes(&mut self) -> Result<(), StoreError> {
        let mut teacher_of: BTreeMap<&str, &Enrollment> = BTreeMap::new();
        for e in self
            .roster
            .enrollments
            .iter()
            .filter(|e| e.role == Role::Teacher)
        {
            let better = teacher_of
                .get(e.class.as_str())
                .is_none_or(|t| e.primary && !t.primary);
            if better {
                teacher_of.insert(&e.class, e);
            }
        }
        for c in &self.roster.classes {
            let teacher = match teacher_of.get(c.source_id.as_str()) {
                Some(e) => self.teacher_ref(e),
                None => None,
            };
            let id = self.class(&c.source_id, &c.name, teacher)?;
            self.classes.insert(&c.source_id, id);
        }
        // A delta may give a class the hub holds a new teacher without restating the class.
        for (class, e) in &teacher_of {
            if self.classes.contains_key(class) {
                continue;
            }
            match self.held_class(class) {
                Ok(h) => {
                    let (id, name) = (h.id, h.name.clone());
                    let teacher = self.teacher_ref(e);
                    self.class(class, &name, teacher)?;
                    self.classes.insert(class, Some(id));
                }
                Err(why) => self.errors.push(RowError::new(e.at, why)),
            }
        }
        self.classes_left_alone();
        Ok(())
    }

    /// Creates or updates one class; `teacher`: the one the file gives (`Some(None)`: a
    /// teacher a dry run would create).
    fn class(
        &mut self,
        source: &str,
        name: &str,
        teacher: Option<Resolved<Uuid>>,
    ) -> Result<Resolved<ClassId>, StoreError> {
        let (sql, now) = (self.sql, self.now);
        let Some(h) = self.held.classes.get(source) else {
            let id = self
                .apply()
                .then(|| imports::insert_class(sql, source, name, teacher.flatten(), now));
            self.plan.push("class", source, name, Action::Create, "new");
            return id.transpose();
        };
        let kept = h.detail.as_deref().and_then(|t| t.parse().ok());
        let new_teacher = teacher.is_some_and(|t| t != kept);
        if h.name == name && !new_teacher {
            self.plan
                .push("class", source, name, Action::Unchanged, "as on the hub");
            return Ok(Some(h.id));
        }
        if self.apply() {
            imports::update_class(sql, h.id, name, teacher.flatten().or(kept))?;
        }
        let why = "name or teacher changed";
        self.plan.push("class", source, name, Action::Update, why);
        Ok(Some(h.id))
    }

    fn classes_left_alone(&mut self) {
        let deleted = &self.roster.deleted.classes;
        let mut alone: Vec<(String, String, &str)> = Vec::new();
        for (source, h) in &self.held.classes {
            if self.classes.contains_key(source.as_str()) {
                continue;
            }
            let why = if deleted.contains(source) {
                "deleted in the school's system: left alone with its students (delete it on the \
                 hub if it ended)"
            } else if self.roster.coverage.classes == Coverage::Bulk {
                "not in this roster: left alone with its students (delete it if it ended)"
            } else {
                continue;
            };
            alone.push((source.clone(), h.name.clone(), why));
        }
        alone.sort();
        for (source, name, why) in alone {
            self.plan
                .push("class", &source, &name, Action::Unchanged, why);
        }
    }

    /// Students' memberships: a bulk enrollments file is every membership of the classes it
    /// covers, a delta adds and removes the ones it names.
    fn memberships(&mut self) -> Result<(), StoreError> {
        let mut wanted: BTreeMap<(String, String), (Resolved<ClassId>, Resolved<StudentId>)> =
            BTreeMap::new();
        for e in self
            .roster
            .enrollments
            .iter()
            .filter(|e| e.role == Role::Student)
        {
            match (self.class_ref(&e.class), self.student_ref(&e.user)) {
                (Ok(c), Ok(s)) => {
                    wanted.insert((e.class.clone(), e.user.clone()), (c, s));
                }
                (Err(why), _) | (_, Err(why)) => self.errors.push(RowError::new(e.at, why)),
            }
        }
        for ((class, student), ids) in &wanted {
            self.add_member(class, student, *ids)?;
        }
        let ending: Vec<(String, String)> = match self.roster.coverage.enrollments {
            Coverage::Bulk => (self.held.members.iter())
                .filter(|m| !wanted.contains_key(*m) && self.covered(m))
                .cloned()
                .collect(),
            Coverage::Delta => (self.roster.deleted.memberships.iter())
                .filter(|m| self.held.members.contains(*m) && !self.leavers.contains(&m.1))
                .cloned()
                .collect(),
            Coverage::Absent => Vec::new(),
        };
        for (class, student) in ending {
            self.remove_member(class, student)?;
        }
        Ok(())
    }

    fn add_member(
        &mut self,
        class: &str,
        student: &str,
        ids: (Resolved<ClassId>, Resolved<StudentId>),
    ) -> Result<(), StoreError> {
        let id = format!("{class}/{student}");
        let name = self.student_name(student);
        let key = (class.to_owned(), student.to_owned());
        if self.held.members.contains(&key) {
            let why = "as on the hub";
            self.plan
                .push("membership", &id, &name, Action::Unchanged, why);
            return Ok(());
        }
        if self.apply()
            && let (Some(c), Some(s)) = ids
        {
            school::add_member(self.sql, c, s)?;
        }
        self.plan.push(
            "membership",
            &id,
            &name,
            Action::Create,
            "new in this class",
        );
        self.added.push(key);
        Ok(())
    }

    fn remove_member(&mut self, class: String, student: String) -> Result<(), StoreError> {
        let ids = (
            self.held.classes.get(&class),
            self.held.students.get(&student),
        );
        if self.apply()
            && let (Some(c), Some(s)) = ids
        {
            school::remove_member(self.sql, c.id, s.id)?;
        }
        let name = self.student_name(&student);
        let id = format!("{class}/{student}");
        let why = "no longer in this class";
        self.plan
            .push("membership", &id, &name, Action::Remove, why);
        self.removed.push((class, student));
        Ok(())
    }

    /// Whether a bulk enrollments file speaks for this held membership: not a leaver's (they
    /// went with the leaver), not in a class left alone.
    fn covered(&self, (class, student): &(String, String)) -> bool {
        let class_left_alone = self.roster.deleted.classes.contains(class)
            || (self.roster.coverage.classes == Coverage::Bulk
                && !self.classes.contains_key(class.as_str()));
        !self.leavers.contains(student) && !class_left_alone
    }

    /// Students who had a class and would have none: leavers too (the hub marks a student in
    /// no class as left), so they are shown and counted as such.
    fn no_class_left(&mut self) {
        let mut change: HashMap<&str, i64> = HashMap::new();
        for (_, s) in &self.added {
            *change.entry(s).or_default() += 1;
        }
        for (_, s) in &self.removed {
            *change.entry(s).or_default() -= 1;
        }
        let mut emptied: Vec<(String, String)> = Vec::new();
        for (student, delta) in change {
            let before = self.held.class_counts.get(student).copied().unwrap_or(0);
            let left = self.held.students.get(student).is_none_or(|h| h.gone)
                || self.leavers.contains(student);
            if before > 0 && before as i64 + delta <= 0 && !left {
                emptied.push((student.to_owned(), self.student_name(student)));
            }
        }
        emptied.sort();
        for (student, name) in emptied {
            let why = "in no class after this import: marked as left (kept, never deleted)";
            self.plan
                .push("student", &student, &name, Action::Leaver, why);
            self.leavers.insert(student);
        }
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

    /// The class an enrollment names: in the file, or (unless the file is every class) on
    /// the hub.
    fn class_ref(&self, class: &str) -> Result<Resolved<ClassId>, String> {
        if let Some(id) = self.classes.get(class) {
            return Ok(*id);
        }
        if self.roster.coverage.classes == Coverage::Bulk {
            return Err(format!(
                "classSourcedId {class} is not an active class in classes.csv"
            ));
        }
        self.held_class(class).map(|h| Some(h.id))
    }

    fn held_class(&self, class: &str) -> Result<&Held<ClassId>, String> {
        if self.roster.deleted.classes.contains(class) {
            return Err(format!("classSourcedId {class} is deleted in classes.csv"));
        }
        (self.held.classes.get(class)).ok_or_else(|| {
            format!("classSourcedId {class} is not a class in classes.csv or on the hub")
        })
    }

    /// The student an enrollment names: in the file, or (unless the file is every user) on
    /// the hub.
    fn student_ref(&self, user: &str) -> Result<Resolved<StudentId>, String> {
        if let Some(id) = self.students.get(user) {
            return Ok(*id);
        }
        let not = |what: &str| Err(format!("userSourcedId {user} {what}"));
        if self.teachers.contains_key(user) {
            return not("is a teacher, not a student");
        }
        if self.leavers.contains(user) || self.roster.deleted.users.contains(user) {
            return not("is deleted or left out in users.csv");
        }
        if self.people.contains_key(user) {
            return not("is not a student in users.csv (nor on the hub)");
        }
        if self.roster.coverage.users == Coverage::Bulk {
            return not("is not an active student in users.csv");
        }
        match self.held.students.get(user) {
            Some(h) => Ok(Some(h.id)),
            None => not("is not a student in users.csv or on the hub"),
        }
    }

    /// The teacher an enrollment names, in the file or on the hub (`None` after an error).
    fn teacher_ref(&mut self, e: &Enrollment) -> Option<Resolved<Uuid>> {
        if let Some(id) = self.teachers.get(e.user.as_str()) {
            return Some(*id);
        }
        let in_file = self.people.contains_key(e.user.as_str());
        match self.held.teachers.get(&e.user) {
            Some(h) if !self.roster.deleted.users.contains(&e.user) && !in_file => Some(Some(h.id)),
            _ => {
                let why = format!(
                    "userSourcedId {} is not a teacher in users.csv or on the hub",
                    e.user
                );
                self.errors.push(RowError::new(e.at, why));
                None
            }
        }
    }

    fn student_name(&self, source: &str) -> String {
        (self.people.get(source))
            .map(|p| p.name.clone())
            .or_else(|| self.held.students.get(source).map(|h| h.name.clone()))
            .unwrap_or_else(|| source.to_owned())
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
