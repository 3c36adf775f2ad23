//! Classes and memberships: the classes a file names, with their teachers; the students'
//! memberships a bulk file replaces or a delta changes; and the students left in no class.

use std::collections::{BTreeMap, HashMap};

use rollcall_shared::{ClassId, StudentId};
use uuid::Uuid;

use super::{Planner, Resolved};
use crate::roster_import::plan::Action;
use crate::roster_import::roster::{Coverage, Enrollment, Role};
use crate::table::{At, RowError};
use rollcall_store::{StoreError, imports, school};

impl<'a> Planner<'a> {
    /// Classes the file names, with their teacher; classes it leaves out or deletes are left
    /// alone with their students (a class's end is for a person to decide).
    pub(super) fn classes(&mut self) -> Result<(), StoreError> {
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
            let id = self.class(&c.source_id, &c.name, c.code.as_deref(), teacher, c.at)?;
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
                    self.class(class, &name, None, teacher, e.at)?;
                    self.classes.insert(class, Some(id));
                }
                Err(why) => self.errors.push(RowError::new(e.at, why)),
            }
        }
        self.classes_left_alone();
        Ok(())
    }

    /// Creates or updates one class; `code`: the one the file gives (`None`: the hub's stays);
    /// `teacher`: the one the file gives (`Some(None)`: a teacher a dry run would create).
    pub(super) fn class(
        &mut self,
        source: &str,
        name: &str,
        code: Option<&str>,
        teacher: Option<Resolved<Uuid>>,
        at: At,
    ) -> Result<Resolved<ClassId>, StoreError> {
        let (sql, now) = (self.sql, self.now);
        let held = self.held.classes.get(source);
        if let Some(code) = code
            && let Some(other) = school::class_by_code(sql, code)?
            && held.is_none_or(|h| h.id != other)
        {
            let why = format!(
                "class code {code:?} is already {:?}'s on the hub",
                school::class(sql, other)?.name
            );
            self.errors.push(RowError::new(at, why));
            return Ok(held.map(|h| h.id));
        }
        let Some(h) = held else {
            let id = self
                .apply()
                .then(|| imports::insert_class(sql, source, name, teacher.flatten(), code, now));
            self.plan.push("class", source, name, Action::Create, "new");
            return id.transpose();
        };
        let kept = h.detail.as_deref().and_then(|t| t.parse().ok());
        let new_teacher = teacher.is_some_and(|t| t != kept);
        let new_code = code.is_some_and(|c| h.code.as_deref() != Some(c));
        if h.name == name && !new_teacher && !new_code {
            self.plan
                .push("class", source, name, Action::Unchanged, "as on the hub");
            return Ok(Some(h.id));
        }
        if self.apply() {
            imports::update_class(sql, h.id, name, teacher.flatten().or(kept), code)?;
        }
        let why = "name, code or teacher changed";
        self.plan.push("class", source, name, Action::Update, why);
        Ok(Some(h.id))
    }

    pub(super) fn classes_left_alone(&mut self) {
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
    pub(super) fn memberships(&mut self) -> Result<(), StoreError> {
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

    pub(super) fn add_member(
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
            school::add_member(self.sql, c, s, Some(self.options.today))?;
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

    pub(super) fn remove_member(
        &mut self,
        class: String,
        student: String,
    ) -> Result<(), StoreError> {
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
    pub(super) fn covered(&self, (class, student): &(String, String)) -> bool {
        let class_left_alone = self.roster.deleted.classes.contains(class)
            || (self.roster.coverage.classes == Coverage::Bulk
                && !self.classes.contains_key(class.as_str()));
        !self.leavers.contains(student) && !class_left_alone
    }

    /// Students who had a class and would have none: leavers too (the hub marks a student in
    /// no class as left), so they are shown and counted as such.
    pub(super) fn no_class_left(&mut self) {
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
}
