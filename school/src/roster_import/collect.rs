//! Gathers a roster's rows as the readers find them: one source id given twice with the same
//! details is one row (the plain CSV repeats a student per class), with different details it
//! is refused at the second line.

use std::collections::BTreeMap;

use super::roster::{ClassRow, Enrollment, Person, Roster};
use crate::table::{At, RowError};

#[derive(Default)]
pub struct Collect {
    people: BTreeMap<String, Person>,
    classes: BTreeMap<String, ClassRow>,
    enrollments: BTreeMap<(String, String), Enrollment>,
    pub errors: Vec<RowError>,
}

impl Collect {
    pub fn person(&mut self, p: Person) {
        let same = |a: &Person, b: &Person| {
            (
                &a.name,
                &a.username,
                &a.email,
                &a.phone,
                a.role,
                &a.consent,
                &a.profile,
            ) == (
                &b.name,
                &b.username,
                &b.email,
                &b.phone,
                b.role,
                &b.consent,
                &b.profile,
            )
        };
        let id = p.source_id.clone();
        add(
            &mut self.people,
            id,
            p,
            "user",
            same,
            |p| p.at,
            &mut self.errors,
        );
    }

    pub fn class(&mut self, c: ClassRow) {
        let id = c.source_id.clone();
        if let Some(code) = &c.code
            && let Some(other) =
                (self.classes.values()).find(|o| o.source_id != id && o.code.as_ref() == Some(code))
        {
            let why = format!("class code {code:?} is also class {}'s", other.source_id);
            self.errors.push(RowError::new(c.at, why));
            return;
        }
        let same = |a: &ClassRow, b: &ClassRow| a.name == b.name && a.code == b.code;
        add(
            &mut self.classes,
            id,
            c,
            "class",
            same,
            |c| c.at,
            &mut self.errors,
        );
    }

    pub fn enrollment(&mut self, e: Enrollment) {
        let key = (e.class.clone(), e.user.clone());
        match self.enrollments.get_mut(&key) {
            Some(seen) if seen.role != e.role => self.errors.push(RowError::new(
                e.at,
                format!("{} is in class {} twice, with two roles", e.user, e.class),
            )),
            Some(seen) => seen.primary |= e.primary,
            None => {
                self.enrollments.insert(key, e);
            }
        }
    }

    /// The roster, or every problem found.
    pub fn finish(self, roster: Roster) -> Result<Roster, Vec<RowError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Roster {
            people: self.people.into_values().collect(),
            classes: self.classes.into_values().collect(),
            enrollments: self.enrollments.into_values().collect(),
            ..roster
        })
    }
}

fn add<T>(
    into: &mut BTreeMap<String, T>,
    id: String,
    value: T,
    kind: &str,
    same: impl Fn(&T, &T) -> bool,
    at: impl Fn(&T) -> At,
    errors: &mut Vec<RowError>,
) {
    match into.get(&id) {
        Some(seen) if !same(seen, &value) => errors.push(RowError::new(
            at(&value),
            format!("{kind} {id} appears again with different details"),
        )),
        Some(_) => {}
        None => {
            into.insert(id, value);
        }
    }
}
