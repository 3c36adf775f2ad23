//! Roster import: classes, students, teachers and memberships from the school information
//! system, as a plain CSV or OneRoster 1.2 bulk CSV (`parse`). `rollcall-hub roster import`,
//! `POST /api/v1/roster/import` and the Admin page use it.
//!
//! Everything is keyed by the source's ids (`external_ref`): importing the same file again
//! changes nothing, and a renamed student stays the same student, faces and register
//! included. A student of an earlier import who is not in this one is a leaver: taken out of
//! their classes and marked as left (their faces go after `retention.leaver_days`), never
//! deleted. A dry run says what would be created, changed and left alone, with a reason per
//! row; a file with any bad row is refused whole, and an import is one transaction: nothing is
//! ever half-imported. Teachers made by an import have no password until an admin sets one;
//! classes and students made by hand (no source id) are never touched.

pub mod parse;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use crate::store::audit::{self, Change};
use crate::store::{Sql, StoreError, imports, school};

pub use parse::RowError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudentRow {
    pub source_id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeacherRow {
    pub source_id: String,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassRow {
    pub source_id: String,
    pub name: String,
    /// The teacher's source id.
    pub teacher: Option<String>,
}

/// What a roster file says, checked row by row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    pub students: Vec<StudentRow>,
    pub teachers: Vec<TeacherRow>,
    pub classes: Vec<ClassRow>,
    /// (class source id, student source id).
    pub members: Vec<(String, String)>,
}

/// What an import does to one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// A student no longer in the roster: out of their classes, marked as left.
    Leaver,
    /// A membership of an imported class that the roster no longer has.
    Remove,
}

/// One line of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `student`, `teacher`, `class` or `membership`.
    pub kind: &'static str,
    pub source_id: String,
    pub name: String,
    pub action: Action,
    pub reason: String,
}

/// What an import did, or (a dry run) would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub dry_run: bool,
    pub steps: Vec<Step>,
    /// Steps by kind and action, e.g. `{"student": {"create": 3, "unchanged": 410}}`.
    pub counts: BTreeMap<&'static str, BTreeMap<String, usize>>,
}

impl Plan {
    fn push(&mut self, kind: &'static str, id: &str, name: &str, action: Action, reason: &str) {
        let counted = serde_json::to_value(action).ok();
        let key = counted.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
        *self
            .counts
            .entry(kind)
            .or_default()
            .entry(key.to_owned())
            .or_default() += 1;
        self.steps.push(Step {
            kind,
            source_id: id.to_owned(),
            name: name.to_owned(),
            action,
            reason: reason.to_owned(),
        });
    }

    /// Whether the import changes anything.
    pub fn changes(&self) -> bool {
        self.steps.iter().any(|s| s.action != Action::Unchanged)
    }
}

