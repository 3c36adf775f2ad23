//! What an enrollment names, found in the file or (where the file does not speak for all of
//! them) on the hub; every miss is a row error naming why.

use rollcall_shared::{ClassId, StudentId};
use uuid::Uuid;

use super::{Planner, Resolved};
use crate::roster_import::roster::{Coverage, Enrollment};
use crate::table::RowError;
use rollcall_store::imports::Held;

impl Planner<'_> {
    /// The class an enrollment names: in the file, or (unless the file is every class) on
    /// the hub.
    pub(super) fn class_ref(&self, class: &str) -> Result<Resolved<ClassId>, String> {
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

    pub(super) fn held_class(&self, class: &str) -> Result<&Held<ClassId>, String> {
        if self.roster.deleted.classes.contains(class) {
            return Err(format!("classSourcedId {class} is deleted in classes.csv"));
        }
        (self.held.classes.get(class)).ok_or_else(|| {
            format!("classSourcedId {class} is not a class in classes.csv or on the hub")
        })
    }

    /// The student an enrollment names: in the file, or (unless the file is every user) on
    /// the hub.
    pub(super) fn student_ref(&self, user: &str) -> Result<Resolved<StudentId>, String> {
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
    pub(super) fn teacher_ref(&mut self, e: &Enrollment) -> Option<Resolved<Uuid>> {
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

    pub(super) fn student_name(&self, source: &str) -> String {
        (self.people.get(source))
            .map(|p| p.name.clone())
            .or_else(|| self.held.students.get(source).map(|h| h.name.clone()))
            .unwrap_or_else(|| source.to_owned())
    }
}