/// Plans the import of `roster` into the hub's data, and applies it unless `dry_run`, all in
/// the transaction `conn` is in (the caller commits).
pub fn import(
    conn: &dyn Sql,
    roster: &Roster,
    dry_run: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<Plan, StoreError> {
    let mut plan = Plan {
        dry_run,
        ..Plan::default()
    };
    let apply = !dry_run;

    // Teachers first: classes name them.
    let held = imports::teachers(conn)?;
    let mut teacher_ids: HashMap<&str, Option<Uuid>> = HashMap::new();
    for t in &roster.teachers {
        let (action, id, reason) = match held.get(&t.source_id) {
            None => {
                let id = apply
                    .then(|| {
                        imports::insert_teacher(
                            conn,
                            &t.source_id,
                            &t.username,
                            &t.name,
                            t.email.as_deref(),
                            now,
                        )
                    })
                    .transpose()?;
                (
                    Action::Create,
                    id,
                    "new: an account without a password (an admin sets one)",
                )
            }
            Some(h) if h.name == t.name && h.extra == t.email => {
                (Action::Unchanged, Some(h.id), "as on the hub")
            }
            Some(h) => {
                if apply {
                    imports::update_teacher(conn, h.id, &t.name, t.email.as_deref())?;
                }
                (Action::Update, Some(h.id), "name or e-mail changed")
            }
        };
        teacher_ids.insert(&t.source_id, id);
        plan.push("teacher", &t.source_id, &t.name, action, reason);
    }

    let held = imports::students(conn)?;
    let mut student_ids: HashMap<&str, Option<StudentId>> = HashMap::new();
    let in_roster: BTreeSet<&str> = roster
        .students
        .iter()
        .map(|s| s.source_id.as_str())
        .collect();
    for s in &roster.students {
        let (action, id, reason) = match held.get(&s.source_id) {
            None => {
                let id = apply
                    .then(|| imports::insert_student(conn, &s.source_id, &s.name, now))
                    .transpose()?;
                (Action::Create, id, "new")
            }
            Some(h) if h.name == s.name => (Action::Unchanged, Some(h.id), "as on the hub"),
            Some(h) => {
                if apply {
                    imports::rename_student(conn, h.id, &s.name)?;
                }
                (
                    Action::Update,
                    Some(h.id),
                    "renamed (the same student: faces and register stay)",
                )
            }
        };
        student_ids.insert(&s.source_id, id);
        plan.push("student", &s.source_id, &s.name, action, reason);
    }
    let mut leavers: Vec<(&String, &imports::Held<StudentId>)> = held
        .iter()
        .filter(|(r, _)| !in_roster.contains(r.as_str()))
        .collect();
    leavers.sort_by(|a, b| a.0.cmp(b.0));
    for (source, h) in leavers {
        if h.extra.is_some() {
            plan.push(
                "student",
                source,
                &h.name,
                Action::Unchanged,
                "not in the roster: left already",
            );
            continue;
        }
        if apply {
            imports::leave_all_classes(conn, h.id)?;
        }
        plan.push(
            "student",
            source,
            &h.name,
            Action::Leaver,
            "not in the roster: taken out of their classes and marked as left (kept, never deleted)",
        );
    }

    let held = imports::classes(conn)?;
    let mut class_ids: HashMap<&str, Option<ClassId>> = HashMap::new();
    for c in &roster.classes {
        let teacher = c
            .teacher
            .as_deref()
            .and_then(|t| teacher_ids.get(t).copied().flatten());
        let teacher_text = teacher.map(|t| t.to_string());
        let (action, id, reason) = match held.get(&c.source_id) {
            None => {
                let id = apply
                    .then(|| imports::insert_class(conn, &c.source_id, &c.name, teacher, now))
                    .transpose()?;
                (Action::Create, id, "new")
            }
            Some(h) if h.name == c.name && (c.teacher.is_none() || h.detail == teacher_text) => {
                (Action::Unchanged, Some(h.id), "as on the hub")
            }
            Some(h) => {
                if apply {
                    let keep = h.detail.as_deref().and_then(|t| t.parse().ok());
                    imports::update_class(conn, h.id, &c.name, teacher.or(keep))?;
                }
                (Action::Update, Some(h.id), "name or teacher changed")
            }
        };
        class_ids.insert(&c.source_id, id);
        plan.push("class", &c.source_id, &c.name, action, reason);
    }
    let mut absent: Vec<(&String, &imports::Held<ClassId>)> = held
        .iter()
        .filter(|(r, _)| !class_ids.contains_key(r.as_str()))
        .collect();
    absent.sort_by(|a, b| a.0.cmp(b.0));
    for (source, h) in absent {
        let reason = "not in this roster: left alone with its students (delete it if it ended)";
        plan.push("class", source, &h.name, Action::Unchanged, reason);
    }

    let held: BTreeSet<(String, String)> = imports::members(conn)?.into_iter().collect();
    let wanted: BTreeSet<(String, String)> = roster.members.iter().cloned().collect();
    let names: HashMap<&str, &str> = roster
        .students
        .iter()
        .map(|s| (s.source_id.as_str(), s.name.as_str()))
        .collect();
    for (class, student) in &wanted {
        let id = format!("{class}/{student}");
        let name = names.get(student.as_str()).copied().unwrap_or(student);
        if held.contains(&(class.clone(), student.clone())) {
            plan.push("membership", &id, name, Action::Unchanged, "as on the hub");
            continue;
        }
        if apply {
            let c = class_ids.get(class.as_str()).copied().flatten();
            let s = student_ids.get(student.as_str()).copied().flatten();
            if let (Some(c), Some(s)) = (c, s) {
                school::add_member(conn, c, s)?;
            }
        }
        plan.push("membership", &id, name, Action::Create, "new in this class");
    }
    let class_in_roster: BTreeSet<&str> = roster
        .classes
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    let held_classes = imports::classes(conn)?;
    let held_students = imports::students(conn)?;
    for (class, student) in held.difference(&wanted) {
        // Leavers' memberships went with them; classes not in the roster are left alone.
        if !in_roster.contains(student.as_str()) || !class_in_roster.contains(class.as_str()) {
            continue;
        }
        if apply && let (Some(c), Some(s)) = (held_classes.get(class), held_students.get(student)) {
            school::remove_member(conn, c.id, s.id)?;
        }
        let name = names.get(student.as_str()).copied().unwrap_or(student);
        plan.push(
            "membership",
            &format!("{class}/{student}"),
            name,
            Action::Remove,
            "no longer in this class",
        );
    }

    if apply && plan.changes() {
        school::note_leavers(conn, now)?;
        let counts = serde_json::to_value(&plan.counts).unwrap_or_default();
        audit::log(
            conn,
            Change {
                actor,
                action: "roster.import",
                target: "roster".into(),
                before: None,
                after: Some(counts),
                at: now,
            },
        )?;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests;
